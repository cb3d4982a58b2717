/* The VM's NICs: a virtio-net device per vm_nic of the config, on its tap
 * or, for a spare, on none until virtio_net_connect_spares gives it one. */
#include "virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tuntap.h"
#include "vmm-internal.h"

/* NOVM_NET_BACKEND: for tests that keep both paths tested, and for a host
 * whose vhost-net misbehaves. */
static int backend_from_env(enum virtio_net_backend *out, novm_error_t *err)
{
	const char *v = getenv("NOVM_NET_BACKEND");

	if (!v || !*v || !strcmp(v, "auto"))
		*out = VIRTIO_NET_AUTO;
	else if (!strcmp(v, "vhost"))
		*out = VIRTIO_NET_VHOST;
	else if (!strcmp(v, "userspace"))
		*out = VIRTIO_NET_USERSPACE;
	else
		return novm_error(err, EINVAL, "NOVM_NET_BACKEND=%s: not auto, vhost or userspace",
				  v);
	return 0;
}

/* The tap a NIC of the config runs on: opened by name, a copy of the fd the
 * caller keeps, or none (-1) for a spare. */
static int nic_fd(const struct vm_nic *nic, int *fd, novm_error_t *err)
{
	*fd = -1;
	if (nic->tap)
		return tap_open(nic->tap, fd, err);
	if (nic->tap_fd < 0)
		return 0;
	if (tap_check_fd(nic->tap_fd, err) < 0)
		return -1;
	if ((*fd = fcntl(nic->tap_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return novm_error(err, errno, "the tap's fd");
	return 0;
}

int virtio_net_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	enum virtio_net_backend backend = VIRTIO_NET_AUTO;

	if (!cfg->nr_nics)
		return 0;
	if (backend_from_env(&backend, err) < 0)
		return -1;
	vmm->nics = calloc(cfg->nr_nics, sizeof(*vmm->nics));
	if (!vmm->nics)
		return novm_error(err, ENOMEM, "allocate NICs");
	for (int i = 0; i < cfg->nr_nics; i++) {
		char label[48];
		struct virtio_net_config_host net_cfg = { .fd = -1, .backend = backend,
							   .label = label };

		const struct vm_nic *nic = &cfg->nics[i];

		memcpy(net_cfg.mac, nic->mac, sizeof(net_cfg.mac));
		if (nic->tap)
			snprintf(label, sizeof(label), "NIC %d (tap %s)", i + 1, nic->tap);
		else
			snprintf(label, sizeof(label), "NIC %d%s", i + 1, nic->tap_fd < 0 ? " (spare)" : "");
		if (nic_fd(nic, &net_cfg.fd, err) < 0 ||
		    virtio_net_init(&vmm->vm, &net_cfg, &vmm->nics[i], err) < 0) {
			/* A failed step leaves nothing behind. */
			virtio_net_detach(vmm);
			return novm_error_wrap(err, "NIC %d", i + 1);
		}
		vmm->nr_nics = i + 1;
	}
	return 0;
}

void virtio_net_detach(struct vmm *vmm)
{
	for (int i = 0; i < vmm->nr_nics; i++)
		virtio_net_exit(vmm->nics[i]);
	free(vmm->nics);
	vmm->nics = NULL;
	vmm->nr_nics = 0;
}

int virtio_net_connect_spares(struct vmm *vmm, const int *fds, int nr_fds, novm_error_t *err)
{
	int nr_spares = 0, used = 0, ret = 0;

	for (int i = 0; i < vmm->nr_nics; i++)
		nr_spares += !virtio_net_connected(vmm->nics[i]);
	/* More links than spares, or an fd that is no tap of ours: refused
	 * before any spare is connected (a connect that fails halfway leaves
	 * the spares before it connected). */
	if (nr_fds > nr_spares)
		ret = novm_error(err, ENOSPC, "%d links for %d spare NICs", nr_fds, nr_spares);
	for (int i = 0; ret == 0 && i < nr_fds; i++)
		ret = tap_check_fd(fds[i], err);
	for (int i = 0; ret == 0 && i < vmm->nr_nics && used < nr_fds; i++)
		if (!virtio_net_connected(vmm->nics[i]))
			ret = virtio_net_connect(vmm->nics[i], fds[used++], err);	/* takes it */
	while (used < nr_fds)
		close(fds[used++]);
	return ret;
}
