#include "virtio/vhost-net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "cleanup.h"

#define BIT(f) (1ULL << (f))

/* Bits the device and the tap carry between them: vhost never sees them
 * (it refuses what it does not know), the vnet header does. */
#define DEVICE_ONLY_FEATURES                                                              \
	(BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CSUM) |     \
	 BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) |                     \
	 BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN) |                       \
	 BIT(VIRTIO_NET_F_HOST_UFO) | BIT(VIRTIO_NET_F_GUEST_TSO4) |                      \
	 BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_GUEST_ECN) |                     \
	 BIT(VIRTIO_NET_F_GUEST_UFO) | BIT(VIRTIO_NET_F_MTU))

int vhost_net_features(uint64_t vhost_features, uint64_t acked, uint64_t *out,
		       const char **why)
{
	uint64_t ring = acked & ~DEVICE_ONLY_FEATURES;

	*why = NULL;
	if (!(acked & BIT(VIRTIO_F_VERSION_1))) {
		*why = "the driver did not accept VIRTIO_F_VERSION_1";
		return -EOPNOTSUPP;
	}
	if (ring & ~vhost_features) {
		*why = "the driver accepted ring features vhost-net does not have";
		return -EOPNOTSUPP;
	}
	/* No VHOST_NET_F_VIRTIO_NET_HDR: the tap, not vhost, carries the
	 * header, so vhost must not add or strip one. */
	*out = ring;
	return 0;
}

int vhost_net_ring_addr(const struct guest_memory *mem, const struct virtq_layout *l,
			uint16_t max_size, unsigned index, struct vhost_vring_addr *out,
			const char **why)
{
	struct virtq_rings r;

	/* The same checks and mapping as our own queues: vhost reads and
	 * writes the whole rings through these host addresses. */
	if (virtq_map_layout(mem, l, max_size, &r, why) < 0)
		return -EINVAL;
	*out = (struct vhost_vring_addr){
		.index = index,
		.desc_user_addr = (uint64_t)(uintptr_t)r.desc,
		.avail_user_addr = (uint64_t)(uintptr_t)r.avail,
		.used_user_addr = (uint64_t)(uintptr_t)r.used,
	};
	return 0;
}

struct vhost_memory *vhost_net_mem_table(const struct guest_memory *mem)
{
	if (mem->nr_regions <= 0)
		return NULL;
	struct vhost_memory *t = calloc(1, sizeof(*t) + (size_t)mem->nr_regions *
							     sizeof(t->regions[0]));
	if (!t)
		return NULL;
	for (int i = 0; i < mem->nr_regions; i++) {
		const struct guest_region *r = &mem->regions[i];
		t->regions[t->nregions++] = (struct vhost_memory_region){
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};
	}
	return t;
}

int vhost_net_probe(uint64_t *features)
{
	cleanup_close int fd = open(VHOST_NET_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return ioctl(fd, VHOST_GET_FEATURES, features) < 0 ? -errno : 0;
}

static int vring_file(int fd, unsigned long req, unsigned index, int file)
{
	struct vhost_vring_file f = { .index = index, .fd = file };
	return ioctl(fd, req, &f) < 0 ? -errno : 0;
}

int vhost_net_set_call(struct vhost_net *vn, unsigned index, int call_fd)
{
	if (vn->fd < 0 || index >= VHOST_NET_NR_QUEUES)
		return -EINVAL;
	return vring_file(vn->fd, VHOST_SET_VRING_CALL, index, call_fd);
}

/* One ring, before any backend is attached. */
static int set_ring(struct vhost_net *vn, const struct guest_memory *mem, uint16_t max_size,
		    unsigned i, const struct vhost_net_ring *r, novm_error_t *err)
{
	struct vhost_vring_addr addr;
	const char *why;

	if (vhost_net_ring_addr(mem, &r->layout, max_size, i, &addr, &why) < 0)
		return novm_error(err, EINVAL, "ring %u: %s", i, why);
	struct vhost_vring_state num = { .index = i, .num = r->layout.size };
	if (ioctl(vn->fd, VHOST_SET_VRING_NUM, &num) < 0)
		return novm_error(err, errno, "ring %u: VHOST_SET_VRING_NUM", i);
	/* A ring starts where a fresh one does: the driver just enabled it. */
	struct vhost_vring_state base = { .index = i, .num = 0 };
	if (ioctl(vn->fd, VHOST_SET_VRING_BASE, &base) < 0)
		return novm_error(err, errno, "ring %u: VHOST_SET_VRING_BASE", i);
	if (ioctl(vn->fd, VHOST_SET_VRING_ADDR, &addr) < 0)
		return novm_error(err, errno, "ring %u: VHOST_SET_VRING_ADDR", i);
	int ret = vring_file(vn->fd, VHOST_SET_VRING_KICK, i, r->kick_fd);
	if (ret < 0)
		return novm_error(err, -ret, "ring %u: VHOST_SET_VRING_KICK", i);
	ret = vring_file(vn->fd, VHOST_SET_VRING_CALL, i, r->call_fd);
	if (ret < 0)
		return novm_error(err, -ret, "ring %u: VHOST_SET_VRING_CALL", i);
	return 0;
}

int vhost_net_start(struct vhost_net *vn, const struct guest_memory *mem, uint16_t max_size,
		    uint64_t features, int tap_fd,
		    const struct vhost_net_ring rings[VHOST_NET_NR_QUEUES], novm_error_t *err)
{
	cleanup_free struct vhost_memory *table = NULL;
	int ret;

	vn->fd = open(VHOST_NET_DEVICE, O_RDWR | O_CLOEXEC);
	if (vn->fd < 0)
		return novm_error(err, errno, "open %s", VHOST_NET_DEVICE);
	if (ioctl(vn->fd, VHOST_SET_OWNER) < 0) {
		novm_error(err, errno, "VHOST_SET_OWNER");
		goto fail;
	}
	if (ioctl(vn->fd, VHOST_SET_FEATURES, &features) < 0) {
		novm_error(err, errno, "VHOST_SET_FEATURES %#llx", (unsigned long long)features);
		goto fail;
	}
	table = vhost_net_mem_table(mem);
	if (!table) {
		novm_error(err, ENOMEM, "the memory table");
		goto fail;
	}
	if (ioctl(vn->fd, VHOST_SET_MEM_TABLE, table) < 0) {
		novm_error(err, errno, "VHOST_SET_MEM_TABLE");
		goto fail;
	}
	for (unsigned i = 0; i < VHOST_NET_NR_QUEUES; i++)
		if (set_ring(vn, mem, max_size, i, &rings[i], err) < 0)
			goto fail;
	for (unsigned i = 0; i < VHOST_NET_NR_QUEUES; i++) {
		ret = vring_file(vn->fd, VHOST_NET_SET_BACKEND, i, tap_fd);
		if (ret < 0) {
			novm_error(err, -ret, "ring %u: VHOST_NET_SET_BACKEND", i);
			goto fail;
		}
	}
	return 0;

fail:
	vhost_net_stop(vn);
	return -1;
}

void vhost_net_stop(struct vhost_net *vn)
{
	if (vn->fd < 0)
		return;
	for (unsigned i = 0; i < VHOST_NET_NR_QUEUES; i++) {
		/* Unbinding the tap flushes the ring's work; the base read
		 * after it stops its kick polling.  Errors only mean the ring
		 * was never set up that far. */
		vring_file(vn->fd, VHOST_NET_SET_BACKEND, i, -1);
		struct vhost_vring_state base = { .index = i };
		ioctl(vn->fd, VHOST_GET_VRING_BASE, &base);
	}
	/* Release drops vhost's worker, its references to the kick and call
	 * eventfds and the tap, synchronously. */
	close(vn->fd);
	vn->fd = -1;
}
