# Images of the two Outflow binaries, from a clean checkout:
#   podman build --network host --jobs 1 --build-arg BUILD_JOBS=2 --target operator -t ghcr.io/outflow-dev/outflow-operator:0.1.0 .
#   podman build --network host --jobs 1 --build-arg BUILD_JOBS=2 --target agent    -t ghcr.io/outflow-dev/outflow-agent:0.1.0 .
# (docker build works the same way; leave BUILD_JOBS out to use every core). The runtime stages hold nothing but the
# binary, the libraries it loads (SASL plugins included) and the CA bundle:
# no shell, user 65532, fit for a read-only root filesystem.
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm

FROM ${DEBIAN_IMAGE} AS build
# The build dependencies of CMakeLists.txt (tests are configured too, hence
# GoogleTest and Lua), and the SASL mechanism plugins the runtime stage copies.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libcpprest-dev librdkafka-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev \
      libgtest-dev libgmock-dev libpq-dev prometheus-cpp-dev libcivetweb-dev libcli11-dev \
      libssl-dev libboost-dev libsasl2-modules lua5.4 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Parallel compile jobs; empty means the build tool's default (all cores).
ARG BUILD_JOBS=
RUN CMAKE_BUILD_PARALLEL_LEVEL="${BUILD_JOBS}" hack/image/build-binaries.sh /src /out

FROM scratch AS operator
COPY --from=build /out/operator/ /
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/outflow-operator"]

FROM scratch AS agent
COPY --from=build /out/agent/ /
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/outflow-agent"]
