#!/usr/bin/env bash
# The one test command: setup, build, images, real test environment up (with
# its node), every test (unit, integration, e2e) inside the environment's
# network namespace, environment down. Exit code is ctest's.
#
#   hack/test.sh                 everything
#   hack/test.sh -L unit         extra arguments go to ctest
#   OUTFLOW_SANITIZE=ON hack/test.sh   ASan/UBSan build (in build-sanitize/)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${REPO_ROOT}"

sanitize="${OUTFLOW_SANITIZE:-OFF}"
build_dir="${OUTFLOW_BUILD_DIR:-build}"
[[ "${sanitize}" == ON ]] && build_dir="${OUTFLOW_BUILD_DIR:-build-sanitize}"

t0=${SECONDS}
hack/setup.sh
t_setup=$(( SECONDS - t0 ))

# ccache keys on paths relative to the checkout and ignores the build
# directory's own path, so a fresh clone elsewhere (CI) reuses what an
# earlier build of the same sources compiled.
export CCACHE_BASEDIR="${REPO_ROOT}" CCACHE_NOHASHDIR=1

t0=${SECONDS}
cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTFLOW_SANITIZE="${sanitize}" >/dev/null
# The benchmark too (not in `all`): built here so an API change cannot leave
# it broken until someone runs hack/bench.sh.
cmake --build "${build_dir}" -j "$(nproc)" --target all outflow_publisher_bench
t_build=$(( SECONDS - t0 ))

# The operator and agent images (from the binaries just built), which the
# test environment's node runs.
t0=${SECONDS}
hack/images.sh "${build_dir}"
t_images=$(( SECONDS - t0 ))

t0=${SECONDS}
hack/testenv.sh up
trap 'hack/testenv.sh down' EXIT
eval "$(hack/testenv.sh env)"
t_env=$(( SECONDS - t0 ))

t0=${SECONDS}
set +e
# The environment listens only inside its network namespace: tests run there.
ctest() { hack/testenv.sh exec ctest "$@"; }
if (( $# == 0 )); then
  # Outage and chaos tests (every *OutageTest and *ChaosTest suite) stop or
  # kill shared parts of the environment (the broker, PostgreSQL), and
  # *AloneTest suites measure what another test's transaction would change,
  # so they run on their own first; then everything else in parallel.
  ctest --test-dir "${build_dir}" --output-on-failure --timeout 600 -R "(OutageTest|ChaosTest|AloneTest)\\."
  rc_outage=$?
  ctest --test-dir "${build_dir}" --output-on-failure --timeout 600 -j 2 -E "(OutageTest|ChaosTest|AloneTest)\\."
  rc=$?
  (( rc != 0 )) || rc=${rc_outage}
else
  ctest --test-dir "${build_dir}" --output-on-failure --timeout 600 -j 2 "$@"
  rc=$?
fi
set -e
t_tests=$(( SECONDS - t0 ))

log "timings: setup ${t_setup}s, build ${t_build}s, images ${t_images}s, test environment up ${t_env}s, tests ${t_tests}s"
exit "${rc}"
