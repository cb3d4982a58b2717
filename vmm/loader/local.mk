# The kernel loader (bzImage, decompression, ELF) and the kernel store with
# its Debian fetcher and guest module selection.
vmm_libvmm_a_SOURCES += \
	vmm/loader/decompress.h vmm/loader/decompress.c \
	vmm/loader/bzimage.h vmm/loader/bzimage.c \
	vmm/loader/elf.h vmm/loader/elf.c \
	vmm/kstore.h vmm/kstore.c vmm/kstore-import.c \
	vmm/kfetch.h vmm/kfetch.c \
	vmm/kmodules.h vmm/kmodules.c

include tests/unit/loader.mk
