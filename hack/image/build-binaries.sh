#!/bin/sh
# build-binaries.sh SRC OUT   (runs in the image's build stage)
# Builds outflow-operator and outflow-agent from SRC and lays out each one's
# runtime root filesystem in OUT/operator and OUT/agent. When SRC/prebuilt
# holds both binaries (hack/images.sh puts the checkout's own build there:
# same Debian release, compiler and libraries as this stage) they are used
# as they are, so CI does not compile the project twice.
set -eu
src="$1" out="$2"
bin="${src}/prebuilt"
if [ ! -x "${bin}/outflow-operator" ] || [ ! -x "${bin}/outflow-agent" ]; then
  cmake -S "${src}" -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build /tmp/build --target outflow-operator outflow-agent
  bin=/tmp/outflow-bin
  mkdir -p "${bin}"
  cp /tmp/build/operator/outflow-operator /tmp/build/agent/outflow-agent "${bin}/"
fi
"${src}/hack/image/rootfs.sh" "${bin}/outflow-operator" "${out}/operator"
"${src}/hack/image/rootfs.sh" "${bin}/outflow-agent" "${out}/agent"
