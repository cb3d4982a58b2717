# Helpers for clients.bats: private containerd, dockerd and podman set-ups
# whose containers run under novm-runc, a busybox image made without a
# registry, and assertions that show the daemons' and the runtime's side of
# a failure.
#
# Everything lives on a fresh tmpfs at $CLIENTS_STATE (overlay2 and podman's
# overlay storage need a real filesystem under them, not the harness's 9p
# overlay), with the daemons on private sockets: a Docker or containerd
# already running on the machine is neither used nor disturbed.
#
# The clients call the runtime through a shim that appends each command line
# (and its exit status) to $CLIENTS_STATE/runtime.log, for diagnosis.
#
# Environment:
#   NOVM_CLIENTS_RUNTIME    the runtime the clients drive (default: the built
#                           novm-runc); `runc` checks the set-up itself
#   NOVM_CLIENTS_STATE      state directory, a tmpfs is mounted on it
#                           (default /run/novm-clients)
#   NOVM_CLIENTS_TIMEOUT    seconds one client command may take (180)
#   NOVM_CLIENTS_KEEP_LOGS  a directory: the daemons' and the runtime's logs
#                           are copied there at the end
#   NOVM_CLIENTS_DOCKER_BRIDGE  1: dockerd gets its default bridge network
#                           (docker0) and iptables rules; the default inside
#                           the harness's throwaway L1 only, see below

load helpers

bats_require_minimum_version 1.5.0

NOVM_RUNC=${NOVM_RUNC:-$NOVM_BUILDDIR/runtime/novm-runc}
CLIENTS_RUNTIME=${NOVM_CLIENTS_RUNTIME:-$NOVM_RUNC}
CLIENTS_STATE=${NOVM_CLIENTS_STATE:-/run/novm-clients}
CLIENTS_TIMEOUT=${NOVM_CLIENTS_TIMEOUT:-180}
CLIENTS_SHIM=$CLIENTS_STATE/bin/novm-runc
CLIENTS_IMAGE=novm-busybox
# dockerd's default bridge network: docker0 and its DOCKER chains are
# machine-wide, so a Docker already running on this machine would share them
# (and have them rewritten).  The harness's L1 is thrown away after the file.
CLIENTS_DOCKER_BRIDGE=${NOVM_CLIENTS_DOCKER_BRIDGE:-${NOVM_IN_HARNESS:-0}}
# Seconds a daemon gets to open its socket; TCG in the harness is slow.
CLIENTS_DAEMON_WAIT=${NOVM_CLIENTS_DAEMON_WAIT:-120}

# Debian's python: the pyenv shim that may come first in PATH costs seconds
# per call under TCG.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

# Debian's clients by full path: the machine may have other builds earlier
# in PATH (a newer docker CLI in /usr/local/bin, say).
DOCKER=/usr/bin/docker
CTR=/usr/bin/ctr
PODMAN=/usr/bin/podman

export DOCKER_HOST=unix://$CLIENTS_STATE/docker.sock
export CONTAINERD_ADDRESS=$CLIENTS_STATE/containerd.sock
export CONTAINERD_NAMESPACE=novm-test
export CONTAINERS_CONF=$CLIENTS_STATE/containers.conf

# The tests assert that the container ran in a VM when the runtime is
# novm-runc, and that it did not when it is anything else (plain runc).
clients_runtime_is_novm() {
	[ "${CLIENTS_RUNTIME##*/}" = novm-runc ]
}

# ---------------------------------------------------------------------------
# set-up and teardown (setup_file / teardown_file)

clients_setup() {
	local missing
	missing=$("$NOVM_TOP/tests/harness/clients-setup" --check) ||
		novm_die "missing packages: $(echo $missing) (run tests/harness/clients-setup on the host;" \
			"inside the harness nothing can be installed)"
	command -v "$CLIENTS_RUNTIME" >/dev/null || novm_die "runtime $CLIENTS_RUNTIME not found"
	CLIENTS_RUNTIME=$(command -v "$CLIENTS_RUNTIME")

	if mountpoint -q "$CLIENTS_STATE"; then
		novm_say "clients: $CLIENTS_STATE is still mounted (an earlier run?); clearing it"
		clients_teardown
	fi
	mkdir -p "$CLIENTS_STATE"
	mount -t tmpfs -o mode=0711 novm-clients "$CLIENTS_STATE"
	mkdir -p "$CLIENTS_STATE"/{bin,image}
	# Before any daemon: the host's network, for assert_host_network_untouched.
	clients_host_network >"$CLIENTS_STATE/host-net.before"
	_clients_write_shim
	_clients_mount_cgroup2
	_clients_step "containerd started" _clients_start_containerd
	_clients_step "dockerd started" _clients_start_dockerd
	_clients_write_podman_config
	_clients_step "images imported" _clients_import_images
}

# _clients_step WHAT COMMAND...: runs COMMAND, notes in setup.log how long it took.
_clients_step() {
	local what=$1 start=${EPOCHREALTIME/./}
	shift
	"$@"
	printf '%s in %d ms\n' "$what" $(((${EPOCHREALTIME/./} - start) / 1000)) >>"$CLIENTS_STATE/setup.log"
}

clients_teardown() {
	local pid
	[ -d "$CLIENTS_STATE" ] || return 0
	if [ -S "$CLIENTS_STATE/docker.sock" ]; then
		# shellcheck disable=SC2046
		timeout 60 "$DOCKER" rm -f $("$DOCKER" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	fi
	timeout 60 "${PODMAN_CMD[@]}" rm -af -t 0 >/dev/null 2>&1 || true
	_clients_stop_pidfile "$CLIENTS_STATE/dockerd.pid" dockerd
	_clients_stop_pidfile "$CLIENTS_STATE/containerd.pid" containerd
	# containerd's shims and podman's conmons outlive their daemons; these
	# patterns name this state directory, so they match only what we started.
	for pid in $(pgrep -f -- "$CLIENTS_STATE/" || true); do
		[ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [ -n "${NOVM_CLIENTS_KEEP_LOGS:-}" ]; then
		mkdir -p "$NOVM_CLIENTS_KEEP_LOGS"
		cp "$CLIENTS_STATE"/*.log "$NOVM_CLIENTS_KEEP_LOGS/" 2>/dev/null || true
	fi
	# Overlay and shm mounts the daemons left below the state directory first.
	grep -o " $CLIENTS_STATE/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	[ ! -e "$CLIENTS_STATE/cgroup2-mounted" ] || umount -l /sys/fs/cgroup 2>/dev/null || true
	umount -l "$CLIENTS_STATE" 2>/dev/null || true
	rmdir "$CLIENTS_STATE" 2>/dev/null || true
}

_clients_stop_pidfile() {
	local file=$1 name=$2 pid i
	[ -s "$file" ] || return 0
	pid=$(cat "$file")
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	novm_say "clients: $name ($pid) did not stop on SIGTERM; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

# The runtime the clients are given: logs its command line, runs the real one.
# Not exec: the exit status goes to the log too.
_clients_write_shim() {
	local log runtime
	log=$(printf '%q' "$CLIENTS_STATE/runtime.log")
	runtime=$(printf '%q' "$CLIENTS_RUNTIME")
	cat >"$CLIENTS_SHIM" <<EOF
#!/bin/bash
# From tests/integration/clients.bash: logs each call, runs $runtime.
{ printf '%s [%d] ' "\$(date +%T.%3N)" \$\$; printf ' %q' "\$@"; echo; } >>$log
$runtime "\$@"
rc=\$?
echo "\$(date +%T.%3N) [\$\$] exit \$rc" >>$log
exit \$rc
EOF
	chmod 0755 "$CLIENTS_SHIM"
}

# The harness's L1 mounts no cgroup filesystem; dockerd and runc need one.
# Unmounted again at the end, so that later test files see L1 as it was.
_clients_mount_cgroup2() {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || return 0
	mountpoint -q /sys/fs/cgroup && return 0
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	: >"$CLIENTS_STATE/cgroup2-mounted"
}

# _clients_wait_for NAME PIDFILE-OR-PID LOG COMMAND...: polls COMMAND until it
# succeeds; fails early when the daemon died.
_clients_wait_for() {
	local name=$1 pid=$2 log=$3 i
	shift 3
	for ((i = 0; i < CLIENTS_DAEMON_WAIT * 4; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$log" >&2
			novm_die "$name exited while starting"
		fi
		sleep 0.25
	done
	tail -n 30 "$log" >&2
	novm_die "$name did not answer within $CLIENTS_DAEMON_WAIT s"
}

_clients_start_containerd() {
	local s=$CLIENTS_STATE
	# The CRI plugin is disabled: nothing here speaks CRI, and it would look
	# for CNI networks at start.
	cat >"$s/containerd.toml" <<EOF
version = 2
root = "$s/containerd"
state = "$s/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$s/containerd.sock"

[ttrpc]
  address = "$s/containerd.sock.ttrpc"
EOF
	containerd --config "$s/containerd.toml" >"$s/containerd.log" 2>&1 </dev/null &
	echo $! >"$s/containerd.pid"
	_clients_wait_for containerd "$!" "$s/containerd.log" "$CTR" version
}

# dockerd on the private containerd, the novm runtime from
# contrib/docker/daemon.json with the shim's path.  Its default bridge
# network with iptables (nf_tables in L1) and NAT for published ports when
# $CLIENTS_DOCKER_BRIDGE, else no networking of its own.  No userland proxy
# either way: a published port is iptables' DNAT, not docker-proxy relaying.
_clients_start_dockerd() {
	local s=$CLIENTS_STATE net=(--bridge none --iptables=false --ip-masq=false)
	[ "$CLIENTS_DOCKER_BRIDGE" != 1 ] || net=()
	"$PYTHON" - "$NOVM_TOP/contrib/docker/daemon.json" "$CLIENTS_SHIM" >"$s/daemon.json" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    cfg = json.load(f)
cfg["runtimes"]["novm"]["path"] = sys.argv[2]
json.dump(cfg, sys.stdout, indent=2)
PY
	dockerd --config-file "$s/daemon.json" \
		--host "unix://$s/docker.sock" --containerd "$s/containerd.sock" \
		--data-root "$s/docker" --exec-root "$s/docker-exec" --pidfile "$s/dockerd.pid" \
		--storage-driver overlay2 "${net[@]}" \
		--userland-proxy=false >"$s/dockerd.log" 2>&1 </dev/null &
	_clients_wait_for dockerd "$!" "$s/dockerd.log" "$DOCKER" version
}

# containers.conf from contrib with the shim's path; podman's storage on the
# tmpfs, no systemd (cgroupfs) and no journald (file events).
_clients_write_podman_config() {
	local s=$CLIENTS_STATE
	sed "s|/usr/local/bin/novm-runc|$CLIENTS_SHIM|" "$NOVM_TOP/contrib/podman/containers.conf" \
		>"$s/containers.conf"
	cat >>"$s/containers.conf" <<EOF

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$s/podman-events.log"
tmp_dir = "$s/podman-tmp"
EOF
}

# podman with its storage under the state directory (an array, so that
# `client`'s timeout can run it).
PODMAN_CMD=("$PODMAN" --root "$CLIENTS_STATE/podman" --runroot "$CLIENTS_STATE/podman-run"
	--storage-driver overlay)
podman_() {
	"${PODMAN_CMD[@]}" "$@"
}

# One busybox root filesystem, imported three ways: `docker import`,
# `podman import`, and an OCI archive for `ctr images import`.
_clients_import_images() {
	local s=$CLIENTS_STATE
	_clients_step "  rootfs tar written" _clients_busybox_tar "$s/image/rootfs.tar"
	_clients_step "  docker import" "$DOCKER" import "$s/image/rootfs.tar" "$CLIENTS_IMAGE" >/dev/null
	_clients_step "  podman import" podman_ import "$s/image/rootfs.tar" "$CLIENTS_IMAGE" >/dev/null
	_clients_step "  OCI archive written" _clients_oci_archive "$s/image/rootfs.tar" "$s/image/oci.tar"
	_clients_step "  ctr import" "$CTR" images import "$s/image/oci.tar" >/dev/null
	rm -rf "$s/image"
}

# _clients_busybox_tar OUT.tar: the root filesystem of bundles/make-busybox-bundle
# (static busybox, a link per applet, a minimal /etc) written straight into a
# tar.  That script forks an `ln` per applet: 40 s and more under TCG, where
# this takes a second.
_clients_busybox_tar() {
	local busybox=/bin/busybox
	[ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 ||
		novm_die "$busybox is not the static busybox (apt-get install busybox-static)"
	# shellcheck disable=SC2046  # one applet an argument
	"$PYTHON" - "$busybox" "$1" $("$busybox" --list) <<'PY'
import io, sys, tarfile
busybox, out, applets = sys.argv[1], sys.argv[2], sys.argv[3:]
files = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                  "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": "root:x:0:\ndaemon:x:1:\nusers:x:100:\nnogroup:x:65534:\n",
    "etc/hostname": "novm\n",
    "etc/resolv.conf": "",
}
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tar:
    def entry(name, kind, mode):
        info = tarfile.TarInfo("./" + name)
        info.type, info.mode = kind, mode
        return info
    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
              "root", "run", "var", "var/tmp", "home"):
        tar.addfile(entry(d, tarfile.DIRTYPE, 0o1777 if d.endswith("tmp") else 0o755))
    with open(busybox, "rb") as f:
        data = f.read()
    info = entry("bin/busybox", tarfile.REGTYPE, 0o755)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    for applet in applets:
        if applet != "busybox":
            link = entry("bin/" + applet, tarfile.SYMTYPE, 0o777)
            link.linkname = "busybox"
            tar.addfile(link)
    for name, text in files.items():
        info = entry(name, tarfile.REGTYPE, 0o644)
        info.size = len(text.encode())
        tar.addfile(info, io.BytesIO(text.encode()))
PY
}

# _clients_oci_archive LAYER.tar OUT.tar: an OCI image layout in a tar, one
# uncompressed layer, named docker.io/library/$CLIENTS_IMAGE:latest.
_clients_oci_archive() {
	"$PYTHON" - "$1" "$2" "docker.io/library/$CLIENTS_IMAGE:latest" <<'PY'
import hashlib, io, json, sys, tarfile
layer_path, out_path, name = sys.argv[1:]

def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()

with open(layer_path, "rb") as f:
    layer = f.read()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
}).encode()
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": digest(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest(layer), "size": len(layer)}],
}).encode()
index = json.dumps({
    "schemaVersion": 2,
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": digest(manifest), "size": len(manifest),
                   "annotations": {"io.containerd.image.name": name,
                                   "org.opencontainers.image.ref.name": "latest"}}],
}).encode()

with tarfile.open(out_path, "w") as tar:
    def add(path, data):
        info = tarfile.TarInfo(path)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    for blob in (layer, config, manifest):
        add("blobs/sha256/" + digest(blob)[7:], blob)
    add("index.json", index)
PY
}

# ---------------------------------------------------------------------------
# running clients and checking what they did

# client COMMAND...: runs a client command under the time limit, like bats
# `run --separate-stderr`: $status, $output (stdout), $lines, $stderr.
client() {
	run --separate-stderr timeout -k 10 "$CLIENTS_TIMEOUT" "$@"
	client_timed_out "$@"
}

# After a client command hit its time limit (124, or 137 when it ignored
# TERM): says so, and asks every VMM still running for its diag.  A VM whose
# container is still not created in the guest after all that time has a
# guest that stopped (its boot or agent hung): that is said in the words
# tests/run's retry looks for.
client_timed_out() {
	local sock dir state
	[ "$status" -eq 124 ] || [ "$status" -eq 137 ] || return 0
	stderr+=$'\n'"(test: did not finish within $CLIENTS_TIMEOUT s: $*)"
	while IFS= read -r sock; do
		dir=${sock%/control.sock}
		state=$(novm_diag "$dir" 2>&1 | head -c 4000)
		stderr+=$'\n'"(test: diag of the VMM in $dir: $state)"
		if [[ $state == "ok "* && $state == *'"created":false'* ]]; then
			stderr+=$'\n'"(test: the guest stopped answering: its container was never created)"
		fi
	done < <(find "$CLIENTS_STATE" -name control.sock 2>/dev/null)
}

# client_tty COMMAND...: the same with a terminal on the command's stdin and
# stdout (script(1)); the output has CRLF line ends, which are removed.
client_tty() {
	local cmd
	cmd=$(printf '%q ' "$@")
	run --separate-stderr timeout -k 10 "$CLIENTS_TIMEOUT" script -qefc "$cmd" /dev/null
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
	client_timed_out "$@"
}

# Shows the last command's result, the runtime calls and the daemons' logs.
show_client() {
	local log
	printf '%s\n--- status: %s\n--- stdout:\n%s\n--- stderr:\n%s\n' "$1" "$status" "$output" "${stderr:-}" >&2
	for log in runtime dockerd containerd; do
		[ -s "$CLIENTS_STATE/$log.log" ] || continue
		printf -- '--- %s.log (last 25 lines):\n' "$log" >&2
		tail -n 25 "$CLIENTS_STATE/$log.log" >&2
	done
}

assert_client_status() {
	[ "$status" -eq "$1" ] || { show_client "expected status $1"; return 1; }
}

# assert_first_line TEXT: stdout's first line is TEXT.
assert_first_line() {
	[ "${lines[0]:-}" = "$1" ] || { show_client "expected the first line of stdout to be: $1"; return 1; }
}

# assert_output_has TEXT: some line of stdout is exactly TEXT.
assert_output_has() {
	local line
	for line in "${lines[@]}"; do [ "$line" != "$1" ] || return 0; done
	show_client "expected a line of stdout: $1"
	return 1
}

# The shell command a container runs to say where it runs: the kernel command
# line, on which novm-runc's guests carry novm.mode=container.
VM_PROBE='cat /proc/cmdline'

# assert_in_vm: stdout (from $VM_PROBE) shows a novm guest when the runtime is
# novm-runc, and shows the host's kernel when it is another one.
assert_in_vm() {
	if clients_runtime_is_novm; then
		[[ $output == *novm.mode=container* ]] ||
			{ show_client "the container did not run in a novm guest (no novm.mode=container)"; return 1; }
	else
		[[ $output != *novm.mode=container* ]] ||
			{ show_client "a novm guest with runtime $CLIENTS_RUNTIME?"; return 1; }
	fi
}

# runtime_was_called SUBCOMMAND: the runtime log has a call of SUBCOMMAND.
runtime_was_called() {
	grep -qE "\] .* $1( |\$)" "$CLIENTS_STATE/runtime.log" ||
		{ show_client "the runtime was never called with '$1'"; return 1; }
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.25 s.
wait_until() {
	local limit=$(($1 * 4)) i
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	"$@"
}

# The host's network (host_network) without what dockerd's bridge network
# adds by design: docker0, the host ends of containers' veths (enslaved to
# docker0), and their addresses, routes and neighbours.
clients_host_network() {
	local pats=(-e docker0) name
	for name in $(ip -o link show | awk -F': ' '/ master docker0 / { sub(/@.*/, "", $2); print $2 }'); do
		pats+=(-e "$name")
	done
	host_network | grep -vwF "${pats[@]}" || true
}

# assert_host_network_untouched: the host's links, addresses, routes and
# neighbours are as before the daemons started, docker's bridge aside: no
# tap, moved veth or address of the runtime's is in the host's namespace.
assert_host_network_untouched() {
	clients_host_network >"$BATS_TEST_TMPDIR/host-net.now"
	diff -u "$CLIENTS_STATE/host-net.before" "$BATS_TEST_TMPDIR/host-net.now" >&2 ||
		{ show_client "the host's network namespace changed (diff above)"; return 1; }
}

# docker_state NAME: prints Status and ExitCode, e.g. "exited 137".
docker_state() {
	"$DOCKER" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1"
}

docker_is() {
	[ "$(docker_state "$1" 2>/dev/null | cut -d' ' -f1)" = "$2" ]
}

# ctr_task_status ID: RUNNING, STOPPED ... from `ctr task ls`.
ctr_task_status() {
	"$CTR" task ls | awk -v id="$1" '$1 == id { print $3 }'
}

ctr_task_is() {
	[ "$(ctr_task_status "$1")" = "$2" ]
}
