#!/usr/bin/env bats
# Pods, one VM per Kubernetes pod: a sandbox container and the containers
# containerd's CRI annotations put in it run in the sandbox's VM, sharing
# its network, a volume bound into each, each in PID and mount namespaces
# of its own; a container's host process ends with its process's status
# (a shim reaps it); deleting the sandbox stops them all and leaves nothing.
# Tests marked "host:" need no VM.

load runc

setup() {
	RUNC_ROOT=$BATS_TEST_TMPDIR/runc-root
	VOL=$BATS_TEST_TMPDIR/vol
	mkdir -p "$VOL"
}

teardown() {
	delete_all
}

# pod_bundle ID ROLE SANDBOX ARGS...: $BATS_TEST_TMPDIR/ID, a busybox bundle
# running ARGS with the CRI annotations of ROLE (sandbox or container) in
# SANDBOX's pod; a container has the sandbox's network, IPC and UTS
# namespaces by path, as the CRI gives them, and $VOL bound at /shared.
pod_bundle() {
	local dir=$BATS_TEST_TMPDIR/$1 role=$2 sandbox=$3 pid=0
	shift 3
	make_bundle "$dir" "$@"
	[ ! -d "$RUNC_ROOT/$sandbox" ] || pid=$(state_field "$sandbox" pid)
	edit_config "$dir" "
cfg['annotations'] = {'io.kubernetes.cri.container-type': '$role',
                      'io.kubernetes.cri.sandbox-id': '$sandbox'}
if '$role' == 'container':
    for ns in cfg['linux']['namespaces']:
        if ns['type'] in ('network', 'ipc', 'uts'):
            ns['path'] = '/proc/$pid/ns/' + {'network': 'net'}.get(ns['type'], ns['type'])
    cfg['mounts'].append({'destination': '/shared', 'type': 'bind', 'source': '$VOL',
                          'options': ['rbind', 'rw']})"
}

# pod_start ID ROLE SANDBOX ARGS...: the bundle, created and started.
pod_start() {
	pod_bundle "$@"
	runc_bg "$1" create --bundle "$BATS_TEST_TMPDIR/$1" "$1"
	assert_run_status 0
	runc_cmd start "$1"
	assert_run_status 0
}

# shim ID: creates and starts ID (its bundle made) in the background as
# containerd's shim does: a subreaper that reaps the process the pid file
# names, then writes how it ended ("exit N" or "signal N") to ID.status.
# Returns once ID is created.
shim() {
	python3 - "$NOVM_RUNC" "$RUNC_ROOT" "$1" "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/$1.shim" 2>&1 3>&- <<'PY' &
import ctypes, os, subprocess, sys
runc, root, cid, tmp = sys.argv[1:]
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid_file = os.path.join(tmp, cid + ".pid")
with open(os.path.join(tmp, cid + ".out"), "w") as out:
    subprocess.run([runc, "--root", root, "create", "--bundle", os.path.join(tmp, cid),
                    "--pid-file", pid_file, cid], stdin=subprocess.DEVNULL, stdout=out,
                   stderr=out, check=True)
subprocess.run([runc, "--root", root, "start", cid], check=True)
pid = int(open(pid_file).read())
while True:
    got, status = os.waitpid(-1, 0)
    if got == pid:
        break
how = "exit %d" % os.WEXITSTATUS(status) if os.WIFEXITED(status) else "signal %d" % os.WTERMSIG(status)
with open(os.path.join(tmp, cid + ".status"), "w") as f:
    f.write(how + "\n")
PY
	# Back once created: the pid file is create's last word.
	for _ in $(seq 1 "$((NOVM_RUN_TIMEOUT * 5))"); do
		[ -s "$BATS_TEST_TMPDIR/$1.pid" ] && return 0
		sleep 0.2
	done
	show_run "$1 was not created: $(cat "$BATS_TEST_TMPDIR/$1.shim" "$BATS_TEST_TMPDIR/$1.out")"
	return 1
}

# shim_status ID: waits (60 s at most) for the shim's word on ID's end.
shim_status() {
	local f=$BATS_TEST_TMPDIR/$1.status
	for _ in $(seq 1 300); do
		[ -s "$f" ] && { cat "$f"; return 0; }
		sleep 0.2
	done
	echo "no status; shim: $(cat "$BATS_TEST_TMPDIR/$1.shim" 2>&1)"
}

# The VMMs of this test's containers: its novm-runc processes (forked by
# create) that hold a KVM VM.  The harness's L1 holds an idle VM of its own.
count_vms() {
	local n=0 p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "--root $RUNC_ROOT " || continue
		ls -l "$p/fd" 2>/dev/null | grep -q 'anon_inode:kvm-vm' && n=$((n + 1))
	done
	echo "$n"
}

# runc_retry N CMD...: runc_cmd until it exits 0, N times at most (a server
# in another container may still be starting).
runc_retry() {
	local n=$1
	shift
	for _ in $(seq 1 "$n"); do
		runc_cmd "$@"
		[ "$status" -eq 0 ] && return 0
		sleep 0.5
	done
}

@test "pods: a sandbox and two containers in one VM: loopback between them, one volume, PID 1 each, limits of their own, exec, ps" {
	novm_require_vm
	pod_start sb sandbox sb sleep 100000
	pod_start a container sb sh -c 'echo from-a >/shared/a.txt; mkdir -p /www
		echo hello-from-a >/www/index.html; exec httpd -f -p 127.0.0.1:8080 -h /www'
	# b has limits of its own, as a Kubernetes container has.
	pod_bundle b container sb sleep 1000
	edit_config "$BATS_TEST_TMPDIR/b" "cfg['linux']['resources'] = {'memory': {'limit': 67108864}, 'pids': {'limit': 40},
    'cpu': {'quota': 50000, 'period': 100000}}"
	runc_bg b create --bundle "$BATS_TEST_TMPDIR/b" b
	assert_run_status 0
	runc_cmd start b
	assert_run_status 0
	[ "$(count_vms)" -eq 1 ] || { show_run "$(count_vms) VMs for one pod"; false; }
	[ "$(state_field a status)" = running ] && [ "$(state_field b status)" = running ]

	# b reaches a's server: the pod has one network namespace.
	runc_retry 40 exec b wget -q -O - http://127.0.0.1:8080/
	assert_stdout hello-from-a
	# One volume, both ways, and the host's directory is it.
	runc_cmd exec b cat /shared/a.txt
	assert_stdout from-a
	runc_cmd exec b sh -c 'echo from-b >/shared/b.txt'
	assert_run_status 0
	[ "$(cat "$VOL/a.txt" "$VOL/b.txt")" = $'from-a\nfrom-b' ] || { show_run "volume: $(ls -l "$VOL")"; false; }
	# Each its own root: b sees nothing of a's.
	runc_cmd exec b test -e /www
	assert_run_status 1

	# Each container's process is PID 1 of its own PID namespace.
	runc_cmd exec a sh -c 'tr "\0" " " </proc/1/cmdline'
	[[ $output == "httpd -f"* ]] || { show_run "a's PID 1"; false; }
	runc_cmd exec b sh -c 'tr "\0" " " </proc/1/cmdline; echo; ps -o pid,args'
	[[ ${lines[0]} == "sleep 1000"* ]] || { show_run "b's PID 1"; false; }
	[[ $output != *httpd* ]] || { show_run "b sees a's processes"; false; }
	runc_cmd ps b
	assert_run_status 0
	[[ $output == *"sleep 1000"* && $output != *httpd* ]] || { show_run "ps b"; false; }
	# b's limits hold in the guest: its cgroup has them, and a process
	# of b that outgrows 64 MiB is killed there while a is untouched.
	runc_cmd exec b cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max
	[ "$output" = $'67108864\n40\n50000 100000' ] || { show_run "b's limits in the guest"; false; }
	# and `events` says so, as runc's does.
	timeout 120 "$NOVM_RUNC" --root "$RUNC_ROOT" events --interval 1s b >"$BATS_TEST_TMPDIR/events" 2>&1 &
	local events=$!
	for _ in $(seq 1 100); do grep -q '"type":"stats"' "$BATS_TEST_TMPDIR/events" && break; sleep 0.2; done
	# (64 MiB of string and its half, about 100 MiB: more than b's limit,
	# less than the VM has free, so only b's limit can stop it.)
	runc_cmd exec b awk 'BEGIN { s = "x"; for (i = 0; i < 26; i++) s = s s; print length(s) }'
	[[ $output != *67108864* ]] || { show_run "b held 64 MiB of string under a 64 MiB limit"; false; }
	runc_cmd exec b sh -c 'grep -E "^(oom|oom_kill) " /sys/fs/cgroup/memory.events'
	[[ $output =~ (^|$'\n')oom\ [1-9] && $output =~ oom_kill\ [1-9] ]] ||
		{ show_run "no OOM of b's own cgroup"; false; }
	for _ in $(seq 1 50); do grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events" && break; sleep 0.2; done
	kill "$events" 2>/dev/null || true
	wait "$events" 2>/dev/null || true
	grep -qx '{"type":"oom","id":"b"}' "$BATS_TEST_TMPDIR/events" ||
		{ cat "$BATS_TEST_TMPDIR/events" >&2; echo "no oom event for b" >&2; false; }
	[ "$(state_field a status)" = running ] || { show_run "a went with b's OOM"; false; }
	runc_cmd events --stats b
	assert_run_status 0
	[[ $output == *'"id":"b"'* ]] || { show_run "events --stats b"; false; }
	runc_cmd pause b
	assert_run_status 1
	assert_stderr_has "pause is not supported for a pod container yet"
	[ "$(count_vms)" -eq 1 ]
}

@test "pods: a container's exit status is its host process's; kill and delete of one leave the others; a limit the pod cannot hold is refused; deleting the sandbox stops the rest (137) and leaves no VMM, state or mount" {
	novm_require_vm
	local mounts
	mounts=$(cat /proc/self/mountinfo)
	pod_start sb sandbox sb sleep 100000
	pod_start a container sb sleep 1000
	pod_bundle c container sb sh -c 'sleep 1; exit 7'
	shim c
	[ "$(shim_status c)" = "exit 7" ] || { show_run "c: $(shim_status c)"; false; }
	wait_state c stopped
	runc_cmd delete c
	assert_run_status 0

	pod_bundle d container sb sleep 1000
	shim d
	wait_state d running
	runc_cmd kill d KILL
	assert_run_status 0
	[ "$(shim_status d)" = "signal 9" ] || { show_run "d: $(shim_status d)"; false; }
	runc_cmd delete d
	assert_run_status 0
	[ ! -e "$RUNC_ROOT/d" ]

	# Its host process killed from outside, a container goes too: the
	# session's connection is its life.
	pod_bundle f container sb sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/shared/f.tick; sleep 0.2; done'
	shim f
	wait_state f running
	for _ in $(seq 1 100); do [ -s "$VOL/f.tick" ] && break; sleep 0.2; done
	local fpid
	fpid=$(state_field f pid)
	# (Once, in a CI-like run, f's host process was gone before this
	# kill, for no reason the test then said.)
	kill -9 "$fpid" || {
		show_run "f's host process $fpid ended before the kill: $(shim_status f); ticks: $(cat "$VOL/f.tick" 2>&1); state: $(state_field f status)"
		show_vm sb
		false
	}
	[ "$(shim_status f)" = "signal 9" ] || { show_run "f: $(shim_status f)"; false; }
	local tick
	sleep 2
	tick=$(cat "$VOL/f.tick")
	sleep 2
	[ -n "$tick" ] && [ "$(cat "$VOL/f.tick")" = "$tick" ] || { show_run "f runs on without its host process"; false; }
	runc_cmd delete f
	assert_run_status 0

	runc_cmd delete --force a
	assert_run_status 0
	[ "$(state_field sb status)" = running ] || { show_run "the sandbox went with its containers"; false; }
	pod_bundle e container sb sleep 1000
	shim e
	wait_state e running
	runc_cmd exec e echo still-here
	assert_stdout still-here

	# A sandbox id naming a pod container, or nothing: a clear error.
	pod_bundle x container e sleep 1
	runc_bg x create --bundle "$BATS_TEST_TMPDIR/x" x
	assert_run_status 1
	assert_stderr_has "container e is not a pod sandbox"
	pod_bundle y container nope sleep 1
	runc_bg y create --bundle "$BATS_TEST_TMPDIR/y" y
	assert_run_status 1
	assert_stderr_has "sandbox nope does not exist"
	# A memory limit the pod's VM (256 MiB: 128 for containers) cannot hold.
	pod_bundle z container sb sleep 1
	edit_config "$BATS_TEST_TMPDIR/z" "cfg['linux'].setdefault('resources', {})['memory'] = {'limit': 536870912}"
	runc_bg z create --bundle "$BATS_TEST_TMPDIR/z" z
	assert_run_status 1
	assert_stderr_has "memory limit 536870912 does not fit pod sb: its VM has 256 MiB of RAM"
	[ ! -e "$RUNC_ROOT/x" ] && [ ! -e "$RUNC_ROOT/y" ] && [ ! -e "$RUNC_ROOT/z" ] ||
		{ show_run "state left: $(ls "$RUNC_ROOT")"; false; }

	# The sandbox's deletion stops the VM: e's host process ends as a
	# killed process's would.
	runc_cmd delete --force sb
	assert_run_status 0
	[ "$(shim_status e)" = "signal 9" ] || { show_run "e: $(shim_status e)"; false; }
	wait_state e stopped
	runc_cmd delete e
	assert_run_status 0
	assert_nothing_left
	[ "$(count_vms)" -eq 0 ] || { show_run "$(count_vms) VMs left"; false; }
	[ "$(cat /proc/self/mountinfo)" = "$mounts" ] || { show_run "the host's mounts changed"; false; }
}

@test "host: pod annotations that name no sandbox, and a pod container with hooks, fail clearly, leaving nothing" {
	pod_bundle p container nope sleep 1
	runc_bg p create --bundle "$BATS_TEST_TMPDIR/p" p
	assert_run_status 1
	assert_stderr_has "sandbox nope does not exist"
	edit_config "$BATS_TEST_TMPDIR/p" "cfg['annotations']['io.kubernetes.cri.container-type'] = 'podsandbox'"
	runc_bg p create --bundle "$BATS_TEST_TMPDIR/p" p
	assert_run_status 1
	assert_stderr_has 'unknown container type "podsandbox"'
	edit_config "$BATS_TEST_TMPDIR/p" "cfg['annotations'] = {'io.kubernetes.cri-o.ContainerType': 'container'}"
	runc_bg p create --bundle "$BATS_TEST_TMPDIR/p" p
	assert_run_status 1
	assert_stderr_has "needs io.kubernetes.cri-o.SandboxID"
	assert_nothing_left
	# Hooks that would run in namespaces that are the sandbox VM's guest's.
	edit_config "$BATS_TEST_TMPDIR/p" "cfg['annotations'] = {'io.kubernetes.cri-o.ContainerType': 'container',
    'io.kubernetes.cri-o.SandboxID': 'nope'}
cfg['hooks'] = {'createRuntime': [{'path': '/bin/true'}]}"
	runc_bg p create --bundle "$BATS_TEST_TMPDIR/p" p
	assert_run_status 1
	assert_stderr_has "a pod container cannot have prestart, createRuntime or createContainer hooks"
	assert_nothing_left
}
