# The initramfs builder.  It reads module order files with the agent's own
# parser, so host and guest agree on the format.
vmm_libvmm_a_SOURCES += vmm/initramfs.h vmm/initramfs.c agent/modorder.h agent/modorder.c

check_PROGRAMS += tests/unit/test-initramfs
TESTS += tests/unit/test-initramfs
tests_unit_test_initramfs_SOURCES = tests/unit/test-initramfs.c
tests_unit_test_initramfs_LDADD = $(VMM_LIBS)
