/* The in-kernel virtio-net backend: /dev/vhost-net serves a virtio-net
 * device's two rings straight from guest memory against the tap, woken by
 * the queues' notify ioeventfds and raising their MSI-X vectors through the
 * transport's call eventfds, so a frame costs no exit to the VMM.
 * vmm/virtio/net.c uses it when /dev/vhost-net opens and falls back to its
 * own userspace loop otherwise, or when starting it fails.
 *
 * The protocol (linux/vhost.h, drivers/vhost/net.c): SET_OWNER,
 * SET_FEATURES, SET_MEM_TABLE, per ring SET_VRING_NUM/BASE/ADDR/KICK/CALL,
 * then NET_SET_BACKEND with the tap; stopping is NET_SET_BACKEND -1 and
 * GET_VRING_BASE per ring, then closing the fd.  The tap keeps the 12-byte
 * vnet header (TUNSETVNETHDRSZ, vmm/tuntap.c), so vhost passes headers
 * through untouched (no VHOST_NET_F_VIRTIO_NET_HDR).
 *
 * The pure parts (feature intersection, ring checks, memory table) are
 * separate so unit tests reach them without the device. */
#ifndef NOVM_VIRTIO_VHOST_NET_H
#define NOVM_VIRTIO_VHOST_NET_H

#include <stdint.h>

#include <linux/vhost.h>

#include "error.h"
#include "memory.h"
#include "virtio/queue.h"

#define VHOST_NET_DEVICE "/dev/vhost-net"
#define VHOST_NET_NR_QUEUES 2	/* receive, transmit */

/* Of the features a guest acks, the ones vhost implements (the rings, the
 * header layout); the device's others (MAC, STATUS, the offloads) are the
 * tap's business and are not passed.  Returns 0 with *out the features for
 * VHOST_SET_FEATURES, or -EOPNOTSUPP with *why when the guest acked a ring
 * feature this vhost lacks (the userspace backend then serves it). */
int vhost_net_features(uint64_t vhost_features, uint64_t acked, uint64_t *out,
		       const char **why);

/* The ring of `layout` as vhost takes it: host addresses of the descriptor
 * table, avail and used rings, checked as virtq_enable checks them (size a
 * power of two up to max_size, alignment, every byte in one RAM region,
 * event-index words included).  0, or -EINVAL with *why. */
int vhost_net_ring_addr(const struct guest_memory *mem, const struct virtq_layout *layout,
			uint16_t max_size, unsigned index, struct vhost_vring_addr *out,
			const char **why);

/* VHOST_SET_MEM_TABLE's argument for the VM's RAM regions; free() it.
 * NULL on allocation failure or without regions. */
struct vhost_memory *vhost_net_mem_table(const struct guest_memory *mem);

/* Whether the host has the device, and what it offers: opens it, asks for
 * its features and closes it.  0, or -errno. */
int vhost_net_probe(uint64_t *features);

/* What the device hands the backend per ring. */
struct vhost_net_ring {
	struct virtq_layout layout;	/* as the driver wrote it */
	int kick_fd;			/* the queue's notify ioeventfd */
	int call_fd;			/* raises the queue's vector; -1: none */
};

struct vhost_net {
	int fd;			/* /dev/vhost-net, -1 while stopped */
};

/* Starts vhost on the tap: on success vhost owns the rings (the caller
 * must neither pop them nor read the tap) until vhost_net_stop.  On failure
 * nothing is left running and *err says which step failed. */
int vhost_net_start(struct vhost_net *vn, const struct guest_memory *mem, uint16_t max_size,
		    uint64_t features, int tap_fd,
		    const struct vhost_net_ring rings[VHOST_NET_NR_QUEUES], novm_error_t *err);
/* A ring's call fd changed (the driver moved its vector); -1 for none. */
int vhost_net_set_call(struct vhost_net *vn, unsigned index, int call_fd);
/* Detaches the tap, stops the rings and closes the device; when it
 * returns vhost touches neither guest memory nor the fds any more.  A no-op
 * when stopped. */
void vhost_net_stop(struct vhost_net *vn);

#endif
