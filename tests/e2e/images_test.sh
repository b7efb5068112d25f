#!/usr/bin/env bash
# The images hack/images.sh built, as a container engine runs them: each
# binary starts from its runtime stage alone (every library it loads is
# there) under a read-only root filesystem with no capabilities and no
# network, as user 65532, with no shell; the agent image holds the SASL
# mechanism plugins libsasl2 dlopen()s, with everything they load.
set -euo pipefail
repo="${1:?usage: images_test.sh REPO_ROOT}"
source "${repo}/hack/lib/common.sh"
source "${repo}/hack/lib/images.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
version="$(awk '$1 == "appVersion:" { gsub(/"/, "", $2); print $2 }' "${repo}/charts/outflow/Chart.yaml")"
project_version="$(sed -n 's/^project(outflow VERSION \([0-9.]*\).*/\1/p' "${repo}/CMakeLists.txt")"
[[ "${version}" == "${project_version}" ]] || fail "chart appVersion ${version} differs from the project version ${project_version}"
mapfile -t names < <(images_names)
[[ "${names[0]}" == "ghcr.io/outflow-dev/outflow-operator:${version}" ]] || fail "operator image name ${names[0]}"
[[ "${names[1]}" == "ghcr.io/outflow-dev/outflow-agent:${version}" ]] || fail "agent image name ${names[1]}"

run() { images_podman run --rm --read-only --cap-drop ALL --network none "$@"; }

for image in "${names[@]}"; do
  images_podman image exists "${image}" || fail "${image} is missing: run hack/images.sh"
  binary="$(basename "${image%%:*}")"
  out="$(run "${image}" --version 2>&1)" || fail "${image} --version failed: ${out}"
  [[ "${out}" == "${binary} ${version}" ]] || fail "${image} --version printed '${out}'"
  user="$(images_podman image inspect --format '{{.Config.User}}' "${image}")"
  [[ "${user}" == "65532:65532" ]] || fail "${image} runs as '${user}'"
  if run --entrypoint /bin/sh "${image}" -c true >/dev/null 2>&1; then
    fail "${image} has a shell"
  fi
  # The binary on PATH, as `kubectl exec ... -- outflow-agent parked list` needs.
  out="$(run --entrypoint "${binary}" "${image}" --version 2>&1)" || fail "${binary} is not on PATH in ${image}: ${out}"
done

agent="${names[1]}"
plugins="$(images_podman image inspect --format '{{.Id}}' "${agent}" >/dev/null \
  && container="$(images_podman create "${agent}")" \
  && images_podman export "${container}" | tar -t | grep '^usr/lib/x86_64-linux-gnu/sasl2/lib.*\.so$'; \
  images_podman rm -f "${container}" >/dev/null 2>&1 || true)"
for mechanism in scram plain; do
  grep -q "/lib${mechanism}\.so$" <<< "${plugins}" || fail "SASL plugin lib${mechanism}.so missing from ${agent}"
done
for plugin in ${plugins}; do
  # The dynamic loader resolves every library the plugin needs, as dlopen() would.
  out="$(run --entrypoint /lib64/ld-linux-x86-64.so.2 "${agent}" --list "/${plugin}" 2>&1)" \
    || fail "/${plugin} cannot load in ${agent}: ${out}"
  ! grep -q "not found" <<< "${out}" || fail "/${plugin} in ${agent}: ${out}"
done
echo "ok: ${names[*]}; SASL plugins: $(wc -w <<< "${plugins}")"
