#!/usr/bin/env bash
# Builds the outflow-operator and outflow-agent images from the binaries of a
# CMake build directory, without a daemon (see hack/lib/images.sh):
#   hack/images.sh [BUILD_DIR]     default: build
# Then, e.g.: CONTAINERS_STORAGE_CONF=~/.cache/outflow/containers/storage.conf podman images
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "${HACK_DIR}/lib/images.sh"
build_dir="${1:-${REPO_ROOT}/build}"
[[ "${build_dir}" == /* ]] || build_dir="${REPO_ROOT}/${build_dir}"
images_build "${build_dir}"
