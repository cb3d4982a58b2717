#!/usr/bin/env bats
# Bundles people already have: config.json from Debian's `runc spec`
# (read-only root, ambient capabilities that are not inheritable, a PID
# namespace) over a busybox rootfs without /proc, /sys or /dev, as Docker's
# busybox image is built.  Each test runs what runc runs and expects what
# runc gives.

load runc

setup_file() {
	command -v runc >/dev/null || skip "runc is not installed (tests/harness/clients-setup)"
}

setup() {
	B=$BATS_TEST_TMPDIR/bundle
	RUNC_ROOT=$BATS_TEST_TMPDIR/runc-root
	novm_require_vm
}

teardown() {
	delete_all
}

# runc_spec_bundle DIR ARGS...: the busybox rootfs without /proc, /sys and
# /dev, and `runc spec`'s config.json unchanged but for process.args.
runc_spec_bundle() {
	local dir=$1
	shift
	make_bundle "$dir"
	rm -rf "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/config.json"
	(cd "$dir" && runc spec)
	edit_config "$dir" "cfg['process']['args'] = $(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")"
}

# The container's output without the terminal's carriage returns.
tty_output() {
	output=${output//$'\r'/}
}

@test "compat: runc spec's bundle runs unchanged: read-only root made of a rootfs without /proc, /sys, /dev; the process is PID 1 with runc's capabilities" {
	runc_spec_bundle "$B" sh -c '
		echo "pid=$$"
		grep -E "^(Umask|CapEff|CapAmb):" /proc/1/status
		tty
		touch /file 2>&1 || true
		ls -d /proc /sys /dev/pts /dev/null
		cat /proc/1/cgroup'
	# runc's spec has no umask: give one, to see it applied to PID 1.
	edit_config "$B" "cfg['process']['user']['umask'] = 0o027"
	runc_run "$B" c1
	tty_output
	assert_run_status 0
	[[ $output == *"pid=1"* ]] || { show_run "not PID 1 of its namespace"; false; }
	[[ $output == *$'Umask:\t0027'* ]] || { show_run "umask"; false; }
	# CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE; none ambient (not
	# inheritable), as under runc.
	[[ $output == *$'CapEff:\t0000000020000420'* ]] || { show_run "effective capabilities"; false; }
	[[ $output == *$'CapAmb:\t0000000000000000'* ]] || { show_run "ambient capabilities"; false; }
	[[ $output == *"/dev/pts/0"* ]] || { show_run "the terminal is not the container's /dev/pts/0"; false; }
	[[ $output == *"Read-only file system"* ]] || { show_run "the root is writable"; false; }
	# A cgroup namespace of its own even when not asked for: the
	# container's cgroup is its root.
	grep -qx '0::/' <<<"$output" || { show_run "cgroup"; false; }
	# Mount points are made in the rootfs, as runc makes them.
	[ -d "$B/rootfs/proc" ] && [ -d "$B/rootfs/sys" ] && [ -d "$B/rootfs/dev" ]
	[ ! -e "$B/rootfs/file" ]
	assert_nothing_left
}

@test "compat: a read-only root gets its mount points first: a bind mount, a tmpfs under an absolute symlink, a read-only /dev with its nodes" {
	runc_spec_bundle "$B" sh -c '
		cat /data/bind/hello
		grep -c " /etc/conf/stack " /proc/self/mounts
		touch /etc/conf/stack/ok && echo tmpfs-writable
		echo x >/dev/null && echo null-works
		mknod /dev/newnode c 1 3 2>&1 || true'
	mkdir -p "$BATS_TEST_TMPDIR/host" "$B/rootfs/etc/conf"
	echo hello-from-host >"$BATS_TEST_TMPDIR/host/hello"
	ln -s /etc/conf "$B/rootfs/conf"
	edit_config "$B" "
cfg['process']['terminal'] = False
cfg['process']['capabilities'] = {k: v + ['CAP_MKNOD'] for k, v in cfg['process']['capabilities'].items()}
for m in cfg['mounts']:
    if m['destination'] == '/dev':
        m['options'].append('ro')
cfg['mounts'] += [
    {'destination': '/data/bind', 'type': 'bind', 'source': '$BATS_TEST_TMPDIR/host', 'options': ['rbind', 'ro']},
    {'destination': '/conf/stack', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid']},
]"
	runc_run "$B" c2
	assert_run_status 0
	[[ $output == *"hello-from-host"* ]] || { show_run "bind mount"; false; }
	# The tmpfs is mounted where the symlink leads, inside the root.
	[[ $output == *$'\n1\n'* ]] || { show_run "tmpfs under /conf -> /etc/conf"; false; }
	[[ $output == *"tmpfs-writable"* ]]
	[[ $output == *"null-works"* ]] || { show_run "/dev/null"; false; }
	[[ $output == *"Read-only file system"* ]] || { show_run "/dev is not read-only"; false; }
	[ -d "$B/rootfs/data/bind" ] && [ -d "$B/rootfs/etc/conf/stack" ]
}

@test "compat: the VMM seals a read-only root once the container is created: guest root remounting it writable still cannot write" {
	runc_spec_bundle "$B" sh -c '
		mount -o remount,rw / && echo remounted
		touch /sealed 2>&1
		mkdir /sealed-dir 2>&1
		echo done'
	edit_config "$B" "
cfg['process']['terminal'] = False
cfg['process']['capabilities'] = {k: v + ['CAP_SYS_ADMIN'] for k, v in cfg['process']['capabilities'].items()}"
	runc_run "$B" c3
	assert_run_status 0
	[[ $output == *remounted* ]] || { show_run "the guest could not even remount"; false; }
	[[ $output == *"touch: /sealed: Read-only file system"* ]] || { show_run "the host wrote"; false; }
	[ ! -e "$B/rootfs/sealed" ] && [ ! -e "$B/rootfs/sealed-dir" ]
}

@test "compat: /proc or /sys on a symlink is refused as runc refuses it, and nothing is left" {
	runc_spec_bundle "$B" true
	edit_config "$B" "cfg['process']['terminal'] = False"
	mkdir -p "$B/rootfs/elsewhere"
	ln -s /elsewhere "$B/rootfs/proc"
	runc_run "$B" c5
	[ "$status" -ne 0 ] || { show_run "started"; false; }
	assert_stderr_has 'filesystem "proc" must be mounted on ordinary directory'
	assert_nothing_left
}

@test "compat: exec joins the init's PID and mount namespaces; a PID 1 without a handler ignores TERM, as under runc, and KILL stops it" {
	runc_spec_bundle "$B" sleep 1000
	edit_config "$B" "cfg['process']['terminal'] = False"
	echo marker >"$B/rootfs/marker"
	runc_bg c6 create --bundle "$B" c6
	assert_run_status 0
	runc_cmd start c6
	assert_run_status 0
	runc_cmd exec c6 sh -c 'echo "pid=$$"; tr "\0" " " </proc/1/cmdline; echo; cat /marker; grep -c . /proc/self/mounts'
	assert_run_status 0
	[[ $output == *"sleep 1000"* ]] || { show_run "PID 1 is not the container's init"; false; }
	[[ $output != *"pid=1"$'\n'* ]]
	[[ $output == *marker* ]] || { show_run "not the container's root"; false; }
	runc_cmd kill c6 TERM
	assert_run_status 0
	sleep 3
	[ "$(state_field c6 status)" = running ] || { show_run "TERM stopped a PID 1 without a handler"; false; }
	runc_cmd kill c6 KILL
	assert_run_status 0
	wait_state c6 stopped
}
