# The kernel store (/var/lib/novm/kernels): its entries, Debian's kernel
# fetcher, the guest module selection and the initramfs builder.  Included
# from vmm/local.mk.
vmm_libvmm_a_SOURCES += \
	vmm/kstore/kstore.h vmm/kstore/kstore.c vmm/kstore/kstore-import.c \
	vmm/kstore/kfetch.h vmm/kstore/kfetch.c \
	vmm/kstore/kmodules.h vmm/kstore/kmodules.c

# The initramfs builder.  It reads module order files with the parser the
# agent uses too (lib/modorder.c), so host and guest agree on the format.
vmm_libvmm_a_SOURCES += vmm/kstore/initramfs.h vmm/kstore/initramfs.c

check_PROGRAMS += tests/unit/test-initramfs
TESTS += tests/unit/test-initramfs
tests_unit_test_initramfs_SOURCES = tests/unit/test-initramfs.c
tests_unit_test_initramfs_LDADD = $(VMM_LIBS)
tests_unit_test_initramfs_CPPFLAGS = $(VMM_CPPFLAGS)

check_PROGRAMS += tests/unit/test-kmodules
TESTS += tests/unit/test-kmodules
tests_unit_test_kmodules_SOURCES = tests/unit/test-kmodules.c tests/unit/compress-util.h \
	tests/unit/tap.h
tests_unit_test_kmodules_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) \
	$(ZSTD_CFLAGS)
tests_unit_test_kmodules_LDADD = $(VMM_LIBS)
tests_unit_test_kmodules_CPPFLAGS = $(VMM_CPPFLAGS)

check_PROGRAMS += tests/unit/test-kstore
TESTS += tests/unit/test-kstore
tests_unit_test_kstore_SOURCES = tests/unit/test-kstore.c tests/unit/tap.h
tests_unit_test_kstore_LDADD = $(VMM_LIBS)
tests_unit_test_kstore_CPPFLAGS = $(VMM_CPPFLAGS)
