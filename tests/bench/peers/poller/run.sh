#!/usr/bin/env bash
# Baseline for `hack/bench.sh peers`: the hand-written Node.js poller, with the
# npm packages hack/bench-peers.sh installed from package-lock.json. Started by
# the bench with PEER_* variables; execs node.
set -euo pipefail
modules="${PEER_CACHE:-}/poller/node_modules"
[[ -d "${modules}" ]] || { echo "poller/run.sh: ${modules} missing (run hack/bench-peers.sh)" >&2; exit 2; }
export NODE_PATH="${modules}" KAFKAJS_NO_PARTITIONER_WARNING=1
export DATABASE_URL="${PEER_PG_URL}" OUTBOX_TABLE="${PEER_TABLE}" KAFKA_BROKERS="${PEER_KAFKA}" DEFAULT_TOPIC="${PEER_TOPIC}"
exec node "$(dirname "${BASH_SOURCE[0]}")/poller.js"
