# The virtio core, its PCI transport (over vmm/devices/pci.c and msix.c),
# and the devices.
vmm_libvmm_a_SOURCES += \
	vmm/virtio/queue.h vmm/virtio/queue.c \
	vmm/virtio/core.h vmm/virtio/core.c \
	vmm/virtio/pci.h vmm/virtio/pci.c \
	vmm/virtio/rng.h vmm/virtio/rng.c

# test-pci, test-virtio-fs and test-virtio-console drive their devices through
# the guest-side driver in tests/unit/virtio-driver.[ch].
check_PROGRAMS += tests/unit/test-virtqueue tests/unit/test-pci
TESTS += tests/unit/test-virtqueue tests/unit/test-pci
tests_unit_test_virtqueue_SOURCES = tests/unit/test-virtqueue.c
tests_unit_test_virtqueue_LDADD = $(VMM_LIBS)
tests_unit_test_virtqueue_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_pci_SOURCES = tests/unit/test-pci.c tests/unit/tap.h \
	tests/unit/virtio-driver.h tests/unit/virtio-driver.c
tests_unit_test_pci_LDADD = $(VMM_LIBS)
tests_unit_test_pci_CPPFLAGS = $(VMM_CPPFLAGS)

# virtio-fs (over the FUSE server in vmm/fuse/) and virtio-console.
vmm_libvmm_a_SOURCES += \
	vmm/virtio/fs.h vmm/virtio/fs.c \
	vmm/virtio/console.h vmm/virtio/console.c

check_PROGRAMS += tests/unit/test-virtio-fs tests/unit/test-virtio-console
TESTS += tests/unit/test-virtio-fs tests/unit/test-virtio-console
tests_unit_test_virtio_fs_SOURCES = tests/unit/test-virtio-fs.c tests/unit/tap.h \
	tests/unit/virtio-driver.h tests/unit/virtio-driver.c
tests_unit_test_virtio_fs_LDADD = $(VMM_LIBS)
tests_unit_test_virtio_fs_CPPFLAGS = $(VMM_CPPFLAGS)
tests_unit_test_virtio_console_SOURCES = tests/unit/test-virtio-console.c tests/unit/tap.h \
	tests/unit/virtio-driver.h tests/unit/virtio-driver.c
tests_unit_test_virtio_console_LDADD = $(VMM_LIBS)
tests_unit_test_virtio_console_CPPFLAGS = $(VMM_CPPFLAGS)

# virtio-net, on a tap (vmm/tuntap.c) or, in its test, a socket pair.
vmm_libvmm_a_SOURCES += vmm/virtio/net.h vmm/virtio/net.c vmm/virtio/net-attach.c \
	vmm/virtio/vhost-net.h vmm/virtio/vhost-net.c

check_PROGRAMS += tests/unit/test-virtio-net
TESTS += tests/unit/test-virtio-net
tests_unit_test_virtio_net_SOURCES = tests/unit/test-virtio-net.c tests/unit/tap.h \
	tests/unit/virtio-driver.h tests/unit/virtio-driver.c
tests_unit_test_virtio_net_LDADD = $(VMM_LIBS)
tests_unit_test_virtio_net_CPPFLAGS = $(VMM_CPPFLAGS)
# The same over a real tap, in a network namespace of its own (skipped
# without CAP_NET_ADMIN).
check_PROGRAMS += tests/unit/test-virtio-net-tap
TESTS += tests/unit/test-virtio-net-tap
tests_unit_test_virtio_net_tap_SOURCES = tests/unit/test-virtio-net-tap.c tests/unit/tap.h \
	tests/unit/virtio-driver.h tests/unit/virtio-driver.c
tests_unit_test_virtio_net_tap_LDADD = $(VMM_LIBS)
tests_unit_test_virtio_net_tap_CPPFLAGS = $(VMM_CPPFLAGS)
# vhost-net's pure parts: features, ring checks, the memory table.
check_PROGRAMS += tests/unit/test-vhost-net
TESTS += tests/unit/test-vhost-net
tests_unit_test_vhost_net_SOURCES = tests/unit/test-vhost-net.c tests/unit/tap.h
tests_unit_test_vhost_net_LDADD = $(VMM_LIBS)
tests_unit_test_vhost_net_CPPFLAGS = $(VMM_CPPFLAGS)
