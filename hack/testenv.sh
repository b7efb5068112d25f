#!/usr/bin/env bash
# The real test environment, as local processes on loopback:
#   etcd + kube-apiserver + kube-controller-manager, a KRaft Kafka broker, PostgreSQL.
#
#   hack/testenv.sh up      start everything (needs hack/setup.sh first)
#   hack/testenv.sh down    stop exactly what `up` started and remove its state
#   hack/testenv.sh env     print `export` lines for the variables tests read
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

down() {
  kube_down || true
  kafka_down || true
  pg_down || true
  rm -rf "${OUTFLOW_TESTENV_DIR}"
}

up() {
  if [[ -f "${OUTFLOW_TESTENV_DIR}/env.sh" ]]; then
    log "a previous test environment is still recorded in ${OUTFLOW_TESTENV_DIR}; stopping it first"
    down
  fi
  mkdir -p "${OUTFLOW_TESTENV_DIR}/logs"
  # A half-started environment is worse than none: undo everything on failure.
  # EXIT rather than ERR, because the parts' scripts may `exit` through die().
  local start=${SECONDS}
  trap 'log "test environment failed to start"; down' EXIT
  certs_ca "${OUTFLOW_TESTENV_DIR}/pki"
  log "starting PostgreSQL";  pg_up
  log "starting Kafka";       kafka_up
  log "starting Kubernetes";  kube_up
  trap - EXIT
  export_env OUTFLOW_TESTENV_DIR "${OUTFLOW_TESTENV_DIR}"
  log "test environment up in $(( SECONDS - start ))s; load it with: eval \"\$(hack/testenv.sh env)\""
}

case "${1:-}" in
  up)   up ;;
  down) down ;;
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
  *) die "usage: $0 up|down|env|stop PART|start PART|freeze PART|thaw PART" ;;
esac
