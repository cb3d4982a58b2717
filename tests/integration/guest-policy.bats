#!/usr/bin/env bats
# runc compatibility of what the guest enforces or serves (issue 8): seccomp's
# ENOSYS for syscalls newer than the profile, linux.resources.devices, times
# before 1970 on the virtio-fs share; no privilege crossing it (issue 13).

load runc

setup_file() {
	novm_require_vm
	# busybox can neither make a raw syscall nor set the time -1 (its
	# touch takes mktime's -1 for an error): a static probe can.
	gcc -static -O -Wall -Wextra -Werror -o "$BATS_FILE_TMPDIR/probe" \
		"$BATS_TEST_DIRNAME/guest-policy-probe.c"
}

setup() {
	B=$BATS_TEST_TMPDIR/bundle
}

teardown() {
	[ -z "${XATTR_DIR:-}" ] || rm -rf "$XATTR_DIR"
}

# make_probe_bundle DIR ARGS...: a busybox bundle with the probe as /bin/probe.
make_probe_bundle() {
	make_bundle "$@"
	install -m 0755 "$BATS_FILE_TMPDIR/probe" "$1/rootfs/bin/probe"
}

@test "files: times before 1970 on the share (touch -d 1969, and -1 exactly)" {
	make_probe_bundle "$B" sh -c "touch -d '1969-12-31 23:59:58' /tmp/old && stat -c %Y /tmp/old &&
touch /tmp/older && probe mtime /tmp/older -1 && stat -c %Y /tmp/older"
	edit_config "$B" 'cfg["process"]["env"].append("TZ=UTC")'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout $'-2\n-1\n-1'
	[ "$(stat -c %Y "$B/rootfs/tmp/old")" = -2 ]
	[ "$(stat -c %Y "$B/rootfs/tmp/older")" = -1 ]
}

# A guest setting a file capability (issue 13): the host keeps it under our
# xattr prefix, where its kernel ignores it.  A file with a real capability
# on the host (ping's cap_net_raw in an extracted image) shows it in the
# guest, as under runc.  In the harness the two need different file systems:
# the overlay's tmpfs upper layer has no user xattrs before Linux 6.6 (the
# bundle goes to the shared directory, 9p to the host's), and 9p passes no
# security.capability (the capable file stays on the overlay, bind-mounted).
@test "files: setcap's xattr is ours on the host; a host file's own capability shows in the guest" {
	if [ -n "${NOVM_IN_HARNESS:-}" ]; then
		XATTR_DIR=$(mktemp -d "$NOVM_HARNESS_OUT/xattr.XXXXXX")
		B=$XATTR_DIR/bundle
	fi
	caps=$BATS_TEST_TMPDIR/caps
	mkdir -p "$caps" && : >"$caps/ping"
	make_probe_bundle "$B" sh -c ": >/tmp/f && probe setcap /tmp/f; probe getcap /caps/ping"
	edit_config "$B" "for k in (\"bounding\", \"effective\", \"permitted\"):
    cfg[\"process\"][\"capabilities\"][k].append(\"CAP_SETFCAP\")
cfg[\"mounts\"].append({\"destination\": \"/caps\", \"type\": \"bind\", \"source\": \"$caps\", \"options\": [\"rbind\", \"rw\"]})"
	# v2, effective, permitted cap_net_raw (1 << 13): what setcap cap_net_raw+ep writes.
	want_cap='getcap:20 0x2000'
	python3 -c 'import os, struct, sys
os.setxattr(sys.argv[1], "security.capability", struct.pack("<5I", 0x02000001, 1 << 13, 0, 0, 0))' \
		"$caps/ping" || {
		echo "# no security.capability on $caps's file system: the guest must see none" >&3
		want_cap=getcap:ENODATA
	}
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout $'setcap:0 20\n'"$want_cap"
	python3 -c 'import os, sys; names = os.listxattr(sys.argv[1])
assert "security.capability" not in names and "user.novm.security.capability" in names, names' \
		"$B/rootfs/tmp/f"
	if [ "$want_cap" != getcap:ENODATA ]; then
		python3 -c 'import os, sys; names = os.listxattr(sys.argv[1])
assert names == ["security.capability"], names' "$caps/ping"
	fi
}

@test "seccomp: a syscall newer than an errno profile knows gets ENOSYS, an older one the default" {
	make_probe_bundle "$B" probe syscall clone3 435 faccessat2 439 getuid 102
	# What the static probe and the agent's exec need; nothing newer than
	# rseq (334), so clone3 and faccessat2 are above the profile's max.
	edit_config "$B" '
allowed = ["read", "write", "close", "fstat", "newfstatat", "statx", "mmap", "munmap",
  "mprotect", "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "access",
  "execve", "execveat", "exit", "exit_group", "arch_prctl", "set_tid_address",
  "set_robust_list", "rseq", "prlimit64", "getrandom", "uname", "readlink", "readlinkat",
  "futex", "fcntl", "lseek", "sigaltstack", "openat", "getpid", "gettid", "tgkill"]
cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
  "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
  "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]}'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout $'clone3:ENOSYS\nfaccessat2:ENOSYS\ngetuid:EPERM'
}

# runc spec's rule alone (deny all): the runtime adds runc's always-allowed
# devices (mknod of any node, null, zero, ... pts) after it, as runc does.
@test "devices: runc spec's deny-all resources.devices: /dev/null works, a made /dev/kmsg is EPERM" {
	make_bundle "$B" sh -c 'mknod /dev/kmsg c 1 11 && echo "mknod $?";
echo hi >/dev/kmsg; echo "kmsg $?"; echo x >/dev/null; echo "null $?"; head -c 1 /dev/zero | wc -c'
	edit_config "$B" '
for k in ("bounding", "effective", "permitted"):
    cfg["process"]["capabilities"][k].append("CAP_MKNOD")
cfg["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}]'
	runc_run "$B" c1
	assert_run_status 0
	[[ $output == *"mknod 0"*"kmsg 1"*"null 0"*"1" ]] || { show_run "kmsg not refused"; false; }
	[[ "$output$stderr" == *"/dev/kmsg: Operation not permitted"* ]] ||
		{ show_run "no EPERM for /dev/kmsg"; false; }
}

# Masked paths hold only if no fully visible procfs is left anywhere in the
# container's mount namespace: a user namespace (every capability inside
# it) may then mount an unmasked one.  The initramfs's own /proc is detached.
# As a user other than root, who may map its own uid (mapping root needs
# CAP_SETFCAP since Linux 5.12).
# The same user writes its setuid file (issue 13): the bits go, as on a local
# file system.
@test "masked paths: a user namespace in the container cannot mount a fresh procfs; a user's write kills setuid" {
	make_probe_bundle "$B" sh -c 'wc -c </proc/kcore; probe userns-proc; echo x >>/tmp/suid; stat -c %a /tmp/suid'
	edit_config "$B" 'cfg["process"]["user"] = {"uid": 1000, "gid": 1000}'
	mkdir -p "$B/rootfs/tmp" && : >"$B/rootfs/tmp/suid"
	chown 1000:1000 "$B/rootfs/tmp/suid" && chmod 06755 "$B/rootfs/tmp/suid"
	runc_run "$B" c1
	assert_run_status 0
	[ "${lines[0]}" = 0 ] || { show_run "/proc/kcore is not masked"; false; }
	[ "${lines[1]}" = mount:EPERM ] || { show_run "expected mount:EPERM"; false; }
	[ "${lines[2]}" = 755 ] || { show_run "setuid bits survived a write"; false; }
	[ "$(stat -c %a "$B/rootfs/tmp/suid")" = 755 ]
}
