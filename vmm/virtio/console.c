#include "virtio/console.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "jsonstr.h"
#include "devices/pci.h"
#include "kvm.h"
#include "virtio/core.h"
#include "virtio/pci.h"

#define RECEIVE_QUEUE 0		/* host to guest */
#define TRANSMIT_QUEUE 1	/* guest to host */
#define CONSOLE_QUEUE_SIZE 128
/* Guest bytes are copied out of guest memory in pieces this big before the
 * callback sees them, so the guest cannot change them under its feet. */
#define TRANSMIT_CHUNK 16384
#define PENDING_MIN_CAPACITY (64u << 10)
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000

struct virtio_console {
	struct virtio_device vdev;	/* first: the core hands us this pointer */
	const struct virtio_console_ops *ops;
	void *opaque;

	/* Held while the I/O loop serves a queue, so a reset waits for it. */
	pthread_mutex_t serve_lock;
	struct virtq_req req;
	uint8_t chunk[TRANSMIT_CHUNK];

	/* Bytes for the guest: a ring buffer growing up to
	 * VIRTIO_CONSOLE_MAX_PENDING.  Inside serve_lock when both are held. */
	pthread_mutex_t pending_lock;
	uint8_t *buf;
	size_t capacity, head, len;
	bool refused;	/* a send got -EAGAIN: ops->writable is owed */
};

static struct virtio_console *from_vdev(struct virtio_device *vdev)
{
	return (struct virtio_console *)vdev;
}

/* --- the pending bytes (pending_lock held) --- */

static int pending_reserve(struct virtio_console *con, size_t need)
{
	if (need <= con->capacity)
		return 0;
	size_t capacity = con->capacity ? con->capacity : PENDING_MIN_CAPACITY;
	while (capacity < need)
		capacity *= 2;
	if (capacity > VIRTIO_CONSOLE_MAX_PENDING)
		capacity = VIRTIO_CONSOLE_MAX_PENDING;
	uint8_t *buf = malloc(capacity);
	if (!buf)
		return -ENOMEM;
	/* Unwrapped into the new buffer. */
	size_t first = con->len < con->capacity - con->head ? con->len : con->capacity - con->head;
	if (con->len) {
		memcpy(buf, con->buf + con->head, first);
		memcpy(buf + first, con->buf, con->len - first);
	}
	free(con->buf);
	con->buf = buf;
	con->capacity = capacity;
	con->head = 0;
	return 0;
}

static void pending_append(struct virtio_console *con, const uint8_t *data, size_t n)
{
	size_t tail = (con->head + con->len) % con->capacity;
	size_t first = n < con->capacity - tail ? n : con->capacity - tail;

	memcpy(con->buf + tail, data, first);
	memcpy(con->buf, data + first, n - first);
	con->len += n;
}

/* Moves as many pending bytes as fit into the request's writable buffers;
 * returns how many. */
static size_t pending_to_guest(struct virtio_console *con, const struct virtq_req *req)
{
	size_t want = con->len < req->writable_len ? con->len : (size_t)req->writable_len;
	size_t first = want < con->capacity - con->head ? want : con->capacity - con->head;
	size_t done = virtq_req_write(req, 0, con->buf + con->head, first);

	if (done == first && want > first)
		done += virtq_req_write(req, first, con->buf, want - first);
	con->head = (con->head + done) % con->capacity;
	con->len -= done;
	if (!con->len) {
		con->head = 0;
		/* Do not keep a burst's worth of memory around. */
		if (con->capacity > PENDING_MIN_CAPACITY) {
			free(con->buf);
			con->buf = NULL;
			con->capacity = 0;
		}
	}
	return done;
}

/* --- sending --- */

int virtio_console_sendv(struct virtio_console *con, const struct iovec *iov, int cnt)
{
	size_t total = 0;

	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > VIRTIO_CONSOLE_MAX_PENDING - total)
			return -EMSGSIZE;
		total += iov[i].iov_len;
	}
	if (!total)
		return 0;

	pthread_mutex_lock(&con->pending_lock);
	if (total > VIRTIO_CONSOLE_MAX_PENDING - con->len) {
		con->refused = true;
		pthread_mutex_unlock(&con->pending_lock);
		return -EAGAIN;
	}
	if (pending_reserve(con, con->len + total) < 0) {
		pthread_mutex_unlock(&con->pending_lock);
		return -ENOMEM;
	}
	for (int i = 0; i < cnt; i++)
		if (iov[i].iov_len)
			pending_append(con, iov[i].iov_base, iov[i].iov_len);
	pthread_mutex_unlock(&con->pending_lock);

	/* Delivery happens on the I/O loop, like a guest kick: rings are only
	 * ever filled from there. */
	virtio_queue_kick(&con->vdev, RECEIVE_QUEUE);
	return 0;
}

int virtio_console_send(struct virtio_console *con, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	return virtio_console_sendv(con, &iov, 1);
}

/* --- device ops --- */

/* I/O loop thread, serve_lock held.  Pops a receive buffer only when there
 * is something to put in it: with EVENT_IDX the guest then stops kicking
 * for new buffers, and the next send kicks this queue itself. */
static void serve_receive(struct virtio_console *con, struct virtq *q)
{
	bool owe_writable = false;

	for (;;) {
		pthread_mutex_lock(&con->pending_lock);
		bool have = con->len > 0;
		pthread_mutex_unlock(&con->pending_lock);
		if (!have || virtq_pop(q, &con->req) <= 0)
			break;

		/* Only this thread takes bytes out, so they are still there. */
		pthread_mutex_lock(&con->pending_lock);
		size_t n = pending_to_guest(con, &con->req);
		if (con->refused && con->len <= VIRTIO_CONSOLE_MAX_PENDING / 2) {
			con->refused = false;
			owe_writable = true;
		}
		pthread_mutex_unlock(&con->pending_lock);
		virtq_push(q, &con->req, (uint32_t)n);
	}
	virtq_notify(q);
	if (owe_writable && con->ops->writable)
		con->ops->writable(con->opaque);
}

/* I/O loop thread, serve_lock held. */
static void serve_transmit(struct virtio_console *con, struct virtq *q)
{
	while (virtq_pop(q, &con->req) > 0) {
		size_t offset = 0, n;
		while ((n = virtq_req_read(&con->req, offset, con->chunk, sizeof(con->chunk))) > 0) {
			con->ops->receive(con->opaque, con->chunk, n);
			offset += n;
		}
		virtq_push(q, &con->req, 0);
	}
	virtq_notify(q);
}

static void console_queue_notify(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_console *con = from_vdev(vdev);
	struct virtq *q = &vdev->queues[index];

	pthread_mutex_lock(&con->serve_lock);
	if (index == RECEIVE_QUEUE)
		serve_receive(con, q);
	else
		serve_transmit(con, q);
	pthread_mutex_unlock(&con->serve_lock);
}

/* vCPU thread, vdev->lock held: waits out a queue being served.  Pending
 * bytes stay: the next driver gets them. */
static void console_reset(struct virtio_device *vdev)
{
	struct virtio_console *con = from_vdev(vdev);

	pthread_mutex_lock(&con->serve_lock);
	pthread_mutex_unlock(&con->serve_lock);
}

static void console_describe(struct virtio_device *vdev, FILE *out)
{
	struct virtio_console *con = from_vdev(vdev);

	pthread_mutex_lock(&con->pending_lock);
	fprintf(out, ",\"pending_bytes\":%zu,\"refused\":%s", con->len,
		json_bool(con->refused));
	pthread_mutex_unlock(&con->pending_lock);
}

static void console_destroy(struct virtio_device *vdev)
{
	struct virtio_console *con = from_vdev(vdev);

	free(con->buf);
	pthread_mutex_destroy(&con->pending_lock);
	pthread_mutex_destroy(&con->serve_lock);
	free(con);
}

static const struct virtio_device_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = PCI_CLASS_COMMUNICATION_OTHER,
	.features = 0,	/* no SIZE, MULTIPORT or EMERG_WRITE */
	.nr_queues = 2,
	.queue_max_size = CONSOLE_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_console_config),
	.reset = console_reset,
	.queue_notify = console_queue_notify,
	.describe = console_describe,
	.destroy = console_destroy,
};

int virtio_console_init(struct vm *vm, const struct virtio_console_ops *ops, void *opaque,
			struct virtio_console **out, novm_error_t *err)
{
	if (!ops || !ops->receive)
		return novm_error(err, EINVAL, "virtio-console: no receive callback");
	struct virtio_console *con = calloc(1, sizeof(*con));
	if (!con)
		return novm_error(err, ENOMEM, "virtio-console: allocate");
	con->ops = ops;
	con->opaque = opaque;
	pthread_mutex_init(&con->serve_lock, NULL);
	pthread_mutex_init(&con->pending_lock, NULL);
	if (virtio_device_init(&con->vdev, vm, &console_ops, err) < 0) {
		console_destroy(&con->vdev);
		return -1;
	}
	/* Without features every field is meaningless to the driver; the
	 * one port there is says so anyway. */
	struct virtio_console_config config = { .max_nr_ports = htole32(1) };
	memcpy(con->vdev.config, &config, sizeof(config));
	if (virtio_pci_add(vm, &con->vdev, err) < 0) {
		virtio_device_exit(&con->vdev);	/* frees con */
		return -1;
	}
	*out = con;
	return 0;
}

void virtio_console_exit(struct virtio_console *con)
{
	if (!con)
		return;
	virtio_pci_remove(&con->vdev);	/* frees con */
}
