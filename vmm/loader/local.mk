# The kernel loader: bzImage, decompression, ELF.  Included from vmm/local.mk.
vmm_libvmm_a_SOURCES += \
	vmm/loader/decompress.h vmm/loader/decompress.c \
	vmm/loader/bzimage.h vmm/loader/bzimage.c \
	vmm/loader/elf.h vmm/loader/elf.c

check_PROGRAMS += tests/unit/test-bzimage
TESTS += tests/unit/test-bzimage
tests_unit_test_bzimage_SOURCES = tests/unit/test-bzimage.c tests/unit/compress-util.h tests/unit/tap.h
tests_unit_test_bzimage_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) \
	$(ZSTD_CFLAGS) $(LZ4_CFLAGS)
tests_unit_test_bzimage_LDADD = $(VMM_LIBS)
tests_unit_test_bzimage_CPPFLAGS = $(VMM_CPPFLAGS)
