#!/usr/bin/env bash
# The Helm chart against the real API server: it lints clean (--strict), its
# values schema closes every object (a typo anywhere fails with a message
# naming it), every object it renders (CRD included) is accepted by a
# server-side dry run, optional objects appear exactly when asked for (and,
# for the Prometheus Operator's kinds, when their CRDs exist), and a release
# installs, upgrades with a changed value and uninstalls without leaving
# objects behind. No node runs here, so nothing waits for pods.
# Needs the test environment (KUBECONFIG and OUTFLOW_TEST_KUBE_BIN); without
# it this test fails, it never skips.
set -euo pipefail

repo="${1:?usage: chart_test.sh REPO_ROOT}"
: "${KUBECONFIG:?KUBECONFIG is not set: run hack/test.sh, or hack/testenv.sh up and eval \"\$(hack/testenv.sh env)\"}"
: "${OUTFLOW_TEST_KUBE_BIN:?OUTFLOW_TEST_KUBE_BIN is not set: run hack/test.sh, or hack/testenv.sh up and eval \"\$(hack/testenv.sh env)\"}"
helm="${OUTFLOW_TEST_KUBE_BIN}/helm"
kubectl="${OUTFLOW_TEST_KUBE_BIN}/kubectl"
chart="${repo}/charts/outflow"
work="$(mktemp -d)"
suffix="$(openssl rand -hex 3)"
ns="outflow-chart-${suffix}"
release="chart-${suffix}"
cleanup() {
  "${helm}" uninstall "${release}" --namespace "${ns}" >/dev/null 2>&1 || true
  "${kubectl}" delete namespace "${ns}" "${ns}-agents" --wait=false >/dev/null 2>&1 || true
  rm -rf "${work}"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# helm prints a note for the crds/ symlink on stderr; the lint verdict and
# its messages are on stdout.
"${helm}" lint --strict "${chart}" > "${work}/lint.txt" 2>/dev/null || { cat "${work}/lint.txt"; fail "helm lint --strict"; }
if grep -E '^\[(WARNING|ERROR)\]' "${work}/lint.txt"; then fail "helm lint --strict reported the above"; fi

# Every object in the schema is closed: additionalProperties false, or a
# schema for the values of a free map (labels, annotations).
python3 - "${chart}/values.schema.json" <<'PY' || fail "values.schema.json has open objects (above)"
import json, sys
schema = json.load(open(sys.argv[1]))
open_objects = []
def walk(node, path):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            if "additionalProperties" not in node or node["additionalProperties"] is True:
                open_objects.append(path or "/")
        for key, child in node.items():
            walk(child, f"{path}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            walk(child, f"{path}/{i}")
walk(schema, "")
for p in open_objects:
    print("open object at", p)
sys.exit(1 if open_objects else 0)
PY

# The schema must refuse what would break the operator at start-up...
for bad in "replicas=many" "logFormat=xml" "resyncPeriod=10" "watchNamespaces[0]=Not_A_Namespace" \
           "agent.allowedImages[0]=registry.example/*/agent:1" "agent.allowedImages[0]=agent:1 agent:2" \
           "agent.allowedImages[0]=" "resources.limits.memory=1GB" "networkPolicy.kafka.ports[0]=70000" \
           "monitoring.serviceMonitor.interval=often" "tolerations[0].operator=Maybe"; do
  if "${helm}" template rel "${chart}" --set "${bad}" >/dev/null 2>"${work}/err"; then
    fail "helm accepted --set ${bad}"
  fi
  grep -q "values don't meet the specifications of the schema" "${work}/err" \
    || { cat "${work}/err"; fail "--set ${bad} failed for another reason (above)"; }
done
# ...and a typo at any level, naming it, as helm install reports it.
for typo in replica=2 image.tagg=1 resources.limits.memroy=1Gi "tolerations[0].keyy=a" \
            networkPolicy.kafka.port=9092 monitoring.serviceMonitor.intervall=1m dashboard.enabeld=true \
            "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKye=x"; do
  name="${typo%%=*}"; name="${name##*.}"
  if "${helm}" install typo "${chart}" --dry-run --set "${typo}" >/dev/null 2>"${work}/err"; then
    fail "helm install accepted the typo --set ${typo}"
  fi
  grep -q "additional properties '${name}' not allowed" "${work}/err" \
    || { cat "${work}/err"; fail "helm install --set ${typo}: the message does not name '${name}'"; }
done

# Optional objects: rendered when asked for, and the Prometheus Operator's
# kinds only where the API server serves them.
kinds_of() { grep '^kind:' | sed 's/^kind: //' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
render() { "${helm}" template rel "${chart}" --namespace "${ns}" "$@" 2>/dev/null; }
[[ "$(render --skip-tests | kinds_of)" == "ClusterRole=1 ClusterRoleBinding=1 Deployment=1 PodDisruptionBudget=1 Role=1 RoleBinding=1 Service=1 ServiceAccount=1 " ]] \
  || fail "default kinds: $(render --skip-tests | kinds_of)"
# The `helm test` hook: the checker's pod, and a grant of its own that may
# only list pods and read the one Lease (none without leader election).
[[ "$(render --show-only templates/tests/operator-check.yaml | kinds_of)" == "Pod=1 Role=1 RoleBinding=1 ServiceAccount=1 " ]] \
  || fail "test hook kinds: $(render --show-only templates/tests/operator-check.yaml | kinds_of)"
# Into files, not `| grep -q`: grep -q exits at the first match, helm then
# dies of SIGPIPE, and under pipefail a pipeline that matched counts as failed.
render --show-only templates/tests/operator-check.yaml > "${work}/test-hook.yaml"
grep -q 'resourceNames: \[outflow-operator\]' "${work}/test-hook.yaml" \
  || fail "the test hook may read Leases other than the operator's"
render --set leaderElection=false --set replicas=1 --show-only templates/tests/operator-check.yaml \
  > "${work}/test-hook-no-election.yaml"
grep -qE 'leases|--lease=' "${work}/test-hook-no-election.yaml" \
  && fail "the test hook reads a Lease although leaderElection is false"
render --set replicas=1 | grep -q '^kind: PodDisruptionBudget' && fail "a PodDisruptionBudget for one replica blocks every drain"
render --set podDisruptionBudget.enabled=false | grep -q '^kind: PodDisruptionBudget' && fail "podDisruptionBudget.enabled=false ignored"
all_monitoring=(--set monitoring.serviceMonitor.enabled=true --set monitoring.podMonitor.enabled=true)
render "${all_monitoring[@]}" | grep -qE '^kind: (ServiceMonitor|PodMonitor)' \
  && fail "ServiceMonitor/PodMonitor rendered although the API server has no such kind"
monitors="$(render "${all_monitoring[@]}" --api-versions monitoring.coreos.com/v1/ServiceMonitor \
              --api-versions monitoring.coreos.com/v1/PodMonitor | kinds_of)"
[[ "${monitors}" == *"PodMonitor=2 "* && "${monitors}" == *"ServiceMonitor=2 "* ]] || fail "monitors: ${monitors}"
render --api-versions monitoring.coreos.com/v1/ServiceMonitor | grep -qE '^kind: (ServiceMonitor|PodMonitor)' \
  && fail "ServiceMonitor rendered although monitoring.serviceMonitor.enabled is false"
render --set networkPolicy.enabled=true --set 'networkPolicy.agentNamespaces={shop,billing}' > "${work}/np.yaml"
[[ "$(grep -c '^kind: NetworkPolicy' "${work}/np.yaml")" == 3 ]] || fail "one operator and two agent NetworkPolicies expected"
render --set dashboard.enabled=true --show-only templates/dashboard-configmap.yaml > "${work}/dashboard.yaml"
grep -q 'grafana_dashboard: "1"' "${work}/dashboard.yaml" || fail "the dashboard ConfigMap lacks the sidecar label"
# The ConfigMap carries the dashboard file as it is in the chart.
"${kubectl}" create --dry-run=client -o json -f "${work}/dashboard.yaml" > "${work}/dashboard.json"
python3 - "${work}/dashboard.json" "${chart}/dashboards/outflow.json" <<'PY' || fail "dashboard ConfigMap differs from dashboards/outflow.json"
import json, sys
config_map = json.load(open(sys.argv[1]))
assert json.loads(config_map["data"]["outflow.json"]) == json.load(open(sys.argv[2]))
PY

"${kubectl}" create namespace "${ns}" >/dev/null
"${kubectl}" create namespace "${ns}-agents" >/dev/null
for values in "" \
    "--set leaderElection=false --set watchNamespaces={a,b} --set agent.allowedImages={registry.example/outflow-agent:*,mirror.example/agent:1}" \
    "--set networkPolicy.enabled=true --set networkPolicy.agentNamespaces={${ns}-agents} --set networkPolicy.kafka.to[0].ipBlock.cidr=10.1.0.0/16 --set networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring --set dashboard.enabled=true --set-json resources={\"limits\":{\"memory\":\"1Gi\",\"cpu\":2}}"; do
  # The test hook's pod names a service account that exists only once the
  # hook runs; tests/e2e/chart_e2e_test.cpp runs it for real on the node.
  # shellcheck disable=SC2086  # $values is a word list on purpose
  "${helm}" template rel "${chart}" --namespace "${ns}" --include-crds --skip-tests ${values} > "${work}/rendered.yaml" 2>/dev/null
  "${kubectl}" apply --dry-run=server -f "${work}/rendered.yaml" > "${work}/applied.txt"
  kinds="$(grep -c 'created (server dry run)\|configured (server dry run)\|unchanged (server dry run)' "${work}/applied.txt")"
  expected="$(grep -c '^kind:' "${work}/rendered.yaml")"
  if [[ "${kinds}" != "${expected}" ]]; then
    cat "${work}/applied.txt"; fail "API server accepted ${kinds} of ${expected} objects (--set ${values})"
  fi
  grep -q -- "--agent-image=ghcr.io/outflow-dev/outflow-agent:0.1.0" "${work}/rendered.yaml" \
    || fail "operator is not told its agent image"
  [[ "${values}" == *leaderElection=false* ]] || continue
  grep -q -- "--namespaces=a,b" "${work}/rendered.yaml" || fail "watchNamespaces not passed"
  grep -qF -- "--allowed-agent-images=registry.example/outflow-agent:*,mirror.example/agent:1" "${work}/rendered.yaml" \
    || fail "agent.allowedImages not passed"
  grep -qE "^  name: .*-leader-election$" "${work}/rendered.yaml" && fail "leader-election Role rendered with leaderElection=false"
done
if "${helm}" template rel "${chart}" 2>/dev/null | grep -q -- "--allowed-agent-images"; then
  fail "--allowed-agent-images rendered although agent.allowedImages is empty"
fi

# Install, upgrade, uninstall: a real release. The Prometheus Operator's scrape
# kinds are served for it (reduced CRDs, cluster-wide, left in place like the
# PrometheusRule CRD the operator tests install), so .Capabilities sees them.
for kind in ServiceMonitor PodMonitor; do
  plural="$(tr '[:upper:]' '[:lower:]' <<< "${kind}")s"
  "${kubectl}" apply --server-side --field-manager=outflow-tests -f - >/dev/null <<CRD
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {plural: ${plural}, singular: ${plural%s}, kind: ${kind}, listKind: ${kind}List}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
CRD
  "${kubectl}" wait --for condition=established --timeout=60s "crd/${plural}.monitoring.coreos.com" >/dev/null
done
selector="app.kubernetes.io/instance=${release}"
"${helm}" install "${release}" "${chart}" --namespace "${ns}" \
  --set monitoring.serviceMonitor.enabled=true --set networkPolicy.enabled=true > "${work}/install.txt" 2>/dev/null \
  || { cat "${work}/install.txt"; fail "helm install"; }
grep -q "kubectl -n shop create secret generic orders-db" "${work}/install.txt" \
  || { cat "${work}/install.txt"; fail "NOTES.txt does not show the Secret command"; }
grep -q "kind: EventPipeline" "${work}/install.txt" || fail "NOTES.txt does not show an example EventPipeline"
listed() { "${kubectl}" get "$1" --namespace "${ns}" -l "${selector}" -o name | sort | tr '\n' ' '; }
namespaced="deployment,service,serviceaccount,role,rolebinding,poddisruptionbudget,networkpolicy,servicemonitor,podmonitor,configmap"
[[ "$(listed "${namespaced}" | wc -w)" == 9 ]] || fail "installed: $(listed "${namespaced}")"
[[ "$(listed servicemonitor | wc -w)" == 2 ]] || fail "ServiceMonitors: $(listed servicemonitor)"
"${kubectl}" get clusterrole,clusterrolebinding "${release}-outflow" >/dev/null || fail "ClusterRole/Binding missing"

"${helm}" upgrade "${release}" "${chart}" --namespace "${ns}" --set logLevel=debug --set replicas=1 \
  --set monitoring.podMonitor.enabled=true --set dashboard.enabled=true >/dev/null 2>&1 || fail "helm upgrade"
args="$("${kubectl}" get deployment "${release}-outflow" --namespace "${ns}" -o jsonpath='{.spec.template.spec.containers[0].args}')"
[[ "${args}" == *"--log-level=debug"* ]] || fail "the upgrade did not reach the Deployment: ${args}"
[[ "$("${kubectl}" get deployment "${release}-outflow" --namespace "${ns}" -o jsonpath='{.spec.replicas}')" == 1 ]] \
  || fail "replicas not changed"
after="$(listed "${namespaced}")"
[[ "${after}" == *"podmonitor"* && "${after}" == *"configmap/${release}-outflow-dashboard"* ]] || fail "after upgrade: ${after}"
[[ "${after}" != *"servicemonitor"* && "${after}" != *"poddisruptionbudget"* && "${after}" != *"networkpolicy"* ]] \
  || fail "objects the upgrade turned off are still there: ${after}"
[[ "$("${helm}" history "${release}" --namespace "${ns}" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" == 2 ]] \
  || fail "expected two revisions"

"${helm}" uninstall "${release}" --namespace "${ns}" >/dev/null 2>&1 || fail "helm uninstall"
left="$(listed "${namespaced}")"
[[ -z "${left}" ]] || fail "helm uninstall left ${left}"
if "${kubectl}" get clusterrole,clusterrolebinding "${release}-outflow" >/dev/null 2>&1; then
  fail "helm uninstall left the ClusterRole/Binding"
fi
# Helm never deletes CRDs (pipelines would go with them): the CRD stays.
"${kubectl}" get crd eventpipelines.outflow.dev >/dev/null || fail "the EventPipeline CRD was removed"
echo "chart: lint, closed schema, optional objects, server dry run, install/upgrade/uninstall passed"
