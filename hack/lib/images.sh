# Container images of outflow-operator and outflow-agent, built without a
# daemon: buildah with chroot isolation, from the Dockerfile at the top of the
# checkout, on a Debian base image made locally with debootstrap (no registry
# is needed). Source after common.sh; do not execute.
#
#   images_setup       the base image, debootstrapped once and cached
#   images_build DIR   both images from the binaries in the CMake build DIR,
#                      tagged as the chart names them (chart appVersion)
#   images_names       print the two image references
#   images_size IMAGE  print an image's size in bytes
#   images_podman ARGS / images_buildah ARGS   the tools on this storage
# shellcheck shell=bash

IMAGES_DIR="${OUTFLOW_CACHE}/containers"
IMAGES_BASE_NAME="docker.io/library/debian:bookworm"
IMAGES_BUILD_STAGE_NAME="localhost/outflow-build-stage:latest"
# Changing the suite or variant makes a new tarball (and a new base image).
IMAGES_BASE_TARBALL="${OUTFLOW_CACHE}/images/debian-bookworm-minbase.tar"

# Storage and engine settings of our own, so nothing under /etc or
# /var/lib/containers is used or changed.
_images_config() {
  mkdir -p "${IMAGES_DIR}"
  local storage="${IMAGES_DIR}/storage.conf" engine="${IMAGES_DIR}/containers.conf"
  if [[ ! -f "${storage}" ]]; then
    cat > "${storage}.tmp" <<CONF
[storage]
driver = "overlay"
graphroot = "${IMAGES_DIR}/storage"
runroot = "${IMAGES_DIR}/run"
CONF
    mv "${storage}.tmp" "${storage}"
  fi
  if [[ ! -f "${engine}" ]]; then
    # The VM withholds CAP_SYS_RESOURCE, so podman's default rlimits fail;
    # crun refuses hybrid cgroups, hence runc and cgroupfs. Containers only
    # ever run with --network none.
    cat > "${engine}.tmp" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${IMAGES_DIR}/run/events.log"
runtime = "runc"
tmp_dir = "${IMAGES_DIR}/run/libpod"
CONF
    mv "${engine}.tmp" "${engine}"
  fi
  export CONTAINERS_STORAGE_CONF="${storage}" CONTAINERS_CONF="${engine}"
}

images_podman()  { _images_config; podman "$@"; }
images_buildah() { _images_config; buildah "$@"; }

images_names() {
  local version
  version="$(awk '$1 == "appVersion:" { gsub(/"/, "", $2); print $2 }' "${REPO_ROOT}/charts/outflow/Chart.yaml")"
  [[ -n "${version}" ]] || die "no appVersion in charts/outflow/Chart.yaml"
  local repo
  for repo in image agentImage; do
    printf '%s:%s\n' "$(awk -v key="${repo}:" '
      $1 == key { inside = 1; next }
      inside && $1 == "repository:" { print $2; exit }' "${REPO_ROOT}/charts/outflow/values.yaml")" "${version}"
  done
}

images_setup() {
  command -v buildah >/dev/null || die "buildah not found (hack/setup.sh installs it)"
  if [[ ! -f "${IMAGES_BASE_TARBALL}" ]]; then
    log "images: debootstrapping the Debian base image (cold: ~1.5 min)"
    local root
    mkdir -p "$(dirname "${IMAGES_BASE_TARBALL}")"
    root="$(mktemp -d "${IMAGES_BASE_TARBALL}.root.XXXXXX")"
    debootstrap --variant=minbase bookworm "${root}" http://deb.debian.org/debian \
      > "${root}.log" 2>&1 || { tail -n 20 "${root}.log" >&2; rm -rf "${root}"; die "debootstrap failed"; }
    # The downloaded packages are installed already; apt fetches lists anew.
    rm -rf "${root}"/var/cache/apt/archives/*.deb "${root}"/var/lib/apt/lists/*
    tar -C "${root}" -cf "${IMAGES_BASE_TARBALL}.tmp" .
    rm -rf "${root}" "${root}.log"
    mv "${IMAGES_BASE_TARBALL}.tmp" "${IMAGES_BASE_TARBALL}"
  fi
  if ! images_podman image exists "${IMAGES_BASE_NAME}"; then
    log "images: importing the base image as ${IMAGES_BASE_NAME}"
    images_podman import -q "${IMAGES_BASE_TARBALL}" "${IMAGES_BASE_NAME}" >/dev/null
  fi
}

# images_build BUILD_DIR
images_build() {
  local build_dir="$1" context names
  local operator_bin="${build_dir}/operator/outflow-operator" agent_bin="${build_dir}/agent/outflow-agent"
  [[ -x "${operator_bin}" && -x "${agent_bin}" ]] || die "images: build outflow-operator and outflow-agent in ${build_dir} first"
  images_setup
  mapfile -t names < <(images_names)
  # A small context: the Dockerfile, its scripts, and the checkout's binaries
  # as prebuilt/ (stripped here already, so the context stays small).
  context="$(mktemp -d)"
  mkdir -p "${context}/hack/image" "${context}/prebuilt"
  cp "${REPO_ROOT}/Dockerfile" "${context}/"
  cp "${REPO_ROOT}"/hack/image/*.sh "${context}/hack/image/"
  strip --strip-unneeded -o "${context}/prebuilt/outflow-operator" "${operator_bin}"
  strip --strip-unneeded -o "${context}/prebuilt/outflow-agent" "${agent_bin}"
  local target name i=0
  # The build stage gets a name too: its layers (the package install above
  # all) are then no dangling images, and the prune below keeps them for
  # the next run.
  names=("${IMAGES_BUILD_STAGE_NAME}" "${names[@]}")
  for target in build operator agent; do
    name="${names[i]}"; i=$(( i + 1 ))
    # --layers: the build stage's package layer is reused from run to run.
    images_buildah build --quiet --isolation chroot --pull=never --layers \
      --target "${target}" -t "${name}" "${context}" > "${context}.${target}.log" 2>&1 \
      || { tail -n 40 "${context}.${target}.log" >&2; rm -rf "${context}" "${context}".*.log; die "images: building ${name} failed"; }
    [[ "${target}" == build ]] || log "images: ${name} ($(( $(images_size "${name}") / 1024 / 1024 )) MiB)"
  done
  rm -rf "${context}" "${context}".*.log
  _images_build_pause
  # Dangling layers of earlier builds would fill the cache over time.
  images_podman image prune -f >/dev/null 2>&1 || true
}

# The sandbox image of the test environment's node (hack/lib/node.sh), from
# hack/image/pause.c: a static binary, FROM scratch.
IMAGES_PAUSE_NAME="localhost/outflow-pause:1"
_images_build_pause() {
  local context
  context="$(mktemp -d)"
  gcc -static -Os -Wall -Wextra -Werror -o "${context}/pause" "${REPO_ROOT}/hack/image/pause.c"
  strip "${context}/pause"
  cp "${REPO_ROOT}/hack/image/pause.Dockerfile" "${context}/Dockerfile"
  images_buildah build --quiet --isolation chroot --pull=never --layers \
    -t "${IMAGES_PAUSE_NAME}" "${context}" > "${context}.log" 2>&1 \
    || { tail -n 40 "${context}.log" >&2; rm -rf "${context}" "${context}.log"; die "images: building ${IMAGES_PAUSE_NAME} failed"; }
  rm -rf "${context}" "${context}.log"
}

images_size() {
  images_podman image inspect --format '{{.Size}}' "$1"
}
