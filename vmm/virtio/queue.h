/* Split virtqueue (virtio 1.2 §2.7), device side.  This is the ONE place that
 * reads descriptors: everything in the rings is written by the guest, so every
 * index, address, length and chain is checked before a device sees it.
 *
 * Threads and locking.  Each queue has its own mutex (q->lock), taken inside
 * every function below; none of them may be called with q->lock held.
 *   - virtq_enable / virtq_reset: the transport, on a vCPU thread, while it
 *     holds the device's register lock (virtio core).
 *   - virtq_pop / virtq_push / virtq_notify: any thread (the I/O loop, device
 *     worker threads, several at once on the same queue).  A request popped by
 *     one thread may be pushed by another.
 * Callbacks (ops->interrupt, ops->broken) run without q->lock held, on the
 * thread that called pop/notify.
 *
 * A request holds host pointers into guest RAM; they stay valid while the VM
 * exists.  After a reset the queue's generation changes and pushing a request
 * popped before the reset is silently dropped, so a slow worker cannot write
 * into the rings of the next driver instance. */
#ifndef NOVM_VIRTIO_QUEUE_H
#define NOVM_VIRTIO_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "memory.h"

/* Largest queue a device may offer; also the most segments one request can
 * carry (a chain is never longer than the queue, counting indirect ones). */
#define VIRTQ_MAX_SIZE 1024

struct virtq;

struct virtq_ops {
	/* The driver must be told about used buffers. */
	void (*interrupt)(struct virtq *q);
	/* The driver broke the ring protocol; the queue stops until reset. */
	void (*broken)(struct virtq *q, const char *why);
};

/* Where the driver put the rings, as written to the transport registers. */
struct virtq_layout {
	uint16_t size;
	uint64_t desc, avail, used;
};

struct virtq {
	pthread_mutex_t lock;
	const struct guest_memory *mem;
	const struct virtq_ops *ops;
	void *opaque;		/* owner's, for the callbacks */
	uint16_t index;		/* position in the device, for the callbacks */

	/* Everything below is protected by lock. */
	bool ready;
	bool broken;
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;	/* next avail entry to consume */
	uint16_t used_idx;	/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt decision */
	bool signalled_valid;
	bool need_notify;	/* without EVENT_IDX: something was pushed since */
	uint32_t generation;	/* bumped by reset */
};

/* One descriptor chain.  iov[0, nr_readable) are the device-readable buffers
 * (driver to device), then nr_writable device-writable ones. */
struct virtq_req {
	uint16_t head;
	uint32_t generation;
	unsigned nr_readable, nr_writable;
	uint64_t readable_len, writable_len;	/* byte totals */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

void virtq_init(struct virtq *q, const struct guest_memory *mem, const struct virtq_ops *ops,
		void *opaque, uint16_t index);
void virtq_destroy(struct virtq *q);

/* The host addresses of a queue's three rings. */
struct virtq_rings {
	void *desc, *avail, *used;
};

/* Validates the layout (size a power of two within max_size, rings aligned
 * and wholly inside RAM, event-index words included) and maps its rings.
 * Returns 0 or -EINVAL with the reason in *why.  Shared by virtq_enable and
 * the vhost-net backend, which hands the rings to the kernel. */
int virtq_map_layout(const struct guest_memory *mem, const struct virtq_layout *layout,
		     uint16_t max_size, struct virtq_rings *out, const char **why);

/* Validates the layout (virtq_map_layout) and starts the queue.  Returns 0 or -EINVAL with the
 * reason in *why; the queue then stays disabled. */
int virtq_enable(struct virtq *q, const struct virtq_layout *layout, uint16_t max_size,
		 bool event_idx, bool indirect, const char **why);
/* Forgets all ring state (device reset). */
void virtq_reset(struct virtq *q);
bool virtq_is_ready(struct virtq *q);
/* The ring size the driver chose; 0 while the queue is not running. */
uint16_t virtq_size(struct virtq *q);

/* Takes the next available chain.  Returns 1 with *req filled, 0 when the
 * ring is empty (or the queue is not running), -EIO when the chain is
 * malformed: the queue is then marked broken and ops->broken is called.
 * With EVENT_IDX the driver is asked for its next kick only when pop finds
 * the ring empty, so a device that stops popping early (no room, no host
 * data yet) must come back to the queue by itself, not wait for a kick. */
int virtq_pop(struct virtq *q, struct virtq_req *req);

/* Returns a chain to the driver with `written` bytes stored in its writable
 * buffers (clamped to their total).  Does not interrupt: call virtq_notify
 * after a batch. */
void virtq_push(struct virtq *q, const struct virtq_req *req, uint32_t written);

/* What virtq_push needs of a popped request, for a device that holds
 * several chains before returning them (virtio-net's merged receive
 * buffers) without keeping a whole virtq_req for each. */
struct virtq_used_token {
	uint16_t head;
	uint32_t generation;
	uint64_t writable_len;
};

static inline struct virtq_used_token virtq_req_token(const struct virtq_req *req)
{
	return (struct virtq_used_token){ req->head, req->generation, req->writable_len };
}

/* virtq_push for a token. */
void virtq_push_token(struct virtq *q, struct virtq_used_token t, uint32_t written);

/* Interrupts the driver if it has not suppressed it (avail flags or the
 * used_event index).  Returns true when ops->interrupt was called. */
bool virtq_notify(struct virtq *q);

/* Writes the queue's state as one JSON object: our indices next to what the
 * driver last wrote (avail idx and flags, used_event), which is what tells a
 * lost notification from a driver that stopped.  Any thread. */
void virtq_describe(struct virtq *q, FILE *out);

/* Copies between a request's buffers and a flat host buffer; return the
 * number of bytes copied. */
size_t virtq_req_read(const struct virtq_req *req, size_t offset, void *dst, size_t len);
size_t virtq_req_write(const struct virtq_req *req, size_t offset, const void *src, size_t len);

#endif
