#!/usr/bin/env bash
# The benchmark command: setup, build the benchmark, real test environment up,
# the outbox publisher measured beside a bare Kafka producer in the same run,
# environment down. Prints a table and a RESULT line; exit code is the bench's
# (non-zero only when a message went missing or something failed).
#
#   hack/bench.sh                          defaults: 100000 rows of 1 KiB, 500 rows/s for 20 s
#   hack/bench.sh --rows 20000 --seconds 5 extra arguments go to the benchmark
#                                          (--help lists them; OUTFLOW_BENCH_ROWS=... works too)
#   hack/bench.sh operator                 the operator instead: 1000 pipelines x 3 topics in 10
#                                          namespaces applied at once; time to ready, peak RSS,
#                                          restart, a spec change behind the full resync, load
#   hack/bench.sh operator --pipelines 200 (--help lists the options; OUTFLOW_BENCH_PIPELINES=... too)
#   hack/bench.sh peers                    the agent beside two baselines, a hand-written Node.js
#                                          poller and Debezium (fetched by hack/bench-peers.sh):
#                                          an unmeasured warm-up drain, then drain, latency at
#                                          500/2000/10000 rows/s, CPU, RSS, loss of every run and a
#                                          CPU profile of every drain; writes tests/bench/RESULTS.md
#   hack/bench.sh peers --rows 20000 --rounds 1 --seconds 5   (--help lists the options)
#   OUTFLOW_BENCH_AGENT_OUTBOX='  deleteAfterPublish: true' hack/bench.sh peers --relays agent
#                                          extra lines for the agent's `outbox:` section (YAML,
#                                          indented two spaces): measure settings other than the defaults
#
# Timings on a shared machine move with whatever else runs on it: the bench
# prints how busy the machine was in every phase; compare agent and baseline
# of the same run, not figures of different runs.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

build_dir="${OUTFLOW_BUILD_DIR:-build}"
bench=outflow_publisher_bench
extra_targets=()
if [[ "${1:-}" == operator ]]; then
  bench=outflow_operator_bench
  shift
elif [[ "${1:-}" == peers ]]; then
  bench=outflow_peers_bench
  extra_targets=(outflow-agent)  # the peers bench runs the real agent binary
  export OUTFLOW_BENCH_COMMAND="hack/bench.sh $*"
  shift
fi
peers() { [[ "${bench}" == outflow_peers_bench ]]; }

t0=${SECONDS}
hack/setup.sh
if peers; then
  OUTFLOW_BENCH_PEERS_CACHE="$(hack/bench-peers.sh)"
  export OUTFLOW_BENCH_PEERS_CACHE
fi
t_setup=$(( SECONDS - t0 ))

t0=${SECONDS}
# Optimized and never instrumented: sanitizer timings say nothing about speed.
cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTFLOW_SANITIZE=OFF >/dev/null
# Only the benchmark (it is not part of `all`, so the test build never waits for it).
cmake --build "${build_dir}" --target "${bench}" "${extra_targets[@]}" -j "$(nproc)"
t_build=$(( SECONDS - t0 ))

t0=${SECONDS}
# No node: the benchmark needs no pods (nor the images a node imports).
OUTFLOW_TESTENV_NODE=0 hack/testenv.sh up
trap 'hack/testenv.sh down' EXIT
eval "$(hack/testenv.sh env)"
if peers; then
  # Debezium reads the WAL by logical decoding. Only this environment (thrown
  # away afterwards) gets it, and every relay runs against the same server.
  hack/testenv.sh exec psql -X -q "${OUTFLOW_TEST_PG_URL}" -c "ALTER SYSTEM SET wal_level = logical"
  hack/testenv.sh stop postgres
  hack/testenv.sh start postgres
fi
t_env=$(( SECONDS - t0 ))

t0=${SECONDS}
set +e
if peers; then
  export OUTFLOW_AGENT_BIN="${OUTFLOW_AGENT_BIN:-${build_dir}/agent/outflow-agent}"
  OUTFLOW_BENCH_VERSIONS="$(hack/bench-peers.sh --versions)"
  export OUTFLOW_BENCH_VERSIONS
  [[ " $* " == *" --results "* ]] || set -- --results tests/bench/RESULTS.md "$@"
fi
hack/testenv.sh exec "${build_dir}/tests/${bench}" "$@"
rc=$?
set -e
t_bench=$(( SECONDS - t0 ))

log "timings: setup ${t_setup}s, build ${t_build}s, test environment up ${t_env}s, bench ${t_bench}s"
exit "${rc}"
