/* What the VM builder (vmm.c) holds while a VM lives.  The device steps of
 * vmm/device-table.c keep their handles here: each device exposes an
 * attach/detach pair with the step signature below, reads its part of the
 * config and stores what its detach needs. */
#ifndef NOVM_VMM_INTERNAL_H
#define NOVM_VMM_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "error.h"
#include "initsteps.h"
#include "kvm.h"

struct serial;
struct i8042;
struct rtc;
struct virtio_fs;
struct fuse_fd_budget;
struct virtio_net;
struct agent_link;
struct control;
struct kvm_cpuid2;

struct vmm {
	struct vm vm;
	const struct vm_config *cfg;	/* the caller's, for the steps */
	struct init_steps devices;	/* the device table's progress */

	/* Device handles, each set by its attach step. */
	struct serial *serial;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct virtio_fs **shares;
	bool *seal_when_created;	/* per share */
	int nr_shares;
	struct fuse_fd_budget *fd_budget;	/* the shares' descriptors, together */
	struct virtio_fs *pod_share;	/* cfg->pod_share: the last of shares[] */
	struct virtio_net **nics;
	int nr_nics;
	struct agent_link *agent;
	struct control *control;

	struct kvm_cpuid2 *cpuid;
	bool pause_up, loop_up;
	/* The ready pipe until something was reported on it. */
	_Atomic int ready_fd;
	atomic_bool created;	/* "ok" was reported */
};

/* A device step: attach adds the device to the VM being built (before the
 * I/O loop and vCPUs start) and, failing, leaves nothing behind; detach
 * runs after they stopped, in the table's reverse order. */
typedef int vmm_attach_fn(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
typedef void vmm_detach_fn(struct vmm *vmm);

/* Attaches the table's devices in order (on failure the ones attached are
 * detached again); vmm_devices_detach detaches them in reverse. */
int vmm_devices_attach(struct vmm *vmm, novm_error_t *err);
void vmm_devices_detach(struct vmm *vmm);

/* The agent reported the container created: seal the shares that turn
 * read-only now and tell the runtime.  I/O loop thread. */
void vmm_on_created(void *opaque);

#endif
