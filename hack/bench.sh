#!/usr/bin/env bash
# The benchmark command: setup, build the benchmark, real test environment up,
# the bench, environment down. Exit code is the bench's (non-zero only when a
# message went missing or something failed).
#
#   hack/bench.sh                          the outbox publisher beside a bare Kafka producer:
#                                          100000 rows of 1 KiB, 500 rows/s for 20 s
#   hack/bench.sh --rows 20000 --seconds 5 extra arguments go to the benchmark
#                                          (--help lists them; OUTFLOW_BENCH_ROWS=... works too)
#   hack/bench.sh peers                    the agent beside two baselines, a hand-written Node.js
#                                          poller and Debezium (fetched by hack/bench-peers.sh):
#                                          warm-up drains, then drain, latency at 500/2000/10000
#                                          rows/s, CPU, RSS, loss of every run and a CPU profile
#                                          of every run; writes its part of tests/bench/RESULTS.md
#   hack/bench.sh peers --rows 20000 --rounds 1 --seconds 5   (--help lists the options)
#   OUTFLOW_BENCH_AGENT_OUTBOX='  deleteAfterPublish: true' hack/bench.sh peers --relays agent
#                                          extra lines for the agent's `outbox:` section (YAML,
#                                          indented two spaces): measure settings other than the defaults
#   hack/bench.sh operator                 the operator: 1000 pipelines x 3 topics in 10 namespaces
#                                          applied at once; time to ready, memory, CPU, a restart with
#                                          nothing changed, a spec change behind the next restart's
#                                          resync, load; writes its part of tests/bench/RESULTS.md
#   hack/bench.sh operator --pipelines 200 (--help lists the options; OUTFLOW_BENCH_PIPELINES=... too)
#   hack/bench.sh all                      what tests/bench/RESULTS.md holds: peers, then the
#                                          operator with 1334 pipelines (4002 topics, the size of the
#                                          first figure quoted for a topic operator), each in a
#                                          test environment of its own
#
# Timings on a shared machine move with whatever else runs on it: the bench
# prints how busy the machine was in every phase; compare agent and baseline
# of the same run, not figures of different runs.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

build_dir="${OUTFLOW_BUILD_DIR:-build}"
results=tests/bench/RESULTS.md
mode=publisher
case "${1:-}" in
  peers|operator|all) mode=$1; shift ;;
esac
[[ "${mode}" != all || $# == 0 ]] || die "hack/bench.sh all takes no arguments (run peers or operator for those)"

# The commit a bench measured, and whether the tree had changes in `dirs`.
commit_of() {
  local commit
  commit="$(git rev-parse --short HEAD)"
  git diff --quiet HEAD -- "$@" 2>/dev/null || commit+=" with uncommitted changes"
  printf '%s' "${commit}"
}

operator_versions() {
  cat <<LIST
  - outflow-operator $(commit_of operator common)
  - kube-apiserver ${KUBERNETES_VERSION}
  - broker: Apache Kafka ${KAFKA_VERSION}
LIST
}

# run_bench MODE ARGS...: one bench in a test environment of its own.
run_bench() {
  local which=$1 bench
  shift
  case "${which}" in
    publisher) bench=outflow_publisher_bench ;;
    peers) bench=outflow_peers_bench ;;
    operator) bench=outflow_operator_bench ;;
  esac
  local t0=${SECONDS}
  # No node: the benchmarks need no pods (nor the images a node imports).
  OUTFLOW_TESTENV_NODE=0 hack/testenv.sh up
  trap 'hack/testenv.sh down' EXIT
  eval "$(hack/testenv.sh env)"
  if [[ "${which}" == peers ]]; then
    # Debezium reads the WAL by logical decoding. Only this environment (thrown
    # away afterwards) gets it, and every relay runs against the same server.
    hack/testenv.sh exec psql -X -q "${OUTFLOW_TEST_PG_URL}" -c "ALTER SYSTEM SET wal_level = logical"
    hack/testenv.sh stop postgres
    hack/testenv.sh start postgres
  fi
  local t_env=$(( SECONDS - t0 ))

  t0=${SECONDS}
  local rc
  set +e
  case "${which}" in
    peers)
      [[ " $* " == *" --results "* ]] || set -- --results "${results}" "$@"
      OUTFLOW_BENCH_COMMAND="hack/bench.sh ${mode_command}" OUTFLOW_BENCH_VERSIONS="$(hack/bench-peers.sh --versions)" \
        OUTFLOW_AGENT_BIN="${OUTFLOW_AGENT_BIN:-${build_dir}/agent/outflow-agent}" \
        hack/testenv.sh exec "${build_dir}/tests/${bench}" "$@"
      ;;
    operator)
      [[ " $* " == *" --results "* ]] || set -- --results "${results}" "$@"
      OUTFLOW_BENCH_COMMAND="hack/bench.sh ${mode_command}" OUTFLOW_BENCH_VERSIONS="$(operator_versions)" \
        hack/testenv.sh exec "${build_dir}/tests/${bench}" "$@"
      ;;
    *) hack/testenv.sh exec "${build_dir}/tests/${bench}" "$@" ;;
  esac
  rc=$?
  set -e
  log "${which}: test environment up ${t_env}s, bench $(( SECONDS - t0 ))s"
  hack/testenv.sh down
  trap - EXIT
  return "${rc}"
}

t0=${SECONDS}
hack/setup.sh
if [[ "${mode}" == peers || "${mode}" == all ]]; then
  OUTFLOW_BENCH_PEERS_CACHE="$(hack/bench-peers.sh)"
  export OUTFLOW_BENCH_PEERS_CACHE
fi
t_setup=$(( SECONDS - t0 ))

t0=${SECONDS}
targets=()
case "${mode}" in
  publisher) targets=(outflow_publisher_bench) ;;
  # The peers bench runs the real agent binary.
  peers) targets=(outflow_peers_bench outflow-agent) ;;
  operator) targets=(outflow_operator_bench) ;;
  all) targets=(outflow_peers_bench outflow-agent outflow_operator_bench) ;;
esac
# Optimized and never instrumented: sanitizer timings say nothing about speed.
cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTFLOW_SANITIZE=OFF >/dev/null
# Only the benchmarks (not part of `all`, so the test build never waits for them).
cmake --build "${build_dir}" --target "${targets[@]}" -j "$(nproc)"
log "timings: setup ${t_setup}s, build $(( SECONDS - t0 ))s"

if [[ "${mode}" == all ]]; then
  # Each in a subshell with errexit of its own: the operator still runs when
  # the peers failed, and the exit code says whether either did.
  mode_command=all
  set +e
  (set -e; run_bench peers)
  rc_peers=$?
  (set -e; run_bench operator --pipelines 1334)
  rc_operator=$?
  set -e
  log "peers exited ${rc_peers}, operator ${rc_operator}"
  (( rc_peers == 0 && rc_operator == 0 ))
  exit
fi
mode_command="${mode}${*:+ $*}"
run_bench "${mode}" "$@"
