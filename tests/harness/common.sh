# Shared helpers for the project's shell tools (dev.sh, tests/run, the harness,
# the benchmark).  Source it; it defines functions and a few variables only.
#
#   NOVM_TOP        the source tree (found from this file's location)
#   NOVM_BUILDDIR   the build tree (default: the source tree, as dev.sh builds in place)
#   NOVM_BIN        the VMM binary (default: $NOVM_BUILDDIR/vmm/novm)
#   NOVM_KERNEL_STORE  the kernel store root (the VMM reads the same variable)

NOVM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NOVM_BUILDDIR=${NOVM_BUILDDIR:-$NOVM_TOP}
NOVM_BIN=${NOVM_BIN:-$NOVM_BUILDDIR/vmm/novm}
NOVM_STORE=${NOVM_KERNEL_STORE:-/var/lib/novm/kernels}

novm_say() { printf '%s\n' "$*" >&2; }
novm_die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Apt packages not yet installed, from the list given.
novm_missing_packages() {
	local pkg missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] || printf "%s\n" "${missing[@]}"
}

# Installs the packages that are missing; refreshes the package lists only when
# an install fails (a fresh machine may have none), so a ready machine needs no
# network at all.
novm_ensure_packages() {
	local missing
	mapfile -t missing < <(novm_missing_packages "$@")
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || novm_die "missing packages: ${missing[*]} (run as root, or apt-get install them)"
	novm_say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
		novm_say "install failed; refreshing the package lists and retrying"
		apt-get update -q >/dev/null || novm_die "apt-get update failed"
		apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
			novm_die "apt-get install ${missing[*]} failed"
	fi
}

# The store's default entry directory, or nothing when there is none.
novm_default_kernel_dir() {
	[ -e "$NOVM_STORE/default" ] || return 1
	readlink -f "$NOVM_STORE/default"
}

# The guest agent prints lines "novm-init: KEY: VALUE" on the console (which
# may add a CR).  Prints VALUE of the first KEY line of the text on stdin.
novm_agent_field() {
	sed -n "s/\r\$//; s/^.*novm-init: $1: //p" | head -n 1
}

