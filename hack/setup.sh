#!/usr/bin/env bash
# Installs everything Outflow's build and tests need, on a bare Debian 12 machine
# or again on a set-up one (then it takes seconds):
#   - Debian packages: compiler toolchain and every C++ dependency, PostgreSQL 15,
#     Java 17 and Maven for the Kafka broker
#   - containerd, runc, buildah, podman, debootstrap, iptables for images and the
#     test environment's node
#   - pinned upstream components (hack/versions.env), built or fetched into
#     ${OUTFLOW_CACHE:-~/.cache/outflow}: kube-apiserver, kube-controller-manager,
#     kube-scheduler, kubelet, kubectl, etcd, helm, promtool, the CNI plugins (from source
#     through the Go module proxy) and the Kafka broker's jars (Maven)
#   - the Debian base image the Dockerfile's build stage starts from
#     (debootstrap, cached as a tarball)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/kube.sh"
source "${HACK_DIR}/lib/kafka.sh"
source "${HACK_DIR}/lib/postgres.sh"
source "${HACK_DIR}/lib/images.sh"

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates openssl python3
  libcpprest-dev librdkafka-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libpq-dev prometheus-cpp-dev libcivetweb-dev libcli11-dev libssl-dev
  libboost-dev postgresql-15 postgresql-client-15 lua5.4
  openjdk-17-jre-headless maven
  buildah podman containerd runc debootstrap iptables
)
# Kubernetes 1.35 needs a recent Go; Debian 12's golang package is too old.
MIN_GO_MINOR=24

install_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q '^install ok installed$' || missing+=("${p}")
  done
  if (( ${#missing[@]} == 0 )); then
    log "Debian packages: all present"
    return 0
  fi
  log "Debian packages: installing ${missing[*]}"
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_go() {
  command -v go >/dev/null || die "Go is not installed; install Go 1.${MIN_GO_MINOR} or newer and re-run"
  local minor
  minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
  (( minor >= MIN_GO_MINOR )) || die "Go $(go env GOVERSION) is too old; Kubernetes ${KUBERNETES_VERSION} needs Go 1.${MIN_GO_MINOR} or newer"
}

timed() {
  local what="$1" t0=${SECONDS}; shift
  "$@"
  log "${what}: $(( SECONDS - t0 ))s"
}

main() {
  local t0=${SECONDS}
  timed "Debian packages" install_debian_packages
  check_go
  timed "PostgreSQL user" pg_setup
  timed "Kubernetes, etcd, helm" kube_setup
  timed "Kafka" kafka_setup
  timed "Image base" images_setup
  log "setup complete in $(( SECONDS - t0 ))s (cache: ${OUTFLOW_CACHE})"
}

main "$@"
