#!/usr/bin/env bats
# `novm boot`: real guests (the store's default kernel with our agent as /init)
# checked through their console and the VMM's exit status.  The VMM boots
# with `quiet` by default: every console byte is a VM exit.

load helpers

setup_file() {
	novm_require_vm
}

@test "boots to ready with 1 vCPU by default" {
	novm_boot
	assert_status 0
	assert_ready
	expect [ "$(agent_field cpus)" = 1 ]
}

@test "--cpus 2: the guest sees 2 CPUs" {
	novm_boot --cpus 2
	assert_status 0
	expect [ "$(agent_field cpus)" = 2 ]
}

@test "--memory 512: MemTotal is a little under 512 MiB" {
	novm_boot --memory 512
	assert_status 0
	# The kernel keeps some for itself, but it must not be 256 MiB or 1 GiB.
	expect within "$(agent_field mem_total_kib)" $((400 * 1024)) $((512 * 1024))
}

@test "the console reaches the host: kernel log and uname of the store kernel; the guest ticks on the TSC-deadline timer, with no PIT" {
	local release
	release=$(default_kernel_release)
	[ -n "$release" ]
	# With kernel messages back on: the kernel's own banner must come through too.
	novm_boot --cmdline loglevel=7
	assert_status 0
	assert_console_matches -F "Linux version $release "
	expect matches "$(agent_field uname)" "^Linux .* $release .* x86_64\$"
	# The VM offers the TSC-deadline timer and has no PIT: the guest never
	# runs its IO-APIC timer check (which prints "..TIMER:"), needed only
	# when a PIT ticks.  L1's kvm-pit thread showed in nested lockups (issue 9).
	assert_console_matches -F "TSC deadline timer available"
	if grep -q -F "..TIMER:" <<<"$output"; then
		show_boot "the guest set up the PIT as its timer"
		return 1
	fi
}

@test "novm.action=poweroff: clean stop, status 0" {
	novm_boot --cmdline novm.action=poweroff
	assert_status 0
	assert_ready
}

@test "novm.action=reboot: clean stop, status 0" {
	novm_boot --cmdline novm.action=reboot
	assert_status 0
	assert_ready
}

@test "novm.action=panic: non-zero status and a message saying why" {
	novm_boot --cmdline novm.action=panic
	assert_clean_failure
	assert_ready
	# The VMM's own message, not the guest's "Kernel panic" on the console.
	assert_stderr_matches -i 'panic|triple fault'
}

@test "a missing kernel path: clear error naming it, no process left" {
	local path=$BATS_TEST_TMPDIR/no-such-dir/vmlinuz-missing
	novm_boot --kernel "$path"
	assert_clean_failure
	assert_stderr_matches -F "$path"
	expect not pgrep -f -- "$path"
}

@test "a corrupt kernel (random bytes): clear error naming it" {
	local path=$BATS_TEST_TMPDIR/corrupt-kernel
	head -c 2M /dev/urandom >"$path"
	novm_boot --kernel "$path"
	assert_clean_failure
	assert_stderr_matches -F "$path"
	expect not pgrep -f -- "$path"
}

@test "--memory 0 is refused with a clear error" {
	novm_boot --memory 0
	assert_clean_failure
	assert_stderr_matches -i 'memory'
}

@test "--cpus 0 is refused with a clear error" {
	novm_boot --cpus 0
	assert_clean_failure
	assert_stderr_matches -i 'cpu'
}

@test "virtio-rng: a virtio hwrng whose bytes differ between boots" {
	local first second
	novm_boot
	assert_status 0
	expect matches "$(agent_field hwrng)" '^virtio'
	first=$(agent_field rng)
	expect matches "$first" '^[0-9a-f]{64}$'
	expect not matches "$first" '^0+$'

	novm_boot
	assert_status 0
	second=$(agent_field rng)
	expect matches "$second" '^[0-9a-f]{64}$'
	expect [ "$first" != "$second" ]
}

# busybox_initrd DIRS... <<BODY: $BATS_TEST_TMPDIR/initrd.cpio, a bare busybox
# /init (not our agent: these tests are the VMM alone) that mounts /proc,
# /sys and /dev, loads the store kernel's modules, runs BODY (shell lines on
# stdin, busybox as $B) and resets through the keyboard controller.  DIRS are
# extra directories to make in it (mount points).
busybox_initrd() {
	local entry init=$BATS_TEST_TMPDIR/initramfs m d
	entry=$(novm_default_kernel_dir)
	mkdir -p "$init"/{bin,dev,proc,sys,mods}
	for d in "$@"; do mkdir -p "$init/$d"; done
	cp /bin/busybox "$init/bin/busybox"
	for m in $(cat "$entry/modules/order"); do cp "$entry/modules/$m" "$init/mods/"; done
	cp "$entry/modules/order" "$init/mods/order"
	{
		cat <<'HEAD'
#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
for m in $($B cat /mods/order); do $B insmod /mods/$m 2>/dev/null; done
HEAD
		cat
		printf '%s\n' 'echo kbd >/sys/kernel/reboot/type' '$B reboot -f'
	} >"$init/init"
	chmod +x "$init/init"
	(cd "$init" && find . | cpio -o -H newc --quiet >"$BATS_TEST_TMPDIR/initrd.cpio")
}

@test "--share: a guest mounts both tags, reads the host's file, writes back, and the :ro one refuses" {
	local rw=$BATS_TEST_TMPDIR/rw ro=$BATS_TEST_TMPDIR/ro
	mkdir -p "$rw" "$ro"
	echo from-host >"$rw/hello"
	echo read-only >"$ro/kept"
	busybox_initrd rw ro <<'BODY'
$B mount -t virtiofs data /rw && echo "SHARE read: $($B cat /rw/hello)"
echo from-guest >/rw/written && $B sync && echo "SHARE wrote"
$B mount -t virtiofs ro /ro && echo "SHARE ro: $($B cat /ro/kept)"
echo nope 2>/dev/null >/ro/new || echo "SHARE ro refused"
$B umount /rw; $B umount /ro
BODY
	novm_boot --initrd "$BATS_TEST_TMPDIR/initrd.cpio" --raw-cmdline "console=ttyS0 reboot=k panic=-1" \
		--share "data=$rw" --share "ro=$ro:ro"
	assert_status 0
	assert_console_matches -F "SHARE read: from-host"
	assert_console_matches -F "SHARE wrote"
	assert_console_matches -F "SHARE ro: read-only"
	assert_console_matches -F "SHARE ro refused"
	expect [ "$(cat "$rw/written")" = from-guest ]
	expect [ ! -e "$ro/new" ]
}

# --nic: each test that makes the tap removes it, even when it fails.
teardown() {
	[ -z "${httpd_pid:-}" ] || kill "$httpd_pid" 2>/dev/null || true
	ip link del novmtap0 2>/dev/null || true
}

@test "--nic: eth0 has the MAC given, pings the host end of the tap and fetches a file from it" {
	local entry www=$BATS_TEST_TMPDIR/www
	local mac=02:00:5e:4e:56:01
	entry=$(novm_default_kernel_dir)
	[ -f "$entry/modules/virtio_net.ko" ] ||
		skip "the store's kernel has no virtio_net.ko: imported before NICs (novm kernel rm, then fetch)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	ip tuntap add dev novmtap0 mode tap
	ip addr add 10.0.77.1/24 dev novmtap0
	ip link set novmtap0 up
	mkdir -p "$www"
	echo "hello over virtio-net" >"$www/hello"
	/bin/busybox httpd -f -p 10.0.77.1:8077 -h "$www" </dev/null >/dev/null 2>&1 3>&- &
	httpd_pid=$!
	busybox_initrd <<'BODY'
echo "NIC mac: $($B cat /sys/class/net/eth0/address)"
$B ip addr add 10.0.77.2/24 dev eth0 && $B ip link set eth0 up && echo "NIC up"
$B ping -c 3 -w 30 10.0.77.1 >/dev/null && echo "NIC ping ok"
# (bookworm's busybox wget crashes with -T: a timeout of its own instead)
echo "NIC wget: $($B timeout 60 $B wget -q -O - http://10.0.77.1:8077/hello)"
BODY
	novm_boot --initrd "$BATS_TEST_TMPDIR/initrd.cpio" --raw-cmdline "console=ttyS0 reboot=k panic=-1" \
		--nic "tap=novmtap0,mac=$mac"
	assert_status 0
	assert_console_matches -F "NIC mac: $mac"
	assert_console_matches -F "NIC up"
	assert_console_matches -F "NIC ping ok"
	assert_console_matches -F "NIC wget: hello over virtio-net"
}

@test "--nic with a tap that does not exist, or a bad MAC: clear errors, nothing left behind" {
	novm_boot --nic tap=nosuchtap
	assert_clean_failure
	assert_stderr_matches -F 'tap `nosuchtap`: no such network interface'
	expect not ip link show nosuchtap

	novm_boot --nic tap=nosuchtap,mac=02:00:5e:zz:00:01
	assert_clean_failure
	assert_stderr_matches -F 'invalid MAC `02:00:5e:zz:00:01`'

	novm_boot --nic mac=02:00:5e:00:00:01
	assert_clean_failure
	assert_stderr_matches -F 'tap=NAME'
}
