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
# --root; sets $status, $output (stdout), $stderr like bats `run`.  With
# RUNC_STDIN set, that line is the container's stdin.
runc_run() {
	local dir=$1
	shift
	RUNC_ROOT=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root}
	# A run that timed out leaves its VMM (a session of its own, as runc's
	# container would be) holding the stdout that bats waits on: delete it.
	# Captured by hand rather than with bats' `run`, which warns (BW01)
	# whenever a status is 127, the status an executable that does not
	# exist rightly gives.
	local errf=$BATS_TEST_TMPDIR/runc_run.stderr
	status=0
	output=$(bash -c '
		dir=$1 limit=$2 runc=$3 root=$4
		eval "$5"
		shift 5
		cd "$dir" || exit 1
		if [ -n "${RUNC_STDIN+set}" ]; then
			printf "%s\n" "$RUNC_STDIN" | timeout -k 5 "$limit" "$runc" --root "$root" run "$@"
		else
			timeout -k 5 "$limit" "$runc" --root "$root" run "$@"
		fi
		rc=$?
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			# What the VMM and the guest were doing, for the failure report.
			echo "--- the VMM'"'"'s diag after $limit s:" >&2
			show_diag "$root/${!#}" >&2
			novm_l1_kvm_trace 2 >&2
			echo "--- the guest console'"'"'s last lines:" >&2
			tail -n 30 "$root/${!#}/console.log" >&2
			"$runc" --root "$root" delete --force "${!#}" >/dev/null 2>&1
		fi
		exit $rc' _ "$dir" "$NOVM_RUN_TIMEOUT" "$NOVM_RUNC" "$RUNC_ROOT" "$(declare -f novm_diag show_diag novm_l1_kvm_trace)" "$@" 2>"$errf") || status=$?
	stderr=$(cat "$errf")
	# As bats' `run` splits them: one element per non-empty line.
	IFS=$'\n' read -d '' -r -a lines <<<"$output" || true
	IFS=$'\n' read -d '' -r -a stderr_lines <<<"$stderr" || true
	[ "$status" -ne 124 ] && [ "$status" -ne 137 ] ||
		stderr+=$'\n'"(test: novm-runc run did not finish within $NOVM_RUN_TIMEOUT s)"
}

# show_diag STATE_DIR: the VMM's diag answer.  A vCPU still holding an
# exception KVM has not delivered, after all that time, means the guest
# itself is stuck (seen in the emulated L1 under heavy virtio-fs traffic):
# said in the words tests/run retries a test once for.
show_diag() {
	local diag
	diag=$(novm_diag "$1" 2>&1) || true
	printf '%s\n' "$diag"
	case $diag in
	"ok "*'"exception_pending":true'*)
		echo "(test: the guest stopped answering: a vCPU with an exception pending)" ;;
	esac
}

show_run() {
	printf '%s\n--- status: %s\n--- stdout:\n%s\n--- stderr:\n%s\n' "$1" "$status" "$output" "$stderr" >&2
}

# show_vm ID [FILE...]: what a running container's VM was doing, for a
# failure report: its state, the VMM's diag answer, the end of the guest's
# console and of each FILE (the runtime's log, the container's stderr).
show_vm() {
	local root=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root} f
	{
		echo "--- state of $1:"
		timeout -k 5 60 "$NOVM_RUNC" --root "$root" state "$1" || true
		echo "--- the VMM's diag:"
		show_diag "$root/$1"
		echo "--- the guest console's last lines:"
		tail -n 40 "$root/$1/console.log" || true
		for f in "${@:2}"; do
			echo "--- $f:"
			tail -n 40 "$f" || true
		done
	} >&2 2>&1
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

# --- lifecycle commands (create, start, state, kill, delete, exec...) ---

# runc_cmd ARGS...: one novm-runc command with the test's --root under a time
# limit, stdin from /dev/null; sets $status, $output, $stderr like bats `run`.
# Not for commands that leave a VMM or exec process holding their stdio
# (create, run -d, exec -d): bats would wait for them; use runc_bg.
runc_cmd() {
	RUNC_ROOT=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root}
	run --separate-stderr timeout -k 5 "$NOVM_RUN_TIMEOUT" "$NOVM_RUNC" --root "$RUNC_ROOT" "$@" </dev/null
	[ "$status" -ne 124 ] || stderr+=$'\n'"(test: novm-runc $1 did not finish within $NOVM_RUN_TIMEOUT s)"
}

# runc_bg NAME ARGS...: like runc_cmd for commands whose container process
# keeps their stdio: stdout and stderr go to $BATS_TEST_TMPDIR/NAME.out and
# NAME.err (the process writes there too); $output and $stderr are what they
# held when the command returned.
runc_bg() {
	local name=$1
	shift
	RUNC_ROOT=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root}
	local out=$BATS_TEST_TMPDIR/$name.out err=$BATS_TEST_TMPDIR/$name.err
	status=0
	timeout -k 5 "$NOVM_RUN_TIMEOUT" "$NOVM_RUNC" --root "$RUNC_ROOT" "$@" </dev/null >"$out" 2>"$err" ||
		status=$?
	output=$(cat "$out")
	stderr=$(cat "$err")
	[ "$status" -ne 124 ] || stderr+=$'\n'"(test: novm-runc $1 did not finish within $NOVM_RUN_TIMEOUT s)"
}

# state_field ID KEY: one field of `novm-runc state ID` (empty if none).
state_field() {
	timeout -k 5 60 "$NOVM_RUNC" --root "${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root}" state "$1" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

# wait_state ID STATUS [SECONDS]: polls `state` until the status is STATUS.
wait_state() {
	local id=$1 want=$2 limit=${3:-60} now
	for _ in $(seq 1 $((limit * 5))); do
		now=$(state_field "$id" status)
		[ "$now" = "$want" ] && return 0
		sleep 0.2
	done
	show_run "container $id is \"$now\", not \"$want\", after $limit s"
	return 1
}

# assert_stderr_has TEXT: the command's stderr contains TEXT.
assert_stderr_has() {
	[[ $stderr == *"$1"* ]] || { show_run "expected on stderr: $1"; return 1; }
}

# A pid that is alive and not a zombie.
pid_alive() {
	local state
	[ -n "$1" ] && [ "$1" -gt 0 ] || return 1
	state=$(grep '^State:' "/proc/$1/status" 2>/dev/null) || return 1
	[[ $state != *"(zombie)"* ]]
}

# delete_all: forced deletion of every container under the test's root
# (teardown, so a failed test leaves no VM running).
delete_all() {
	local root=${RUNC_ROOT:-$BATS_TEST_TMPDIR/runc-root} id
	[ -d "$root" ] || return 0
	# Bounded: a teardown that hangs would hold the whole file until the
	# harness's limit, and say nothing of where.
	for id in $(timeout -k 5 60 "$NOVM_RUNC" --root "$root" list -q 2>/dev/null); do
		timeout -k 5 60 "$NOVM_RUNC" --root "$root" delete --force "$id" >/dev/null 2>&1 ||
			echo "# teardown: delete --force $id failed or did not finish within 60 s" >&3
	done
}
