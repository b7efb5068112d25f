#!/usr/bin/env bash
# Relay under test for `hack/bench.sh peers`: outflow-agent on its own (no
# Kubernetes), with the pipeline's defaults. Started by the bench with PEER_*
# variables (see tests/bench/peers/relays.cpp); execs the agent.
# PEER_AGENT_OUTBOX (the relay's own, relays.cpp) and OUTFLOW_BENCH_AGENT_OUTBOX
# (hack/bench.sh) add lines to its outbox section.
set -euo pipefail
[[ -x "${PEER_AGENT_BIN:-}" ]] || { echo "agent/run.sh: OUTFLOW_AGENT_BIN must name the outflow-agent binary" >&2; exit 2; }
# A file per process: replicas of one relay share the work folder.
cat > "${PEER_WORKDIR}/agent-${PEER_PORT}.yaml" <<YAML
apiVersion: outflow.dev/v1alpha1
kind: AgentConfig
metadata:
  name: bench-peers
kafka:
  bootstrapServers: [${PEER_KAFKA}]
topics:
  - name: ${PEER_TOPIC}
outbox:
  databaseUrl: {env: PEER_PG_URL}
  table: ${PEER_TABLE}
  defaultTopic: ${PEER_TOPIC}
${PEER_AGENT_OUTBOX:-}
${OUTFLOW_BENCH_AGENT_OUTBOX:-}
YAML
# No API server: an empty KUBERNETES_SERVICE_HOST and a kubeconfig path that does not exist.
export KUBERNETES_SERVICE_HOST=
exec "${PEER_AGENT_BIN}" --config="${PEER_WORKDIR}/agent-${PEER_PORT}.yaml" --kubeconfig="${PEER_WORKDIR}/no-kubeconfig" \
  --metrics-addr="127.0.0.1:${PEER_PORT}" --health-addr="127.0.0.1:${PEER_PORT2}" --log-level=warn
