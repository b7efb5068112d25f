#!/usr/bin/env bash
# The operator's memory with many pipelines: N pipelines (3 topics each, own
# Secret) applied with kubectl apply (so they carry managedFields and the
# last-applied annotation, as in a real cluster) in one namespace, then the
# operator started; prints the time until every pipeline is TopicsReady at
# its generation, the operator's VmRSS/VmHWM and the load average.
#
#   eval "$(hack/testenv.sh env)"; PATH=$OUTFLOW_TEST_KUBE_BIN:$PATH
#   tests/bench/operator_rss.sh build/operator/outflow-operator 200 mylabel
#
# Needs the CRD applied. Topics are left on the broker (no Delete policy).
set -euo pipefail
bin=$1; n=$2; label=$3
ns="rss-${label}-$RANDOM"
kubectl create namespace "$ns" >/dev/null
work=$(mktemp -d)
f=$work/pipelines.yaml
: > "$f"
for i in $(seq 1 "$n"); do
cat >> "$f" <<YAML
---
apiVersion: v1
kind: Secret
metadata: {name: db-$i, namespace: $ns}
stringData: {url: "postgresql://outflow@127.0.0.1/orders$i"}
---
apiVersion: outflow.dev/v1alpha1
kind: EventPipeline
metadata: {name: p$i, namespace: $ns}
spec:
  kafka: {bootstrapServers: ["${OUTFLOW_TEST_KAFKA_PLAINTEXT}"], requestTimeoutMs: 10000}
  topics:
  - {name: $ns-p$i-a, partitions: 1, replicationFactor: 1}
  - {name: $ns-p$i-b, partitions: 1, replicationFactor: 1}
  - {name: $ns-p$i-c, partitions: 1, replicationFactor: 1}
  outbox: {databaseSecretRef: {name: db-$i, key: url}, defaultTopic: $ns-p$i-a}
  agent: {replicas: 0}
  alerts: {defaults: false}
YAML
done
kubectl apply -f "$f" >/dev/null
log=$work/operator.log
port1=$(python3 -c "import socket;s=socket.socket();s.bind((\"127.0.0.1\",0));print(s.getsockname()[1])")
port2=$(python3 -c "import socket;s=socket.socket();s.bind((\"127.0.0.1\",0));print(s.getsockname()[1])")
start=$(date +%s.%N)
"$bin" --kubeconfig="$KUBECONFIG" --namespaces="$ns" --agent-image=outflow-agent:test \
  --metrics-addr=127.0.0.1:$port1 --health-addr=127.0.0.1:$port2 > "$log" 2>&1 &
pid=$!
ready=0
while :; do
  ready=$(kubectl get evp -n "$ns" -o json | python3 -c '
import json,sys
d=json.load(sys.stdin); c=0
for p in d["items"]:
  st=p.get("status",{})
  if st.get("observedGeneration")!=p["metadata"]["generation"]: continue
  for x in st.get("conditions",[]):
    if x["type"]=="TopicsReady" and x["status"]=="True": c+=1
print(c)')
  [[ "$ready" -ge "$n" ]] && break
  if ! kill -0 $pid 2>/dev/null; then echo "operator died"; tail -20 "$log"; exit 1; fi
  sleep 2
done
end=$(date +%s.%N)
sleep 5
rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status); hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
echo "$label: $n pipelines ($((n*3)) topics) TopicsReady in $(python3 -c "print(round($end-$start,1))") s; VmRSS $((rss/1024)) MiB, VmHWM $((hwm/1024)) MiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
kill -TERM $pid; wait $pid || true
kubectl delete namespace "$ns" --wait=false >/dev/null
rm -rf "$work"
