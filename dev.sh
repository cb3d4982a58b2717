#!/bin/bash
# dev.sh: set up this machine for novm and run it, from a clean clone on
# Debian bookworm, as root.  Every step does only what is still missing, so
# running it again is cheap.
#
#   ./dev.sh demo     install, build, fetch a guest kernel, run a container in a
#                     VM with novm-runc, then boot the bare kernel
#   ./dev.sh test     install, build, fetch a guest kernel, run tests/run [ARGS]
#
# The steps alone: deps (apt packages), client_deps (docker, containerd and
# podman for the client tests), build (autoreconf, configure, make),
# kernel (novm kernel fetch when the store has no default).
# Environment: NOVM_CONFIGURE_FLAGS (extra ./configure flags), NOVM_TEST_KVM
# (direct|nested: skip the KVM probe), NOVM_KERNEL_STORE (kernel store root).
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
. tests/harness/common.sh

# What building, running and testing novm needs.
PACKAGES=(
	autoconf automake libtool pkg-config gcc make libc6-dev
	libyajl-dev libseccomp-dev libelf-dev zlib1g-dev liblzma-dev libcap-dev
	libzstd-dev liblz4-dev libmnl-dev linux-libc-dev
	busybox-static cpio                    # the nested test harness (and its QEMU, below)
	bats time procps xz-utils python3 attr iproute2 # tests and the benchmark
)

step() { printf '\n==> %s\n' "$*"; }

do_deps() {
	step "packages"
	novm_ensure_packages "${PACKAGES[@]}"
	novm_ensure_harness_qemu
	echo "all installed"
}

# Docker, containerd and podman for tests/integration/clients.bats; they are
# installed with their services kept from starting (see clients-setup).
do_client_deps() {
	step "packages for the client tests"
	tests/harness/clients-setup
	echo "all installed"
}

do_build() {
	step "build"
	# The generated Makefile re-runs autoconf/automake/configure itself when
	# their inputs change; these two only bootstrap a clean tree.
	if [ ! -x configure ]; then
		autoreconf -fi
	fi
	if [ ! -f Makefile ]; then
		# shellcheck disable=SC2086  # flags are words on purpose
		./configure ${NOVM_CONFIGURE_FLAGS:-}
	fi
	make -j"$(nproc)"
}

do_kernel() {
	step "guest kernel"
	if novm_default_kernel_dir >/dev/null; then
		echo "default kernel: $(cat "$(novm_default_kernel_dir)/release" 2>/dev/null || echo '?')" \
			"in $NOVM_STORE"
		return 0
	fi
	# `kernel fetch` asks apt about Debian's kernel: a fresh machine may have no
	# package lists yet.
	apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt-get update -q >/dev/null
	"$NOVM_BIN" kernel fetch
	novm_default_kernel_dir >/dev/null || novm_die "novm kernel fetch left no default kernel in $NOVM_STORE"
}

# Boots the default kernel with the agent and reports what the guest says.
do_demo_boot() {
	local mode log start elapsed uname status=0
	mode=$(tests/harness/kvm-probe)
	step "booting the default kernel with vmm/novm ($mode KVM)"
	[ "$mode" = direct ] ||
		echo "(this host's /dev/kvm cannot boot a stock kernel: booting inside the nested
 harness, a QEMU L1 VM with emulated AMD-V)"
	log=$(mktemp)
	start=${EPOCHREALTIME/./}
	if [ "$mode" = direct ]; then
		"$NOVM_BIN" boot --cmdline quiet </dev/null >"$log" 2>&1 || status=$?
	else
		tests/harness/nested-run "$NOVM_BIN" boot --cmdline quiet >"$log" 2>&1 || status=$?
	fi
	elapsed=$(((${EPOCHREALTIME/./} - start) / 100000))
	uname=$(novm_agent_field uname <"$log")
	if [ "$status" -ne 0 ] || [ -z "$uname" ]; then
		tail -n 40 "$log" | tr -d '\r' >&2
		rm -f "$log"
		novm_die "the guest did not boot and report (status $status)"
	fi
	rm -f "$log"
	printf '\nThe guest says (uname -a):\n\n    %s\n\n' "$uname"
	echo "booted and powered off in $((elapsed / 10)).$((elapsed % 10)) s$([ "$mode" = direct ] || echo ', L1 VM included')"
}

# Runs a busybox container in a VM with `novm-runc run`, as a user would,
# and shows the command, what the container printed, its exit status and
# how long it took.
do_demo_container() {
	local mode dir log status=0 elapsed
	mode=$(tests/harness/kvm-probe)
	step "running a container in a VM with novm-runc ($mode KVM)"
	dir=$(mktemp -d /tmp/novm-demo.XXXXXX)
	bundles/make-busybox-bundle "$dir/bundle" sh -c \
		'echo "hello from a container: $(uname -sr), $(nproc) vCPU, PID $$ in its namespace"; ls /' >/dev/null
	# The command as a user types it; the harness (when needed) runs the
	# same line inside its L1 VM.
	local cmd="cd $dir/bundle && $NOVM_BUILDDIR/runtime/novm-runc --root $dir/state run demo"
	local timed="start=\${EPOCHREALTIME/./}; $cmd </dev/null; rc=\$?; echo \"novm-demo: \$rc \$(( (\${EPOCHREALTIME/./} - start) / 1000 ))\"; exit \$rc"
	printf '\n    $ cd %s\n    $ novm-runc run demo\n\n' "$dir/bundle"
	log=$dir/log
	if [ "$mode" = direct ]; then
		bash -c "$timed" >"$log" 2>&1 || status=$?
	else
		tests/harness/nested-run "$timed" >"$log" 2>&1 || status=$?
	fi
	local result
	result=$(sed -n 's/^novm-demo: //p' "$log" | tail -n 1)
	grep -v '^novm-demo: ' "$log" | tr -d '\r' | sed 's/^/    /'
	if [ -z "$result" ] || [ "${result%% *}" != 0 ]; then
		rm -rf "$dir"
		novm_die "the container did not run (status ${result%% *}${result:+, }nested-run $status)"
	fi
	elapsed=${result#* }
	printf '\nexit status 0; the container took %d.%03d s from `run` to its exit%s\n' \
		$((elapsed / 1000)) $((elapsed % 1000)) "$([ "$mode" = direct ] || echo ', inside the L1 VM')"
	rm -rf "$dir"
}

cmd_demo() {
	do_deps
	do_build
	do_kernel
	do_demo_container
	do_demo_boot
}

cmd_test() {
	do_deps
	do_client_deps
	do_build
	do_kernel
	step "tests"
	exec tests/run "$@"
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case ${1:-} in
demo | test)
	cmd=$1
	shift
	"cmd_$cmd" "$@"
	;;
deps | client_deps | build | kernel)
	"do_$1"
	;;
-h | --help | help)
	usage
	;;
*)
	usage >&2
	exit 2
	;;
esac
