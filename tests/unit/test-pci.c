/* PCI and virtio-pci without KVM: the fake VM of virtio-driver.h (vm_fd = -1,
 * so ioeventfds and irqfds fail and the MMIO fallbacks are used), driven the way
 * the Linux kernel drives it: conf1 probe, capability walk, BAR sizing and
 * moving, then the virtio-pci modern driver sequence against virtio-rng
 * with a real I/O loop thread serving the queue. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "tap.h"
#include "virtio-driver.h"
#include "vmm/devices/msix.h"
#include "vmm/devices/pci.h"
#include "vmm/kvm.h"
#include "vmm/virtio/core.h"
#include "vmm/virtio/pci.h"
#include "vmm/virtio/rng.h"

#define RAM_SIZE (4ULL << 20)
#define DESC_GPA 0x100000ULL
#define AVAIL_GPA 0x101000ULL
#define USED_GPA 0x102000ULL
#define BUF_GPA 0x110000ULL
#define QSIZE 16

static struct vm vm;
static uint8_t *ram;

/* ---- waiting for the I/O thread ---- */

static bool wait_for(bool (*cond)(void))
{
	for (int i = 0; i < 2000; i++) {
		if (cond())
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

/* ---- the virtio device ---- */

static int rng_slot = -1;
static struct drv_device dev = { .vm = &vm };
static int cap_common, cap_notify, cap_isr, cap_device, cap_pci_cfg, cap_msix;

static struct vring_desc *desc_table(void)
{
	return (struct vring_desc *)(ram + DESC_GPA);
}

static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(ram + AVAIL_GPA);
}

static struct vring_used *used(void)
{
	return (struct vring_used *)(ram + USED_GPA);
}

static uint16_t used_idx(void)
{
	return __atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE);
}

/* Like Linux with EVENT_IDX negotiated: ask for an interrupt as soon as the
 * next used entry appears (used_event = current used index). */
static void publish(uint16_t head)
{
	struct vring_avail *a = avail();
	a->ring[QSIZE] = used_idx();
	a->ring[a->idx % QSIZE] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
}

static void kick(void)
{
	uint32_t off = drv_cfg_read(&vm, rng_slot, cap_notify + VIRTIO_PCI_CAP_OFFSET, 4);
	uint16_t noff = (uint16_t)drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_NOFF, 2);
	drv_mmio_write(&vm, dev.bar + off + noff * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, 0);
}

static uint16_t expected_used;
static bool used_reached(void)
{
	return used_idx() == expected_used;
}

static bool needs_reset(void)
{
	return drv_status(&dev) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

static uint8_t pba_byte(void)
{
	return (uint8_t)drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_MSIX_PBA_OFFSET, 1);
}

static void msix_entry(int vector, uint32_t addr, uint32_t data, bool masked)
{
	uint64_t e = dev.bar + VIRTIO_PCI_MSIX_TABLE_OFFSET + vector * 16;
	drv_mmio_write(&vm, e + 0, 4, addr);
	drv_mmio_write(&vm, e + 4, 4, 0);
	drv_mmio_write(&vm, e + 8, 4, data);
	drv_mmio_write(&vm, e + 12, 4, masked);
}

/* ---- tests ---- */

static void test_conf1_probe(void)
{
	/* arch/x86/pci/direct.c: pci_check_type1() */
	drv_io_out(&vm, 0xcfb, 1, 0x01);
	drv_io_out(&vm, 0xcf8, 4, 0x80000000);
	ok(drv_io_in(&vm, 0xcf8, 4) == 0x80000000, "CONFIG_ADDRESS latches a dword write");
	ok(drv_cfg_read(&vm, 0, PCI_VENDOR_ID, 2) == 0x1b36 &&
		   drv_cfg_read(&vm, 0, PCI_DEVICE_ID, 2) == 0x0008,
	   "00:00.0 is the host bridge");
	ok(drv_cfg_read(&vm, 0, PCI_CLASS_DEVICE, 2) == 0x0600,
	   "host bridge class (sanity check of direct.c)");
	ok(drv_cfg_read(&vm, 0, PCI_VENDOR_ID, 4) == 0x00081b36, "dword read of vendor/device");

	for (int slot = 1; slot < 32; slot++)
		if (drv_cfg_read(&vm, slot, PCI_VENDOR_ID, 2) == 0x1af4)
			rng_slot = rng_slot < 0 ? slot : rng_slot;
	ok(rng_slot > 0, "a virtio device is on bus 0 (slot %d)", rng_slot);
	if (rng_slot < 0)
		rng_slot = 1;
	ok(drv_cfg_read(&vm, rng_slot, PCI_DEVICE_ID, 2) == 0x1044, "device id 0x1040 + 4 (rng)");
	ok(drv_cfg_read(&vm, rng_slot, PCI_REVISION_ID, 1) >= 1,
	   "revision >= 1 (non-transitional)");
	ok(drv_cfg_read(&vm, rng_slot, PCI_SUBSYSTEM_VENDOR_ID, 2) == 0x1af4, "subsystem vendor");
	ok(drv_cfg_read(&vm, rng_slot, PCI_HEADER_TYPE, 1) == 0, "single-function type 0 header");
	ok(drv_cfg_read(&vm, rng_slot, PCI_INTERRUPT_PIN, 1) == 0, "no INTx pin");

	ok(drv_cfg_read(&vm, rng_slot + 1, PCI_VENDOR_ID, 2) == 0xffff,
	   "empty slot reads all ones");
	drv_io_out(&vm, 0xcf8, 4, drv_conf_addr(0, rng_slot, 1, 0));
	ok(drv_io_in(&vm, 0xcfc, 2) == 0xffff, "function 1 does not exist");
	drv_io_out(&vm, 0xcf8, 4, drv_conf_addr(1, rng_slot, 0, 0));
	ok(drv_io_in(&vm, 0xcfc, 2) == 0xffff, "bus 1 does not exist");
	drv_io_out(&vm, 0xcf8, 4, drv_conf_addr(0, rng_slot, 0, 0) & ~0x80000000u);
	ok(drv_io_in(&vm, 0xcfc, 4) == 0xffffffff, "disabled CONFIG_ADDRESS selects nothing");

	drv_cfg_write(&vm, rng_slot, PCI_VENDOR_ID, 2, 0x1234);
	ok(drv_cfg_read(&vm, rng_slot, PCI_VENDOR_ID, 2) == 0x1af4, "vendor id is read-only");
}

static void test_capabilities(void)
{
	ok(drv_cfg_read(&vm, rng_slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
	   "status announces a capability list");

	int pos = drv_cfg_read(&vm, rng_slot, PCI_CAPABILITY_LIST, 1), n = 0;
	bool sane = true;
	while (pos && n++ < 48) {
		if (pos < 0x40 || pos > 0xfc || (pos & 3)) {
			sane = false;
			break;
		}
		int id = drv_cfg_read(&vm, rng_slot, pos, 1);
		if (id == PCI_CAP_ID_VNDR) {
			int type = drv_cfg_read(&vm, rng_slot, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
			int *slot = type == VIRTIO_PCI_CAP_COMMON_CFG ? &cap_common :
				    type == VIRTIO_PCI_CAP_NOTIFY_CFG ? &cap_notify :
				    type == VIRTIO_PCI_CAP_ISR_CFG	 ? &cap_isr :
				    type == VIRTIO_PCI_CAP_DEVICE_CFG ? &cap_device :
				    type == VIRTIO_PCI_CAP_PCI_CFG	 ? &cap_pci_cfg :
									   NULL;
			if (slot && !*slot)
				*slot = pos;
		} else if (id == PCI_CAP_ID_MSIX) {
			cap_msix = pos;
		}
		pos = drv_cfg_read(&vm, rng_slot, pos + PCI_CAP_LIST_NEXT, 1);
	}
	ok(sane && pos == 0, "capability list is well formed and ends");
	ok(cap_common && cap_notify && cap_isr && cap_pci_cfg, "common, notify, ISR and PCI_CFG caps");
	ok(!cap_device, "no device-config cap for a device without config");
	ok(drv_cfg_read(&vm, rng_slot, cap_common + VIRTIO_PCI_CAP_BAR, 1) == 0 &&
		   drv_cfg_read(&vm, rng_slot, cap_common + VIRTIO_PCI_CAP_LENGTH, 4) >=
			   sizeof(struct virtio_pci_common_cfg),
	   "common cfg in BAR 0 and long enough");
	ok(drv_cfg_read(&vm, rng_slot, cap_notify + VIRTIO_PCI_NOTIFY_CAP_MULT, 4) == 4,
	   "notify_off_multiplier 4");
	ok(drv_cfg_read(&vm, rng_slot, cap_notify + VIRTIO_PCI_CAP_LENGTH, 4) >= 2,
	   "notify region covers queue 0");
	ok(cap_msix, "MSI-X capability present");
	uint16_t ctrl = (uint16_t)drv_cfg_read(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2);
	ok((ctrl & PCI_MSIX_FLAGS_QSIZE) == 1, "two MSI-X vectors (queue + config)");
	ok(drv_cfg_read(&vm, rng_slot, cap_msix + PCI_MSIX_TABLE, 4) ==
			   VIRTIO_PCI_MSIX_TABLE_OFFSET &&
		   drv_cfg_read(&vm, rng_slot, cap_msix + PCI_MSIX_PBA, 4) ==
			   VIRTIO_PCI_MSIX_PBA_OFFSET,
	   "MSI-X table and PBA in BAR 0");
}

static void test_bars(void)
{
	uint32_t orig = drv_cfg_read(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4);
	dev.bar = orig & PCI_BASE_ADDRESS_MEM_MASK;
	ok(dev.bar >= PCI_MMIO_START && dev.bar + VIRTIO_PCI_BAR_SIZE <= PCI_MMIO_END &&
		   !(dev.bar & (VIRTIO_PCI_BAR_SIZE - 1)),
	   "BAR 0 pre-assigned in the 32-bit window, naturally aligned (%#llx)",
	   (unsigned long long)dev.bar);
	ok(drv_cfg_read(&vm, rng_slot, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY,
	   "memory decoding enabled");
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 1,
	   "common cfg reachable: one queue");

	/* drivers/pci/probe.c __pci_read_base(): decode off, write ~0, read. */
	uint16_t cmd = (uint16_t)drv_cfg_read(&vm, rng_slot, PCI_COMMAND, 2);
	drv_cfg_write(&vm, rng_slot, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	uint64_t v = 0;
	ok(!bus_access(&vm.mmio, drv_common(&dev, VIRTIO_PCI_COMMON_NUMQ), (uint8_t *)&v, 2, false),
	   "decoding off: BAR gone from the MMIO bus");
	drv_cfg_write(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	uint32_t mask = drv_cfg_read(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4);
	ok(mask == (uint32_t)~(VIRTIO_PCI_BAR_SIZE - 1), "sizing probe reports %#x bytes, 32-bit memory",
	   VIRTIO_PCI_BAR_SIZE);
	drv_cfg_write(&vm, rng_slot, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	ok(drv_cfg_read(&vm, rng_slot, PCI_BASE_ADDRESS_1, 4) == 0, "BAR 1 unimplemented");
	drv_cfg_write(&vm, rng_slot, PCI_ROM_ADDRESS, 4, 0xffffffff);
	ok(drv_cfg_read(&vm, rng_slot, PCI_ROM_ADDRESS, 4) == 0, "no expansion ROM");
	drv_cfg_write(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4, orig);
	drv_cfg_write(&vm, rng_slot, PCI_COMMAND, 2, cmd);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 1, "restored BAR decodes again");

	/* Sizing with decoding left on must not map over the APIC area. */
	drv_cfg_write(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ok(!bus_access(&vm.mmio, 0xffff8000, (uint8_t *)&v, 4, false),
	   "probe value with decoding on is not mapped");
	drv_cfg_write(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4, orig);

	/* The guest moves the BAR. */
	uint64_t moved = 0xd0000000;
	drv_cfg_write(&vm, rng_slot, PCI_BASE_ADDRESS_0, 4, (uint32_t)moved);
	ok(!bus_access(&vm.mmio, drv_common(&dev, VIRTIO_PCI_COMMON_NUMQ), (uint8_t *)&v, 2, false),
	   "old BAR address released after a move");
	dev.bar = moved;
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 1, "BAR answers at its new address");
}

static uint32_t feature_word(int off_select, int off_value, uint32_t select)
{
	drv_common_write(&dev, off_select, 4, select);
	return (uint32_t)drv_common_read(&dev, off_value, 4);
}

static void test_negotiation(void)
{
	drv_set_status(&dev, 0);
	ok(drv_status(&dev) == 0, "reset reads back 0");
	drv_set_status(&dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);

	uint32_t lo = feature_word(VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_DF, 0);
	uint32_t hi = feature_word(VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_DF, 1);
	ok(hi & 1, "VIRTIO_F_VERSION_1 offered");
	ok(lo & (1u << VIRTIO_RING_F_EVENT_IDX) && lo & (1u << VIRTIO_RING_F_INDIRECT_DESC),
	   "EVENT_IDX and INDIRECT_DESC offered");

	/* Without VERSION_1 the device must refuse FEATURES_OK. */
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GF, 4, lo);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GF, 4, 0);
	drv_set_status(&dev, drv_status(&dev) | VIRTIO_CONFIG_S_FEATURES_OK);
	ok(!(drv_status(&dev) & VIRTIO_CONFIG_S_FEATURES_OK),
	   "FEATURES_OK refused without VERSION_1");

	/* Unknown feature bits are refused too. */
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GF, 4, 1 | 1u << 30);
	drv_set_status(&dev, drv_status(&dev) | VIRTIO_CONFIG_S_FEATURES_OK);
	ok(!(drv_status(&dev) & VIRTIO_CONFIG_S_FEATURES_OK),
	   "FEATURES_OK refused for unoffered bits");

	drv_common_write(&dev, VIRTIO_PCI_COMMON_GF, 4, 1);
	drv_set_status(&dev, drv_status(&dev) | VIRTIO_CONFIG_S_FEATURES_OK);
	ok(drv_status(&dev) & VIRTIO_CONFIG_S_FEATURES_OK, "FEATURES_OK accepted with VERSION_1");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_GF, 4, 0);
	ok(feature_word(VIRTIO_PCI_COMMON_GFSELECT, VIRTIO_PCI_COMMON_GF, 0) == lo,
	   "features frozen after FEATURES_OK");
}

static void setup_queue_and_msix(void)
{
	/* Enable MSI-X the way drivers/pci/msi does: enable + mask all,
	 * program the entries, then unmask the function. */
	uint16_t ctrl = (uint16_t)drv_cfg_read(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2);
	drv_cfg_write(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2,
		      ctrl | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	msix_entry(0, 0xfee00000, 0x41, false);
	msix_entry(1, 0xfee00000, 0x42, false);
	drv_cfg_write(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2, ctrl | PCI_MSIX_FLAGS_ENABLE);

	drv_common_write(&dev, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_MSIX, 2) == 0, "config vector 0 accepted");

	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2) == 256, "queue 0 offers 256 entries");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_DESCLO, 4, DESC_GPA);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, AVAIL_GPA);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_USEDLO, 4, USED_GPA);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_MSIX, 2, 7);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_MSIX, 2) == VIRTIO_MSI_NO_VECTOR,
	   "vector beyond the table reads back NO_VECTOR");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_MSIX, 2) == 1, "queue vector 1 accepted");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1, "queue enabled");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2) == QSIZE,
	   "queue size frozen once enabled");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2) == 0, "queue 1 does not exist");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);

	drv_set_status(&dev, drv_status(&dev) | VIRTIO_CONFIG_S_DRIVER_OK);
	ok(drv_status(&dev) & VIRTIO_CONFIG_S_DRIVER_OK, "DRIVER_OK");
}

static void test_rng_requests(void)
{
	uint8_t *buf = ram + BUF_GPA;

	memset(buf, 0, 256);
	desc_table()[0] = (struct vring_desc){ BUF_GPA, 64, VRING_DESC_F_WRITE, 0 };
	publish(0);
	kick();
	expected_used = 1;
	ok(wait_for(used_reached), "I/O thread served the request after an MMIO notify");
	ok(used()->ring[0].id == 0 && used()->ring[0].len == 64, "used entry: head 0, 64 bytes");
	int nonzero = 0;
	for (int i = 0; i < 64; i++)
		nonzero += buf[i] != 0;
	ok(nonzero > 32, "buffer filled with random bytes");
	ok(buf[64] == 0, "nothing written past the buffer");
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_ISR_OFFSET, 1) == 1,
	   "ISR shows a queue interrupt");
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_ISR_OFFSET, 1) == 0, "reading ISR cleared it");

	/* A masked vector collects a pending bit and fires on unmask. */
	msix_entry(1, 0xfee00000, 0x42, true);
	desc_table()[1] = (struct vring_desc){ BUF_GPA + 64, 16, VRING_DESC_F_WRITE, 0 };
	publish(1);
	kick();
	expected_used = 2;
	ok(wait_for(used_reached), "second request served");
	ok(pba_byte() == 0x2, "masked vector 1 is pending in the PBA");
	drv_mmio_write(&vm, dev.bar + VIRTIO_PCI_MSIX_TABLE_OFFSET + 16 + 12, 4, 0);
	ok(pba_byte() == 0, "unmasking delivers and clears the pending bit");

	/* Same with the function mask. */
	uint16_t ctrl = (uint16_t)drv_cfg_read(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2);
	drv_cfg_write(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2, ctrl | PCI_MSIX_FLAGS_MASKALL);
	desc_table()[2] = (struct vring_desc){ BUF_GPA + 128, 16, VRING_DESC_F_WRITE, 0 };
	publish(2);
	kick();
	expected_used = 3;
	ok(wait_for(used_reached), "third request served");
	ok(pba_byte() == 0x2, "function mask leaves the vector pending");
	drv_cfg_write(&vm, rng_slot, cap_msix + PCI_MSIX_FLAGS, 2, ctrl & ~PCI_MSIX_FLAGS_MASKALL);
	ok(pba_byte() == 0, "clearing the function mask delivers it");
}

/* A vector raised through its eventfd by a producer outside the VMM
 * (vhost): the fake VM has no KVM, so every write goes through the I/O
 * loop's relay, which must honour masking as msix_notify does. */
static struct msix ext;
static uint16_t ext_msi_data;

static bool ext_pending(void)
{
	uint8_t b = 0;
	msix_pba_access(&ext, 0, &b, 1, false);
	return b & 1;
}

static bool ext_sent(void)
{
	pthread_mutex_lock(&ext.lock);
	bool sent = ext.nr_sent > 0;
	pthread_mutex_unlock(&ext.lock);
	return sent;
}

static void ext_entry(bool masked)
{
	uint32_t w[4] = { 0xfee00000, 0, ext_msi_data, masked };
	msix_table_access(&ext, 0, (uint8_t *)w, sizeof(w), true);
}

static void test_external_vector(void)
{
	static const struct pci_device_ops ops = { 0 };
	struct pci_device pdev;
	novm_error_t err = NULL;

	pci_device_init(&pdev, &ops, 0x1af4, 0x10ff, 0xff0000, 1, 0x1af4, 1);
	if (msix_init(&ext, &vm, &pdev, 2, 0, 0, 0x800, &err) < 0) {
		novm_error_print(&err, "test-pci");
		ok(0, "msix_init for the external vector test");
		return;
	}
	ext.enabled = true;
	ext_msi_data = 0x51;
	ext_entry(true);
	int fd = msix_vector_get_eventfd(&ext, 0);
	ok(fd >= 0, "a vector hands out its eventfd");
	ok(msix_vector_get_eventfd(&ext, 7) == -EINVAL, "a vector beyond the table does not");
	eventfd_write(fd, 1);
	ok(wait_for(ext_pending), "a write while masked becomes the pending bit");
	ok(!ext_sent(), "and sends nothing");
	ext_entry(false);
	ok(!ext_pending() && ext_sent(), "unmasking delivers it");
	ext.nr_sent = 0;
	eventfd_write(fd, 1);
	ok(wait_for(ext_sent), "a write while unmasked is delivered (relayed without KVM)");
	ok(msix_vector_get_eventfd(&ext, 0) == fd, "a second user gets the same fd");
	msix_vector_put_eventfd(&ext, 0);
	msix_vector_put_eventfd(&ext, 0);
	ok(!ext.vectors[0].relayed && ext.vectors[0].nr_external == 0,
	   "the last put stops the relay");
	msix_exit(&ext);
}

static void test_pci_cfg_window(void)
{
	drv_cfg_write(&vm, rng_slot, cap_pci_cfg + VIRTIO_PCI_CAP_BAR, 1, 0);
	drv_cfg_write(&vm, rng_slot, cap_pci_cfg + VIRTIO_PCI_CAP_OFFSET, 4,
		      VIRTIO_PCI_COMMON_NUMQ);
	drv_cfg_write(&vm, rng_slot, cap_pci_cfg + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	ok(drv_cfg_read(&vm, rng_slot, cap_pci_cfg + 16, 2) == 1,
	   "PCI_CFG window reads num_queues");
	drv_cfg_write(&vm, rng_slot, cap_pci_cfg + VIRTIO_PCI_CAP_OFFSET, 4,
		      VIRTIO_PCI_COMMON_Q_SELECT);
	drv_cfg_write(&vm, rng_slot, cap_pci_cfg + 16, 2, 5);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2) == 5,
	   "PCI_CFG window writes queue_select");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	drv_cfg_write(&vm, rng_slot, cap_pci_cfg + VIRTIO_PCI_CAP_LENGTH, 4, 3);
	ok(drv_cfg_read(&vm, rng_slot, cap_pci_cfg + 16, 4) == 5, "bad window length is ignored");
}

static void test_malformed_and_reset(void)
{
	publish(QSIZE + 1);	/* head index out of range */
	kick();
	ok(wait_for(needs_reset), "bad descriptor index sets NEEDS_RESET");
	ok(drv_status(&dev) & VIRTIO_CONFIG_S_DRIVER_OK, "other status bits kept");

	drv_set_status(&dev, 0);
	ok(drv_status(&dev) == 0, "reset clears the status");
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 0, "reset disables the queue");
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2) == 256,
	   "reset restores the queue size");
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_Q_MSIX, 2) == VIRTIO_MSI_NO_VECTOR &&
		   drv_common_read(&dev, VIRTIO_PCI_COMMON_MSIX, 2) == VIRTIO_MSI_NO_VECTOR,
	   "reset forgets the vectors");
	ok(feature_word(VIRTIO_PCI_COMMON_GFSELECT, VIRTIO_PCI_COMMON_GF, 1) == 0,
	   "reset forgets the driver features");
}

static void test_reset_port(void)
{
	ok(atomic_load(&vm.exit_reason) == VM_RUNNING, "VM running before 0xcf9");
	drv_io_out(&vm, 0xcf9, 1, 0x02);
	ok(atomic_load(&vm.exit_reason) == VM_RUNNING, "0xcf9 without RST_CPU does nothing");
	drv_io_out(&vm, 0xcf9, 1, 0x06);
	ok(atomic_load(&vm.exit_reason) == VM_EXIT_RESET, "0xcf9 RST_CPU requests a VM reset");
}

int main(void)
{
	novm_error_t err = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* keep TAP lines if a sanitizer exits */
	if (fake_vm_init(&vm, &ram, RAM_SIZE, &err) < 0) {
		printf("1..0 # SKIP cannot set up a fake VM\n");
		return 0;
	}
	dev.ram = ram;

	ok(pci_init(&vm, &err) == 0, "pci_init");
	ok(virtio_rng_init(&vm, &err) == 0, "virtio_rng_init");
	if (err) {
		novm_error_print(&err, "test-pci");
		return tap_done();
	}
	test_conf1_probe();
	test_capabilities();
	test_bars();
	test_negotiation();
	if (ioloop_start(&vm.loop, &err) < 0) {
		novm_error_print(&err, "test-pci");
		return 1;
	}
	setup_queue_and_msix();
	test_rng_requests();
	test_external_vector();
	test_pci_cfg_window();
	test_malformed_and_reset();
	test_reset_port();

	ioloop_stop(&vm.loop);
	virtio_rng_exit(&vm);
	ok(pci_bus_find(vm.pci, 0x1af4, 0x1044) == NULL, "virtio_rng_exit removed the device");
	pci_exit(&vm);
	ok(vm.pci == NULL && !bus_access(&vm.pio, 0xcf8, (uint8_t[4]){ 0 }, 4, false),
	   "pci_exit released the ports");
	fake_vm_destroy(&vm, ram);
	return tap_done();
}
