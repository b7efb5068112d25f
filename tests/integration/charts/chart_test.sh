#!/usr/bin/env bash
# The Helm chart against the real API server: it lints, its values schema
# rejects bad values, and every object it renders (CRD included) is accepted by
# a server-side dry run. Needs the test environment (KUBECONFIG and
# OUTFLOW_TEST_KUBE_BIN); without it this test fails, it never skips.
set -euo pipefail

repo="${1:?usage: chart_test.sh REPO_ROOT}"
: "${KUBECONFIG:?KUBECONFIG is not set: run hack/test.sh, or hack/testenv.sh up and eval \"\$(hack/testenv.sh env)\"}"
: "${OUTFLOW_TEST_KUBE_BIN:?OUTFLOW_TEST_KUBE_BIN is not set: run hack/test.sh, or hack/testenv.sh up and eval \"\$(hack/testenv.sh env)\"}"
helm="${OUTFLOW_TEST_KUBE_BIN}/helm"
kubectl="${OUTFLOW_TEST_KUBE_BIN}/kubectl"
chart="${repo}/charts/outflow"
work="$(mktemp -d)"
ns="outflow-chart-$(openssl rand -hex 3)"
trap '"${kubectl}" delete namespace "${ns}" --wait=false >/dev/null 2>&1 || true; rm -rf "${work}"' EXIT

"${helm}" lint --strict "${chart}" 2>/dev/null

# The schema must refuse what would break the operator at start-up.
for bad in "replicas=many" "logFormat=xml" "resyncPeriod=10" "watchNamespaces[0]=Not_A_Namespace" \
           "agent.allowedImages[0]=registry.example/*/agent:1" "agent.allowedImages[0]=agent:1 agent:2" \
           "agent.allowedImages[0]="; do
  if "${helm}" template rel "${chart}" --set "${bad}" >/dev/null 2>"${work}/err"; then
    echo "FAIL: helm accepted --set ${bad}"; exit 1
  fi
  grep -q "values don't meet the specifications of the schema" "${work}/err" \
    || { echo "FAIL: --set ${bad} failed for another reason:"; cat "${work}/err"; exit 1; }
done

"${kubectl}" create namespace "${ns}" >/dev/null
for values in "" "--set leaderElection=false --set watchNamespaces={a,b} --set agent.allowedImages={registry.example/outflow-agent:*,mirror.example/agent:1}"; do
  # shellcheck disable=SC2086  # $values is a word list on purpose
  "${helm}" template rel "${chart}" --namespace "${ns}" --include-crds ${values} > "${work}/rendered.yaml" 2>/dev/null
  "${kubectl}" apply --dry-run=server -f "${work}/rendered.yaml" > "${work}/applied.txt"
  kinds="$(grep -c 'created (server dry run)\|configured (server dry run)\|unchanged (server dry run)' "${work}/applied.txt")"
  expected="$(grep -c '^kind:' "${work}/rendered.yaml")"
  if [[ "${kinds}" != "${expected}" ]]; then
    echo "FAIL: API server accepted ${kinds} of ${expected} objects:"; cat "${work}/applied.txt"; exit 1
  fi
  grep -q -- "--agent-image=ghcr.io/outflow-dev/outflow-agent:0.1.0" "${work}/rendered.yaml" \
    || { echo "FAIL: operator is not told its agent image"; exit 1; }
done
grep -q -- "--namespaces=a,b" "${work}/rendered.yaml" || { echo "FAIL: watchNamespaces not passed"; exit 1; }
grep -qF -- "--allowed-agent-images=registry.example/outflow-agent:*,mirror.example/agent:1" "${work}/rendered.yaml" \
  || { echo "FAIL: agent.allowedImages not passed"; exit 1; }
if "${helm}" template rel "${chart}" | grep -q -- "--allowed-agent-images"; then
  echo "FAIL: --allowed-agent-images rendered although agent.allowedImages is empty"; exit 1
fi
if grep -q "leader-election" "${work}/rendered.yaml"; then
  echo "FAIL: leader-election Role rendered with leaderElection=false"; exit 1
fi
echo "chart: lint, schema and server dry run passed"
