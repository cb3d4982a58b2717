/* virtio-fs (virtio 1.2 §5.11): a host directory shared with the guest
 * through our in-process FUSE server (vmm/fuse/server.h).  The guest mounts
 * it with `mount -t virtiofs <tag> <dir>`.
 *
 * Queue 0 is the high-priority queue (FORGET, INTERRUPT: no reply), served
 * inline on the I/O loop thread (any other request there is answered
 * -EINVAL unserved); queues 1..N carry ordinary requests, each a
 * descriptor chain with the FUSE request in its readable part and room for
 * the reply in its writable part.  Those go to a small pool of worker
 * threads so one slow request does not hold up the others. */
#ifndef NOVM_VIRTIO_FS_H
#define NOVM_VIRTIO_FS_H

#include <stdbool.h>

#include "error.h"

struct vm;
struct virtio_fs;
struct fuse_fd_budget;

/* The tag is what the guest names at mount time: 1..36 bytes, no NUL. */
#define VIRTIO_FS_TAG_MAX 36
#define VIRTIO_FS_MAX_REQUEST_QUEUES 4
#define VIRTIO_FS_MAX_WORKERS 16

struct virtio_fs_config_host {
	const char *tag;	/* unique per VM: the caller's job */
	const char *root;	/* host directory to share */
	bool readonly;
	const char *only_name;	/* see struct fuse_server_config */
	bool grafts;		/* a graft root, root NULL: see struct fuse_server_config */
	int nr_request_queues;	/* 0: 1; at most VIRTIO_FS_MAX_REQUEST_QUEUES */
	int nr_workers;		/* 0: 2; at most VIRTIO_FS_MAX_WORKERS */
	struct fuse_fd_budget *budget;	/* see struct fuse_server_config */
};

/* Lowers the shares' descriptor budget below what RLIMIT_NOFILE allows
 * (a positive count), for tests that want to reach it with a few hundred
 * files. */
#define VIRTIO_FS_MAX_FDS_ENV "NOVM_FUSE_MAX_FDS"

/* Creates the device and its FUSE server on vm->pci (pci_init first), before
 * the I/O loop thread starts.  The PCI bus owns it from then on. */
int virtio_fs_init(struct vm *vm, const struct virtio_fs_config_host *cfg, struct virtio_fs **out,
		   novm_error_t *err);
/* Removes the device from the bus and frees it, after waiting for requests
 * in flight.  vCPUs and the I/O loop must be stopped.  NULL is a no-op.
 * pci_exit() frees the devices still on the bus, so call this (if at all)
 * before pci_exit(). */
void virtio_fs_exit(struct virtio_fs *fs);
/* The share turns read-only for the guest from now on (see
 * fuse_server_seal). */
void virtio_fs_seal(struct virtio_fs *fs);

/* A graft root's grafts (see fuse_server_graft, fuse_server_ungraft): any
 * thread, while the device serves the guest. */
int virtio_fs_graft(struct virtio_fs *fs, const char *name, int fd, novm_error_t *err);
unsigned virtio_fs_ungraft(struct virtio_fs *fs, const char *prefix);

/* The VM builder's device step (vmm/device-table.c): a device per share of
 * the config, in its order, then the pod share if the config asks for it. */
struct vmm;
struct vm_config;
int virtio_fs_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void virtio_fs_detach(struct vmm *vmm);

#endif
