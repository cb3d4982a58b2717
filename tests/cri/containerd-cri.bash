# Helpers for tests/integration/cri.bats: a private containerd with its CRI
# plugin (what the kubelet talks to), driven by tests/cri/cri-client.
#
# Built on tests/integration/clients.bash (loaded by the test file, with
# NOVM_CLIENTS_STATE pointing at this file's own state directory): its tmpfs
# state, cgroup2 mount, runtime shim that logs each call, busybox image and
# teardown.  What is added here:
#   - containerd's config: the CRI plugin on, the snippet
#     contrib/containerd/config.toml for the runtime handler "novm" (novm-runc
#     through containerd's runc shim) with the shim's path and a private
#     --root, and a handler "runc" (Debian's runc);
#   - CNI from Debian's containernetworking-plugins: a bridge network
#     (bridge, host-local, loopback) whose config and address store are in
#     the state directory; the bridge is CRI_BRIDGE;
#   - the images, in containerd's "k8s.io" namespace where CRI looks: the
#     busybox one, and a pause image (the same layer running `sleep`) that is
#     the config's sandbox_image, so nothing is ever pulled.
#
# Environment: NOVM_CRI_STATE (default /run/novm-cri), the rest as for
# clients.bash (NOVM_CLIENTS_RUNTIME, NOVM_CLIENTS_KEEP_LOGS, ...).

CRI_CLIENT_BIN=$NOVM_TOP/tests/cri/cri-client
CRI_SOCK=$CLIENTS_STATE/containerd.sock
CRI_IMAGE=docker.io/library/$CLIENTS_IMAGE:latest
CRI_PAUSE_IMAGE=docker.io/library/novm-pause:latest
CRI_NAMESPACE=k8s.io
CRI_BRIDGE=novmcri0
CRI_SUBNET=10.89.7.0/24
CRI_NOVM_ROOT=$CLIENTS_STATE/novm-root
# The pods' cgroup parent (a pod's is $CRI_CGROUP/<pod name>), as the
# kubelet's /kubepods.
CRI_CGROUP=/novm-cri
# The pod's and its containers' namespaces, as the kubelet's default (no
# shareProcessNamespace): the pod's network and IPC, a PID namespace per
# container.
CRI_NAMESPACES='{"network": "POD", "pid": "CONTAINER", "ipc": "POD"}'
# Debian's CNI plugins.
CRI_CNI_BIN=/usr/lib/cni
# What the file needs on the host (nothing can be installed inside the harness).
CRI_PACKAGES=(containerd runc containernetworking-plugins python3-grpcio python3-grpc-tools
	busybox-static)

# clients_teardown's podman clean-up: there is no podman here.
PODMAN_CMD=(true)

export NOVM_CRI_GEN_DIR=$CLIENTS_STATE/cri-gen
export CONTAINER_RUNTIME_ENDPOINT=unix://$CRI_SOCK

cri_setup() {
	local missing
	missing=$(novm_missing_packages "${CRI_PACKAGES[@]}")
	[ -z "$missing" ] ||
		novm_die "missing packages: $(echo $missing) (run tests/harness/clients-setup on the host)"
	command -v "$CLIENTS_RUNTIME" >/dev/null || novm_die "runtime $CLIENTS_RUNTIME not found"
	CLIENTS_RUNTIME=$(command -v "$CLIENTS_RUNTIME")
	if mountpoint -q "$CLIENTS_STATE"; then
		novm_say "cri: $CLIENTS_STATE is still mounted (an earlier run?); clearing it"
		cri_teardown
	fi
	mkdir -p "$CLIENTS_STATE"
	mount -t tmpfs -o mode=0711 novm-cri "$CLIENTS_STATE"
	mkdir -p "$CLIENTS_STATE"/{bin,image,cni,cni-ipam,pods} "$CRI_NOVM_ROOT"
	_clients_write_shim
	_clients_mount_cgroup2
	_cri_write_cni
	_clients_step "containerd (CRI) started" _cri_start_containerd
	_clients_step "images imported" _cri_import_images
	# The protocol's Python code, generated once for all the client's calls.
	_clients_step "cri-client version" "$CRI_CLIENT_BIN" version >"$CLIENTS_STATE/cri-version"
}

cri_teardown() {
	local pod dir
	if [ -S "$CRI_SOCK" ]; then
		for pod in $(timeout 60 "$CRI_CLIENT_BIN" --timeout 30 pods 2>/dev/null | cut -d' ' -f1); do
			timeout 60 "$CRI_CLIENT_BIN" --timeout 50 stopp "$pod" >/dev/null 2>&1
			timeout 60 "$CRI_CLIENT_BIN" --timeout 50 rmp "$pod" >/dev/null 2>&1
		done
	fi
	# The pods' parent cgroups (runtimes remove only their containers'), in
	# each hierarchy where the host has cgroup v1.
	for dir in "/sys/fs/cgroup$CRI_CGROUP" /sys/fs/cgroup/*"$CRI_CGROUP"; do
		[ ! -d "$dir" ] || find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	clients_teardown
	! ip link show "$CRI_BRIDGE" >/dev/null 2>&1 || ip link del "$CRI_BRIDGE"
}

# The CNI network containerd gives each pod (max_conf_num 1: this one).
_cri_write_cni() {
	cat >"$CLIENTS_STATE/cni/10-novm-cri.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "novm-cri",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CRI_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CLIENTS_STATE/cni-ipam",
        "ranges": [[{"subnet": "$CRI_SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
}

# containerd with CRI; the runtime handlers' table is contrib's snippet with
# the test's paths (its `version` line belongs to the top of a file).
_cri_start_containerd() {
	local s=$CLIENTS_STATE
	cat >"$s/containerd.toml" <<EOF
version = 2
root = "$s/containerd"
state = "$s/containerd-state"

[grpc]
  address = "$CRI_SOCK"

[ttrpc]
  address = "$CRI_SOCK.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$s/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE_IMAGE"
  # Nothing in the harness loads AppArmor profiles.
  disable_apparmor = true
  # The sandbox asks for oom_score_adj -998: not below containerd's own, so
  # the tests also run where lowering it is refused (in a container).
  restrict_oom_score_adj = true
  # Pods' network namespaces in the state directory, not /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$CRI_CNI_BIN"
  conf_dir = "$s/cni"
  max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  snapshotter = "overlayfs"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    BinaryName = "${NOVM_CRI_RUNC:-$(command -v runc)}"
    Root = "$s/runc-root"

EOF
	sed -e '/^version = /d' -e "s|/usr/local/bin/novm-runc|$CLIENTS_SHIM|" \
		-e "s|\"/run/novm\"|\"$CRI_NOVM_ROOT\"|" \
		"$NOVM_TOP/contrib/containerd/config.toml" >>"$s/containerd.toml"
	grep -q "BinaryName = \"$CLIENTS_SHIM\"" "$s/containerd.toml" ||
		novm_die "contrib/containerd/config.toml no longer names /usr/local/bin/novm-runc"
	containerd --config "$s/containerd.toml" >"$s/containerd.log" 2>&1 </dev/null &
	echo $! >"$s/containerd.pid"
	_clients_wait_for containerd "$!" "$s/containerd.log" "$CRI_CLIENT_BIN" --timeout 5 status
}

# The busybox image of clients.bash and the pause image derived from it,
# in one archive and one `ctr import`.
_cri_import_images() {
	local s=$CLIENTS_STATE
	_clients_busybox_tar "$s/image/rootfs.tar"
	_clients_oci_archive "$s/image/rootfs.tar" "$s/image/busybox.tar"
	"$NOVM_TOP/tests/cri/oci-image-cmd" "$s/image/busybox.tar" "$s/image/oci.tar" \
		"$CRI_PAUSE_IMAGE" sleep 1000000000
	"$CTR" --namespace "$CRI_NAMESPACE" images import "$s/image/oci.tar" >/dev/null
	rm -rf "$s/image"
}

# cri COMMAND...: cri-client under the clients' time limit, like `client`.
cri() {
	client "$CRI_CLIENT_BIN" "$@"
}

# cri_ok COMMAND...: cri, and the command must succeed.
cri_ok() {
	cri "$@"
	assert_client_status 0
}

# cri_pod_config NAME: writes the PodSandboxConfig of a test pod, prints its
# path.
cri_pod_config() {
	local name=$1 dir=$CLIENTS_STATE/pods/$1
	mkdir -p "$dir/logs" "$dir/volume"
	cat >"$dir/pod.json" <<EOF
{
  "metadata": {"name": "$name", "uid": "uid-$name", "namespace": "novm-test", "attempt": 0},
  "hostname": "$name",
  "log_directory": "$dir/logs",
  "labels": {"novm-test": "$name"},
  "linux": {
    "cgroup_parent": "$CRI_CGROUP/$name",
    "security_context": {"namespace_options": $CRI_NAMESPACES}
  }
}
EOF
	echo "$dir/pod.json"
}

# cri_container_config POD NAME SCRIPT: a ContainerConfig running `sh -c
# SCRIPT` from the busybox image, with the pod's volume directory (an emptyDir
# as the kubelet makes one: a host directory) on /volume; prints its path.
cri_container_config() {
	local pod=$1 name=$2 dir=$CLIENTS_STATE/pods/$1
	"$PYTHON" - "$dir/$name.json" "$name" "$CRI_IMAGE" "$3" "$dir/volume" "$CRI_NAMESPACES" <<'PY'
import json, sys
path, name, image, script, volume, namespaces = sys.argv[1:]
NAMESPACES = json.loads(namespaces)
json.dump({
    "metadata": {"name": name, "attempt": 0},
    "image": {"image": image},
    "command": ["/bin/sh", "-c", script],
    "log_path": name + ".log",
    "mounts": [{"container_path": "/volume", "host_path": volume}],
    "labels": {"novm-test": name},
    "linux": {"security_context": {"namespace_options": NAMESPACES}},
}, open(path, "w"), indent=2)
PY
	echo "$dir/$name.json"
}

# cri_container_state ID: CONTAINER_RUNNING, CONTAINER_EXITED ...
cri_container_state() {
	"$CRI_CLIENT_BIN" inspect "$1" state
}

cri_container_is() {
	[ "$(cri_container_state "$1")" = "$2" ]
}

# The VMs running on this host: file descriptors of KVM VMs (one per VM:
# KVM_CREATE_VM's "anon_inode:kvm-vm"), counted over every process.
kvm_vm_count() {
	find /proc/[0-9]*/fd -lname 'anon_inode:kvm-vm' 2>/dev/null | wc -l
}

# Whether novm-runc announces pod support: its `features` annotation list
# (org.novm.annotations) names CRI's io.kubernetes.cri.container-type, the
# annotation that tells a sandbox from a container of a pod.
novm_runc_supports_pods() {
	"$NOVM_RUNC" features | "$PYTHON" -c '
import json, sys
names = json.load(sys.stdin).get("annotations", {}).get("org.novm.annotations", "")
sys.exit(0 if "io.kubernetes.cri.container-type" in names.split(",") else 1)'
}
