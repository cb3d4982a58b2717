/* The virtio device model shared by every device and transport: status state
 * machine, feature negotiation, device configuration space, queue setup and
 * the kick path.  A device embeds struct virtio_device and supplies a const
 * ops table; a transport (virtio-pci) maps its registers onto the functions
 * below and delivers the interrupts.  A device never knows its transport.
 *
 * Threads and locking:
 *   - vdev->lock guards the register state (features, queue layouts, config
 *     bytes, activation).  Transports take it around each register access and
 *     call the *_locked functions; devices take it to change their config.
 *   - Kicks: each queue has an eventfd that the transport wires to the
 *     guest's notify address (ioeventfd, or written by the MMIO handler).  The
 *     I/O loop thread reads it and calls ops->queue_notify, so queue_notify
 *     always runs on the loop thread; a device may hand work to its own
 *     threads from there.  vdev->lock is NOT held during queue_notify, and the
 *     kick path must never take it (reset holds it while waiting for the
 *     device to quiesce).
 *   - ops->reset runs on a vCPU thread with vdev->lock held, after the queues
 *     were stopped.  When it returns, no thread of the device may touch guest
 *     buffers any more.
 * Lock order: pci bus lock > vdev->lock > device locks > virtq lock > MSI-X lock.
 */
#ifndef NOVM_VIRTIO_CORE_H
#define NOVM_VIRTIO_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/virtio_config.h>

#include "error.h"
#include "virtio/queue.h"

struct vm;
struct virtio_device;

struct virtio_device_ops {
	const char *name;		/* for messages: "virtio-rng" */
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t pci_class;		/* class code for the PCI transport */
	uint64_t features;		/* device-specific feature bits offered */
	uint16_t nr_queues;
	uint16_t queue_max_size;	/* <= VIRTQ_MAX_SIZE, power of two */
	uint32_t config_size;		/* bytes of device configuration space */

	/* Guest wrote the config space (bytes already stored in vdev->config);
	 * vdev->lock held.  Optional. */
	void (*config_write)(struct virtio_device *vdev, uint32_t offset, uint32_t len);
	/* The driver set DRIVER_OK; vdev->lock held.  Optional.  Failing marks
	 * the device NEEDS_RESET. */
	int (*activate)(struct virtio_device *vdev);
	/* The driver reset the device; vdev->lock held.  The queues are already
	 * stopped (pop finds nothing, push is dropped); must wait until no
	 * thread still touches buffers of requests popped before.  Optional. */
	void (*reset)(struct virtio_device *vdev);
	/* The driver kicked queue `index`; runs on the I/O loop thread. */
	void (*queue_notify)(struct virtio_device *vdev, uint16_t index);
	/* Writes the device's own state for a diagnosis as JSON object
	 * members, each preceded by a comma; any thread.  Optional. */
	void (*describe)(struct virtio_device *vdev, FILE *out);
	/* The driver moved queue `index` to another interrupt vector while a
	 * backend holds its call fd (virtio_queue_call_get): `fd` is the new
	 * one, -1 for none.  vdev->lock held.  Optional. */
	void (*queue_call_changed)(struct virtio_device *vdev, uint16_t index, int fd);
	/* Frees the device's own state, including the struct embedding vdev;
	 * called last by virtio_device_exit.  Required. */
	void (*destroy)(struct virtio_device *vdev);
};

/* What the core needs from a transport: interrupts.  Called from any thread,
 * without vdev->lock necessarily held; must not take vdev->lock. */
struct virtio_transport_ops {
	void (*queue_interrupt)(struct virtio_device *vdev, uint16_t index);
	void (*config_interrupt)(struct virtio_device *vdev);
	/* For a backend outside the VMM (vhost): an eventfd whose writes
	 * raise queue `index`'s interrupt, -ENOENT while the queue has no
	 * vector (the queue is held all the same), other -errno on failure.
	 * vdev->lock held.  Optional. */
	int (*queue_call_get)(struct virtio_device *vdev, uint16_t index);
	void (*queue_call_put)(struct virtio_device *vdev, uint16_t index);
};

struct virtio_device {
	pthread_mutex_t lock;
	struct vm *vm;
	const struct virtio_device_ops *ops;
	const struct virtio_transport_ops *transport;
	void *transport_opaque;

	/* Written under lock; NEEDS_RESET may be set from any thread, so
	 * every change is an atomic read-modify-write. */
	_Atomic uint8_t status;
	uint64_t host_features;
	uint64_t guest_features;
	uint8_t config_generation;
	uint8_t *config;		/* ops->config_size bytes, little endian */

	struct virtq *queues;		/* ops->nr_queues */
	struct virtq_layout *layouts;	/* driver-written, applied at enable */
	int *kick_fds;			/* eventfd per queue */
	bool activated;
};

/* Offered to every device on top of ops->features. */
#define VIRTIO_CORE_FEATURES \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (1ULL << VIRTIO_RING_F_EVENT_IDX))

/* Sets up vdev (embedded in the caller's device struct) and registers the
 * queue kick eventfds with vm->loop.  On failure everything is undone except
 * the caller's own allocation. */
int virtio_device_init(struct virtio_device *vdev, struct vm *vm,
		       const struct virtio_device_ops *ops, novm_error_t *err);
/* Quiesces the device (ops->reset), releases the core's resources and calls
 * ops->destroy.  The I/O loop thread must already be stopped. */
void virtio_device_exit(struct virtio_device *vdev);

/* --- transport side; the caller holds vdev->lock --- */

uint8_t virtio_get_status(struct virtio_device *vdev);
/* Writing 0 resets the device.  Other values may only add bits; setting
 * FEATURES_OK validates the negotiated features (the bit stays clear when
 * they are unacceptable) and DRIVER_OK activates the device. */
void virtio_set_status_locked(struct virtio_device *vdev, uint8_t status);
uint32_t virtio_device_features_locked(struct virtio_device *vdev, uint32_t select);
uint32_t virtio_driver_features_locked(struct virtio_device *vdev, uint32_t select);
void virtio_set_driver_features_locked(struct virtio_device *vdev, uint32_t select, uint32_t value);

/* NULL for an index beyond the device's queues.  Fields may be written while
 * the queue is not enabled. */
struct virtq_layout *virtio_queue_layout_locked(struct virtio_device *vdev, uint16_t index);
bool virtio_queue_enabled_locked(struct virtio_device *vdev, uint16_t index);
/* Starts the queue with its layout; a bad layout marks the device
 * NEEDS_RESET and leaves the queue disabled. */
void virtio_queue_enable_locked(struct virtio_device *vdev, uint16_t index);

void virtio_config_read_locked(struct virtio_device *vdev, uint32_t offset, uint8_t *data,
			       uint32_t len);
void virtio_config_write_locked(struct virtio_device *vdev, uint32_t offset, const uint8_t *data,
				uint32_t len);

int virtio_queue_kick_fd(struct virtio_device *vdev, uint16_t index);
/* Any thread: schedules queue_notify on the I/O loop (used when the notify
 * write reaches us as an MMIO exit instead of an ioeventfd). */
void virtio_queue_kick(struct virtio_device *vdev, uint16_t index);

/* For a device whose queues an in-kernel backend serves (vhost).  Under
 * vdev->lock: the transport's queue_call_get/put (-EOPNOTSUPP without
 * them); the kick fd's watch by the I/O loop on or off (off: the backend
 * alone consumes the kicks). */
int virtio_queue_call_get(struct virtio_device *vdev, uint16_t index);
void virtio_queue_call_put(struct virtio_device *vdev, uint16_t index);
int virtio_queue_kick_watch(struct virtio_device *vdev, uint16_t index, bool watch);

/* Writes the device's state as one JSON object: name, status, every queue
 * (virtq_describe), then the device's own members.  Any thread; for
 * diagnosing a stalled device. */
void virtio_device_describe(struct virtio_device *vdev, FILE *out);

/* --- device side --- */

/* Any thread: the device hit an unrecoverable error (or the driver broke a
 * queue); sets NEEDS_RESET and interrupts the driver. */
void virtio_device_needs_reset(struct virtio_device *vdev, const char *why);
/* Device changed vdev->config (holding vdev->lock): bumps the generation and
 * interrupts the driver. */
void virtio_config_changed_locked(struct virtio_device *vdev);

#endif
