# The VMM is a library (so unit tests link the real code) plus the `novm` CLI.
# Here: the VM core and the CLI; each folder's local.mk has its own part.
noinst_LIBRARIES += vmm/libvmm.a
# Inside the VMM, files name each other relative to vmm/; the other parts
# include only its public headers, by top-relative paths ("vmm/vmm.h"), so
# only the VMM's own targets (and the unit tests of its internals) get -I vmm.
VMM_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/vmm
vmm_libvmm_a_CPPFLAGS = $(VMM_CPPFLAGS)
vmm_libvmm_a_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) \
	$(ZSTD_CFLAGS) $(LZ4_CFLAGS) $(YAJL_CFLAGS)
vmm_libvmm_a_SOURCES = \
	vmm/memory.h vmm/memory.c \
	vmm/bus.h vmm/bus.c \
	vmm/ioloop.h vmm/ioloop.c \
	vmm/kvm.h vmm/kvm.c vmm/irq.c \
	vmm/vcpu.h vmm/vcpu.c \
	vmm/vmm.h vmm/vmm-internal.h vmm/vmm.c vmm/device-table.c \
	vmm/tuntap.h vmm/tuntap.c

include vmm/x86/local.mk
include vmm/devices/local.mk
include vmm/loader/local.mk
include vmm/virtio/local.mk
include vmm/fuse/local.mk
include vmm/kstore/local.mk
include vmm/channel/local.mk

VMM_LIBS = vmm/libvmm.a lib/libnovmutil.a $(LIBELF_LIBS) $(ZLIB_LIBS) $(LZMA_LIBS) \
	$(ZSTD_LIBS) $(LZ4_LIBS) $(YAJL_LIBS) -lpthread

bin_PROGRAMS += vmm/novm
vmm_novm_SOURCES = vmm/main.c vmm/cmd-boot.c vmm/cmd-kernel.c vmm/commands.h
vmm_novm_CPPFLAGS = $(VMM_CPPFLAGS)
vmm_novm_LDADD = $(VMM_LIBS)
