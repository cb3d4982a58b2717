# Helpers for the novm-runc tests: busybox bundles, config edits, running a
# container under a time limit with stdout and stderr apart.

load helpers

bats_require_minimum_version 1.5.0

NOVM_RUNC=${NOVM_RUNC:-$NOVM_BUILDDIR/runtime/novm-runc}
NOVM_RUN_TIMEOUT=${NOVM_RUN_TIMEOUT:-180}

# make_bundle DIR [ARGS...]: a busybox bundle running ARGS.
make_bundle() {
	local dir=$1
	shift
	NOVM_RUNC=$NOVM_RUNC "$NOVM_TOP/bundles/make-busybox-bundle" "$dir" "$@" >/dev/null
}

# edit_config DIR PYTHON: runs PYTHON with `cfg` bound to the config, saves it.
edit_config() {
	python3 - "$1/config.json" "$2" <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    cfg = json.load(f)
exec(code)
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
PY
}

# runc_run DIR [run options...] ID: `novm-runc run` in DIR with its own
# --root; sets $status, $output (stdout), $stderr like bats `run`.
runc_run() {
	local dir=$1
	shift
	RUNC_ROOT=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root}
	run --separate-stderr bash -c 'cd "$1" && shift && exec timeout -k 5 "$@"' _ "$dir" \
		"$NOVM_RUN_TIMEOUT" "$NOVM_RUNC" --root "$RUNC_ROOT" run "$@"
	[ "$status" -ne 124 ] || stderr+=$'\n'"(test: novm-runc run did not finish within $NOVM_RUN_TIMEOUT s)"
}

show_run() {
	printf '%s\n--- status: %s\n--- stdout:\n%s\n--- stderr:\n%s\n' "$1" "$status" "$output" "$stderr" >&2
}

assert_run_status() {
	[ "$status" -eq "$1" ] || { show_run "expected status $1"; return 1; }
}

assert_stdout() {
	[ "$output" = "$1" ] || { show_run "expected stdout: $1"; return 1; }
}

# Nothing left behind: no state under the test's --root, no VMM process
# started from this test's runtime root.
assert_nothing_left() {
	local root=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root}
	if [ -d "$root" ] && [ -n "$(ls -A "$root")" ]; then
		show_run "state left under $root: $(ls -A "$root")"
		return 1
	fi
	if pgrep -f -- "--root $root" >/dev/null; then
		show_run "a novm-runc process for $root is still running"
		return 1
	fi
}
