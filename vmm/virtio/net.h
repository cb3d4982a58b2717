/* virtio-net (virtio 1.2 §5.1): one receive/transmit queue pair over a host
 * file descriptor that carries one Ethernet frame per read or write, each
 * behind a 12-byte virtio_net_hdr_v1 -- a tap opened with IFF_VNET_HDR
 * (vmm/tuntap.h), or in the unit tests a SOCK_SEQPACKET socket.
 *
 * Offered: MAC, STATUS (link up while there is a backend), MRG_RXBUF, and the offloads the
 * tap's vnet header carries: CSUM and HOST_TSO4/6 (the guest hands us
 * partial checksums and large segments; the tap takes them as they are),
 * GUEST_CSUM and GUEST_TSO4/6 (the tap may hand the guest the same, once
 * the device sets the tap's offloads to what the guest accepted).
 *
 * Everything the guest gives is checked: a transmit chain shorter than the
 * header or longer than header + VIRTIO_NET_MAX_FRAME is an error for that
 * chain alone (returned unsent, counted); receive chains too short for the
 * header are returned empty; a frame that does not fit the buffers the
 * guest can ever offer is dropped.  The host holds at most one received
 * frame: the rest waits in the tap's own queue, which the kernel bounds.
 *
 * With the backend VIRTIO_NET_AUTO or _VHOST and /dev/vhost-net there, the
 * kernel's vhost-net serves the rings from DRIVER_OK to the next reset
 * (vmm/virtio/vhost-net.h) and the loop above stands aside; the ring
 * layout is checked against guest RAM before vhost gets it. */
#ifndef NOVM_VIRTIO_NET_H
#define NOVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct vm;
struct virtio_net;

/* Largest frame after the header, either way: a 64 KiB segment (an IP
 * packet's largest) behind an Ethernet header with a VLAN tag. */
#define VIRTIO_NET_MAX_FRAME (65536 + 18)
/* virtio_net_hdr_v1: the header of every frame once VERSION_1 is
 * negotiated, which the core requires. */
#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_MAC_LEN 6

/* Who serves the rings (vmm/virtio/vhost-net.h). */
enum virtio_net_backend {
	VIRTIO_NET_USERSPACE,	/* our own loop, always */
	VIRTIO_NET_AUTO,	/* vhost-net when it opens and starts, else ours */
	VIRTIO_NET_VHOST,	/* vhost-net or no device (still ours if a driver's
				 * start fails: the guest keeps its NIC) */
};

struct virtio_net_config_host {
	int fd;		/* taken over: the device closes it, also on failure;
			 * -1: a spare (virtio_net_connect) */
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	enum virtio_net_backend backend;	/* 0: userspace */
	const char *label;	/* for messages: "NIC 1"; NULL: "virtio-net" */
	/* Sets the fd's receive offloads (TUN_F_* flags); returns 0 or
	 * -errno.  NULL: TUNSETOFFLOAD on the fd. */
	int (*set_offload)(int fd, unsigned int tun_flags);
};

/* Counters, for tests and diagnosis. */
struct virtio_net_stats {
	uint64_t tx_frames, tx_errors;	/* errors: bad chains and failed writes */
	uint64_t rx_frames, rx_dropped;	/* dropped: too big for the buffers, or bad reads */
	uint64_t rx_bad_buffers;	/* receive chains returned empty */
	bool on_vhost;			/* vhost-net serves the rings now */
};

/* Creates the device on vm->pci (pci_init first), before the I/O loop thread
 * starts.  The PCI bus owns it from then on. */
int virtio_net_init(struct vm *vm, const struct virtio_net_config_host *cfg,
		    struct virtio_net **out, novm_error_t *err);
/* Removes the device from the bus, frees it and closes its fd.  vCPUs and
 * the I/O loop must be stopped.  NULL is a no-op.  pci_exit() frees the
 * devices still on the bus, so call this (if at all) before pci_exit(). */
void virtio_net_exit(struct virtio_net *net);
void virtio_net_stats(struct virtio_net *net, struct virtio_net_stats *out);

/* A spare (made without an fd: no backend, link down, what the guest
 * transmits dropped) gets `fd` (taken over in every case) as a device made
 * with it would have: a running driver's offloads and vhost-net start now,
 * then the link comes up with a configuration change interrupt.  Any thread
 * but a vCPU's; fails for a device that has its fd. */
int virtio_net_connect(struct virtio_net *net, int fd, novm_error_t *err);
bool virtio_net_connected(struct virtio_net *net);

/* The VM builder's device step (vmm/device-table.c): a device per NIC of
 * the config, each on the tap it names (vmm/virtio/net-attach.c).  The backend comes from the
 * environment's NOVM_NET_BACKEND: auto (unset), vhost or userspace. */
struct vmm;
struct vm_config;
int virtio_net_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void virtio_net_detach(struct vmm *vmm);
/* Connects the VM's spare NICs, in order, to fds[0..nr_fds), all taken
 * over; more fds than spares left changes nothing (ENOSPC). */
int virtio_net_connect_spares(struct vmm *vmm, const int *fds, int nr_fds, novm_error_t *err);

#endif
