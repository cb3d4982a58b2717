#!/usr/bin/env bats
# `novm-runc run`: a busybox bundle's process in its own VM, its rootfs served
# by our virtio-fs server; behaviour checked from the host side.

load runc

setup_file() {
	novm_require_vm
}

setup() {
	B=$BATS_TEST_TMPDIR/bundle
}

teardown() {
	[ -z "${XATTR_DIR:-}" ] || rm -rf "$XATTR_DIR"
}

@test "run: output reaches stdout, from inside the VM" {
	make_bundle "$B" sh -c 'echo hello from $(uname -r)'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout "hello from $(default_kernel_release)"
	assert_nothing_left
}

@test "run: exit status 7 comes back" {
	make_bundle "$B" sh -c 'exit 7'
	runc_run "$B" c1
	assert_run_status 7
	assert_nothing_left
}

@test "run: a process killed by SIGKILL gives 137" {
	make_bundle "$B" sh -c 'kill -9 $$'
	# Without a PID namespace of its own: PID 1 of one ignores the SIGKILL
	# it sends itself (so runc's container would exit 0).
	edit_config "$B" "cfg['linux']['namespaces'] = [n for n in cfg['linux']['namespaces'] if n['type'] != 'pid']"
	runc_run "$B" c1
	assert_run_status 137
}

@test "run: a guest kernel that panics under the container is reported as a panic, with the console's last lines" {
	make_bundle "$B" sh -c 'echo c >/proc/sysrq-trigger; sleep 100'
	edit_config "$B" "
cfg['linux']['maskedPaths'] = []
cfg['linux']['readonlyPaths'] = []"
	runc_run "$B" c1
	[ "$status" -ne 0 ] || { show_run "the container exited 0"; false; }
	# The agent has panics reset through the keyboard controller, which
	# alone would read as a clean stop.
	assert_stderr_has "the VM stopped before its process exited: guest kernel panic: Kernel panic - not syncing: sysrq triggered crash"
	# Then the guest's last kernel log lines (its oops), at most 8.
	local n
	n=$(grep -cE '^novm: container c1: console: \[ *[0-9]+\.[0-9]+\] ' <<<"$stderr" || true)
	[ "$n" -ge 1 ] && [ "$n" -le 8 ] || { show_run "expected 1 to 8 console lines, got $n"; false; }
}

@test "run: stdin reaches the process" {
	make_bundle "$B" cat
	RUNC_STDIN=hi runc_run "$B" c1
	assert_run_status 0
	assert_stdout hi
}

@test "run: env, cwd, uid and groups as the spec says" {
	make_bundle "$B" sh -c 'echo "$FOO|$(pwd)|$(id -u)|$(id -G)"'
	edit_config "$B" '
cfg["process"]["env"].append("FOO=bar baz")
cfg["process"]["cwd"] = "/tmp"
cfg["process"]["user"] = {"uid": 1000, "gid": 100, "additionalGids": [1, 65534]}'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout "bar baz|/tmp|1000|100 1 65534"
}

@test "run: an rlimit is honoured" {
	make_bundle "$B" sh -c 'ulimit -n'
	edit_config "$B" 'cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 333, "soft": 222}]'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout 222
}

@test "run: CapEff matches the spec's effective set" {
	make_bundle "$B" sh -c 'grep CapEff /proc/self/status'
	edit_config "$B" '
caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
for k in ("bounding", "effective", "permitted"):
    cfg["process"]["capabilities"][k] = caps'
	runc_run "$B" c1
	assert_run_status 0
	# CHOWN=0, KILL=5, NET_BIND_SERVICE=10: 0x421
	assert_stdout "CapEff:	0000000000000421"
}

@test "run: a seccomp profile denying mkdir makes mkdir fail with EPERM" {
	make_bundle "$B" sh -c 'mkdir /tmp/x; echo "status $?"'
	edit_config "$B" '
cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	runc_run "$B" c1
	assert_run_status 0
	[[ $output == *"Operation not permitted"*"status 1" ]] || [[ "$output$stderr" == *"Operation not permitted"* ]] ||
		{ show_run "mkdir was not refused with EPERM"; false; }
	[[ $output == *"status 1" ]] || { show_run "mkdir did not fail"; false; }
	[ ! -e "$B/rootfs/tmp/x" ]
}

@test "run: hostname from the spec" {
	make_bundle "$B" hostname
	edit_config "$B" 'cfg["hostname"] = "box-42"'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout box-42
}

@test "files: a file written in the guest appears on the host with content, mode and owner" {
	make_bundle "$B" sh -c 'echo guest-data > /tmp/out.txt && chmod 640 /tmp/out.txt && chown 1234:5678 /tmp/out.txt'
	# runc's default spec keeps only AUDIT_WRITE, KILL and NET_BIND_SERVICE: chown needs CAP_CHOWN.
	edit_config "$B" '
for k in ("bounding", "effective", "permitted"):
    cfg["process"]["capabilities"][k].append("CAP_CHOWN")'
	runc_run "$B" c1
	assert_run_status 0
	[ "$(cat "$B/rootfs/tmp/out.txt")" = guest-data ]
	[ "$(stat -c '%a %u %g' "$B/rootfs/tmp/out.txt")" = "640 1234 5678" ]
}

@test "files: a file created by a non-root guest user is owned by that uid on the host" {
	make_bundle "$B" sh -c 'echo x > /tmp/mine'
	edit_config "$B" 'cfg["process"]["user"] = {"uid": 4321, "gid": 4321}'
	runc_run "$B" c1
	assert_run_status 0
	[ "$(stat -c '%u %g' "$B/rootfs/tmp/mine")" = "4321 4321" ]
}

@test "files: a read-only root refuses writes" {
	make_bundle "$B" sh -c 'echo x > /etc/new-file; echo "status $?"'
	edit_config "$B" 'cfg["root"]["readonly"] = True'
	runc_run "$B" c1
	assert_run_status 0
	[[ $output == *"status 1"* ]] || [[ $output == *"status 2"* ]] || { show_run "write succeeded"; false; }
	[[ "$output$stderr" == *"Read-only file system"* ]] || { show_run "no EROFS"; false; }
	[ ! -e "$B/rootfs/etc/new-file" ]
}

@test "files: a host bind mount is visible at its destination, writes go back" {
	local data=$BATS_TEST_TMPDIR/hostdata
	mkdir -p "$data" && echo from-host >"$data/in.txt"
	make_bundle "$B" sh -c 'cat /data/in.txt && echo from-guest > /data/out.txt'
	edit_config "$B" "cfg['mounts'].append({'destination': '/data', 'type': 'bind', 'source': '$data', 'options': ['rbind', 'rw']})"
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout from-host
	[ "$(cat "$data/out.txt")" = from-guest ]
}

@test "files: a file bind mount shows the file and nothing next to it, even to a guest that mounts the share itself" {
	local data=$BATS_TEST_TMPDIR/hostetc
	mkdir -p "$data" && echo "nameserver 10.1.1.1" >"$data/resolv.conf" && echo secret >"$data/neighbour"
	# Docker binds files (resolv.conf, hosts) from a directory of its own;
	# a guest with CAP_SYS_ADMIN can mount that share's tag again.
	make_bundle "$B" sh -c '
cat /etc/resolv.conf; echo "nameserver 10.2.2.2" > /etc/resolv.conf
mkdir -p /mnt/share && mount -t virtiofs "$TAG" /mnt/share || exit 9
echo $(ls -a /mnt/share)
cat /mnt/share/neighbour; touch /mnt/share/new; rm /mnt/share/resolv.conf; true'
	edit_config "$B" "
cfg['process']['env'].append('TAG=m%d' % len(cfg['mounts']))
cfg['mounts'].append({'destination': '/etc/resolv.conf', 'type': 'bind', 'source': '$data/resolv.conf', 'options': ['rbind', 'rw']})
for k in ('bounding', 'effective', 'permitted'):
    cfg['process']['capabilities'][k].append('CAP_SYS_ADMIN')"
	runc_run "$B" c1
	assert_run_status 0
	[ "${lines[0]}" = "nameserver 10.1.1.1" ] || { show_run "the bound file was not read"; false; }
	[ "${lines[1]}" = ". .. resolv.conf" ] || { show_run "the share shows more than the file"; false; }
	[[ $stderr == *"neighbour"*"No such file or directory"* ]] || { show_run "the sibling was reachable"; false; }
	[[ $stderr == *"Operation not permitted"* ]] || { show_run "no EPERM for changes next to the file"; false; }
	[ "$(cat "$data/resolv.conf")" = "nameserver 10.2.2.2" ]
	[ "$(cat "$data/neighbour")" = secret ] && [ ! -e "$data/new" ]
}

@test "files: a 200 MiB file written and read back has the same sha256 on both sides" {
	# 1 MiB writes: 4 KiB ones (busybox head) take minutes under emulation.
	# The second sum reads the file back from the host: the page cache was
	# dropped (CAP_SYS_ADMIN and a writable /proc/sys for that).
	make_bundle "$B" sh -c 'dd if=/dev/urandom of=/big bs=1M count=200 2>/dev/null && sha256sum /big | cut -d" " -f1 && sync && echo 3 > /proc/sys/vm/drop_caches && sha256sum /big | cut -d" " -f1'
	edit_config "$B" '
cfg["annotations"] = {"org.novm.memory": "512"}
cfg["process"]["capabilities"]["effective"].append("CAP_SYS_ADMIN")
cfg["process"]["capabilities"]["permitted"].append("CAP_SYS_ADMIN")
cfg["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
cfg["linux"]["readonlyPaths"].remove("/proc/sys")'
	NOVM_RUN_TIMEOUT=400 runc_run "$B" c1
	assert_run_status 0
	local host
	host=$(sha256sum "$B/rootfs/big" | cut -d' ' -f1)
	[ "$(stat -c %s "$B/rootfs/big")" = 209715200 ]
	[ "${lines[0]}" = "$host" ] && [ "${lines[1]}" = "$host" ] || { show_run "sha256 differs from host $host"; false; }
}

@test "files: a tree of 10,000 files lists completely, and rm -rf empties it" {
	# rm -rf unlinks while it reads the directory: where the host's
	# directory offsets are positions (tmpfs before 6.6, as in the
	# harness), seeking back to one after removals skips entries.
	# 300 files show it; removing thousands is a request flood of the kind
	# the harness's emulated L1 carries badly (see README).
	make_bundle "$B" sh -c 'ls /many | wc -l; find /many -type f | wc -l; rm -rf /many/gone && echo removed'
	mkdir -p "$B/rootfs/many/gone"
	(cd "$B/rootfs/many" && seq 1 9700 | xargs touch)
	(cd "$B/rootfs/many/gone" && seq 1 300 | xargs touch)
	runc_run "$B" c1
	assert_run_status 0
	[ "${lines[0]}" = 9701 ] && [ "${lines[1]}" = 10000 ] || { show_run "incomplete listing"; false; }
	[ "${lines[2]}" = removed ] && [ ! -e "$B/rootfs/many/gone" ] ||
		{ show_run "rm -rf left $(ls "$B/rootfs/many/gone" 2>/dev/null | wc -l) files"; false; }
}

@test "files: mv, hard links, symlinks and chmod behave as on the host" {
	make_bundle "$B" sh -c '
cd /tmp && echo a > f && mv f g && ln g h && ln -s g s && chmod 704 g &&
echo "$(cat s) $(stat -c %h g) $(stat -c %a h) $(readlink s)"'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout "a 2 704 g"
	[ ! -e "$B/rootfs/tmp/f" ] && [ "$(cat "$B/rootfs/tmp/g")" = a ]
	[ "$(stat -c %i "$B/rootfs/tmp/g")" = "$(stat -c %i "$B/rootfs/tmp/h")" ]
	[ "$(readlink "$B/rootfs/tmp/s")" = g ]
	[ "$(stat -c %a "$B/rootfs/tmp/g")" = 704 ]
}

@test "files: xattrs set, read, listed and removed in the guest are the host file's" {
	# tmpfs, the harness's overlay upper layer, has no user xattrs before
	# Linux 6.6: there the bundle goes to the shared directory (9p to the
	# host's file system).
	if [ -n "${NOVM_IN_HARNESS:-}" ]; then
		XATTR_DIR=$(mktemp -d "$NOVM_HARNESS_OUT/xattr.XXXXXX")
		B=$XATTR_DIR/bundle
	fi
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.probe", b"1")' "${XATTR_DIR:-$BATS_TEST_TMPDIR}" ||
		skip "no user xattrs on the file system of ${XATTR_DIR:-$BATS_TEST_TMPDIR}"
	# busybox has no setfattr: a static helper of ours does the calls.
	make_bundle "$B" sh -c '
cd /tmp && echo a > x &&
xattr-tool set x user.novm yes && xattr-tool get x user.novm &&
xattr-tool get x user.fromhost && xattr-tool rm x user.gone &&
xattr-tool list x | sort | tr "\n" " "; echo
xattr-tool get x user.gone'
	install -m 0755 "$NOVM_BUILDDIR/tests/integration/xattr-tool" "$B/rootfs/bin/xattr-tool"
	mkdir -p "$B/rootfs/tmp" && echo a >"$B/rootfs/tmp/x"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.fromhost", b"hi"); os.setxattr(sys.argv[1], "user.gone", b"1")' \
		"$B/rootfs/tmp/x"
	runc_run "$B" c1
	assert_run_status 1	# the last get: the attribute is gone
	[ "${lines[0]}" = yes ] && [ "${lines[1]}" = hi ] || { show_run "values differ"; false; }
	[ "${lines[2]}" = "user.fromhost user.novm " ] || { show_run "list differs"; false; }
	[[ $stderr == *"No data available"* ]] || { show_run "no ENODATA for a removed attribute"; false; }
	python3 -c 'import os, sys; v = os.getxattr(sys.argv[1], "user.novm"); assert v == b"yes", v
assert "user.gone" not in os.listxattr(sys.argv[1])' "$B/rootfs/tmp/x"
}

@test "escapes: symlinks to host files outside the share never expose them" {
	local secret=$BATS_TEST_TMPDIR/secret
	echo TOP-SECRET >"$secret"
	make_bundle "$B" sh -c 'cat /abs /rel /dotdot/secret 2>&1; cat /proc/1/root/../../../../secret 2>&1; echo done'
	ln -s "$secret" "$B/rootfs/abs"
	ln -s ../../../../../../../../.."$secret" "$B/rootfs/rel"
	ln -s ../.. "$B/rootfs/dotdot"
	runc_run "$B" c1
	assert_run_status 0
	[[ $output != *TOP-SECRET* ]] || { show_run "a host file outside the share was read"; false; }
	[[ $output == *done ]]
}

@test "escapes: a symlink swapped in during renames never exposes a host file" {
	local secret=$BATS_TEST_TMPDIR/secret
	echo TOP-SECRET >"$secret"
	# The guest renames a directory back and forth while reading through it;
	# the host swaps the directory for a symlink pointing outside the share.
	# Bounded by time, not rounds: a round costs from 0.1 s to 6 s in the
	# emulated L1, depending on how loaded the machine is.
	make_bundle "$B" sh -c '
i=0 end=$(($(date +%s) + 40))
while [ $i -lt 200 ] && [ "$(date +%s)" -lt $end ]; do cat /race/d/secret 2>/dev/null; mv /race/d /race/e 2>/dev/null; mv /race/e /race/d 2>/dev/null; i=$((i+1)); done
echo "done after $i rounds"'
	mkdir -p "$B/rootfs/race/d"
	echo inside >"$B/rootfs/race/d/secret"
	# When the guest's renames leave the names where the swap cannot go on,
	# it waits a little rather than spin: a loop of failing processes would
	# take the L1's CPU from the guest.
	(
		while :; do
			mv -T "$B/rootfs/race/d" "$B/rootfs/race/real" 2>/dev/null &&
				ln -sfn "$(dirname "$secret")" "$B/rootfs/race/d" &&
				rm -f "$B/rootfs/race/d" && mv -T "$B/rootfs/race/real" "$B/rootfs/race/d" 2>/dev/null ||
				sleep 0.05
		done
	) &
	local swapper=$!
	runc_run "$B" c1
	kill "$swapper" 2>/dev/null || true
	wait "$swapper" 2>/dev/null || true
	assert_run_status 0
	[[ $output != *TOP-SECRET* ]] || { show_run "a host file outside the share was read"; false; }
	[[ $output == *"done after"* ]] || { show_run "the guest's loop did not finish"; false; }
}
