# A real single-node Apache Kafka broker (KRaft) for the test environment.
# Source after common.sh and certs.sh; do not execute.
#
#   kafka_setup   fetch the broker jars into ${OUTFLOW_CACHE} (idempotent)
#   kafka_up      certs, config, format (with SCRAM users), start, export_env
#   kafka_stop    stop the broker, keeping data, ports and config
#   kafka_start   start it again on the same ports and wait until ready
#   kafka_down    = kafka_stop (testenv down removes the data with the rest)
#   kafka_topic_create NAME [PARTITIONS]   convenience for scripts
#
# There is no Kafka distribution tarball here: the jars come from Maven
# Central through hack/kafka/pom.xml and the broker runs as
# `java -cp 'libs/*' kafka.Kafka server.properties`.
# shellcheck shell=bash

KAFKA_HOME="${OUTFLOW_CACHE}/kafka-${KAFKA_VERSION}"
KAFKA_LIBS="${KAFKA_HOME}/libs"
KAFKA_STATE_DIR="${OUTFLOW_TESTENV_DIR}/kafka"
KAFKA_LOG="${OUTFLOW_TESTENV_DIR}/logs/kafka.log"
# 2 cores shared with apiserver, etcd and postgres: keep the heap small.
KAFKA_JAVA_OPTS="${KAFKA_JAVA_OPTS:--Xms256m -Xmx512m -Djava.awt.headless=true}"
# Start-up includes the authorizer's initial ACL load; 69 s were seen on a
# 2-core machine at load 37, where 60 s made `up` fail.
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-120}"

# Stamp content: changes when the version or the pom changes, which forces a
# re-fetch. Written last, so an interrupted fetch is redone.
_kafka_stamp() {
  printf 'kafka_%s-%s pom=%s\n' "${KAFKA_SCALA_VERSION}" "${KAFKA_VERSION}" \
    "$(sha256sum "${HACK_DIR}/kafka/pom.xml" | cut -d' ' -f1)"
}

kafka_setup() {
  local stamp="${KAFKA_HOME}/.complete"
  if [[ -f "${stamp}" && "$(cat "${stamp}")" == "$(_kafka_stamp)" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "kafka_setup: mvn not found"
  command -v java >/dev/null || die "kafka_setup: java not found"
  log "kafka: fetching Kafka ${KAFKA_VERSION} (Scala ${KAFKA_SCALA_VERSION}) jars with Maven"
  mkdir -p "${KAFKA_HOME}"
  rm -rf "${KAFKA_LIBS}" "${KAFKA_LIBS}.tmp" "${stamp}"
  # Maven's default local repository (~/.m2) is reused, so a re-fetch after a
  # cache wipe only copies files. Output goes to a log: even with -q, Debian's
  # mvn writes ANSI reset sequences to stdout.
  if ! mvn -q -B -f "${HACK_DIR}/kafka/pom.xml" dependency:copy-dependencies \
        -Dkafka.version="${KAFKA_VERSION}" \
        -Dkafka.scala.version="${KAFKA_SCALA_VERSION}" \
        -DincludeScope=runtime \
        -DoutputDirectory="${KAFKA_LIBS}.tmp" \
        > "${KAFKA_HOME}/fetch.log" 2>&1; then
    tail -n 40 "${KAFKA_HOME}/fetch.log" >&2
    die "kafka_setup: mvn dependency:copy-dependencies failed (see ${KAFKA_HOME}/fetch.log)"
  fi
  [[ -f "${KAFKA_LIBS}.tmp/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar" ]] \
    || die "kafka_setup: kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar missing after fetch"
  mv "${KAFKA_LIBS}.tmp" "${KAFKA_LIBS}"
  _kafka_stamp > "${stamp}"
  log "kafka: $(find "${KAFKA_LIBS}" -name '*.jar' | wc -l) jars in ${KAFKA_LIBS}"
}

# _kafka_java MAINCLASS ARGS...   runs a Kafka tool's main class from the cached jars.
_kafka_java() {
  # shellcheck disable=SC2086  # KAFKA_JAVA_OPTS is a word list on purpose
  java ${KAFKA_JAVA_OPTS} \
    -Dlog4j.configuration="file:${HACK_DIR}/kafka/tools-log4j.properties" \
    -cp "${KAFKA_LIBS}/*" "$@"
}

# _kafka_render TEMPLATE OUT KEY=VALUE...   replaces @KEY@ with VALUE.
_kafka_render() {
  local tmpl="$1" out="$2" kv key val script=""; shift 2
  for kv in "$@"; do
    key="${kv%%=*}" val="${kv#*=}"
    val="${val//\\/\\\\}"; val="${val//|/\\|}"; val="${val//&/\\&}"
    script+="s|@${key}@|${val}|g;"
  done
  sed -e "${script}" "${tmpl}" > "${out}"
  if grep -q '@[A-Z_]*@' "${out}"; then
    die "kafka: unreplaced placeholders in ${out}: $(grep -o '@[A-Z_]*@' "${out}" | sort -u | tr '\n' ' ')"
  fi
}

_kafka_pid() {
  local pidfile="${OUTFLOW_TESTENV_DIR}/pids/kafka.pid"
  [[ -f "${pidfile}" ]] && kill -0 "$(cat "${pidfile}")" 2>/dev/null && cat "${pidfile}"
}

_kafka_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ready = the broker logged that it started (the log is fresh per start) and
# its PLAINTEXT listener accepts connections.
_kafka_ready() {
  grep -q 'Kafka Server started' "${KAFKA_LOG}" 2>/dev/null && _kafka_port_open "$1"
}

# Done waiting = ready, or the JVM is gone (so a bad config fails in seconds,
# not after the full timeout).
_kafka_ready_or_dead() {
  _kafka_ready "$1" || ! _kafka_pid >/dev/null
}

_kafka_start_and_wait() {
  # shellcheck source=/dev/null
  source "${KAFKA_STATE_DIR}/ports.env"
  mkdir -p "$(dirname "${KAFKA_LOG}")"
  # start_daemon truncates the log; keep the previous run's for post-mortems
  # of broker-outage tests.
  if [[ -s "${KAFKA_LOG}" ]]; then mv -f "${KAFKA_LOG}" "${KAFKA_LOG}.prev"; fi
  local t0=${SECONDS}
  # shellcheck disable=SC2086  # KAFKA_JAVA_OPTS is a word list on purpose
  start_daemon kafka "${KAFKA_LOG}" \
    java ${KAFKA_JAVA_OPTS} \
    -Dlog4j.configuration="file:${HACK_DIR}/kafka/log4j.properties" \
    -cp "${KAFKA_LIBS}/*" kafka.Kafka "${KAFKA_STATE_DIR}/server.properties"
  if ! wait_until "${KAFKA_READY_TIMEOUT}" "kafka" "${KAFKA_LOG}" -- \
      _kafka_ready_or_dead "${KAFKA_PLAINTEXT_PORT}"; then
    stop_daemon kafka   # don't leave a half-started broker behind
    return 1
  fi
  if ! _kafka_ready "${KAFKA_PLAINTEXT_PORT}"; then
    # The log ends in pages of shutdown noise; the cause is in the errors.
    log "kafka exited during startup; errors from ${KAFKA_LOG}:"
    grep -m 20 -E '^Caused by|ERROR' "${KAFKA_LOG}" >&2 || tail -n 40 "${KAFKA_LOG}" >&2 || true
    stop_daemon kafka
    return 1
  fi
  log "kafka: ready in $(( SECONDS - t0 ))s (PLAINTEXT 127.0.0.1:${KAFKA_PLAINTEXT_PORT})"
}

# kafka_new_cluster_id [RANDOM_SOURCE]   a KRaft cluster id: 16 random bytes
# (from RANDOM_SOURCE, default /dev/urandom) as unpadded base64url. An id
# starting with '-' is drawn again (as Kafka's own Uuid.randomUuid does):
# kafka-storage would take `--cluster-id -…` for an option and fail.
kafka_new_cluster_id() {
  python3 - "${1:-/dev/urandom}" <<'PY'
import base64, sys
with open(sys.argv[1], "rb") as random:
    while True:
        cluster_id = base64.urlsafe_b64encode(random.read(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            print(cluster_id)
            break
PY
}

kafka_up() {
  if _kafka_pid >/dev/null; then
    log "kafka: already running"
    return 0
  fi
  [[ -f "${KAFKA_HOME}/.complete" ]] || die "kafka_up: run kafka_setup first"
  local pki="${OUTFLOW_TESTENV_DIR}/pki" dir="${KAFKA_STATE_DIR}"
  [[ -f "${pki}/ca.crt" && -f "${pki}/ca.key" ]] || die "kafka_up: ${pki}/ca.crt missing (certs_ca first)"

  # A fresh broker every time: old data would have been formatted with other
  # SCRAM passwords and a different cluster id.
  rm -rf "${dir}"
  mkdir -p "${dir}/data" "$(dirname "${KAFKA_LOG}")"

  # Six distinct free ports.
  local -a ports=()
  local p
  while (( ${#ports[@]} < 6 )); do
    p="$(free_port)"
    [[ " ${ports[*]} " == *" ${p} "* ]] || ports+=("${p}")
  done
  cat > "${dir}/ports.env" <<EOF
KAFKA_PLAINTEXT_PORT=${ports[0]}
KAFKA_SASL_SSL_PORT=${ports[1]}
KAFKA_SSL_PORT=${ports[2]}
KAFKA_CONTROLLER_PORT=${ports[3]}
KAFKA_PODS_PORT=${ports[4]}
KAFKA_ACL_PORT=${ports[5]}
EOF

  # Certificates: the broker's (server) and one for mTLS clients (client).
  certs_leaf "${pki}" kafka-broker localhost server
  certs_leaf "${pki}" kafka-client outflow-test-client client
  # Kafka's file-based PEM keystore: private key (unencrypted PKCS#8, as
  # certs_leaf writes it) followed by the certificate, and no ssl.key.password.
  # Do not "harden" this by encrypting the key: Kafka 3.9 decrypts PEM keys via
  # SecretKeyFactory.getInstance(<algorithm of the key>), and for the PBES2
  # keys modern openssl writes (pkcs8 -topk8 -v2 ...) the JDK answers
  # "PBES2 SecretKeyFactory not available", so the broker dies at startup.
  cat "${pki}/kafka-broker.key" "${pki}/kafka-broker.crt" > "${dir}/broker-keystore.pem"
  chmod 600 "${dir}/broker-keystore.pem"

  # SCRAM users are written into the metadata log at format time, so they
  # exist before the SASL listeners accept their first connection. The two
  # first are super users; the limited one has no grants (see the template).
  local u256=outflow-scram256 u512=outflow-scram512 ulimited=outflow-limited pw256 pw512 pwlimited cluster_id
  pw256="$(openssl rand -hex 16)"
  pw512="$(openssl rand -hex 16)"
  pwlimited="$(openssl rand -hex 16)"

  _kafka_render "${HACK_DIR}/kafka/server.properties.tmpl" "${dir}/server.properties" \
    "PLAINTEXT_PORT=${ports[0]}" "SASL_SSL_PORT=${ports[1]}" \
    "SSL_PORT=${ports[2]}" "CONTROLLER_PORT=${ports[3]}" \
    "PODS_PORT=${ports[4]}" "ACL_PORT=${ports[5]}" "NODE_IP=${NODE_IP}" \
    "KEYSTORE_PEM=${dir}/broker-keystore.pem" \
    "CA_PEM=${pki}/ca.crt" "DATA_DIR=${dir}/data" \
    "SCRAM256_USER=${u256}" "SCRAM512_USER=${u512}" "LIMITED_USER=${ulimited}"
  chmod 600 "${dir}/server.properties"
  cluster_id="$(kafka_new_cluster_id)"
  if ! _kafka_java kafka.tools.StorageTool format \
        --config "${dir}/server.properties" --cluster-id "${cluster_id}" \
        --add-scram "SCRAM-SHA-256=[name=${u256},password=${pw256}]" \
        --add-scram "SCRAM-SHA-512=[name=${u512},password=${pw512}]" \
        --add-scram "SCRAM-SHA-256=[name=${ulimited},password=${pwlimited}]" \
        > "${dir}/format.log" 2>&1; then
    cat "${dir}/format.log" >&2
    die "kafka_up: kafka-storage format failed"
  fi

  _kafka_start_and_wait || die "kafka_up: broker did not start"

  # shellcheck source=/dev/null
  source "${dir}/ports.env"
  export_env OUTFLOW_TEST_KAFKA_PLAINTEXT "127.0.0.1:${KAFKA_PLAINTEXT_PORT}"
  # For pods on the node: PLAINTEXT at the node address.
  export_env OUTFLOW_TEST_KAFKA_PODS "${NODE_IP}:${KAFKA_PODS_PORT}"
  export_env OUTFLOW_TEST_KAFKA_SASL_SSL "127.0.0.1:${KAFKA_SASL_SSL_PORT}"
  export_env OUTFLOW_TEST_KAFKA_SSL "127.0.0.1:${KAFKA_SSL_PORT}"
  export_env OUTFLOW_TEST_KAFKA_CA "${pki}/ca.crt"
  export_env OUTFLOW_TEST_KAFKA_CLIENT_CERT "${pki}/kafka-client.crt"
  export_env OUTFLOW_TEST_KAFKA_CLIENT_KEY "${pki}/kafka-client.key"
  export_env OUTFLOW_TEST_KAFKA_SCRAM256_USER "${u256}"
  export_env OUTFLOW_TEST_KAFKA_SCRAM256_PASSWORD "${pw256}"
  export_env OUTFLOW_TEST_KAFKA_SCRAM512_USER "${u512}"
  export_env OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD "${pw512}"
  # SASL_PLAINTEXT, SCRAM-SHA-256, a user with no ACLs until a test grants some.
  export_env OUTFLOW_TEST_KAFKA_ACL "127.0.0.1:${KAFKA_ACL_PORT}"
  export_env OUTFLOW_TEST_KAFKA_ACL_USER "${ulimited}"
  export_env OUTFLOW_TEST_KAFKA_ACL_PASSWORD "${pwlimited}"
}

kafka_stop() {
  _kafka_pid >/dev/null || { rm -f "${OUTFLOW_TESTENV_DIR}/pids/kafka.pid"; return 0; }
  log "kafka: stopping"
  stop_daemon kafka
}

kafka_start() {
  if _kafka_pid >/dev/null; then
    return 0
  fi
  [[ -f "${KAFKA_STATE_DIR}/server.properties" ]] || die "kafka_start: no broker configured (kafka_up first)"
  log "kafka: starting"
  _kafka_start_and_wait || die "kafka_start: broker did not start"
}

kafka_down() {
  kafka_stop
}

# kafka_topic_create NAME [PARTITIONS]   over PLAINTEXT with Kafka's own tool.
kafka_topic_create() {
  local name="$1" partitions="${2:-1}"
  # shellcheck source=/dev/null
  source "${KAFKA_STATE_DIR}/ports.env"
  _kafka_java org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:${KAFKA_PLAINTEXT_PORT}" \
    --create --if-not-exists --topic "${name}" \
    --partitions "${partitions}" --replication-factor 1
}
