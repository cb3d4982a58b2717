#include "queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "jsonstr.h"

/* The rings are shared with guest vCPUs.  Loads of an index the driver
 * publishes use acquire (pairs with the driver's write barrier before its
 * idx store); our used->idx store uses release so the entries are visible
 * first; a store followed by a load of the other side's index needs a full
 * fence (the event-index handshake). */
#define load_acquire16(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define load_relaxed16(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define store_release16(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define store_relaxed16(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define full_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* The event-index words live just past each ring (virtio 1.2 §2.7.10):
 * the driver's used_event after avail->ring, our avail_event after
 * used->ring. */
static uint16_t *used_event_word(struct virtq *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *avail_event_word(struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

void virtq_init(struct virtq *q, const struct guest_memory *mem, const struct virtq_ops *ops,
		void *opaque, uint16_t index)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	q->mem = mem;
	q->ops = ops;
	q->opaque = opaque;
	q->index = index;
}

void virtq_destroy(struct virtq *q)
{
	pthread_mutex_destroy(&q->lock);
}

static bool is_aligned(uint64_t v, uint64_t a)
{
	return (v & (a - 1)) == 0;
}

int virtq_map_layout(const struct guest_memory *mem, const struct virtq_layout *l,
		     uint16_t max_size, struct virtq_rings *out, const char **why)
{
	uint64_t n = l->size;

	if (max_size > VIRTQ_MAX_SIZE)
		max_size = VIRTQ_MAX_SIZE;
	*why = NULL;
	if (n == 0 || (n & (n - 1)) || n > max_size)
		*why = "queue size is not a power of two within the maximum";
	else if (!is_aligned(l->desc, 16) || !is_aligned(l->avail, 2) || !is_aligned(l->used, 4))
		*why = "misaligned ring address";
	if (*why)
		return -EINVAL;

	/* The avail and used rings include the event-index words whether or
	 * not EVENT_IDX is negotiated (§2.7, "Queue Part Sizes"). */
	out->desc = guest_ptr(mem, l->desc, 16 * n);
	out->avail = guest_ptr(mem, l->avail, 6 + 2 * n);
	out->used = guest_ptr(mem, l->used, 6 + 8 * n);
	if (!out->desc || !out->avail || !out->used) {
		*why = "ring outside guest RAM";
		return -EINVAL;
	}
	return 0;
}

int virtq_enable(struct virtq *q, const struct virtq_layout *l, uint16_t max_size,
		 bool event_idx, bool indirect, const char **why)
{
	struct virtq_rings r;

	if (virtq_map_layout(q->mem, l, max_size, &r, why) < 0)
		return -EINVAL;

	pthread_mutex_lock(&q->lock);
	q->size = l->size;
	q->desc = r.desc;
	q->avail = r.avail;
	q->used = r.used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->need_notify = false;
	q->broken = false;
	q->ready = true;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void virtq_reset(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	q->ready = false;
	q->broken = false;
	q->size = 0;
	q->desc = NULL;
	q->avail = NULL;
	q->used = NULL;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->signalled_valid = false;
	q->need_notify = false;
	q->generation++;
	pthread_mutex_unlock(&q->lock);
}

bool virtq_is_ready(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	bool ready = q->ready && !q->broken;
	pthread_mutex_unlock(&q->lock);
	return ready;
}

uint16_t virtq_size(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	uint16_t size = q->ready ? q->size : 0;
	pthread_mutex_unlock(&q->lock);
	return size;
}

/* One copy of a descriptor: the guest may rewrite it while we look, so every
 * check and use below works on this copy only.  The compiler barrier stops
 * the compiler from re-reading guest memory instead of the copy. */
static struct vring_desc read_desc(const struct vring_desc *src)
{
	struct vring_desc d;
	memcpy(&d, src, sizeof(d));
	__asm__ __volatile__("" ::: "memory");
	d.addr = le64toh(d.addr);
	d.len = le32toh(d.len);
	d.flags = le16toh(d.flags);
	d.next = le16toh(d.next);
	return d;
}

/* Walks the chain starting at `head` into req.  Returns NULL or why the
 * chain is malformed.  Caller holds q->lock. */
static const char *walk_chain(struct virtq *q, uint16_t head, struct virtq_req *req)
{
	const struct vring_desc *table = q->desc;
	uint32_t table_len = q->size;
	uint32_t budget = q->size;	/* visits left in this table: loop detection */
	uint32_t idx = head;
	bool in_indirect = false, seen_writable = false;
	unsigned nr = 0;

	req->readable_len = req->writable_len = 0;
	for (;;) {
		if (idx >= table_len)
			return "descriptor index out of range";
		if (budget-- == 0)
			return "descriptor chain loops or exceeds the queue size";
		struct vring_desc d = read_desc(&table[idx]);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect)
				return "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC";
			if (in_indirect)
				return "nested indirect descriptor";
			if (d.flags & VRING_DESC_F_NEXT)
				return "indirect descriptor with NEXT set";
			if (d.len == 0 || d.len % sizeof(struct vring_desc))
				return "indirect table length not a multiple of 16";
			if (d.len / sizeof(struct vring_desc) > VIRTQ_MAX_SIZE)
				return "indirect table too long";
			table = guest_ptr(q->mem, d.addr, d.len);
			if (!table)
				return "indirect table outside guest RAM";
			table_len = budget = d.len / sizeof(struct vring_desc);
			in_indirect = true;
			idx = 0;
			continue;
		}

		if (d.flags & VRING_DESC_F_WRITE)
			seen_writable = true;
		else if (seen_writable)
			return "device-readable descriptor after a writable one";
		/* Zero-length buffers carry nothing; skipping them spares
		 * devices from empty iovecs. */
		if (d.len) {
			void *p = guest_ptr(q->mem, d.addr, d.len);
			if (!p)
				return "buffer outside guest RAM";
			if (nr >= VIRTQ_MAX_SIZE)
				return "descriptor chain too long";
			req->iov[nr].iov_base = p;
			req->iov[nr].iov_len = d.len;
			nr++;
			if (d.flags & VRING_DESC_F_WRITE) {
				req->writable_len += d.len;
			} else {
				req->readable_len += d.len;
				req->nr_readable = nr;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	req->nr_writable = nr - req->nr_readable;
	return NULL;
}

int virtq_pop(struct virtq *q, struct virtq_req *req)
{
	const char *why;

	pthread_mutex_lock(&q->lock);
	if (!q->ready) {
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	if (q->broken) {
		pthread_mutex_unlock(&q->lock);
		return -EIO;
	}

	uint16_t avail_idx = le16toh(load_acquire16(&q->avail->idx));
	if (avail_idx == q->last_avail) {
		if (!q->event_idx) {
			pthread_mutex_unlock(&q->lock);
			return 0;
		}
		/* Going idle: ask for a kick at the next entry, then look
		 * again in case the driver added one before seeing it. */
		store_relaxed16(avail_event_word(q), htole16(q->last_avail));
		full_fence();
		avail_idx = le16toh(load_acquire16(&q->avail->idx));
		if (avail_idx == q->last_avail) {
			pthread_mutex_unlock(&q->lock);
			return 0;
		}
	}
	if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
		why = "available index moved by more than the queue size";
		goto broken;
	}

	uint16_t head = le16toh(load_relaxed16(&q->avail->ring[q->last_avail & (q->size - 1)]));
	req->head = head;
	req->nr_readable = req->nr_writable = 0;
	why = walk_chain(q, head, req);
	if (why)
		goto broken;
	req->generation = q->generation;
	q->last_avail++;
	pthread_mutex_unlock(&q->lock);
	return 1;

broken:
	q->broken = true;
	pthread_mutex_unlock(&q->lock);
	if (q->ops && q->ops->broken)
		q->ops->broken(q, why);
	return -EIO;
}

void virtq_push(struct virtq *q, const struct virtq_req *req, uint32_t written)
{
	virtq_push_token(q, virtq_req_token(req), written);
}

void virtq_push_token(struct virtq *q, struct virtq_used_token t, uint32_t written)
{
	pthread_mutex_lock(&q->lock);
	/* A request from before a reset belongs to no ring any more. */
	if (!q->ready || q->broken || t.generation != q->generation) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	if (written > t.writable_len)
		written = (uint32_t)t.writable_len;
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	e->id = htole32(t.head);
	e->len = htole32(written);
	q->used_idx++;
	store_release16(&q->used->idx, htole16(q->used_idx));
	q->need_notify = true;
	pthread_mutex_unlock(&q->lock);
}

/* True when `new_idx` has passed `event` since `old` (virtio §2.7.10). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_notify(struct virtq *q)
{
	bool need = false;

	pthread_mutex_lock(&q->lock);
	if (!q->ready || q->broken || !q->need_notify) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	q->need_notify = false;
	/* Our used->idx store must be visible before we read the driver's
	 * suppression state, or both sides could wait for each other. */
	full_fence();
	if (q->event_idx) {
		uint16_t used_event = le16toh(load_relaxed16(used_event_word(q)));
		uint16_t old = q->signalled_used;
		bool valid = q->signalled_valid;
		q->signalled_used = q->used_idx;
		q->signalled_valid = true;
		need = !valid || need_event(used_event, q->used_idx, old);
	} else {
		need = !(le16toh(load_relaxed16(&q->avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	pthread_mutex_unlock(&q->lock);

	if (need && q->ops && q->ops->interrupt)
		q->ops->interrupt(q);
	return need;
}

void virtq_describe(struct virtq *q, FILE *out)
{
	pthread_mutex_lock(&q->lock);
	fprintf(out, "{\"index\":%u,\"ready\":%s,\"broken\":%s", q->index,
		json_bool(q->ready), json_bool(q->broken));
	if (q->ready) {
		fprintf(out,
			",\"size\":%u,\"event_idx\":%s,\"last_avail\":%u,\"avail_idx\":%u,"
			"\"avail_flags\":%u,\"used_idx\":%u,\"used_event\":%u,\"avail_event\":%u,"
			"\"signalled_used\":%u,\"need_notify\":%s",
			q->size, json_bool(q->event_idx), q->last_avail,
			le16toh(load_acquire16(&q->avail->idx)),
			le16toh(load_relaxed16(&q->avail->flags)), q->used_idx,
			le16toh(load_relaxed16(used_event_word(q))),
			le16toh(load_relaxed16(avail_event_word(q))),
			q->signalled_used, json_bool(q->need_notify));
	}
	pthread_mutex_unlock(&q->lock);
	fputc('}', out);
}

size_t virtq_req_read(const struct virtq_req *req, size_t offset, void *dst, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < req->nr_readable && done < len; i++) {
		const struct iovec *v = &req->iov[i];
		if (offset >= v->iov_len) {
			offset -= v->iov_len;
			continue;
		}
		size_t n = v->iov_len - offset;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)dst + done, (uint8_t *)v->iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t virtq_req_write(const struct virtq_req *req, size_t offset, const void *src, size_t len)
{
	size_t done = 0;

	for (unsigned i = req->nr_readable; i < req->nr_readable + req->nr_writable && done < len; i++) {
		const struct iovec *v = &req->iov[i];
		if (offset >= v->iov_len) {
			offset -= v->iov_len;
			continue;
		}
		size_t n = v->iov_len - offset;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)v->iov_base + offset, (const uint8_t *)src + done, n);
		done += n;
		offset = 0;
	}
	return done;
}
