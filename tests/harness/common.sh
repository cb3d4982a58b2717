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

# The harness's QEMU: bookworm's 7.2 by default.  With NOVM_HARNESS_BACKPORTS=1
# on bookworm, bookworm-backports' QEMU 10 instead: it ran the suite about 40%
# faster, but its L1 froze too (once, under fs-bench) and its L2
# guests triple-faulted or stalled under virtio-fs floods (listing 10,000
# files) in about one run in five, which 7.2's never did in ours.
NOVM_BACKPORTS_SOURCES=/etc/apt/sources.list.d/novm-bookworm-backports.sources
# A failed try is not repeated for a day: every bats file calls this.
NOVM_BACKPORTS_FAILED=/var/cache/novm-harness/backports-failed
novm_ensure_harness_qemu() {
	local version codename
	if [ -z "$(novm_missing_packages qemu-system-x86)" ]; then
		version=$(dpkg-query -W -f='${Version}' qemu-system-x86)
		dpkg --compare-versions "$version" ge 1:10 && return 0
	fi
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	if [ "${NOVM_HARNESS_BACKPORTS:-0}" != 1 ] || [ "$codename" != bookworm ] || [ "$(id -u)" != 0 ] ||
		[ -n "$(find "$NOVM_BACKPORTS_FAILED" -mmin -1440 2>/dev/null)" ]; then
		novm_ensure_packages qemu-system-x86
		return 0
	fi
	if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
			'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
			>"$NOVM_BACKPORTS_SOURCES"
	fi
	novm_say "installing QEMU from bookworm-backports for the nested harness"
	export DEBIAN_FRONTEND=noninteractive
	if apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null; then
		return 0
	fi
	novm_say "warning: QEMU from bookworm-backports could not be installed; the harness uses bookworm's"
	mkdir -p "${NOVM_BACKPORTS_FAILED%/*}" && : >"$NOVM_BACKPORTS_FAILED"
	novm_ensure_packages qemu-system-x86
}

# Prints the path of QEMU's C virtiofsd, the benchmark's peer.  QEMU 8 dropped
# it, so next to the backports QEMU it comes from bookworm's own
# qemu-system-common 7.2, unpacked (not installed) into a cache.
NOVM_BENCH_CACHE=${NOVM_BENCH_CACHE:-/var/cache/novm-bench}
novm_c_virtiofsd() {
	local version tmp
	if [ -x /usr/lib/qemu/virtiofsd ]; then
		echo /usr/lib/qemu/virtiofsd
		return 0
	fi
	version=$(apt-cache madison qemu-system-common 2>/dev/null |
		awk -F' *[|] *' '$2 ~ /^1:7\./ { print $2; exit }')
	[ -n "$version" ] || novm_die "no qemu-system-common 7.x (with the C virtiofsd) known to apt"
	if [ ! -x "$NOVM_BENCH_CACHE/virtiofsd-$version" ]; then
		novm_say "fetching the C virtiofsd from qemu-system-common $version"
		mkdir -p "$NOVM_BENCH_CACHE" || novm_die "cannot create $NOVM_BENCH_CACHE"
		tmp=$(mktemp -d "$NOVM_BENCH_CACHE/tmp.XXXXXX") || novm_die "cannot write to $NOVM_BENCH_CACHE"
		chown _apt "$tmp" 2>/dev/null || chmod 777 "$tmp"
		if ! (cd "$tmp" && apt-get download -q "qemu-system-common=$version" >/dev/null) ||
			! dpkg-deb -x "$tmp"/qemu-system-common_*.deb "$tmp/x" ||
			[ ! -x "$tmp/x/usr/lib/qemu/virtiofsd" ]; then
			rm -rf "$tmp"
			novm_die "could not unpack virtiofsd from qemu-system-common $version"
		fi
		mv "$tmp/x/usr/lib/qemu/virtiofsd" "$NOVM_BENCH_CACHE/virtiofsd-$version"
		rm -rf "$tmp"
	fi
	echo "$NOVM_BENCH_CACHE/virtiofsd-$version"
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

# novm_l1_kvm_trace [SECONDS]: in the harness's L1 only (NOVM_IN_HARNESS=1),
# what L1's KVM does for a guest that stopped making progress: its kvm
# tracepoints for SECONDS (default 2), counted by event and exit reason, and
# the last lines.  A vCPU that KVM keeps entering and leaving (an exception
# whose delivery faults again) looks different from one it never enters.
novm_l1_kvm_trace() {
	local secs=${1:-2} t=/sys/kernel/tracing ev
	[ "${NOVM_IN_HARNESS:-}" = 1 ] || return 0
	[ -d "$t/events/kvm" ] || mount -t tracefs nodev "$t" 2>/dev/null || true
	[ -d "$t/events/kvm" ] || { echo "(no kvm tracepoints in L1)"; return 0; }
	echo 0 >"$t/tracing_on"
	echo >"$t/trace"
	for ev in kvm_exit kvm_entry kvm_inj_exception kvm_page_fault kvm_inj_virq kvm_apic_accept_irq; do
		echo 1 >"$t/events/kvm/$ev/enable" 2>/dev/null || true
	done
	echo 1 >"$t/tracing_on"
	sleep "$secs"
	echo 0 >"$t/tracing_on"
	echo 0 >"$t/events/kvm/enable" 2>/dev/null || true
	echo "--- L1's kvm events in $secs s, by kind (exits by reason):"
	awk '/kvm_exit:/ { match($0, /reason [A-Za-z_0-9]+/); n["kvm_exit " substr($0, RSTART + 7, RLENGTH - 7)]++; next }
		match($0, /kvm_[a-z_]+:/) { n[substr($0, RSTART, RLENGTH - 1)]++ }
		END { for (k in n) printf "%8d %s\n", n[k], k }' "$t/trace" | sort -rn | head -n 15
	echo "--- the last of them:"
	grep -v '^#' "$t/trace" | tail -n 12
	echo >"$t/trace"
}

# novm_diag STATE_DIR: the VMM's own view of a guest that hangs, the control
# socket's diag answer (soak, and the tests' runs that time out).
novm_diag() {
	timeout 20 python3 - "$1" <<'PY'
import os, socket, sys
os.chdir(sys.argv[1])  # the full path may not fit in sun_path
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect("control.sock")
s.sendall(b"diag\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode(errors="replace"))
PY
}
