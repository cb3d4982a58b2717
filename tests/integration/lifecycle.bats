#!/usr/bin/env bats
# runc's lifecycle commands on containers in VMs: create, start, state,
# kill, delete, exec, ps, pause/resume, events, list, run --detach; the
# errors with runc's messages and statuses, and nothing left behind.
# Tests marked "host:" need no VM.

load runc

setup() {
	B=$BATS_TEST_TMPDIR/bundle
	RUNC_ROOT=$BATS_TEST_TMPDIR/runc-root
}

teardown() {
	delete_all
	cgroup_cleanup
}

# need_vm: the test boots containers.
need_vm() {
	novm_require_vm
}

# create_running ID: a container running `sleep 1000`, created and started.
create_running() {
	[ -d "$B" ] || make_bundle "$B" sleep 1000
	runc_bg "$1" create --bundle "$B" "$1"
	assert_run_status 0
	runc_cmd start "$1"
	assert_run_status 0
}

@test "lifecycle: create -> created with a live pid -> start -> running -> kill -> stopped -> delete -> gone" {
	need_vm
	make_bundle "$B" sleep 1000
	runc_bg c1 create --bundle "$B" --pid-file "$BATS_TEST_TMPDIR/pid" c1
	assert_run_status 0
	[ "$(state_field c1 status)" = created ]
	local pid
	pid=$(state_field c1 pid)
	pid_alive "$pid" || { show_run "state pid $pid is not a live process"; false; }
	# The pid file holds the state's pid, without a trailing newline.
	[ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/pid")" -eq "${#pid}" ]
	[ "$(state_field c1 bundle)" = "$B" ]

	runc_cmd start c1
	assert_run_status 0
	[ "$(state_field c1 status)" = running ]
	[ "$(state_field c1 pid)" = "$pid" ]

	runc_cmd kill c1 KILL
	assert_run_status 0
	wait_state c1 stopped
	[ "$(state_field c1 pid)" = 0 ]
	pid_alive "$pid" && { show_run "the VMM $pid still runs"; false; }

	runc_cmd delete c1
	assert_run_status 0
	runc_cmd state c1
	assert_run_status 1
	assert_stderr_has "container does not exist"
	assert_nothing_left
}

@test "lifecycle: the process's output reaches create's stdout; SIGTERM by default" {
	need_vm
	make_bundle "$B" sh -c 'echo started; trap "echo got TERM; exit 3" TERM; while :; do sleep 1; done'
	runc_bg c1 create --bundle "$B" c1
	assert_run_status 0
	runc_cmd start c1
	assert_run_status 0
	for _ in $(seq 1 100); do grep -q started "$BATS_TEST_TMPDIR/c1.out" && break; sleep 0.2; done
	runc_cmd kill c1
	assert_run_status 0
	wait_state c1 stopped
	[ "$(cat "$BATS_TEST_TMPDIR/c1.out")" = $'started\ngot TERM' ] ||
		{ show_run "stdout: $(cat "$BATS_TEST_TMPDIR/c1.out")"; false; }
	runc_cmd delete c1
	assert_run_status 0
	assert_nothing_left
}

@test "exec: output, stdin and exit code come back; a guest at the descriptor cap leaves them working" {
	need_vm
	# A small descriptor budget for the shares, to reach it below.
	export NOVM_FUSE_MAX_FDS=300
	create_running c1
	runc_cmd exec c1 sh -c 'echo from-exec; exit 3'
	assert_run_status 3
	assert_stdout from-exec
	run --separate-stderr bash -c 'echo piped | timeout 120 "$1" --root "$2" exec c1 cat' _ "$NOVM_RUNC" "$RUNC_ROOT"
	assert_run_status 0
	assert_stdout piped
	runc_cmd exec --env FOO=bar --cwd /tmp --user 1000:100 c1 sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"'
	assert_run_status 0
	assert_stdout "bar /tmp 1000:100"
	runc_cmd exec c1 sh -c 'kill -9 $$'
	assert_run_status 137

	# The guest makes files until the VMM's budget refuses one (ENFILE;
	# shell builtins only, as a new program would need a node too, and not
	# `:`, whose failed redirection would end the shell) ...
	runc_cmd exec c1 sh -c 'rm -f /nothing; mkdir /fds && i=0
		while [ $i -lt 1000 ] && true 2>/dev/null >/fds/f$i; do i=$((i + 1)); done
		true >/fds/f$i; echo "made $i"'
	[[ $output =~ made\ ([0-9]+) ]] || { show_run "no count"; false; }
	local made=${BASH_REMATCH[1]}
	[ "$made" -gt 100 ] && [ "$made" -lt 300 ] || { show_run "made $made files"; false; }
	[[ $stderr == *"Too many open files in system"* ]] || { show_run "not ENFILE"; false; }
	# ... while the VMM still answers: its own descriptors are untouched.
	runc_cmd ps c1
	assert_run_status 0
	runc_cmd exec c1 sh -c 'echo still here'
	assert_run_status 0
	assert_stdout "still here"
	# Removed files are forgotten, and their descriptors free again.
	runc_cmd exec c1 sh -c 'i=0; while [ $i -lt '"$made"' ]; do set -- "$@" /fds/f$i; i=$((i + 1)); done
		rm -f "$@" && sleep 1 && : >/fds/again && echo made again'
	assert_run_status 0
	assert_stdout "made again"
}

@test "exec: --detach with --pid-file; ps --format json lists the VMM and the exec" {
	need_vm
	create_running c1
	runc_bg e1 exec --detach --pid-file "$BATS_TEST_TMPDIR/epid" c1 sleep 60
	assert_run_status 0
	local epid vmm
	epid=$(cat "$BATS_TEST_TMPDIR/epid")
	vmm=$(state_field c1 pid)
	pid_alive "$epid" || { show_run "exec pid $epid is not alive"; false; }
	runc_cmd ps --format json c1
	assert_run_status 0
	python3 - "$output" "$vmm" "$epid" <<'PY'
import json, sys
pids = json.loads(sys.argv[1])
assert int(sys.argv[2]) in pids and int(sys.argv[3]) in pids, pids
PY
	runc_cmd ps c1
	assert_run_status 0
	[[ $output == *"sleep 60"* ]] || { show_run "ps does not show the exec'd sleep"; false; }
	# The proxy ends as its process does.
	runc_cmd kill --all c1 KILL
	for _ in $(seq 1 100); do pid_alive "$epid" || break; sleep 0.2; done
	pid_alive "$epid" && { show_run "exec proxy $epid outlived its process"; false; }
	true
}

@test "kill --all reaches a daemon an exec left behind, not only the sessions" {
	need_vm
	# init ignores TERM (and so does its sleep, inheriting that), the
	# daemon does not: after kill --all TERM only the daemon is gone.
	make_bundle "$B" sh -c 'trap "" TERM; while :; do sleep 1; done'
	create_running c1
	runc_cmd exec c1 sh -c 'setsid sleep 999 </dev/null >/dev/null 2>&1 &'
	assert_run_status 0
	runc_cmd ps c1
	[[ $output == *"sleep 999"* ]] || { show_run "the daemon did not start"; false; }
	runc_cmd kill --all c1 TERM
	assert_run_status 0
	for _ in $(seq 1 50); do
		runc_cmd ps c1
		[[ $output == *"sleep 999"* ]] || break
		sleep 0.2
	done
	[[ $output != *"sleep 999"* ]] || { show_run "the daemon outlived kill --all"; false; }
	[ "$(state_field c1 status)" = running ]
}

@test "hooks: prestart to poststop run on the host, in order, with the state on stdin" {
	need_vm
	local log=$BATS_TEST_TMPDIR/hooks.log
	# Each hook appends "<phase> <state JSON on one line>" to the log.
	cat >"$BATS_TEST_TMPDIR/hook" <<'EOF'
#!/bin/sh
printf '%s ' "$1" >>"$LOG"
tr -d '\n' >>"$LOG"
echo >>"$LOG"
EOF
	chmod +x "$BATS_TEST_TMPDIR/hook"
	make_bundle "$B" sleep 1000
	edit_config "$B" "
hook = lambda phase: {'path': '$BATS_TEST_TMPDIR/hook', 'args': ['hook', phase], 'env': ['LOG=$log']}
cfg['hooks'] = {p: [hook(p)] for p in ('prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop')}"
	create_running c1
	runc_cmd kill c1 KILL
	wait_state c1 stopped
	runc_cmd delete c1
	assert_run_status 0
	python3 - "$log" "$B" <<'PY'
import json, sys
seen = []
for line in open(sys.argv[1]):
    phase, _, state = line.partition(" ")
    state = json.loads(state)
    assert state["id"] == "c1" and state["bundle"] == sys.argv[2], state
    seen.append((phase, state["status"]))
want = [("prestart", "creating"), ("createRuntime", "creating"), ("createContainer", "creating"),
        ("startContainer", "created"), ("poststart", "running"), ("poststop", "stopped")]
assert seen == want, seen
PY
}

@test "hooks: a failing createRuntime hook fails create with its output; nothing is left" {
	need_vm
	make_bundle "$B" sleep 1000
	edit_config "$B" "cfg['hooks'] = {'createRuntime': [{'path': '/bin/sh', 'args': ['sh', '-c', 'echo hook-said-no >&2; exit 3']}]}"
	runc_bg c1 create --bundle "$B" c1
	assert_run_status 1
	assert_stderr_has "createRuntime hook /bin/sh: exit status 3: hook-said-no"
	assert_nothing_left
}

@test "pause and resume" {
	need_vm
	create_running c1
	runc_cmd pause c1
	assert_run_status 0
	[ "$(state_field c1 status)" = paused ]
	runc_cmd exec c1 true
	assert_run_status 255
	assert_stderr_has "cannot exec in a paused container"
	runc_cmd pause c1
	assert_run_status 1
	# The VMM's diag request (what a command that timed out logs) answers
	# while the guest is stopped, with the queues the agent used.
	novm_diag "$RUNC_ROOT/c1" | python3 -c '
import json, sys
data = sys.stdin.buffer.read()
assert data.startswith(b"ok "), data
state = json.loads(data[3:])
assert state["paused"] is True, state
assert state["agent"]["synced"] and state["agent"]["created"], state["agent"]
assert state["agent"]["frames_received"] >= 3, state["agent"]
consoles = [d for d in state["devices"] if d["virtio"]["device"] == "virtio-console"]
assert len(consoles) == 1, state["devices"]
rx, tx = consoles[0]["virtio"]["queues"]
assert rx["ready"] and tx["ready"] and tx["used_idx"] > 0, consoles
assert any(d["virtio"]["device"] == "virtio-fs" for d in state["devices"]), state["devices"]
cpu = state["vcpus"][0]
assert cpu["id"] == 0 and cpu["rip"].startswith("0x") and "mp_state" in cpu and "lvt_timer" in cpu, cpu
'
	runc_cmd resume c1
	assert_run_status 0
	[ "$(state_field c1 status)" = running ]
	# On a running VM, diag stops the vCPUs for the moment it reads them and
	# lets them go again (the exec below runs).
	novm_diag "$RUNC_ROOT/c1" | python3 -c '
import json, sys
data = sys.stdin.buffer.read()
assert data.startswith(b"ok "), data
state = json.loads(data[3:])
assert state["paused"] is False and state["vcpus"][0]["id"] == 0, state
'
	[ "$(state_field c1 status)" = running ]
	runc_cmd resume c1
	assert_run_status 1
	assert_stderr_has "container not paused"
	runc_cmd exec c1 echo alive
	assert_run_status 0
	assert_stdout alive
}

@test "delete: a running container only with --force, which kills its VM" {
	need_vm
	create_running c1
	local pid
	pid=$(state_field c1 pid)
	runc_cmd delete c1
	assert_run_status 1
	assert_stderr_has "cannot delete container c1 that is not stopped: running"
	[ "$(state_field c1 status)" = running ]
	runc_cmd delete --force c1
	assert_run_status 0
	pid_alive "$pid" && { show_run "VMM $pid survived delete --force"; false; }
	assert_nothing_left
}

@test "delete: a created container goes without --force" {
	need_vm
	make_bundle "$B" sleep 1000
	runc_bg c1 create --bundle "$B" c1
	assert_run_status 0
	runc_cmd delete c1
	assert_run_status 0
	assert_nothing_left
}

@test "errors: bad signal, start twice, duplicate id, exec and start after stop, unknown id" {
	need_vm
	create_running c1
	runc_cmd kill c1 FOO
	assert_run_status 1
	assert_stderr_has 'unknown signal "FOO"'
	runc_cmd start c1
	assert_run_status 1
	assert_stderr_has "cannot start an already running container"
	runc_bg dup create --bundle "$B" c1
	assert_run_status 1
	assert_stderr_has "container with id exists: c1"
	[ "$(state_field c1 status)" = running ]

	runc_cmd kill c1 9
	assert_run_status 0
	wait_state c1 stopped
	runc_cmd kill c1
	assert_run_status 1
	assert_stderr_has "container not running"
	runc_cmd exec c1 true
	assert_run_status 255
	assert_stderr_has "cannot exec in a stopped container"
	runc_cmd start c1
	assert_run_status 1
	assert_stderr_has "cannot start a container that has stopped"
	runc_cmd delete c1
	assert_run_status 0
	for cmd in start state kill delete pause resume ps; do
		runc_cmd "$cmd" nope
		assert_run_status 1
		assert_stderr_has "container does not exist"
	done
	runc_cmd exec nope true
	assert_run_status 255
	assert_stderr_has "container does not exist"
	assert_nothing_left
}

@test "errors: a process that cannot start fails create; nothing is left" {
	need_vm
	make_bundle "$B" /no/such/binary
	runc_bg c1 create --bundle "$B" c1
	# The agent may find out when it prepares the process, or on start.
	if [ "$status" -eq 0 ]; then
		runc_cmd start c1
	fi
	[ "$status" -ne 0 ] || { show_run "the missing program was not noticed"; false; }
	[[ $stderr == *"no such file or directory"* || $stderr == *"not found"* ]] || { show_run "no reason given"; false; }
	runc_cmd delete --force c1
	assert_nothing_left
}

@test "events --stats prints one stats object" {
	need_vm
	create_running c1
	runc_cmd events --stats c1
	assert_run_status 0
	[ "${#lines[@]}" -eq 1 ] || { show_run "expected one line"; false; }
	python3 - "$output" <<'PY'
import json, sys
e = json.loads(sys.argv[1])
assert e["type"] == "stats" and e["id"] == "c1", e
assert e["data"]["memory"]["usage"]["usage"] > 0, e
assert e["data"]["cpu"]["usage"]["total"] >= 0, e
PY
}

# cgroup_root_ready: cgroup2 at /sys/fs/cgroup with memory, cpu and pids
# delegated at its root, as systemd leaves a host (the harness's L1 mounts
# none: teardown undoes what this did).
cgroup_root_ready() {
	if [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || return 1
		CGROUP_MOUNTED=1
	fi
	local c
	for c in memory cpu pids; do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || true
	done
}

cgroup_cleanup() {
	rmdir "/sys/fs/cgroup/novm-test-$$/c1" "/sys/fs/cgroup/novm-test-$$" 2>/dev/null || true
	[ -z "${CGROUP_MOUNTED:-}" ] || umount -l /sys/fs/cgroup
}

@test "update: the VMM's cgroup has the limits on the host; update changes them live, memory within the VM's RAM" {
	need_vm
	cgroup_root_ready || skip "no cgroup2 filesystem"
	make_bundle "$B" sleep 1000
	# A parent the runtime makes gets the controllers enabled.
	edit_config "$B" "
cfg['linux']['cgroupsPath'] = '/novm-test-$$/c1'
r = cfg['linux'].setdefault('resources', {})
r['memory'] = {'limit': 100 * 1024 * 1024}
r['cpu'] = {'quota': 50000, 'period': 500}
r['pids'] = {'limit': 100}"
	# A value the kernel would refuse fails create, leaving nothing.
	runc_bg c1 create --bundle "$B" c1
	assert_run_status 1
	assert_stderr_has "linux.resources.cpu.period: 500 is out of range"
	assert_nothing_left
	[ ! -e "/sys/fs/cgroup/novm-test-$$" ] || { show_run "cgroup left behind"; false; }

	edit_config "$B" "cfg['linux']['resources']['cpu']['period'] = 100000"
	create_running c1
	local pid cg
	pid=$(state_field c1 pid)
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	[ "$cg" = "/sys/fs/cgroup/novm-test-$$/c1" ] || { show_run "the VMM is in $cg"; false; }
	# The guest's RAM (100 MiB + 128, oci/vm-size.h) + the VMM's 64 MiB.
	[ "$(cat "$cg/memory.max")" = $(((228 + 64) << 20)) ] ||
		{ show_run "memory.max $(cat "$cg/memory.max")"; false; }
	[ "$(cat "$cg/cpu.max")" = "50000 100000" ] || { show_run "cpu.max $(cat "$cg/cpu.max")"; false; }
	[ "$(cat "$cg/pids.max")" = 228 ] || { show_run "pids.max $(cat "$cg/pids.max")"; false; }	# + the VMM's 128
	# In the guest, the container's own cgroup has the limits themselves;
	# its CPU limit is the VM's vCPU and the host's cpu.max.
	runc_cmd exec c1 sh -c 'cd /sys/fs/cgroup && cat memory.max pids.max && { cat cpu.max 2>/dev/null || echo max; } | cut -d" " -f1'
	[ "$output" = $'104857600\n100\nmax' ] || { show_run "the guest's limits"; false; }
	# What the VMM uses beyond the guest's RAM (CGROUP_VMM_OVERHEAD), for
	# the log: the Rss of every mapping but the guest RAM's.
	python3 - "$pid" "$cg" $((228 << 20)) >&3 <<'PY' || true
import sys
pid, cg, ram = sys.argv[1], sys.argv[2], int(sys.argv[3])
status = {l.split(":")[0]: l.split(":")[1].strip() for l in open(f"/proc/{pid}/status")}
other = guest = 0
size = 0
for line in open(f"/proc/{pid}/smaps"):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and ":" not in f[0]:
        a, b = (int(x, 16) for x in f[0].split("-"))
        size = b - a
    elif f[0] == "Rss:":
        if size == ram:
            guest += int(f[1])
        else:
            other += int(f[1])
def cat(name):
    try:
        return open(f"{cg}/{name}").read().strip()
    except OSError:
        return "?"
print(f"# VMM VmHWM {status['VmHWM']} VmRSS {status['VmRSS']} Threads {status['Threads']}: "
      f"guest RAM Rss {guest} kB, all else {other} kB; cgroup memory.current {cat('memory.current')} "
      f"memory.peak {cat('memory.peak')}")
PY

	runc_cmd update --cpu-quota 25000 --pids-limit 50 c1
	assert_run_status 0
	[ "$(cat "$cg/cpu.max")" = "25000 100000" ] || { show_run "cpu.max $(cat "$cg/cpu.max")"; false; }
	[ "$(cat "$cg/pids.max")" = 178 ] || { show_run "pids.max $(cat "$cg/pids.max")"; false; }
	run --separate-stderr bash -c 'echo "{\"cpu\": {\"shares\": 512}}" | "$1" --root "$2" update -r - c1' _ "$NOVM_RUNC" "$RUNC_ROOT"
	assert_run_status 0
	[ "$(cat "$cg/cpu.weight")" = 20 ] || { show_run "cpu.weight $(cat "$cg/cpu.weight")"; false; }

	# The guest's RAM is fixed: a limit it cannot hold is refused...
	runc_cmd update --memory 512M c1
	assert_run_status 1
	assert_stderr_has "no balloon to grow it"
	[ "$(cat "$cg/memory.max")" = $(((228 + 64) << 20)) ]
	# ... a smaller one lowers memory.max as create would have sized it.
	runc_cmd update --memory 64M c1
	assert_run_status 0
	[ "$(cat "$cg/memory.max")" = $(((192 + 64) << 20)) ] ||
		{ show_run "memory.max $(cat "$cg/memory.max")"; false; }
	[ "$(state_field c1 status)" = running ]

	runc_cmd delete --force c1
	assert_run_status 0
	[ ! -e "$cg" ] || { show_run "$cg left behind"; false; }
}

@test "run --detach: create and start, then return" {
	need_vm
	make_bundle "$B" sleep 1000
	runc_bg r1 run --detach --bundle "$B" r1
	assert_run_status 0
	[ "$(state_field r1 status)" = running ]
	runc_cmd delete --force r1
	assert_run_status 0
	assert_nothing_left
}

@test "terminal: the pty master reaches the console socket, window size follows" {
	need_vm
	make_bundle "$B" sh -c 'sleep 3; stty size; tty >/dev/null && echo on-a-tty'
	edit_config "$B" 'cfg["process"]["terminal"] = True'
	local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/console.out
	python3 - "$sock" "$out" 3>&- <<'PY' &
import fcntl, os, socket, struct, sys, termios
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
open(out + ".name", "w").write(msg.decode())
master = fds[0]
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 77, 0, 0))
data = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
    open(out, "wb").write(data)
PY
	local receiver=$!
	for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
	runc_bg c1 create --bundle "$B" --console-socket "$sock" c1
	assert_run_status 0
	[[ $(cat "$out.name") == /dev/pts/* ]] || { show_run "pty name: $(cat "$out.name")"; false; }
	runc_cmd start c1
	assert_run_status 0
	wait_state c1 stopped 120
	wait "$receiver" || true
	local got
	got=$(tr -d '\r' <"$out")
	[[ $got == *"33 77"* && $got == *on-a-tty* ]] || { show_run "terminal output: $got"; false; }
}

@test "three containers at once" {
	need_vm
	make_bundle "$B" sleep 1000
	local id
	# Created one after the other, then all three live at once.  Booting
	# three guests at the same moment locks up the nested harness's emulated
	# L1 kernel (soft lockups in kvm-amd under TCG), not something we test.
	for id in m1 m2 m3; do
		timeout -k 10 180 "$NOVM_RUNC" --root "$RUNC_ROOT" create --bundle "$B" "$id" </dev/null \
			>"$BATS_TEST_TMPDIR/$id.out" 2>"$BATS_TEST_TMPDIR/$id.err" 3>&- || true
	done
	for id in m1 m2 m3; do
		[ "$(state_field "$id" status)" = created ] ||
			{ show_run "$id: $(cat "$BATS_TEST_TMPDIR/$id.err")"; false; }
		runc_cmd start "$id"
		assert_run_status 0
	done
	runc_cmd list
	assert_run_status 0
	[ "$(grep -c running <<<"$output")" -eq 3 ] || { show_run "list"; false; }
	for id in m1 m2 m3; do
		runc_cmd exec "$id" hostname
		assert_run_status 0
		assert_stdout novm
	done
	for id in m1 m2 m3; do
		runc_cmd delete --force "$id"
		assert_run_status 0
	done
	assert_nothing_left
}

@test "host: list on an empty root, as table, json and ids" {
	runc_cmd list
	assert_run_status 0
	[[ ${lines[0]} == "ID "*"PID "*"STATUS "*"BUNDLE "*"CREATED "*OWNER ]] || { show_run "header"; false; }
	[ "${#lines[@]}" -eq 1 ]
	runc_cmd list --format json
	assert_run_status 0
	assert_stdout null
	runc_cmd list -q
	assert_run_status 0
	assert_stdout ""
}

@test "host: features is valid JSON with runc's keys" {
	runc_cmd features
	assert_run_status 0
	python3 - "$output" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
assert f["ociVersionMin"] == "1.0.0", f
for key in ("ociVersionMax", "hooks", "mountOptions", "linux", "annotations"):
    assert key in f, key
assert "SCMP_ACT_ERRNO" in f["linux"]["seccomp"]["actions"]
assert "rbind" in f["mountOptions"]
PY
}

@test "host: --log-format json writes the error as a logrus line" {
	local log=$BATS_TEST_TMPDIR/log.json
	run --separate-stderr "$NOVM_RUNC" --root "$RUNC_ROOT" --log "$log" --log-format json state nope
	assert_run_status 1
	assert_stderr_has "container does not exist"
	python3 - "$log" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
e = json.loads(lines[-1])
assert e["level"] == "error" and e["msg"] == "container does not exist" and e["time"], e
PY
}

@test "host: bad ids, flags and argument counts" {
	make_bundle "$B" true
	runc_cmd create --bundle "$B" ../evil
	assert_run_status 1
	assert_stderr_has "invalid container id format"
	runc_cmd create --bogus c1
	assert_run_status 1
	assert_stderr_has "flag provided but not defined: -bogus"
	runc_cmd kill
	assert_run_status 1
	assert_stderr_has '"kill" requires a minimum of 1 argument(s)'
	runc_cmd state a b
	assert_run_status 1
	assert_stderr_has '"state" requires exactly 1 argument(s)'
	runc_cmd delete --force nope
	assert_run_status 0
	runc_cmd create --bundle "$B" --preserve-fds 2 c1
	assert_run_status 1
	assert_stderr_has "host file descriptors cannot be passed into the container's VM"
	runc_cmd checkpoint c1
	assert_run_status 1
	assert_stderr_has "checkpoint is not supported by novm"
	runc_cmd create --bundle "$B" --console-socket /nonexistent c1
	assert_run_status 1
	assert_stderr_has "cannot use console socket if runc will not detach or allocate tty"
	edit_config "$B" 'cfg["process"]["terminal"] = True'
	runc_cmd create --bundle "$B" c1
	assert_run_status 1
	assert_stderr_has "cannot allocate tty if runc will detach without setting console socket"
	assert_nothing_left
}
