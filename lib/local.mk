noinst_LIBRARIES += lib/libnovmutil.a
lib_libnovmutil_a_SOURCES = lib/cleanup.h lib/error.h lib/error.c lib/util.h lib/util.c lib/log.h lib/log.c lib/jsonstr.h lib/jsonstr.c lib/fdpass.h lib/fdpass.c
