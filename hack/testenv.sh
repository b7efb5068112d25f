#!/usr/bin/env bash
# The real test environment, as local processes inside one private network
# namespace of its own (named after OUTFLOW_TESTENV_DIR; nothing listens in
# the host's namespace):
#   etcd + kube-apiserver + kube-controller-manager, a KRaft Kafka broker,
#   PostgreSQL, and a real node: containerd + kubelet + kube-scheduler + a
#   bridge pod network, with the images of hack/images.sh imported.
#
#   hack/testenv.sh up      start everything (needs hack/setup.sh and
#                           hack/images.sh first)
#   hack/testenv.sh down    stop exactly what `up` started, remove its state and
#                           put back what the node changed on the machine
#   hack/testenv.sh env     print `export` lines for the variables tests read
#   hack/testenv.sh exec CMD...
#                           run CMD inside the environment's network namespace
#                           (tests must: the environment listens only there)
#   hack/testenv.sh stop|start kafka|postgres
#                           stop/start one part keeping its data and ports
#                           (outage tests)
#   hack/testenv.sh freeze|thaw kafka
#                           SIGSTOP/SIGCONT the broker: it keeps its
#                           connections open and answers nothing, the way a
#                           hung or partitioned server looks to a client
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/certs.sh"
source "${HACK_DIR}/lib/kube.sh"
source "${HACK_DIR}/lib/kafka.sh"
source "${HACK_DIR}/lib/postgres.sh"
source "${HACK_DIR}/lib/images.sh"
source "${HACK_DIR}/lib/node.sh"

# in_netns ARGS...   this script again with ARGS, inside the namespace.
in_netns() {
  nsenter --net="/run/netns/$(netns_name)" -- "${HACK_DIR}/testenv.sh" "$@"
}

down() {
  if [[ -e "/run/netns/$(netns_name)" ]] && ! netns_inside; then
    in_netns _down || true
  else
    _down
  fi
  netns_delete || true
  rm -rf "${OUTFLOW_TESTENV_DIR}"
}

_down() {
  node_down || true
  kube_down || true
  kafka_down || true
  pg_down || true
}

up() {
  if [[ -f "${OUTFLOW_TESTENV_DIR}/env.sh" || -e "/run/netns/$(netns_name)" ]]; then
    log "a previous test environment is still recorded in ${OUTFLOW_TESTENV_DIR}; stopping it first"
    down
  fi
  mkdir -p "${OUTFLOW_TESTENV_DIR}/logs"
  # A half-started environment is worse than none: undo everything on failure.
  # EXIT rather than ERR, because the parts' scripts may `exit` through die().
  local start=${SECONDS}
  trap 'log "test environment failed to start"; down' EXIT
  netns_create
  in_netns _up
  trap - EXIT
  log "test environment up in $(( SECONDS - start ))s in network namespace $(netns_name); load it with: eval \"\$(hack/testenv.sh env)\", run tests with: hack/testenv.sh exec CMD"
}

_up() {
  certs_ca "${OUTFLOW_TESTENV_DIR}/pki"
  log "starting PostgreSQL";  pg_up
  log "starting Kafka";       kafka_up
  log "starting Kubernetes";  kube_up
  # OUTFLOW_TESTENV_NODE=0: no node (for hack/bench.sh, which needs no pods);
  # the suites that need one then fail, naming OUTFLOW_TEST_NODE_IP.
  if [[ "${OUTFLOW_TESTENV_NODE:-1}" != 0 ]]; then
    log "starting the node";  node_up
  fi
  export_env OUTFLOW_TESTENV_DIR "${OUTFLOW_TESTENV_DIR}"
}

# Everything but up, down and env runs inside the namespace: ports are
# checked there, and the parts listen only there.
case "${1:-}" in
  up|down|env|_up|_down) ;;
  *) if [[ -n "${1:-}" ]] && ! netns_inside; then
       [[ -e "/run/netns/$(netns_name)" ]] || die "no test environment is up (run: hack/testenv.sh up)"
       exec nsenter --net="/run/netns/$(netns_name)" -- "${HACK_DIR}/testenv.sh" "$@"
     fi ;;
esac

case "${1:-}" in
  up)   up ;;
  down) down ;;
  _up)  _up ;;
  _down) _down ;;
  exec)
    shift
    (( $# > 0 )) || die "usage: $0 exec CMD..."
    exec "$@" ;;
  env)
    [[ -f "${OUTFLOW_TESTENV_DIR}/env.sh" ]] || die "no test environment is up (run: hack/testenv.sh up)"
    cat "${OUTFLOW_TESTENV_DIR}/env.sh" ;;
  freeze|thaw)
    case "${2:-}" in
      kafka)
        pidfile="${OUTFLOW_TESTENV_DIR}/pids/$2.pid"
        [[ -f "${pidfile}" ]] || die "$2 is not running"
        signal=STOP; [[ "$1" == thaw ]] && signal=CONT
        kill "-${signal}" -- "-$(cat "${pidfile}")" ;;
      *) die "usage: $0 $1 kafka" ;;
    esac ;;
  stop|start)
    case "${2:-}" in
      kafka)    "kafka_$1" ;;
      postgres) "pg_$1" ;;
      *) die "usage: $0 $1 kafka|postgres" ;;
    esac ;;
  *) die "usage: $0 up|down|env|exec CMD...|stop PART|start PART|freeze PART|thaw PART" ;;
esac
