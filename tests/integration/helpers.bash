# Shared by the bats integration tests: where the VMM is, booting a guest under
# a time limit, reading the agent's report lines, assertions that show the
# console when they fail.
#
# The guest's agent prints "novm-init: ready" and lines "novm-init: KEY: VALUE";
# the serial console may end them with CR, which novm_boot strips.

. "$BATS_TEST_DIRNAME/../harness/common.sh"

# Seconds one boot may take before the test fails; generous for nested TCG.
NOVM_BOOT_TIMEOUT=${NOVM_BOOT_TIMEOUT:-180}

# For setup_file: the tests need the VMM, a default kernel and a KVM that
# boots stock kernels (tests/run picks the nested harness when this one can't).
novm_require_vm() {
	if [ ! -x "$NOVM_BIN" ]; then
		echo "$NOVM_BIN is not built (./dev.sh build)" >&2
		return 1
	fi
	if ! novm_default_kernel_dir >/dev/null; then
		echo "no default kernel in $NOVM_STORE ($NOVM_BIN kernel fetch)" >&2
		return 1
	fi
	local mode
	mode=$("$NOVM_TOP/tests/harness/kvm-probe") || return 1
	[ "$mode" = direct ] ||
		skip "this host's /dev/kvm cannot boot a stock kernel: run these through tests/run"
}

_stderr_to() {
	local file=$1
	shift
	"$@" 2>"$file"
}

# novm_boot [novm boot options...]: boots under a time limit, like bats `run`:
# sets $status, $output (the console, i.e. stdout, CRs removed), $lines (of
# $output) and $stderr (the VMM's own messages).
novm_boot() {
	local errfile=$BATS_TEST_TMPDIR/novm-boot.stderr
	run _stderr_to "$errfile" timeout -k 5 "$NOVM_BOOT_TIMEOUT" "$NOVM_BIN" boot "$@"
	output=${output//$'\r'/}
	stderr=$(cat "$errfile")
	mapfile -t lines <<<"$output"
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		stderr+=$'\n'"(test: novm boot did not finish within $NOVM_BOOT_TIMEOUT s)"
	fi
}

# Prints VALUE of the agent's first "novm-init: KEY: VALUE" line on the console.
agent_field() {
	novm_agent_field "$1" <<<"$output"
}

show_boot() {
	printf '%s\n--- status: %s\n--- stderr:\n%s\n--- console (last 40 lines):\n' \
		"$1" "$status" "$stderr" >&2
	tail -n 40 <<<"$output" >&2
}

assert_status() {
	expect [ "$status" -eq "$1" ]
}

# A failure the VMM reported itself: not 0, not a timeout, not a crash.
assert_clean_failure() {
	if [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || [ "$status" -ge 128 ]; then
		show_boot "expected a reported failure (status 1..123)"
		return 1
	fi
}

# assert_console_matches [-i] [-F] PATTERN (an ERE unless -F), and the same
# for the VMM's stderr.
assert_console_matches() {
	_grep_options "$@"
	grep -q "${grep_options[@]}" <<<"$output" || { show_boot "console does not match: $*"; return 1; }
}
assert_stderr_matches() {
	_grep_options "$@"
	grep -q "${grep_options[@]}" <<<"$stderr" || { show_boot "stderr does not match: $*"; return 1; }
}
_grep_options() {
	local arg
	grep_options=(-E)
	for arg; do [ "$arg" != -F ] || grep_options=(); done
	grep_options+=("$@")
}

# The agent printed ready: the guest kernel booted and ran /init.
assert_ready() {
	assert_console_matches 'novm-init: ready$'
}

# The store's default kernel release, which `uname -r` must print in the guest.
default_kernel_release() {
	local dir
	dir=$(novm_default_kernel_dir) && cat "$dir/release"
}

# expect COMMAND...: runs a check; when it fails, shows it with the boot's
# status, stderr and console.
expect() {
	"$@" || { show_boot "failed: $*"; return 1; }
}

# matches STRING ERE (for expect, which cannot take [[ ]])
matches() {
	[[ $1 =~ $2 ]]
}

# within N LOW HIGH: LOW < N <= HIGH, N an integer
within() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt "$2" ] && [ "$1" -le "$3" ]
}

# not COMMAND...: for expect, which cannot take `!`
not() {
	! "$@"
}

# The host's network as `ip` shows it, without counters that move by
# themselves.
host_network() {
	{
		ip -o link show | sed 's/ qlen [0-9]*//'
		ip -o addr show | sed 's/valid_lft.*//'
		ip route show table all
		ip -6 route show table all
		ip neigh show | awk '{print $1, $2, $3, $4, $5}'
	} 2>&1
}
