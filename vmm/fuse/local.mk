# The in-process virtio-fs server's FUSE core: request in, reply out,
# confined to its share.  Included from vmm/local.mk.
vmm_libvmm_a_SOURCES += \
	vmm/fuse/server.h vmm/fuse/server.c \
	vmm/fuse/internal.h vmm/fuse/dispatch.c vmm/fuse/session.c \
	vmm/fuse/request.h vmm/fuse/request.c \
	vmm/fuse/idtable.h vmm/fuse/idtable.c vmm/fuse/budget.h \
	vmm/fuse/inode.h vmm/fuse/inode.c \
	vmm/fuse/handle.h vmm/fuse/handle.c \
	vmm/fuse/entry.c vmm/fuse/attr.c vmm/fuse/namespace.c \
	vmm/fuse/file.c vmm/fuse/dir.c vmm/fuse/xattr.c vmm/fuse/root.c

check_PROGRAMS += tests/unit/test-fuse tests/unit/test-fuse-dir tests/unit/test-fuse-escape \
	tests/unit/test-fuse-privs tests/unit/test-fuse-graft
TESTS += tests/unit/test-fuse tests/unit/test-fuse-dir tests/unit/test-fuse-escape \
	tests/unit/test-fuse-privs tests/unit/test-fuse-graft
tests_unit_test_fuse_SOURCES = tests/unit/test-fuse.c tests/unit/fuse-client.h tests/unit/tap.h
tests_unit_test_fuse_LDADD = $(VMM_LIBS)
tests_unit_test_fuse_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_fuse_dir_SOURCES = tests/unit/test-fuse-dir.c tests/unit/fuse-client.h \
	tests/unit/tap.h
tests_unit_test_fuse_dir_LDADD = $(VMM_LIBS)
tests_unit_test_fuse_dir_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_fuse_escape_SOURCES = tests/unit/test-fuse-escape.c tests/unit/fuse-client.h \
	tests/unit/tap.h
tests_unit_test_fuse_escape_LDADD = $(VMM_LIBS)
tests_unit_test_fuse_escape_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_fuse_privs_SOURCES = tests/unit/test-fuse-privs.c tests/unit/fuse-client.h \
	tests/unit/tap.h
tests_unit_test_fuse_privs_LDADD = $(VMM_LIBS)
tests_unit_test_fuse_privs_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_fuse_graft_SOURCES = tests/unit/test-fuse-graft.c tests/unit/fuse-client.h \
	tests/unit/tap.h
tests_unit_test_fuse_graft_LDADD = $(VMM_LIBS) -lpthread
tests_unit_test_fuse_graft_CPPFLAGS = $(VMM_CPPFLAGS)

# Built with the checks so it keeps compiling; replays inputs given as
# arguments.  See the file for a libFuzzer build.  make check replays the
# committed corpus through it.
check_PROGRAMS += tests/fuzz/fuzz-fuse
TESTS += tests/fuzz/replay-fuse
EXTRA_DIST += tests/fuzz/replay-fuse tests/fuzz/make-fuse-seeds tests/fuzz/corpus
tests_fuzz_fuzz_fuse_SOURCES = tests/fuzz/fuzz-fuse.c
tests_fuzz_fuzz_fuse_LDADD = $(VMM_LIBS)
tests_fuzz_fuzz_fuse_CPPFLAGS = $(VMM_CPPFLAGS)
