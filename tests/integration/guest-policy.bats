#!/usr/bin/env bats
# runc compatibility of what the guest enforces or serves (issue 8): seccomp's
# ENOSYS for syscalls newer than the profile, linux.resources.devices, times
# before 1970 on the virtio-fs share.

load runc

setup_file() {
	novm_require_vm
}

setup() {
	B=$BATS_TEST_TMPDIR/bundle
}

@test "files: touch -d before 1970 on the share gives mtime -1" {
	make_bundle "$B" sh -c "touch -d '1969-12-31 23:59:59' /tmp/old && TZ=UTC stat -c %Y /tmp/old"
	edit_config "$B" 'cfg["process"]["env"].append("TZ=UTC")'
	runc_run "$B" c1
	assert_run_status 0
	assert_stdout -1
	[ "$(stat -c %Y "$B/rootfs/tmp/old")" = -1 ]
}
