#!/usr/bin/env bash
# Setup step of `hack/bench.sh peers`: fetches the two baselines Outflow is
# compared against, into ${OUTFLOW_CACHE}/bench-peers (kept across clones):
#   poller/    node_modules for tests/bench/peers/poller (kafkajs + pg, exactly
#              as package-lock.json pins them), Node.js from Debian's packages
#   debezium/  Kafka Connect + Debezium PostgreSQL connector jars
#              (tests/bench/peers/debezium/pom.xml, versions from hack/versions.env)
# Each part is redone only when what pins it changes. Prints nothing on stdout
# but the cache directory, for hack/bench.sh to hand to the benchmark.
#
#   hack/bench-peers.sh             set up (if needed); print the cache directory
#   hack/bench-peers.sh --versions  what is set up, as Markdown list items for RESULTS.md
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PEERS_CACHE="${OUTFLOW_CACHE}/bench-peers"
PEERS_SRC="${REPO_ROOT}/tests/bench/peers"

# up_to_date DIR STAMP   true when DIR was completed with exactly STAMP.
up_to_date() { [[ -f "$1/.complete" && "$(cat "$1/.complete")" == "$2" ]]; }

poller_setup() {
  local dir="${PEERS_CACHE}/poller" stamp
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "bench-peers: installing Node.js and npm from Debian's packages"
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >&2
  fi
  stamp="node $(node --version) lock $(sha256sum "${PEERS_SRC}/poller/package-lock.json" | cut -d' ' -f1)"
  up_to_date "${dir}" "${stamp}" && return 0
  log "bench-peers: installing the poller's npm packages (package-lock.json)"
  rm -rf "${dir}"
  mkdir -p "${dir}"
  cp "${PEERS_SRC}/poller/package.json" "${PEERS_SRC}/poller/package-lock.json" "${dir}/"
  (cd "${dir}" && npm ci --omit=dev --no-audit --no-fund >"${dir}/fetch.log" 2>&1) \
    || { tail -n 30 "${dir}/fetch.log" >&2; die "bench-peers: npm ci failed (see ${dir}/fetch.log)"; }
  printf '%s\n' "${stamp}" > "${dir}/.complete"
}

debezium_setup() {
  local dir="${PEERS_CACHE}/debezium" stamp
  command -v mvn >/dev/null || die "bench-peers: mvn not found (hack/setup.sh installs it)"
  stamp="debezium ${BENCH_DEBEZIUM_VERSION} connect ${BENCH_CONNECT_VERSION} pom $(sha256sum "${PEERS_SRC}/debezium/pom.xml" | cut -d' ' -f1)"
  up_to_date "${dir}" "${stamp}" && return 0
  log "bench-peers: fetching Kafka Connect ${BENCH_CONNECT_VERSION} and Debezium ${BENCH_DEBEZIUM_VERSION} jars with Maven"
  rm -rf "${dir}"
  mkdir -p "${dir}"
  # Maven's local repository (~/.m2) is reused: a re-fetch after a cache wipe only copies.
  if ! mvn -q -B -f "${PEERS_SRC}/debezium/pom.xml" dependency:copy-dependencies \
        -Dconnect.version="${BENCH_CONNECT_VERSION}" \
        -Ddebezium.version="${BENCH_DEBEZIUM_VERSION}" \
        -DincludeScope=runtime \
        -DoutputDirectory="${dir}/libs" >"${dir}/fetch.log" 2>&1; then
    tail -n 30 "${dir}/fetch.log" >&2
    die "bench-peers: mvn dependency:copy-dependencies failed (see ${dir}/fetch.log)"
  fi
  [[ -f "${dir}/libs/debezium-connector-postgres-${BENCH_DEBEZIUM_VERSION}.jar" ]] \
    || die "bench-peers: debezium-connector-postgres-${BENCH_DEBEZIUM_VERSION}.jar missing after the fetch"
  printf '%s\n' "${stamp}" > "${dir}/.complete"
}

versions() {
  local modules="${PEERS_CACHE}/poller/node_modules"
  local agent
  agent="$(git -C "${REPO_ROOT}" rev-parse --short HEAD)"
  git -C "${REPO_ROOT}" diff --quiet HEAD -- agent common 2>/dev/null || agent+=" with uncommitted changes"
  cat <<LIST
  - outflow-agent ${agent}
  - Node.js $(node --version), kafkajs $(node -p "require('${modules}/kafkajs/package.json').version"), pg $(node -p "require('${modules}/pg/package.json').version")
  - Debezium ${BENCH_DEBEZIUM_VERSION} on Kafka Connect ${BENCH_CONNECT_VERSION}, $(java -version 2>&1 | head -n 1)
  - broker: Apache Kafka ${KAFKA_VERSION}
LIST
}

case "${1:-}" in
  --versions) versions ;;
  "") poller_setup; debezium_setup; echo "${PEERS_CACHE}" ;;
  *) die "usage: $0 [--versions]" ;;
esac
