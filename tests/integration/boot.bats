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

@test "the console reaches the host: kernel log and uname of the store kernel" {
	local release
	release=$(default_kernel_release)
	[ -n "$release" ]
	# With kernel messages back on: the kernel's own banner must come through too.
	novm_boot --cmdline loglevel=7
	assert_status 0
	assert_console_matches -F "Linux version $release "
	expect matches "$(agent_field uname)" "^Linux .* $release .* x86_64\$"
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

@test "--share: a guest mounts both tags, reads the host's file, writes back, and the :ro one refuses" {
	local entry init=$BATS_TEST_TMPDIR/initramfs rw=$BATS_TEST_TMPDIR/rw ro=$BATS_TEST_TMPDIR/ro m
	entry=$(novm_default_kernel_dir)
	mkdir -p "$rw" "$ro" "$init"/{bin,dev,proc,sys,rw,ro,mods}
	echo from-host >"$rw/hello"
	echo read-only >"$ro/kept"
	cp /bin/busybox "$init/bin/busybox"
	for m in $(cat "$entry/modules/order"); do cp "$entry/modules/$m" "$init/mods/"; done
	cp "$entry/modules/order" "$init/mods/order"
	# A bare busybox /init, not our agent: `novm boot --share` is the VMM alone.
	cat >"$init/init" <<'INIT'
#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
for m in $($B cat /mods/order); do $B insmod /mods/$m 2>/dev/null; done
$B mount -t virtiofs data /rw && echo "SHARE read: $($B cat /rw/hello)"
echo from-guest >/rw/written && $B sync && echo "SHARE wrote"
$B mount -t virtiofs ro /ro && echo "SHARE ro: $($B cat /ro/kept)"
echo nope 2>/dev/null >/ro/new || echo "SHARE ro refused"
$B umount /rw; $B umount /ro
echo kbd >/sys/kernel/reboot/type
$B reboot -f
INIT
	chmod +x "$init/init"
	(cd "$init" && find . | cpio -o -H newc --quiet >"$BATS_TEST_TMPDIR/initrd.cpio")
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
