# A throw-away CA for the test environment and leaf certificates signed by it.
# shellcheck shell=bash

# certs_ca DIR   creates DIR/ca.crt + DIR/ca.key once.
certs_ca() {
  local dir="$1"
  mkdir -p "${dir}"
  [[ -f "${dir}/ca.crt" ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
    -subj "/CN=outflow-testenv-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "${dir}/ca.key" -out "${dir}/ca.crt" 2>/dev/null
}

# certs_leaf DIR NAME CN [server|client|both] [EXTRA_SANS]
#   creates DIR/NAME.crt + DIR/NAME.key signed by DIR/ca.*, with SANs
#   127.0.0.1, ::1, localhost and EXTRA_SANS ("IP:a.b.c.d,DNS:name,...").
certs_leaf() {
  local dir="$1" name="$2" cn="$3" usage="${4:-both}" extra="${5:+,$5}" eku
  case "${usage}" in
    server) eku="serverAuth" ;;
    client) eku="clientAuth" ;;
    *)      eku="serverAuth,clientAuth" ;;
  esac
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=${cn}" \
    -keyout "${dir}/${name}.key" -out "${dir}/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${dir}/${name}.csr" -CA "${dir}/ca.crt" -CAkey "${dir}/ca.key" \
    -CAcreateserial -days 30 -sha256 -out "${dir}/${name}.crt" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost%s\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "${extra}" "${eku}") 2>/dev/null
  rm -f "${dir}/${name}.csr"
}
