#!/usr/bin/env bats
# Bad bundles: one clear error each, a non-zero status, nothing left behind.
# Most are refused before any VM starts, so these mostly run without KVM.

load runc

setup() {
	B=$BATS_TEST_TMPDIR/bundle
	make_bundle "$B" true
	RUNC_ROOT=$BATS_TEST_TMPDIR/runc-root
}

expect_error() {
	[ "$status" -ne 0 ] || { show_run "expected failure"; return 1; }
	[[ $stderr == *"$1"* ]] || { show_run "expected error containing: $1"; return 1; }
	assert_nothing_left
}

@test "bad bundle: no config.json" {
	rm "$B/config.json"
	runc_run "$B" c1
	expect_error "config.json: No such file or directory"
}

@test "bad bundle: invalid JSON names the position" {
	printf '{"ociVersion": "1.0.0", "process": {' >"$B/config.json"
	runc_run "$B" c1
	expect_error "config.json"
	[[ $stderr == *"line"* || $stderr == *"parse error"* || $stderr == *"premature"* ]] || { show_run "no position"; false; }
}

@test "bad bundle: missing process.args" {
	edit_config "$B" 'del cfg["process"]["args"]'
	runc_run "$B" c1
	expect_error "process.args"
}

@test "bad bundle: unknown ociVersion major" {
	edit_config "$B" 'cfg["ociVersion"] = "2.0.0"'
	runc_run "$B" c1
	expect_error "ociVersion"
}

@test "bad bundle: missing rootfs directory" {
	rm -rf "$B/rootfs"
	runc_run "$B" c1
	expect_error "rootfs"
}

@test "bad bundle: relative cwd" {
	edit_config "$B" 'cfg["process"]["cwd"] = "tmp"'
	runc_run "$B" c1
	expect_error "process.cwd"
}

@test "bad bundle: relative root.path is resolved against the bundle" {
	novm_require_vm
	mv "$B/rootfs" "$B/other-root"
	edit_config "$B" 'cfg["root"]["path"] = "other-root"; cfg["process"]["args"] = ["cat", "/etc/hostname"]'
	# Run from elsewhere: the path must be taken relative to --bundle, not the cwd.
	runc_run / --bundle "$B" c1
	assert_run_status 0
	assert_stdout novm
}

@test "bad input: an invalid container id" {
	runc_run "$B" "../evil"
	expect_error "invalid container id"
}

@test "bad input: an executable that does not exist" {
	novm_require_vm
	edit_config "$B" 'cfg["process"]["args"] = ["/no/such/binary"]'
	runc_run "$B" c1
	[ "$status" -eq 127 ] || { show_run "expected 127"; false; }
	[[ $stderr == *"no such file or directory"* || $stderr == *"not found"* ]] || { show_run "no message"; false; }
	assert_nothing_left
}
