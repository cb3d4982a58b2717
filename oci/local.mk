# The OCI bundle model: config.json and state JSON as plain structs.  Pure
# data code (no KVM), so everything here is unit-tested on the host.
noinst_LIBRARIES += oci/liboci.a
oci_liboci_a_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(LIBCAP_CFLAGS)
oci_liboci_a_SOURCES = \
	oci/json.h oci/json.c oci/json-gen.c \
	oci/spec.h oci/spec-internal.h oci/spec.c \
	oci/spec-process.c oci/spec-linux.c oci/spec-vm.c \
	oci/vm-size.h oci/vm-size.c \
	oci/cgroup-limits.h oci/cgroup-limits.c \
	oci/state.h oci/state.c \
	oci/default-spec.h oci/default-spec.c

OCI_LIBS = oci/liboci.a lib/libnovmutil.a $(YAJL_LIBS) $(LIBCAP_LIBS)

# Tests read fixtures from $(srcdir)/tests/unit/data/oci (the test driver
# exports srcdir).
OCI_TESTS = tests/unit/test-oci-json tests/unit/test-oci-spec tests/unit/test-oci-vmsize \
	tests/unit/test-oci-state
check_PROGRAMS += $(OCI_TESTS)
TESTS += $(OCI_TESTS)
tests_unit_test_oci_json_SOURCES = tests/unit/test-oci-json.c tests/unit/tap.h
tests_unit_test_oci_json_LDADD = $(OCI_LIBS)
tests_unit_test_oci_spec_SOURCES = tests/unit/test-oci-spec.c tests/unit/tap.h
tests_unit_test_oci_spec_LDADD = $(OCI_LIBS)
tests_unit_test_oci_vmsize_SOURCES = tests/unit/test-oci-vmsize.c tests/unit/tap.h
tests_unit_test_oci_vmsize_LDADD = $(OCI_LIBS)
tests_unit_test_oci_state_SOURCES = tests/unit/test-oci-state.c tests/unit/tap.h
tests_unit_test_oci_state_LDADD = $(OCI_LIBS)
EXTRA_DIST += tests/unit/data/oci/full-config.json
