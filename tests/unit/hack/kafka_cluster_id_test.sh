#!/usr/bin/env bash
# kafka_new_cluster_id must never return an id that kafka-storage would read
# as an option: `format --cluster-id -…` fails with "expected one argument",
# and about 1 in 64 random ids starts with '-'.
set -euo pipefail
repo="$1"
source "${repo}/hack/lib/common.sh"
source "${repo}/hack/lib/kafka.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
random="$(mktemp)"
trap 'rm -f "${random}"' EXIT

# 0xF8 makes the first base64url character '-'; the next 16 bytes do not.
python3 -c 'import sys; sys.stdout.buffer.write(bytes([0xF8]) + bytes(range(1, 16)) + bytes(range(16, 32)))' > "${random}"
id="$(kafka_new_cluster_id "${random}")"
[[ "${id}" != -* ]] || fail "cluster id '${id}' starts with '-'"
[[ "${id}" =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "cluster id '${id}' is not 16 bytes of unpadded base64url"
[[ "$(printf '%s==' "${id}" | tr -- '-_' '+/' | base64 -d | od -An -tx1 | tr -d ' \n')" \
   == "$(python3 -c 'print(bytes(range(16, 32)).hex())')" ]] || fail "cluster id '${id}' is not the next 16 random bytes"

# From the real random source: distinct, well-formed ids.
a="$(kafka_new_cluster_id)"; b="$(kafka_new_cluster_id)"
[[ "${a}" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ && "${a}" != "${b}" ]] || fail "ids '${a}' and '${b}'"
echo "ok"
