#!/usr/bin/env bash
# The full chaos run (issue 16): 1,000,000 outbox rows from a concurrent
# writer while the broker is SIGKILLed and restarted 5 times, agent replicas
# are SIGKILLed 5 times and PostgreSQL restarts once; an independent consumer
# then checks no loss, no rolled-back row, per-key order of first deliveries
# and duplicates within the in-flight bound. Then the operator chaos tests.
# hack/test.sh runs the short variant (24,000 rows, one fault of each kind)
# of both: processes, and pods on the node.
#
#   hack/chaos.sh                      the full run (setup, build, environment
#                                      up without a node, run, environment down)
#   hack/chaos.sh --pods               the same with the agents as pods on the
#                                      node, run by the operator's chart; an
#                                      agent fault is `kubectl delete pod --force`
#                                      (builds the images, starts the node)
#   OUTFLOW_CHAOS_ROWS=200000 OUTFLOW_CHAOS_BROKER_KILLS=2 hack/chaos.sh
#                                      another size (see the variables at the top
#                                      of tests/integration/chaos/agent_chaos_test.cpp)
#   OUTFLOW_TESTENV_DIR=... with an environment already up: it is used as it
#                                      is and left running (no setup, no up/down)
#
# Exit code: the tests'. The figures (faults, drain time, duplicates against
# the bound) are in the output.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

build_dir="${OUTFLOW_BUILD_DIR:-build}"
pods=0
if [[ "${1:-}" == --pods ]]; then
  pods=1
  shift
fi
export OUTFLOW_CHAOS_ROWS="${OUTFLOW_CHAOS_ROWS:-1000000}"
export OUTFLOW_CHAOS_RATE="${OUTFLOW_CHAOS_RATE:-1000}"
export OUTFLOW_CHAOS_BROKER_KILLS="${OUTFLOW_CHAOS_BROKER_KILLS:-5}"
export OUTFLOW_CHAOS_AGENT_KILLS="${OUTFLOW_CHAOS_AGENT_KILLS:-5}"
export OUTFLOW_CHAOS_DATABASE_RESTARTS="${OUTFLOW_CHAOS_DATABASE_RESTARTS:-1}"

own_env=1
if [[ -n "${OUTFLOW_TESTENV_DIR:-}" && -f "${OUTFLOW_TESTENV_DIR}/env.sh" ]]; then
  own_env=0
  log "using the test environment already up in ${OUTFLOW_TESTENV_DIR}"
else
  hack/setup.sh
fi

export CCACHE_BASEDIR="${REPO_ROOT}" CCACHE_NOHASHDIR=1
cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if (( pods )); then
  nice cmake --build "${build_dir}" --target outflow_node_e2e_tests outflow-agent outflow-operator \
    -j "${OUTFLOW_BUILD_JOBS:-$(nproc)}"
  hack/images.sh "${build_dir}"
  tests=("${build_dir}/tests/outflow_node_e2e_tests" --gtest_filter='NodeE2eChaosTest.*')
else
  nice cmake --build "${build_dir}" --target outflow_chaos_tests -j "${OUTFLOW_BUILD_JOBS:-$(nproc)}"
  tests=("${build_dir}/tests/outflow_chaos_tests" --gtest_filter='*ChaosTest.*')
fi

if (( own_env )); then
  # The node only for pods: processes need none, and it costs minutes.
  OUTFLOW_TESTENV_NODE="${pods}" hack/testenv.sh up
  trap 'hack/testenv.sh down' EXIT
fi
eval "$(hack/testenv.sh env)"

log "chaos ($( (( pods )) && echo pods || echo processes)): ${OUTFLOW_CHAOS_ROWS} rows at ${OUTFLOW_CHAOS_RATE} rows/s; broker killed ${OUTFLOW_CHAOS_BROKER_KILLS}x, agents ${OUTFLOW_CHAOS_AGENT_KILLS}x, PostgreSQL restarted ${OUTFLOW_CHAOS_DATABASE_RESTARTS}x"
t0=${SECONDS}
set +e
hack/testenv.sh exec "${tests[@]}" "$@"
rc=$?
set -e
log "chaos: done in $(( SECONDS - t0 ))s, exit ${rc}"
exit "${rc}"
