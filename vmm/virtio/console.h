/* virtio-console (virtio 1.2 §5.3) with a single port and no features: a
 * byte pipe between the guest's /dev/hvc0 and the host, used as the agent
 * channel.  Queue 0 (receiveq) carries host bytes into buffers the guest
 * posts; queue 1 (transmitq) carries what the guest writes.
 *
 * /dev/hvc0 is a tty: the guest side must put it in raw mode, or its line
 * discipline echoes and rewrites bytes. */
#ifndef NOVM_VIRTIO_CONSOLE_H
#define NOVM_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "error.h"

struct vm;
struct virtio_console;

/* Host bytes waiting for guest buffers, at most. */
#define VIRTIO_CONSOLE_MAX_PENDING (4u << 20)

struct virtio_console_ops {
	/* The guest wrote `len` bytes (a copy, not guest memory; any split).
	 * I/O loop thread; keep it short, and do not call
	 * virtio_console_exit() from it (virtio_console_send() is fine). */
	void (*receive)(void *opaque, const uint8_t *data, size_t len);
	/* Optional: a send was refused with -EAGAIN and at least half of
	 * VIRTIO_CONSOLE_MAX_PENDING is free again.  I/O loop thread. */
	void (*writable)(void *opaque);
};

/* Creates the device on vm->pci (pci_init first), before the I/O loop thread
 * starts.  The PCI bus owns it from then on. */
int virtio_console_init(struct vm *vm, const struct virtio_console_ops *ops, void *opaque,
			struct virtio_console **out, novm_error_t *err);

/* Queues a copy of the bytes for the guest; they go out as the guest posts
 * receive buffers (bytes queued before the guest driver is up, or across a
 * device reset, are kept).  All or nothing: -EAGAIN when they do not fit
 * below VIRTIO_CONSOLE_MAX_PENDING now (see ops->writable), -EMSGSIZE when
 * they never can, -ENOMEM.  Any thread. */
int virtio_console_send(struct virtio_console *con, const void *data, size_t len);
/* Same for several pieces at once, e.g. a frame header and its payload, so
 * a frame is never queued half. */
int virtio_console_sendv(struct virtio_console *con, const struct iovec *iov, int cnt);

/* Removes the device from the bus and frees it.  vCPUs and the I/O loop
 * must be stopped, and no thread may still send.  NULL is a no-op.
 * pci_exit() frees the devices still on the bus, so call this (if at all)
 * before pci_exit(). */
void virtio_console_exit(struct virtio_console *con);

#endif
