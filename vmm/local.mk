# The VMM is a library (so unit tests link the real code) plus the `novm` CLI.
noinst_LIBRARIES += vmm/libvmm.a
vmm_libvmm_a_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) \
	$(ZSTD_CFLAGS) $(LZ4_CFLAGS) $(YAJL_CFLAGS)
vmm_libvmm_a_SOURCES = \
	vmm/memory.h vmm/memory.c \
	vmm/bus.h vmm/bus.c \
	vmm/ioloop.h vmm/ioloop.c \
	vmm/vm.h vmm/kvm.c vmm/irq.c \
	vmm/vcpu.h vmm/vcpu.c \
	vmm/vmm.h vmm/vmm-internal.h vmm/vmm.c vmm/device-table.c \
	vmm/x86/cpu.h vmm/x86/cpu.c \
	vmm/x86/boot.h vmm/x86/boot.c \
	vmm/x86/mptable.h vmm/x86/mptable.c \
	vmm/devices/serial.h vmm/devices/serial.c \
	vmm/devices/i8042.h vmm/devices/i8042.c \
	vmm/devices/rtc.h vmm/devices/rtc.c \
	vmm/tuntap.h vmm/tuntap.c

include vmm/loader/local.mk
include vmm/virtio/local.mk
include vmm/fuse/local.mk
include vmm/kstore/local.mk
include vmm/channel/local.mk

VMM_LIBS = vmm/libvmm.a lib/libnovmutil.a $(LIBELF_LIBS) $(ZLIB_LIBS) $(LZMA_LIBS) \
	$(ZSTD_LIBS) $(LZ4_LIBS) $(YAJL_LIBS) -lpthread

bin_PROGRAMS += vmm/novm
vmm_novm_SOURCES = vmm/main.c vmm/cmd-boot.c vmm/cmd-kernel.c vmm/commands.h
vmm_novm_LDADD = $(VMM_LIBS)

check_PROGRAMS += tests/unit/test-boot
TESTS += tests/unit/test-boot
tests_unit_test_boot_SOURCES = tests/unit/test-boot.c tests/unit/tap.h
tests_unit_test_boot_LDADD = $(VMM_LIBS)

