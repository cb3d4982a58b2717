# Unit tests of the kernel loader and the guest module selection.
check_PROGRAMS += tests/unit/test-bzimage tests/unit/test-kmodules
TESTS += tests/unit/test-bzimage tests/unit/test-kmodules
tests_unit_test_bzimage_SOURCES = tests/unit/test-bzimage.c tests/unit/compress-util.h tests/unit/tap.h
tests_unit_test_bzimage_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) \
	$(ZSTD_CFLAGS) $(LZ4_CFLAGS)
tests_unit_test_bzimage_LDADD = $(VMM_LIBS)
tests_unit_test_kmodules_SOURCES = tests/unit/test-kmodules.c tests/unit/compress-util.h \
	tests/unit/tap.h
tests_unit_test_kmodules_CFLAGS = $(AM_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) \
	$(ZSTD_CFLAGS)
tests_unit_test_kmodules_LDADD = $(VMM_LIBS)
