#include "log.h"
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm.h"

static void queue_interrupt(struct virtq *q)
{
	struct virtio_device *vdev = q->opaque;
	if (vdev->transport)
		vdev->transport->queue_interrupt(vdev, q->index);
}

static void queue_broken(struct virtq *q, const char *why)
{
	struct virtio_device *vdev = q->opaque;
	char msg[160];
	snprintf(msg, sizeof(msg), "queue %u: %s", q->index, why);
	virtio_device_needs_reset(vdev, msg);
}

static const struct virtq_ops core_virtq_ops = {
	.interrupt = queue_interrupt,
	.broken = queue_broken,
};

/* I/O loop thread: a guest notify arrived for this queue. */
static void kick_handler(void *opaque)
{
	struct virtq *q = opaque;
	struct virtio_device *vdev = q->opaque;
	eventfd_t count;

	if (eventfd_read(vdev->kick_fds[q->index], &count) < 0)
		return;	/* spurious wake-up: nothing to consume */
	uint8_t status = atomic_load(&vdev->status);
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	    vdev->ops->queue_notify)
		vdev->ops->queue_notify(vdev, q->index);
}

static void reset_layouts(struct virtio_device *vdev)
{
	for (uint16_t i = 0; i < vdev->ops->nr_queues; i++)
		vdev->layouts[i] = (struct virtq_layout){ .size = vdev->ops->queue_max_size };
}

static void release(struct virtio_device *vdev, uint16_t nr_kick_fds)
{
	for (uint16_t i = 0; i < nr_kick_fds; i++) {
		/* Closing the last reference also drops it from the epoll set. */
		close(vdev->kick_fds[i]);
	}
	if (vdev->queues)
		for (uint16_t i = 0; i < vdev->ops->nr_queues; i++)
			virtq_destroy(&vdev->queues[i]);
	free(vdev->kick_fds);
	free(vdev->layouts);
	free(vdev->queues);
	free(vdev->config);
	vdev->kick_fds = NULL;
	vdev->layouts = NULL;
	vdev->queues = NULL;
	vdev->config = NULL;
	pthread_mutex_destroy(&vdev->lock);
}

int virtio_device_init(struct virtio_device *vdev, struct vm *vm,
		       const struct virtio_device_ops *ops, novm_error_t *err)
{
	uint16_t n = ops->nr_queues;

	if (!n || !ops->queue_max_size || ops->queue_max_size > VIRTQ_MAX_SIZE ||
	    (ops->queue_max_size & (ops->queue_max_size - 1)) || !ops->destroy)
		return novm_error(err, EINVAL, "%s: invalid device description", ops->name);

	memset(vdev, 0, sizeof(*vdev));
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->vm = vm;
	vdev->ops = ops;
	vdev->host_features = ops->features | VIRTIO_CORE_FEATURES;
	vdev->config = calloc(1, ops->config_size ? ops->config_size : 1);
	vdev->queues = calloc(n, sizeof(*vdev->queues));
	vdev->layouts = calloc(n, sizeof(*vdev->layouts));
	vdev->kick_fds = calloc(n, sizeof(*vdev->kick_fds));
	if (!vdev->config || !vdev->queues || !vdev->layouts || !vdev->kick_fds) {
		free(vdev->queues);
		vdev->queues = NULL;	/* not initialised: release must skip them */
		release(vdev, 0);
		return novm_error(err, ENOMEM, "%s: allocate queues", ops->name);
	}
	for (uint16_t i = 0; i < n; i++)
		virtq_init(&vdev->queues[i], &vm->mem, &core_virtq_ops, vdev, i);
	reset_layouts(vdev);

	for (uint16_t i = 0; i < n; i++) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			int e = errno;
			release(vdev, i);
			return novm_error(err, e, "%s: eventfd", ops->name);
		}
		vdev->kick_fds[i] = fd;
		int ret = ioloop_add(&vm->loop, fd, kick_handler, &vdev->queues[i]);
		if (ret < 0) {
			release(vdev, i + 1);
			return novm_error(err, -ret, "%s: watch queue %u", ops->name, i);
		}
	}
	return 0;
}

static void reset_locked(struct virtio_device *vdev)
{
	/* Stop the rings first so no new request can be popped, then let the
	 * device wait for the ones in flight: after this the driver may reuse
	 * every buffer. */
	for (uint16_t i = 0; i < vdev->ops->nr_queues; i++)
		virtq_reset(&vdev->queues[i]);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	reset_layouts(vdev);
	vdev->guest_features = 0;
	vdev->activated = false;
	atomic_store(&vdev->status, 0);
}

void virtio_device_exit(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	reset_locked(vdev);
	pthread_mutex_unlock(&vdev->lock);
	release(vdev, vdev->ops->nr_queues);
	vdev->ops->destroy(vdev);
}

uint8_t virtio_get_status(struct virtio_device *vdev)
{
	return atomic_load(&vdev->status);
}

static bool features_acceptable(struct virtio_device *vdev)
{
	return !(vdev->guest_features & ~vdev->host_features) &&
	       (vdev->guest_features & (1ULL << VIRTIO_F_VERSION_1));
}

void virtio_set_status_locked(struct virtio_device *vdev, uint8_t value)
{
	if (value == 0) {
		reset_locked(vdev);
		return;
	}

	uint8_t old = atomic_load(&vdev->status);
	/* The driver only ever adds bits (§2.1.2); NEEDS_RESET is ours. */
	uint8_t add = value & ~old & ~VIRTIO_CONFIG_S_NEEDS_RESET;

	if ((add & VIRTIO_CONFIG_S_FEATURES_OK) && !features_acceptable(vdev))
		add &= ~VIRTIO_CONFIG_S_FEATURES_OK;

	if (add & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!((old | add) & VIRTIO_CONFIG_S_FEATURES_OK)) {
			atomic_fetch_or(&vdev->status, add);
			virtio_device_needs_reset(vdev, "DRIVER_OK without FEATURES_OK");
			return;
		}
		if (!vdev->activated && vdev->ops->activate && vdev->ops->activate(vdev) < 0) {
			atomic_fetch_or(&vdev->status, add);
			virtio_device_needs_reset(vdev, "device activation failed");
			return;
		}
		vdev->activated = true;
	}
	atomic_fetch_or(&vdev->status, add);

	/* Buffers queued before DRIVER_OK may have had their kick ignored. */
	if (add & VIRTIO_CONFIG_S_DRIVER_OK)
		for (uint16_t i = 0; i < vdev->ops->nr_queues; i++)
			if (virtq_is_ready(&vdev->queues[i]))
				virtio_queue_kick(vdev, i);
}

uint32_t virtio_device_features_locked(struct virtio_device *vdev, uint32_t select)
{
	return select < 2 ? (uint32_t)(vdev->host_features >> (32 * select)) : 0;
}

uint32_t virtio_driver_features_locked(struct virtio_device *vdev, uint32_t select)
{
	return select < 2 ? (uint32_t)(vdev->guest_features >> (32 * select)) : 0;
}

void virtio_set_driver_features_locked(struct virtio_device *vdev, uint32_t select, uint32_t value)
{
	/* Negotiation is over once FEATURES_OK is set. */
	if (select >= 2 || (atomic_load(&vdev->status) & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	uint64_t mask = 0xffffffffULL << (32 * select);
	vdev->guest_features = (vdev->guest_features & ~mask) | ((uint64_t)value << (32 * select));
}

struct virtq_layout *virtio_queue_layout_locked(struct virtio_device *vdev, uint16_t index)
{
	return index < vdev->ops->nr_queues ? &vdev->layouts[index] : NULL;
}

bool virtio_queue_enabled_locked(struct virtio_device *vdev, uint16_t index)
{
	return index < vdev->ops->nr_queues && virtq_is_ready(&vdev->queues[index]);
}

void virtio_queue_enable_locked(struct virtio_device *vdev, uint16_t index)
{
	const char *why;

	if (index >= vdev->ops->nr_queues || virtq_is_ready(&vdev->queues[index]))
		return;
	bool event_idx = vdev->guest_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	bool indirect = vdev->guest_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (virtq_enable(&vdev->queues[index], &vdev->layouts[index], vdev->ops->queue_max_size,
			 event_idx, indirect, &why) < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "queue %u: %s", index, why);
		virtio_device_needs_reset(vdev, msg);
	}
}

static bool config_range_ok(struct virtio_device *vdev, uint32_t offset, uint32_t len)
{
	return offset <= vdev->ops->config_size && len <= vdev->ops->config_size - offset;
}

void virtio_config_read_locked(struct virtio_device *vdev, uint32_t offset, uint8_t *data,
			       uint32_t len)
{
	if (config_range_ok(vdev, offset, len))
		memcpy(data, vdev->config + offset, len);
	else
		memset(data, 0, len);
}

void virtio_config_write_locked(struct virtio_device *vdev, uint32_t offset, const uint8_t *data,
				uint32_t len)
{
	if (!config_range_ok(vdev, offset, len) || !vdev->ops->config_write)
		return;	/* read-only unless the device says otherwise */
	memcpy(vdev->config + offset, data, len);
	vdev->ops->config_write(vdev, offset, len);
}

int virtio_queue_kick_fd(struct virtio_device *vdev, uint16_t index)
{
	return index < vdev->ops->nr_queues ? vdev->kick_fds[index] : -1;
}

void virtio_queue_kick(struct virtio_device *vdev, uint16_t index)
{
	if (index < vdev->ops->nr_queues)
		eventfd_write(vdev->kick_fds[index], 1);
}

int virtio_queue_call_get(struct virtio_device *vdev, uint16_t index)
{
	if (index >= vdev->ops->nr_queues)
		return -EINVAL;
	if (!vdev->transport || !vdev->transport->queue_call_get)
		return -EOPNOTSUPP;
	return vdev->transport->queue_call_get(vdev, index);
}

void virtio_queue_call_put(struct virtio_device *vdev, uint16_t index)
{
	if (index < vdev->ops->nr_queues && vdev->transport && vdev->transport->queue_call_put)
		vdev->transport->queue_call_put(vdev, index);
}

int virtio_queue_kick_watch(struct virtio_device *vdev, uint16_t index, bool watch)
{
	if (index >= vdev->ops->nr_queues)
		return -EINVAL;
	int fd = vdev->kick_fds[index];
	return watch ? ioloop_add(&vdev->vm->loop, fd, kick_handler, &vdev->queues[index])
		     : ioloop_remove(&vdev->vm->loop, fd);
}

void virtio_device_describe(struct virtio_device *vdev, FILE *out)
{
	/* Not vdev->lock: this may run on the I/O loop, which must never
	 * take it.  The status is atomic; the rest has locks of its own. */
	fprintf(out, "{\"device\":\"%s\",\"status\":%u,\"queues\":[", vdev->ops->name,
		(unsigned)atomic_load(&vdev->status));
	for (uint16_t i = 0; i < vdev->ops->nr_queues; i++) {
		if (i)
			fputc(',', out);
		virtq_describe(&vdev->queues[i], out);
	}
	fputc(']', out);
	if (vdev->ops->describe)
		vdev->ops->describe(vdev, out);
	fputc('}', out);
}

void virtio_device_needs_reset(struct virtio_device *vdev, const char *why)
{
	uint8_t old = atomic_fetch_or(&vdev->status, VIRTIO_CONFIG_S_NEEDS_RESET);
	if (old & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	/* The guest broke the protocol; say why once, keep the VM running. */
	log_msg(LOG_LEVEL_WARNING, "%s: device needs reset: %s", vdev->ops->name, why);
	if ((old & VIRTIO_CONFIG_S_DRIVER_OK) && vdev->transport)
		vdev->transport->config_interrupt(vdev);
}

void virtio_config_changed_locked(struct virtio_device *vdev)
{
	vdev->config_generation++;
	if ((atomic_load(&vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK) && vdev->transport)
		vdev->transport->config_interrupt(vdev);
}
