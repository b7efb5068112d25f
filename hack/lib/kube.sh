# Kubernetes control plane for the test environment: kube-apiserver,
# kube-controller-manager and etcd built from pinned upstream sources through the
# Go module proxy (plus kubectl and helm), and run as local processes.
# Source it after common.sh and certs.sh; do not execute it.
#
#   kube_setup     build whatever is missing from ${OUTFLOW_CACHE}/bin (idempotent)
#   kube_bin_dir   print the directory holding kube-apiserver, kube-controller-manager,
#                  kubectl, etcd and helm
#   kube_up        start etcd, kube-apiserver, kube-controller-manager; write
#                  kubeconfigs and export_env the connection details
#   kube_down      stop them (safe when nothing runs)
# shellcheck shell=bash

KUBE_GO_DIR="${HACK_DIR}/go"

# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

# Per-component cache dirs are keyed by version only, so changing one value in
# versions.env rebuilds exactly that component.
_kube_k8s_dir()  { printf '%s/bin/kube-%s' "${OUTFLOW_CACHE}" "${KUBERNETES_VERSION}"; }
_kube_etcd_dir() { printf '%s/bin/etcd-%s' "${OUTFLOW_CACHE}" "${ETCD_VERSION}"; }
_kube_cni_dir()  { printf '%s/bin/cni-plugins-%s' "${OUTFLOW_CACHE}" "${CNI_PLUGINS_VERSION}"; }
_kube_helm_dir() { printf '%s/bin/helm-%s' "${OUTFLOW_CACHE}" "${HELM_VERSION}"; }
_kube_promtool_dir() { printf '%s/bin/promtool-%s' "${OUTFLOW_CACHE}" "${PROMTOOL_VERSION}"; }

# Symlinks to the binaries of one version combination. Not a shared "current" link,
# so checkouts with different versions.env can share one cache.
kube_bin_dir() {
  printf '%s/bin/testenv-k8s-%s-etcd-%s-helm-%s' "${OUTFLOW_CACHE}" \
    "${KUBERNETES_VERSION}" "${ETCD_VERSION}" "${HELM_VERSION}"
}

# _kube_go ARGS...   the go command with the settings every build here uses.
_kube_go() {
  local gobin
  gobin="$(command -v go || true)"
  [[ -n "${gobin}" ]] || gobin=/usr/local/go/bin/go
  [[ -x "${gobin}" ]] || die "go not found (looked on PATH and in /usr/local/go/bin)"
  # GOTOOLCHAIN=auto: use the local go unless a go.mod asks for a newer one, in
  # which case go fetches that toolchain through the module proxy (Go's own
  # go.env defaults to "local", which would just fail).
  # CGO_ENABLED=0: static binaries, as upstream ships them; no C toolchain needed.
  # GOMODCACHE/GOCACHE are left at their defaults so that re-runs are warm.
  GOTOOLCHAIN="${OUTFLOW_GOTOOLCHAIN:-auto}" CGO_ENABLED=0 "${gobin}" "$@"
}

# _kube_gomod_version DIR MODULE   version of MODULE required by DIR/go.mod.
_kube_gomod_version() {
  awk -v m="$2" '
    $1 == "require" && $2 == m { print $3; exit }   # single-line require
    $1 == m && $2 ~ /^v/       { print $2; exit }   # inside a require ( ) block
  ' "$1/go.mod"
}

# _kube_check_pin DIR MODULE WANT VAR   dies unless DIR/go.mod requires MODULE@WANT.
_kube_check_pin() {
  local got
  got="$(_kube_gomod_version "$1" "$2")"
  [[ "${got}" == "$3" ]] || die "hack/versions.env has $4=$3 but ${1#"${REPO_ROOT}/"}/go.mod requires $2 ${got:-<nothing>}; edit the go.mod (see its header comment) and run 'go mod tidy' there"
}

# _kube_install DIR FINAL   moves the freshly built DIR to FINAL (whole directory at
# once, so an interrupted build never leaves a half-filled cache entry behind).
_kube_install() {
  local tmp="$1" final="$2"
  chmod 755 "${tmp}"   # mktemp -d made it 0700
  if ! mv -T "${tmp}" "${final}" 2>/dev/null; then
    # Someone else finished the same build first; theirs is as good as ours.
    [[ -d "${final}" ]] || die "cannot move ${tmp} to ${final}"
    rm -rf "${tmp}"
  fi
}

# Every binary built from the wrapper module, in one go build.
KUBE_K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)

_kube_k8s_complete() {
  local b
  for b in "${KUBE_K8S_BINARIES[@]}"; do [[ -x "$1/${b}" ]] || return 1; done
}

_kube_build_k8s() {
  local dir mod="${KUBE_GO_DIR}/kube" tmp major minor date ldflags pkg b
  dir="$(_kube_k8s_dir)"
  _kube_k8s_complete "${dir}" && return 0
  _kube_check_pin "${mod}" k8s.io/kubernetes "${KUBERNETES_VERSION}" KUBERNETES_VERSION
  # The staging modules (k8s.io/api, client-go, ...) are tagged v0.Y.Z for v1.Y.Z.
  local staging="v0.${KUBERNETES_VERSION#v1.}"
  if grep -E '^\s*k8s\.io/[a-z-]+ => k8s\.io/[a-z-]+ v' "${mod}/go.mod" | grep -vq " ${staging}\$"; then
    die "${mod#"${REPO_ROOT}/"}/go.mod: every k8s.io staging replace must be ${staging} for KUBERNETES_VERSION=${KUBERNETES_VERSION}"
  fi

  log "building ${KUBE_K8S_BINARIES[*]} ${KUBERNETES_VERSION} (cold: ~10 min on 2 cores)"
  IFS=. read -r major minor _ <<< "${KUBERNETES_VERSION#v}"
  # The release date of the tag (from the module proxy), so rebuilds are reproducible.
  date="$(cd "${mod}" && _kube_go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes 2>/dev/null)" \
    || date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # What upstream's hack/lib/version.sh sets: component-base feeds the API server's
  # /version and --version, client-go's copy feeds `kubectl version --client`.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${KUBERNETES_VERSION}"
    ldflags+=" -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${date}"
  done

  mkdir -p "$(dirname "${dir}")"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  # One go build for all of them: shared packages compile once and the two cores
  # stay busy across package boundaries. -o DIR/ writes one binary per package.
  (cd "${mod}" && _kube_go build -trimpath -ldflags "${ldflags}" -o "${tmp}/" \
      "${KUBE_K8S_BINARIES[@]/#/k8s.io/kubernetes/cmd/}") \
    || { rm -rf "${tmp}"; die "building Kubernetes ${KUBERNETES_VERSION} failed"; }
  if [[ -d "${dir}" ]]; then
    # An older cache entry with fewer binaries, possibly in use by a running
    # test environment: add the missing ones by rename (atomic per file), and
    # leave the ones there alone (same sources and flags, same bytes).
    for b in "${KUBE_K8S_BINARIES[@]}"; do
      [[ -x "${dir}/${b}" ]] || mv -f "${tmp}/${b}" "${dir}/${b}"
    done
    rm -rf "${tmp}"
  else
    _kube_install "${tmp}" "${dir}"
  fi
}

_kube_build_etcd() {
  local dir mod="${KUBE_GO_DIR}/etcd" tmp
  dir="$(_kube_etcd_dir)"
  [[ -x "${dir}/etcd" ]] && return 0
  _kube_check_pin "${mod}" go.etcd.io/etcd/server/v3 "${ETCD_VERSION}" ETCD_VERSION
  log "building etcd ${ETCD_VERSION}"
  mkdir -p "$(dirname "${dir}")"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  # etcd's version string is a constant in go.etcd.io/etcd/api/v3/version; no ldflags needed.
  (cd "${mod}" && _kube_go build -trimpath -ldflags "-s -w" -o "${tmp}/etcd" go.etcd.io/etcd/server/v3) \
    || { rm -rf "${tmp}"; die "building etcd ${ETCD_VERSION} failed"; }
  _kube_install "${tmp}" "${dir}"
}

_kube_build_helm() {
  local dir tmp gomod clientgo k8s_major k8s_minor ldflags
  dir="$(_kube_helm_dir)"
  [[ -x "${dir}/helm" ]] && return 0
  log "building helm ${HELM_VERSION}"
  # helm's go.mod has no replace directives, so plain `go install mod@version` works.
  # Like helm's Makefile, derive the Kubernetes version helm assumes when it is not
  # talking to a cluster (helm template/lint) from the client-go it is built with.
  gomod="$(cd / && _kube_go mod download -json "helm.sh/helm/v3@${HELM_VERSION}" \
             | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')" || true
  [[ -f "${gomod}" ]] || die "cannot download helm.sh/helm/v3@${HELM_VERSION}"
  clientgo="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "${gomod}")"   # v0.Y.Z
  IFS=. read -r k8s_major k8s_minor _ <<< "${clientgo#v}"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$((k8s_major + 1))"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${k8s_minor}"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$((k8s_major + 1))"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8s_minor}"
  mkdir -p "$(dirname "${dir}")"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  # cd /: outside any module, so the repo's or a wrapper's go.mod cannot interfere.
  (cd / && GOBIN="${tmp}" _kube_go install -trimpath -ldflags "${ldflags}" \
      "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}") \
    || { rm -rf "${tmp}"; die "building helm ${HELM_VERSION} failed"; }
  _kube_install "${tmp}" "${dir}"
}

# promtool, for the alert-rule tests (`promtool check rules`, `promtool test
# rules`). Prometheus' go.mod has no replace directives, so `go install
# mod@version` works as for helm; its version is the module's (v0.Y.Z for 3.Y.Z).
# Built without service discovery (Prometheus' own `remove_all_sd` tag): the
# rule commands never use it, and the cloud SDKs it pulls in were most of a
# cold build.
_kube_build_promtool() {
  local dir tmp
  dir="$(_kube_promtool_dir)"
  [[ -x "${dir}/promtool" ]] && return 0
  log "building promtool ${PROMTOOL_VERSION} without service discovery"
  mkdir -p "$(dirname "${dir}")"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  (cd / && GOBIN="${tmp}" _kube_go install -trimpath -tags remove_all_sd -ldflags "-s -w" \
      "github.com/prometheus/prometheus/cmd/promtool@${PROMTOOL_VERSION}") \
    || { rm -rf "${tmp}"; die "building promtool ${PROMTOOL_VERSION} failed"; }
  _kube_install "${tmp}" "${dir}"
}

# The CNI plugins containerd calls for the node's pods: a bridge, host-local
# addresses, and the pods' loopback. Where they live: kube_cni_bin_dir.
KUBE_CNI_PLUGINS=(main/bridge ipam/host-local main/loopback)
kube_cni_bin_dir() { _kube_cni_dir; }

_kube_build_cni() {
  local dir tmp p pkgs=() missing=0
  dir="$(_kube_cni_dir)"
  for p in "${KUBE_CNI_PLUGINS[@]}"; do
    [[ -x "${dir}/$(basename "${p}")" ]] || missing=1
    pkgs+=("github.com/containernetworking/plugins/plugins/${p}@${CNI_PLUGINS_VERSION}")
  done
  (( missing )) || return 0
  log "building CNI plugins ${CNI_PLUGINS_VERSION}"
  mkdir -p "$(dirname "${dir}")"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  (cd / && GOBIN="${tmp}" _kube_go install -trimpath \
      -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS_VERSION}" \
      "${pkgs[@]}") \
    || { rm -rf "${tmp}"; die "building CNI plugins ${CNI_PLUGINS_VERSION} failed"; }
  _kube_install "${tmp}" "${dir}"
}

kube_setup() {
  _kube_build_etcd
  _kube_build_cni
  _kube_build_helm
  _kube_build_promtool
  _kube_build_k8s
  local bin b
  bin="$(kube_bin_dir)"
  mkdir -p "${bin}"
  for b in "${KUBE_K8S_BINARIES[@]/#/$(_kube_k8s_dir)/}" \
           "$(_kube_etcd_dir)/etcd" "$(_kube_helm_dir)/helm" "$(_kube_promtool_dir)/promtool"; do
    ln -sfn "${b}" "${bin}/$(basename "${b}")"
  done
}

# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

# _kube_alive NAME   true while the daemon NAME (see start_daemon) is running.
_kube_alive() {
  local pidfile="${OUTFLOW_TESTENV_DIR}/pids/$1.pid"
  [[ -f "${pidfile}" ]] && kill -0 "$(cat "${pidfile}")" 2>/dev/null
}

# _kube_ready_or_dead NAME CMD...   true once CMD succeeds or NAME has exited, so
# that a daemon which dies at startup (port taken, bad flag) fails fast.
_kube_ready_or_dead() {
  local name="$1"; shift
  ! _kube_alive "${name}" || "$@"
}

# _kube_await NAME SECONDS LOGFILE CMD...   waits until CMD succeeds; on timeout
# or exit of NAME prints the tail of LOGFILE and fails. CMD must not block forever
# (curl --max-time), or neither check gets a chance to run.
_kube_await() {
  local name="$1" timeout="$2" logfile="$3"; shift 3
  wait_until "${timeout}" "${name}" "${logfile}" -- _kube_ready_or_dead "${name}" "$@" || return 1
  if ! _kube_alive "${name}"; then
    log "${name} exited during startup; last lines of ${logfile}:"
    tail -n 40 "${logfile}" >&2 || true
    return 1
  fi
}

# _kube_kubeconfig FILE SERVER CA USER TOKEN
_kube_kubeconfig() {
  (umask 077 && cat > "$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: outflow-testenv
  cluster:
    server: $2
    certificate-authority: $3
users:
- name: $4
  user:
    token: $5
contexts:
- name: $4@outflow-testenv
  context:
    cluster: outflow-testenv
    user: $4
    namespace: default
current-context: $4@outflow-testenv
KUBECONFIG
  )
}

# kube_up   starts a fresh control plane (etcd data from an earlier run is wiped),
# inside the environment's network namespace (hack/lib/node.sh has its
# addresses); sets KUBE_API_PORT for node_up.
# Needs ${OUTFLOW_TESTENV_DIR}/pki/ca.{crt,key} (certs_ca) and kube_setup.
kube_up() {
  local env="${OUTFLOW_TESTENV_DIR}" bin pki logs
  bin="$(kube_bin_dir)"
  pki="${env}/pki"
  logs="${env}/logs"
  local b
  for b in etcd kube-apiserver kube-controller-manager kubectl helm; do
    [[ -x "${bin}/${b}" ]] || { log "${bin}/${b} missing; run kube_setup first"; return 1; }
  done
  [[ -f "${pki}/ca.crt" && -f "${pki}/ca.key" ]] || { log "${pki}/ca.crt missing; run certs_ca first"; return 1; }
  mkdir -p "${logs}"

  # Leaf certificates and keys, fresh for every run (a few hundred ms).
  # etcd's gRPC gateway dials etcd's own client port with this same certificate,
  # so it needs clientAuth as well.
  certs_leaf "${pki}" etcd etcd both
  certs_leaf "${pki}" apiserver-etcd-client kube-apiserver-etcd-client client
  # Pods reach the API server by the "kubernetes" Service's IP and name, or
  # at the node address.
  certs_leaf "${pki}" kube-apiserver kube-apiserver server \
    "IP:${NODE_IP},IP:${NODE_KUBERNETES_SERVICE_IP},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  certs_leaf "${pki}" kube-controller-manager kube-controller-manager server
  # Service-account token signing key, shared by the API server (verifies and signs
  # TokenRequest tokens) and the controller manager (signs legacy SA token secrets).
  (umask 077 && openssl genrsa -out "${pki}/service-account.key" 2048 2>/dev/null)

  # Static bearer tokens, random per run. Format: token,user,uid[,"group,..."].
  local admin_token user_token user=outflow-unprivileged
  admin_token="$(openssl rand -hex 32)"
  user_token="$(openssl rand -hex 32)"
  (umask 077 && printf '%s,outflow-admin,outflow-admin,"system:masters"\n%s,%s,%s\n' \
     "${admin_token}" "${user_token}" "${user}" "${user}" > "${pki}/tokens.csv")

  # --- etcd: client port with mutual TLS; the peer port is unused by a single
  # member but must still be a free one. -----------------------------------------
  local etcd_port etcd_peer_port
  etcd_port="$(free_port)"
  etcd_peer_port="$(free_port)"
  rm -rf "${env}/etcd"
  # --unsafe-no-fsync: a throw-away cluster does not need durability, and fsync
  # dominates API write latency on slow disks.
  start_daemon etcd "${logs}/etcd.log" "${bin}/etcd" \
    --name outflow-testenv \
    --data-dir "${env}/etcd" \
    --listen-client-urls "https://127.0.0.1:${etcd_port}" \
    --advertise-client-urls "https://127.0.0.1:${etcd_port}" \
    --listen-peer-urls "http://127.0.0.1:${etcd_peer_port}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer_port}" \
    --initial-cluster "outflow-testenv=http://127.0.0.1:${etcd_peer_port}" \
    --cert-file "${pki}/etcd.crt" --key-file "${pki}/etcd.key" \
    --trusted-ca-file "${pki}/ca.crt" --client-cert-auth \
    --unsafe-no-fsync
  _kube_await etcd 30 "${logs}/etcd.log" \
    curl -sf --max-time 5 --cacert "${pki}/ca.crt" \
      --cert "${pki}/apiserver-etcd-client.crt" --key "${pki}/apiserver-etcd-client.key" \
      "https://127.0.0.1:${etcd_port}/health" || return 1

  # --- kube-apiserver ----------------------------------------------------------
  local api_port server
  api_port="$(free_port)"
  server="https://127.0.0.1:${api_port}"
  # All addresses: loopback for tests, the node address for pods (the DNAT
  # of the "kubernetes" Service IP leads there). Only the environment's own
  # network namespace has these addresses.
  # --endpoint-reconciler-type=none: without kube-proxy the Service's
  # endpoints would serve nobody; the DNAT rule does their job.
  # --cert-dir: keeps it from touching /var/run/kubernetes.
  # --kubelet-preferred-address-types: kubectl logs/exec reach the kubelet at
  # the node address (there is no DNS for the node's name).
  start_daemon kube-apiserver "${logs}/kube-apiserver.log" "${bin}/kube-apiserver" \
    --bind-address=0.0.0.0 \
    --advertise-address="${NODE_IP}" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --secure-port="${api_port}" \
    --cert-dir="${env}/kube-apiserver" \
    --tls-cert-file="${pki}/kube-apiserver.crt" \
    --tls-private-key-file="${pki}/kube-apiserver.key" \
    --client-ca-file="${pki}/ca.crt" \
    --token-auth-file="${pki}/tokens.csv" \
    --authorization-mode=RBAC \
    --etcd-servers="https://127.0.0.1:${etcd_port}" \
    --etcd-cafile="${pki}/ca.crt" \
    --etcd-certfile="${pki}/apiserver-etcd-client.crt" \
    --etcd-keyfile="${pki}/apiserver-etcd-client.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${pki}/service-account.key" \
    --service-account-signing-key-file="${pki}/service-account.key" \
    --service-cluster-ip-range="${NODE_SERVICE_CIDR}" \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false
  _kube_await kube-apiserver 90 "${logs}/kube-apiserver.log" \
    curl -sf --max-time 5 --cacert "${pki}/ca.crt" -H "Authorization: Bearer ${admin_token}" "${server}/readyz" || return 1

  KUBE_API_PORT="${api_port}"
  local kubeconfig="${env}/kubeconfig" user_kubeconfig="${env}/kubeconfig-unprivileged"
  _kube_kubeconfig "${kubeconfig}" "${server}" "${pki}/ca.crt" outflow-admin "${admin_token}"
  _kube_kubeconfig "${user_kubeconfig}" "${server}" "${pki}/ca.crt" "${user}" "${user_token}"

  # --- kube-controller-manager -------------------------------------------------
  # Runs as outflow-admin: with --use-service-account-credentials=false every
  # controller uses this one identity, and system:kube-controller-manager's own
  # role is not enough for all of them. Needed here for garbage collection,
  # namespace deletion and service-account tokens.
  # No --authentication/authorization-kubeconfig: those would make it watch for a
  # front-proxy CA this API server does not have, logging errors all the time;
  # without them it only warns once, and /healthz is always allowed anyway.
  local kcm_port
  kcm_port="$(free_port)"
  start_daemon kube-controller-manager "${logs}/kube-controller-manager.log" "${bin}/kube-controller-manager" \
    --kubeconfig="${kubeconfig}" \
    --bind-address=127.0.0.1 \
    --secure-port="${kcm_port}" \
    --cert-dir="${env}/kube-controller-manager" \
    --tls-cert-file="${pki}/kube-controller-manager.crt" \
    --tls-private-key-file="${pki}/kube-controller-manager.key" \
    --controllers='*' \
    --use-service-account-credentials=false \
    --service-account-private-key-file="${pki}/service-account.key" \
    --root-ca-file="${pki}/ca.crt" \
    --cluster-signing-cert-file="${pki}/ca.crt" \
    --cluster-signing-key-file="${pki}/ca.key" \
    --service-cluster-ip-range="${NODE_SERVICE_CIDR}" \
    --leader-elect=false \
    --profiling=false
  _kube_await kube-controller-manager 60 "${logs}/kube-controller-manager.log" \
    curl -sf --max-time 5 --cacert "${pki}/ca.crt" "https://127.0.0.1:${kcm_port}/healthz" || return 1

  export_env KUBECONFIG "${kubeconfig}"
  export_env OUTFLOW_TEST_KUBE_SERVER "${server}"
  export_env OUTFLOW_TEST_KUBE_CA "${pki}/ca.crt"
  export_env OUTFLOW_TEST_KUBE_ADMIN_TOKEN "${admin_token}"
  export_env OUTFLOW_TEST_KUBE_USER "${user}"
  export_env OUTFLOW_TEST_KUBE_USER_TOKEN "${user_token}"
  export_env OUTFLOW_TEST_KUBE_UNPRIVILEGED_KUBECONFIG "${user_kubeconfig}"
  export_env OUTFLOW_TEST_KUBE_BIN "${bin}"
  log "kube-apiserver ${KUBERNETES_VERSION} ready at ${server} (KUBECONFIG=${kubeconfig})"
}

# kube_down   stops what kube_up started, in reverse order.
kube_down() {
  stop_daemon kube-controller-manager
  stop_daemon kube-apiserver
  stop_daemon etcd
}
