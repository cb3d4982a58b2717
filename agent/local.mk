# The guest agent: PID 1 of the initramfs, which holds no libraries, so it
# links statically.  Its own CFLAGS leave out the sanitizers (they cannot
# link statically) and it compiles the few lib/ and oci/ files it needs
# itself, as lib/libnovmutil.a and oci/liboci.a may be built with them.
AGENT_OCI_SOURCES = \
	oci/json.h oci/json.c oci/json-gen.c \
	oci/spec.h oci/spec-internal.h oci/spec.c \
	oci/spec-process.c oci/spec-linux.c oci/spec-vm.c \
	oci/vm-size.h oci/vm-size.c \
	oci/cgroup-limits.h oci/cgroup-limits.c

# Container mode's parsers, shared with the unit tests.
AGENT_CONTAINER_PURE_SOURCES = \
	agent/hostconfig.h agent/hostconfig.c \
	agent/netconfig.h agent/netconfig.c \
	agent/rootspec.h agent/rootspec.c \
	agent/link.h agent/link.c \
	agent/query.h agent/query.c \
	proto/agent.h

# Applying a process spec (user, caps, seccomp, rlimits) up to exec: the
# agent and both container-mode unit tests.
AGENT_PROCESS_SOURCES = \
	agent/log.h agent/log.c \
	agent/procinfo.h agent/procinfo.c \
	agent/process.h agent/process.c \
	agent/caps.h agent/caps.c \
	agent/seccomp.h agent/seccomp.c

# CFLAGS and libraries of the unit tests that link those.
AGENT_TEST_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(LIBCAP_CFLAGS)
AGENT_TEST_LIBS = lib/libnovmutil.a $(YAJL_LIBS) $(SECCOMP_LIBS) $(LIBCAP_LIBS)

libexec_novm_PROGRAMS += agent/novm-init
agent_novm_init_CFLAGS = $(WARN_CFLAGS) $(YAJL_CFLAGS) $(SECCOMP_CFLAGS) $(LIBCAP_CFLAGS)
agent_novm_init_LDFLAGS = -static
# Debian ships yajl's static library as libyajl_s.a.
agent_novm_init_LDADD = -lyajl_s $(SECCOMP_LIBS) $(LIBCAP_LIBS)
agent_novm_init_SOURCES = \
	agent/main.c \
	agent/console.h agent/console.c \
	agent/mounts.h agent/mounts.c \
	agent/modules.h agent/modules.c \
	agent/report.h agent/report.c \
	agent/action.h agent/action.c \
	agent/cmdline.h agent/cmdline.c \
	agent/agent-loop.h agent/agent-loop.c \
	agent/devcgroup.h agent/devcgroup.c \
	$(AGENT_CONTAINER_PURE_SOURCES) \
	agent/inroot.h agent/inroot.c \
	agent/devnodes.h agent/devnodes.c \
	agent/rootfs.h agent/rootfs.c \
	agent/namespaces.h agent/namespaces.c \
	agent/guestlimits.h agent/guestlimits.c \
	agent/guestctr.h agent/guestctr.c \
	agent/pods.h agent/pods.c \
	agent/loopback.h agent/loopback.c \
	agent/netsetup.c agent/dns-relay.h agent/dns-relay.c \
	agent/replies.h agent/replies.c \
	agent/session.h agent/session-internal.h agent/session.c agent/session-io.c \
	$(AGENT_PROCESS_SOURCES) \
	$(AGENT_OCI_SOURCES) \
	lib/error.h lib/error.c \
	lib/fdpass.h lib/fdpass.c \
	lib/modorder.h lib/modorder.c \
	lib/util.h lib/util.c

# The agent's pure parsers, tested on the host.
check_PROGRAMS += tests/unit/test-agent-parse
TESTS += tests/unit/test-agent-parse
tests_unit_test_agent_parse_SOURCES = tests/unit/test-agent-parse.c \
	agent/cmdline.h agent/cmdline.c \
	agent/procinfo.h agent/procinfo.c
tests_unit_test_agent_parse_LDADD = lib/libnovmutil.a

# Container mode: the frame decoder, CONFIG/EXEC parsing, mount options,
# sysctl keys, /proc parsers, PATH lookup.
check_PROGRAMS += tests/unit/test-agent-container
TESTS += tests/unit/test-agent-container
tests_unit_test_agent_container_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_unit_test_agent_container_SOURCES = tests/unit/test-agent-container.c tests/unit/tap.h \
	$(AGENT_CONTAINER_PURE_SOURCES) $(AGENT_PROCESS_SOURCES) $(AGENT_OCI_SOURCES)
tests_unit_test_agent_container_LDADD = $(AGENT_TEST_LIBS)

# Pod containers: the PROTO_CONTAINER document, PROTO_EXEC_IN's payload,
# "ps <session>", the share staging plan.
check_PROGRAMS += tests/unit/test-agent-pod
TESTS += tests/unit/test-agent-pod
tests_unit_test_agent_pod_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_unit_test_agent_pod_SOURCES = tests/unit/test-agent-pod.c tests/unit/tap.h \
	$(AGENT_CONTAINER_PURE_SOURCES) $(AGENT_PROCESS_SOURCES) $(AGENT_OCI_SOURCES)
tests_unit_test_agent_pod_LDADD = $(AGENT_TEST_LIBS)

# The guest's network: runtime/net-json.c's output read back by the agent's
# parser, field for field, and the hostile values it must refuse.
check_PROGRAMS += tests/unit/test-agent-network
TESTS += tests/unit/test-agent-network
tests_unit_test_agent_network_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_unit_test_agent_network_SOURCES = tests/unit/test-agent-network.c tests/unit/tap.h \
	runtime/netconf.h runtime/net-json.c \
	$(AGENT_CONTAINER_PURE_SOURCES) $(AGENT_PROCESS_SOURCES) $(AGENT_OCI_SOURCES)
tests_unit_test_agent_network_LDADD = $(AGENT_TEST_LIBS)

# What needs root and a kernel (run on the host in forked children): the
# in-root path resolution, seccomp, capabilities and the whole process
# setup up to exec.  Skips when not root.
check_PROGRAMS += tests/unit/test-agent-process
TESTS += tests/unit/test-agent-process
tests_unit_test_agent_process_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_unit_test_agent_process_SOURCES = tests/unit/test-agent-process.c tests/unit/tap.h \
	$(AGENT_CONTAINER_PURE_SOURCES) $(AGENT_PROCESS_SOURCES) $(AGENT_OCI_SOURCES) \
	agent/inroot.h agent/inroot.c \
	agent/devnodes.h agent/devnodes.c
tests_unit_test_agent_process_LDADD = $(AGENT_TEST_LIBS)

# linux.resources.devices: the device cgroup program, run by an eBPF
# interpreter in the test (no kernel, no root).
check_PROGRAMS += tests/unit/test-agent-devcgroup
TESTS += tests/unit/test-agent-devcgroup
tests_unit_test_agent_devcgroup_SOURCES = tests/unit/test-agent-devcgroup.c tests/unit/tap.h \
	agent/devcgroup.h agent/devcgroup.c
tests_unit_test_agent_devcgroup_LDADD = lib/libnovmutil.a

# seccomp's program (the ENOSYS prefix and libseccomp's filter behind it),
# run by a classic BPF interpreter in the test: nothing is loaded.
check_PROGRAMS += tests/unit/test-agent-seccomp
TESTS += tests/unit/test-agent-seccomp
tests_unit_test_agent_seccomp_CFLAGS = $(AGENT_TEST_CFLAGS)
tests_unit_test_agent_seccomp_SOURCES = tests/unit/test-agent-seccomp.c tests/unit/tap.h \
	agent/seccomp.h agent/seccomp.c $(AGENT_OCI_SOURCES)
tests_unit_test_agent_seccomp_LDADD = $(AGENT_TEST_LIBS)
