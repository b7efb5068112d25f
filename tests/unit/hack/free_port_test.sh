#!/usr/bin/env bash
# hack/lib/common.sh's free_port picks the test environment's server ports:
# never one an outgoing connection could hold (the kernel's ephemeral range),
# never the same one twice in one environment (etcd's two ports are picked
# back to back and bound later).
set -euo pipefail
repo="$1"
export OUTFLOW_TESTENV_DIR="$(mktemp -d)"
trap 'rm -rf "${OUTFLOW_TESTENV_DIR}"' EXIT
source "${repo}/hack/lib/common.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
read -r low _ < /proc/sys/net/ipv4/ip_local_port_range
declare -A seen=()
for _ in $(seq 30); do
  port="$(free_port)"
  (( port < low )) || fail "port ${port} is in the ephemeral range (from ${low})"
  [[ -z "${seen[${port}]:-}" ]] || fail "port ${port} handed out twice"
  seen[${port}]=1
done
echo "ok"
