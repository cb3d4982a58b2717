noinst_LIBRARIES += lib/libnovmutil.a
lib_libnovmutil_a_SOURCES = lib/cleanup.h lib/error.h lib/error.c lib/util.h lib/util.c lib/log.h lib/log.c lib/jsonstr.h lib/jsonstr.c lib/fdpass.h lib/fdpass.c \
	lib/initsteps.h lib/initsteps.c \
	lib/unixsock.h lib/unixsock.c \
	lib/modorder.h lib/modorder.c \
	lib/capped-file.h lib/capped-file.c

check_PROGRAMS += tests/unit/test-initsteps
TESTS += tests/unit/test-initsteps
tests_unit_test_initsteps_SOURCES = tests/unit/test-initsteps.c tests/unit/tap.h
tests_unit_test_initsteps_LDADD = lib/libnovmutil.a

check_PROGRAMS += tests/unit/test-lib
TESTS += tests/unit/test-lib
tests_unit_test_lib_SOURCES = tests/unit/test-lib.c tests/unit/tap.h
tests_unit_test_lib_LDADD = lib/libnovmutil.a

check_PROGRAMS += tests/unit/test-capped-file
TESTS += tests/unit/test-capped-file
tests_unit_test_capped_file_SOURCES = tests/unit/test-capped-file.c tests/unit/tap.h
tests_unit_test_capped_file_LDADD = lib/libnovmutil.a
