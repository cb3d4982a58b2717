# The container channel: the agent link (the virtio-console channel to the
# guest's agent, its sessions and their stdio relays) and the control socket
# (the runtime's way into a running VMM).  Included from vmm/local.mk.
vmm_libvmm_a_SOURCES += \
	vmm/channel/agent-link.h vmm/channel/agent-link-internal.h \
	vmm/channel/agent-link.c vmm/channel/agent-session.c vmm/channel/agent-pod.c \
	vmm/channel/evset.h vmm/channel/evset.c \
	vmm/channel/relay.h vmm/channel/relay.c \
	vmm/channel/dns-forward.h vmm/channel/dns-forward.c \
	proto/control.h \
	vmm/channel/control.h vmm/channel/control-internal.h vmm/channel/control.c \
	vmm/channel/control-request.c vmm/channel/control-pod.c vmm/channel/control-proto.c \
	vmm/channel/control-vm.c

check_PROGRAMS += tests/unit/test-control tests/unit/test-relay tests/unit/test-control-pod
TESTS += tests/unit/test-control tests/unit/test-relay tests/unit/test-control-pod
tests_unit_test_control_pod_SOURCES = tests/unit/test-control-pod.c tests/unit/control-client.h \
	tests/unit/tap.h
tests_unit_test_control_pod_LDADD = $(VMM_LIBS)
tests_unit_test_control_pod_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_control_SOURCES = tests/unit/test-control.c tests/unit/control-client.h \
	tests/unit/tap.h
tests_unit_test_control_LDADD = $(VMM_LIBS)
tests_unit_test_control_CPPFLAGS = $(VMM_CPPFLAGS)
check_PROGRAMS += tests/unit/test-dns-forward
TESTS += tests/unit/test-dns-forward
tests_unit_test_dns_forward_SOURCES = tests/unit/test-dns-forward.c tests/unit/tap.h
tests_unit_test_dns_forward_LDADD = $(VMM_LIBS)
tests_unit_test_dns_forward_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_relay_SOURCES = tests/unit/test-relay.c tests/unit/tap.h
tests_unit_test_relay_LDADD = $(VMM_LIBS)
tests_unit_test_relay_CPPFLAGS = $(VMM_CPPFLAGS)
