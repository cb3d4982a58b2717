/* The pure parts of the vhost-net backend, without /dev/vhost-net: which
 * acked features reach VHOST_SET_FEATURES (and when the guest's choice rules
 * vhost out), the ring checks a guest-written layout must pass before its
 * host addresses go to the kernel, and the memory table from the VM's
 * regions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "tap.h"
#include "vmm/memory.h"
#include "vmm/virtio/vhost-net.h"

#define BIT(f) (1ULL << (f))

/* What Debian's 6.1 vhost-net answers VHOST_GET_FEATURES with
 * (VHOST_NET_FEATURES; ACCESS_PLATFORM aside). */
#define KERNEL_FEATURES                                                                     \
	(BIT(VIRTIO_F_NOTIFY_ON_EMPTY) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |                  \
	 BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_F_ANY_LAYOUT) | BIT(VIRTIO_F_VERSION_1) | \
	 BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(27) /* VHOST_NET_F_VIRTIO_NET_HDR */ |            \
	 BIT(26) /* VHOST_F_LOG_ALL */)

/* What our Linux guest acks of virtio-net's offer. */
#define GUEST_ACKED                                                                         \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |                        \
	 BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_MAC) | \
	 BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |   \
	 BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |                          \
	 BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6))

static void test_features(void)
{
	uint64_t out = 0;
	const char *why;

	ok(vhost_net_features(KERNEL_FEATURES, GUEST_ACKED, &out, &why) == 0,
	   "a Linux guest's acked features work with the kernel's vhost-net");
	ok(out == (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
		   BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_NET_F_MRG_RXBUF)),
	   "only the ring and header features reach vhost (got %#llx)", (unsigned long long)out);
	ok(!(out & BIT(27)), "VHOST_NET_F_VIRTIO_NET_HDR stays off: the tap carries the header");

	uint64_t no_mrg = GUEST_ACKED & ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	ok(vhost_net_features(KERNEL_FEATURES, no_mrg, &out, &why) == 0 &&
		   !(out & BIT(VIRTIO_NET_F_MRG_RXBUF)),
	   "a driver without merged buffers gets none from vhost");

	ok(vhost_net_features(KERNEL_FEATURES, GUEST_ACKED & ~BIT(VIRTIO_F_VERSION_1), &out,
			      &why) < 0 && why,
	   "without VERSION_1 vhost is not used: %s", why ? why : "(no reason)");
	ok(vhost_net_features(KERNEL_FEATURES & ~BIT(VIRTIO_RING_F_EVENT_IDX), GUEST_ACKED, &out,
			      &why) < 0,
	   "a vhost without EVENT_IDX cannot serve a driver that acked it");
	ok(vhost_net_features(KERNEL_FEATURES & ~BIT(VIRTIO_NET_F_MRG_RXBUF), GUEST_ACKED, &out,
			      &why) < 0,
	   "nor one without MRG_RXBUF");
	ok(vhost_net_features(KERNEL_FEATURES, GUEST_ACKED | BIT(VIRTIO_F_RING_PACKED), &out,
			      &why) < 0,
	   "a ring feature the kernel lacks (packed ring) rules vhost out");
}

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x10000ULL
#define HIGH_BASE 0x100000000ULL

static uint8_t *ram, *high;
static struct guest_memory mem;

static int ring_ok(struct virtq_layout l, uint16_t max, struct vhost_vring_addr *a,
		   const char **why)
{
	return vhost_net_ring_addr(&mem, &l, max, 1, a, why);
}

static void test_rings(void)
{
	struct vhost_vring_addr a;
	const char *why;
	struct virtq_layout l = {
		.size = 256,
		.desc = RAM_BASE,
		.avail = RAM_BASE + 0x1000,
		.used = RAM_BASE + 0x2000,
	};

	ok(ring_ok(l, 256, &a, &why) == 0, "a driver's usual layout passes");
	ok(a.index == 1 && a.flags == 0, "index set, no logging");
	ok(a.desc_user_addr == (uint64_t)(uintptr_t)ram &&
		   a.avail_user_addr == (uint64_t)(uintptr_t)(ram + 0x1000) &&
		   a.used_user_addr == (uint64_t)(uintptr_t)(ram + 0x2000),
	   "the addresses handed to vhost are the VMM's mapping of the rings");

	struct virtq_layout bad = l;
	bad.size = 0;
	ok(ring_ok(bad, 256, &a, &why) < 0, "size 0 refused");
	bad.size = 100;
	ok(ring_ok(bad, 256, &a, &why) < 0, "a size not a power of two refused: %s", why);
	bad.size = 512;
	ok(ring_ok(bad, 256, &a, &why) < 0, "a size above the device's maximum refused");

	bad = l;
	bad.desc += 8;
	ok(ring_ok(bad, 256, &a, &why) < 0, "a misaligned descriptor table refused: %s", why);
	bad = l;
	bad.used += 2;
	ok(ring_ok(bad, 256, &a, &why) < 0, "a misaligned used ring refused");

	bad = l;
	bad.used = RAM_BASE + RAM_SIZE - (6 + 8 * 256) + 2;	/* 4-aligned, 2 bytes over */
	ok(ring_ok(bad, 256, &a, &why) < 0,
	   "a used ring whose event word is past the end of RAM refused: %s", why);
	bad = l;
	bad.used = RAM_BASE + RAM_SIZE - (6 + 8 * 256) - 2;	/* 4-aligned, fits */
	ok(ring_ok(bad, 256, &a, &why) == 0, "one that ends within the last 4 bytes passes");
	bad = l;
	bad.desc = 0xfffffffffffffff0ULL;
	ok(ring_ok(bad, 256, &a, &why) < 0, "an address that wraps refused");
	bad = l;
	bad.avail = 0xc0000000ULL;	/* the PCI hole */
	ok(ring_ok(bad, 256, &a, &why) < 0, "a ring outside RAM refused");
	bad = l;
	bad.desc = HIGH_BASE - 0x800;	/* spans the gap between regions */
	ok(ring_ok(bad, 256, &a, &why) < 0, "a ring across two regions refused");
	bad = l;
	bad.desc = HIGH_BASE;
	ok(ring_ok(bad, 256, &a, &why) == 0 && a.desc_user_addr == (uint64_t)(uintptr_t)high,
	   "a ring in the second region maps to that region's memory");
}

static void test_mem_table(void)
{
	struct vhost_memory *t = vhost_net_mem_table(&mem);

	ok(t && t->nregions == 2, "one vhost region per RAM region");
	if (t && t->nregions == 2) {
		ok(t->regions[0].guest_phys_addr == RAM_BASE &&
			   t->regions[0].memory_size == RAM_SIZE &&
			   t->regions[0].userspace_addr == (uint64_t)(uintptr_t)ram,
		   "the first region: guest address, size, host address");
		ok(t->regions[1].guest_phys_addr == HIGH_BASE &&
			   t->regions[1].memory_size == RAM_SIZE &&
			   t->regions[1].userspace_addr == (uint64_t)(uintptr_t)high,
		   "the second region");
	}
	free(t);

	struct guest_memory empty = { 0 };
	ok(vhost_net_mem_table(&empty) == NULL, "no regions, no table");
}

int main(void)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	high = aligned_alloc(4096, RAM_SIZE);
	if (!ram || !high || guest_memory_add(&mem, RAM_BASE, RAM_SIZE, ram) < 0 ||
	    guest_memory_add(&mem, HIGH_BASE, RAM_SIZE, high) < 0) {
		printf("1..0 # SKIP cannot set up guest memory\n");
		return 0;
	}
	test_features();
	test_rings();
	test_mem_table();
	free(ram);
	free(high);
	return tap_done();
}
