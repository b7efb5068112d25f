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
#
# Timings on a shared machine move with whatever else runs on it: the bench
# prints how busy the machine was in every phase; compare agent and baseline
# of the same run, not figures of different runs.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

build_dir="${OUTFLOW_BUILD_DIR:-build}"
bench=outflow_publisher_bench
if [[ "${1:-}" == operator ]]; then
  bench=outflow_operator_bench
  shift
fi

t0=${SECONDS}
hack/setup.sh
t_setup=$(( SECONDS - t0 ))

t0=${SECONDS}
# Optimized and never instrumented: sanitizer timings say nothing about speed.
cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTFLOW_SANITIZE=OFF >/dev/null
# Only the benchmark (it is not part of `all`, so the test build never waits for it).
cmake --build "${build_dir}" --target "${bench}" -j "$(nproc)"
t_build=$(( SECONDS - t0 ))

t0=${SECONDS}
# No node: the benchmark needs no pods (nor the images a node imports).
OUTFLOW_TESTENV_NODE=0 hack/testenv.sh up
trap 'hack/testenv.sh down' EXIT
eval "$(hack/testenv.sh env)"
t_env=$(( SECONDS - t0 ))

t0=${SECONDS}
set +e
hack/testenv.sh exec "${build_dir}/tests/${bench}" "$@"
rc=$?
set -e
t_bench=$(( SECONDS - t0 ))

log "timings: setup ${t_setup}s, build ${t_build}s, test environment up ${t_env}s, bench ${t_bench}s"
exit "${rc}"
