# The test environment's private network namespace and its real node:
# containerd + kubelet + kube-scheduler + a bridge pod network, the images of
# hack/lib/images.sh imported. Source after common.sh, kube.sh, images.sh.
#
#   netns_name / netns_create / netns_inside / netns_delete
#       one network namespace per environment folder; everything of the test
#       environment (daemons, tests) runs inside it, nothing listens in the
#       host's namespace
#   node_up     start the node and wait until it is Ready (after kube_up)
#   node_down   stop it and put back every machine-wide thing kubelet and
#               containerd changed (safe when nothing runs)
#
# Addresses come from 198.18.0.0/15, the block set aside for test networks,
# and exist only inside the namespace.
# shellcheck shell=bash

NODE_IP=198.18.0.2
NODE_NET_PREFIX=24
NODE_POD_CIDR=198.18.16.0/20
NODE_SERVICE_CIDR=198.19.0.0/16
NODE_KUBERNETES_SERVICE_IP=198.19.0.1
NODE_NAME=outflow-node
NODE_PAUSE_IMAGE="${IMAGES_PAUSE_NAME}"

_node_dir() { echo "${OUTFLOW_TESTENV_DIR}/node"; }

# Named after the environment folder, so two environments can coexist.
netns_name() {
  printf 'outflow-%s' "$(printf '%s' "${OUTFLOW_TESTENV_DIR}" | sha256sum | cut -c1-10)"
}

netns_inside() {
  local file="/run/netns/$(netns_name)"
  [[ -e "${file}" && "$(stat -L -c %d:%i /proc/self/ns/net)" == "$(stat -L -c %d:%i "${file}")" ]]
}

# netns_create   the namespace with loopback, and a veth pair (both ends
# inside) carrying the node address: kubelet refuses a loopback node IP. The
# default route leads nowhere; nothing here needs the outside world.
netns_create() {
  local ns state
  ns="$(netns_name)"
  state="${OUTFLOW_TESTENV_DIR}/machine"
  mkdir -p "${state}"
  # `ip netns add` makes /run/netns a mount point the first time; down undoes
  # that only if it was not one before.
  if [[ ! -e "${state}/run-netns" ]]; then
    if mountpoint -q /run/netns 2>/dev/null; then echo mounted; elif [[ -d /run/netns ]]; then echo dir; else echo absent; fi \
      > "${state}/run-netns"
  fi
  ip netns add "${ns}"
  ip -n "${ns}" link set lo up
  ip -n "${ns}" link add ofnode type veth peer name ofpeer
  ip -n "${ns}" addr add "${NODE_IP}/${NODE_NET_PREFIX}" dev ofnode
  ip -n "${ns}" link set ofnode up
  ip -n "${ns}" link set ofpeer up
  ip -n "${ns}" route add default via "${NODE_IP%.*}.1" dev ofnode
}

netns_delete() {
  local ns state="${OUTFLOW_TESTENV_DIR}/machine"
  ns="$(netns_name)"
  [[ -e "/run/netns/${ns}" ]] && ip netns delete "${ns}"
  if [[ -f "${state}/run-netns" ]]; then
    case "$(cat "${state}/run-netns")" in
      absent)
        if [[ -z "$(ls -A /run/netns 2>/dev/null)" ]]; then
          umount /run/netns 2>/dev/null || true
          rmdir /run/netns 2>/dev/null || true
        fi ;;
      dir)
        if [[ -z "$(ls -A /run/netns 2>/dev/null)" ]]; then umount /run/netns 2>/dev/null || true; fi ;;
    esac
    rm -f "${state}/run-netns"
  fi
}

# ---------------------------------------------------------------------------
# Machine-wide state: recorded before the node starts, restored by node_down.
# ---------------------------------------------------------------------------

# kubelet sets these (protectKernelDefaults: false) to what it needs.
NODE_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
# Paths kubelet or containerd create outside our folder (kubelet's container
# log links and containerd's shim sockets have fixed places).
NODE_FIXED_DIRS=(/var/log/containers /run/containerd)

_node_record_machine() {
  local state="${OUTFLOW_TESTENV_DIR}/machine" s d
  mkdir -p "${state}"
  [[ -f "${state}/sysctl" ]] || for s in "${NODE_SYSCTLS[@]}"; do
    printf '%s=%s\n' "${s}" "$(sysctl -n "${s}")"
  done > "${state}/sysctl"
  [[ -f "${state}/dirs" ]] || for d in "${NODE_FIXED_DIRS[@]}"; do
    [[ -e "${d}" ]] || echo "${d}"
  done > "${state}/dirs"
}

_node_restore_machine() {
  local state="${OUTFLOW_TESTENV_DIR}/machine" line d
  if [[ -f "${state}/sysctl" ]]; then
    while IFS= read -r line; do sysctl -q -w "${line}" >/dev/null || log "node: could not restore ${line}"; done < "${state}/sysctl"
    rm -f "${state}/sysctl"
  fi
  if [[ -f "${state}/dirs" ]]; then
    # Only what did not exist before, and only once nothing else uses it.
    while IFS= read -r d; do
      [[ -n "${d}" && -d "${d}" ]] || continue
      find "${d}" -depth -type l -lname "${OUTFLOW_TESTENV_DIR}/*" -delete 2>/dev/null || true
      find "${d}" -depth -type d -empty -delete 2>/dev/null || true
    done < "${state}/dirs"
    rm -f "${state}/dirs"
  fi
}

# The node's cgroups live under a root of their own in every hierarchy
# (kubelet's cgroupRoot), so that down can remove exactly them.
_node_cgroup_root() { echo "/$(netns_name)"; }

_node_cgroup_mounts() {
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

_node_cgroups_create() {
  local m root
  root="$(_node_cgroup_root)"
  for m in $(_node_cgroup_mounts); do
    mkdir -p "${m}${root}"
    # A new cpuset cgroup starts with no CPUs and no memory nodes.
    if [[ -f "${m}/cpuset.cpus" && -f "${m}${root}/cpuset.cpus" ]]; then
      cat "${m}/cpuset.cpus" > "${m}${root}/cpuset.cpus"
      cat "${m}/cpuset.mems" > "${m}${root}/cpuset.mems"
    fi
  done
}

# Pids of every process in the node's cgroups (the pods' containers).
_node_cgroup_pids() {
  local m root
  root="$(_node_cgroup_root)"
  for m in $(_node_cgroup_mounts); do
    [[ -d "${m}${root}" ]] && find "${m}${root}" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

_node_cgroups_remove() {
  local m root
  root="$(_node_cgroup_root)"
  for m in $(_node_cgroup_mounts); do
    [[ -d "${m}${root}" ]] || continue
    find "${m}${root}" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d "${m}${root}" ]] && log "node: cgroup ${m}${root} still in use"
  done
  return 0
}

# ---------------------------------------------------------------------------
# Bring-up
# ---------------------------------------------------------------------------

# The node's daemons share one private mount namespace, held by a process of
# its own: kubelet's mounts (its root dir, Secrets, tokens) and the pods'
# network namespace mounts are visible to containerd and runc, and vanish
# with it instead of landing in the host's mount table.
_node_mntns_start() {
  start_daemon node-mounts /dev/null unshare --mount --propagation private sleep infinity
  local pid
  pid="$(cat "${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid")"
  for _ in $(seq 1 50); do
    [[ "$(readlink "/proc/${pid}/ns/mnt" 2>/dev/null)" != "$(readlink /proc/self/ns/mnt)" ]] && return 0
    sleep 0.1
  done
  log "node: the mount namespace holder did not start"
  return 1
}

# _node_in_mntns CMD...   CMD in the node's mount namespace.
_node_in_mntns() {
  nsenter --mount="/proc/$(cat "${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid")/ns/mnt" -- "$@"
}

_node_containerd_config() {
  local dir="$1"
  cat > "${dir}/containerd.toml" <<EOF
version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
oom_score = 0
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${dir}/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${NODE_PAUSE_IMAGE}"
  # The VM withholds CAP_SYS_RESOURCE: never lower a container's OOM score.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${dir}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$(kube_cni_bin_dir)"
    conf_dir = "${dir}/cni"
EOF
  mkdir -p "${dir}/cni"
  cat > "${dir}/cni/10-outflow.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "outflow",
  "plugins": [{
    "type": "bridge",
    "bridge": "ofpods",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "dataDir": "${dir}/cni-ipam",
      "ranges": [[{"subnet": "${NODE_POD_CIDR}"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
EOF
}

_node_kubelet_config() {
  local dir="$1"
  mkdir -p "${dir}/kubelet/manifests" "${dir}/kubelet/pod-logs"
  # No cluster DNS: pods use IPs, and get no search domains of this machine.
  printf 'nameserver 127.0.0.1\n' > "${dir}/kubelet/resolv.conf"
  cat > "${dir}/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 hierarchies (with cgroup2 beside them).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $(_node_cgroup_root)
containerRuntimeEndpoint: unix://${dir}/containerd.sock
# The VM withholds CAP_SYS_RESOURCE.
oomScoreAdj: 0
failSwapOn: false
address: ${NODE_IP}
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
# Only reachable inside the environment's own network namespace.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
# Images are imported, never pulled: they must never be collected.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "10Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
staticPodPath: ${dir}/kubelet/manifests
podLogsDir: ${dir}/kubelet/pod-logs
resolvConf: ${dir}/kubelet/resolv.conf
serializeImagePulls: false
syncFrequency: 10s
EOF
}

# _node_await NAME SECONDS LOGFILE CMD...   as _kube_await.
_node_await() { _kube_await "$@"; }

node_up() {
  netns_inside || { log "node_up must run inside $(netns_name)"; return 1; }
  local dir bin logs kubeconfig
  dir="$(_node_dir)"
  bin="$(kube_bin_dir)"
  logs="${OUTFLOW_TESTENV_DIR}/logs"
  kubeconfig="${OUTFLOW_TESTENV_DIR}/kubeconfig"
  [[ -x "${bin}/kubelet" && -x "${bin}/kube-scheduler" ]] || { log "kubelet/kube-scheduler missing in ${bin}; run hack/setup.sh"; return 1; }
  mkdir -p "${dir}" "${logs}"
  _node_record_machine
  _node_cgroups_create

  # Service IP of the API server: without kube-proxy, one DNAT rule sends
  # the "kubernetes" Service to the API server's port on the node address.
  local api_port
  api_port="${KUBE_API_PORT:?kube_up first}"
  iptables -t nat -A PREROUTING -d "${NODE_KUBERNETES_SERVICE_IP}/32" -p tcp --dport 443 \
    -j DNAT --to-destination "${NODE_IP}:${api_port}"
  iptables -t nat -A OUTPUT -d "${NODE_KUBERNETES_SERVICE_IP}/32" -p tcp --dport 443 \
    -j DNAT --to-destination "${NODE_IP}:${api_port}"

  _node_mntns_start || return 1
  _node_containerd_config "${dir}"
  start_daemon containerd "${logs}/containerd.log" \
    nsenter --mount="/proc/$(cat "${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid")/ns/mnt" -- \
    containerd --config "${dir}/containerd.toml"
  _node_await containerd 30 "${logs}/containerd.log" \
    ctr --address "${dir}/containerd.sock" version || return 1

  local t0=${SECONDS} names image
  mapfile -t names < <(images_names)
  for image in "${names[@]}" "${NODE_PAUSE_IMAGE}"; do
    images_podman image exists "${image}" || { log "node: image ${image} missing: run hack/images.sh first"; return 1; }
  done
  images_podman save -m --format docker-archive "${names[@]}" "${NODE_PAUSE_IMAGE}" \
    | ctr --address "${dir}/containerd.sock" -n k8s.io images import - >"${logs}/image-import.log" 2>&1 \
    || { log "node: importing images failed:"; tail -n 20 "${logs}/image-import.log" >&2; return 1; }
  log "node: images imported in $(( SECONDS - t0 ))s"

  _node_kubelet_config "${dir}"
  start_daemon kubelet "${logs}/kubelet.log" \
    nsenter --mount="/proc/$(cat "${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid")/ns/mnt" -- \
    "${bin}/kubelet" \
    --config="${dir}/kubelet/config.yaml" \
    --kubeconfig="${kubeconfig}" \
    --root-dir="${dir}/kubelet/root" \
    --cert-dir="${dir}/kubelet/pki" \
    --node-ip="${NODE_IP}" \
    --hostname-override="${NODE_NAME}" \
    --v=1

  local sched_port
  sched_port="$(free_port)"
  start_daemon kube-scheduler "${logs}/kube-scheduler.log" "${bin}/kube-scheduler" \
    --kubeconfig="${kubeconfig}" \
    --bind-address=127.0.0.1 \
    --secure-port="${sched_port}" \
    --cert-dir="${dir}/kube-scheduler" \
    --leader-elect=false
  _node_await kube-scheduler 60 "${logs}/kube-scheduler.log" \
    curl -sfk --max-time 5 "https://127.0.0.1:${sched_port}/healthz" || return 1

  _node_await kubelet 90 "${logs}/kubelet.log" _node_ready "${bin}/kubectl" "${kubeconfig}" || return 1
  # Pods need their namespace's default ServiceAccount (the controller
  # manager makes it) before they can be created.
  wait_until 60 "default ServiceAccount" "${logs}/kube-controller-manager.log" -- \
    "${bin}/kubectl" --kubeconfig "${kubeconfig}" get serviceaccount default -n default || return 1

  export_env OUTFLOW_TEST_NODE_IP "${NODE_IP}"
  export_env OUTFLOW_TEST_POD_CIDR "${NODE_POD_CIDR}"
  export_env OUTFLOW_TEST_NODE_NAME "${NODE_NAME}"
  export_env OUTFLOW_TEST_NETNS "$(netns_name)"
  export_env OUTFLOW_TEST_KUBERNETES_SERVICE_IP "${NODE_KUBERNETES_SERVICE_IP}"
  log "node: ${NODE_NAME} Ready at ${NODE_IP} (pods ${NODE_POD_CIDR}, services ${NODE_SERVICE_CIDR})"
}

_node_ready() {
  [[ "$("$1" --kubeconfig "$2" get node "${NODE_NAME}" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# Every process in the node's mount namespace (containerd, kubelet, shims)
# and in its cgroups (the containers).
_node_pids() {
  local holder mnt p
  holder="${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid"
  if [[ -f "${holder}" ]] && mnt="$(readlink "/proc/$(cat "${holder}")/ns/mnt" 2>/dev/null)"; then
    for p in /proc/[0-9]*; do
      [[ "$(readlink "${p}/ns/mnt" 2>/dev/null)" == "${mnt}" ]] && echo "${p#/proc/}"
    done
  fi
  _node_cgroup_pids
}

node_down() {
  local dir bin kubeconfig
  dir="$(_node_dir)"
  bin="$(kube_bin_dir)"
  kubeconfig="${OUTFLOW_TESTENV_DIR}/kubeconfig"
  stop_daemon kube-scheduler
  stop_daemon kubelet
  # Files of ours outside our folder, found before the processes that tell
  # go: the pods' network namespace files (mount points in the private mount
  # namespace, empty files outside it) and the shims' sockets (bound in our
  # network namespace, so listed in its /proc/net/unix).
  local holder leftovers=()
  holder="$(cat "${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid" 2>/dev/null || true)"
  if [[ -n "${holder}" && -d "/proc/${holder}" ]]; then
    mapfile -t leftovers < <(
      awk '$5 ~ "^/run/netns/cni-" { print $5 }' "/proc/${holder}/mountinfo"
      awk '$8 ~ "^@?/run/containerd/s/" { sub("^@", "", $8); print $8 }' "/proc/${holder}/net/unix"
    )
  fi
  stop_daemon containerd
  # What is left: shims and containers. They die with SIGKILL; their mounts
  # live in the private mount namespace and go with it.
  local pids attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    mapfile -t pids < <(_node_pids | grep -vx "$(cat "${OUTFLOW_TESTENV_DIR}/pids/node-mounts.pid" 2>/dev/null || echo none)" || true)
    (( ${#pids[@]} == 0 )) && break
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 0.3
  done
  stop_daemon node-mounts
  _node_cgroups_remove
  (( ${#leftovers[@]} == 0 )) || rm -f "${leftovers[@]}"
  _node_restore_machine
}
