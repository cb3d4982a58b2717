#include "virtio/pci.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "devices/msix.h"
#include "devices/pci.h"
#include "kvm.h"
#include "virtio/core.h"

#define SUBSYSTEM_ID 0x1100
#define COMMON_CFG_LEN 0x40	/* covers the 1.2 layout up to queue_reset */
#define ISR_QUEUE 0x1
/* Bounded so the notify region and the MSI-X table each fit in 4 KiB. */
#define MAX_QUEUES 255

struct virtio_pci {
	struct pci_device pci;	/* first: the bus hands us this pointer */
	struct msix msix;
	struct virtio_device *vdev;
	struct vm *vm;
	uint8_t pci_cfg_cap;	/* config offset of VIRTIO_PCI_CAP_PCI_CFG */

	/* Register state, under vdev->lock.  The vectors are also read by the
	 * interrupt path, which may not take that lock. */
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t queue_select;
	_Atomic uint16_t config_vector;
	_Atomic uint16_t *queue_vectors;
	_Atomic uint8_t isr;

	/* Queues whose call fd a backend holds, and the vector it is of
	 * (NO_VECTOR: none); under vdev->lock. */
	bool *call_held;
	uint16_t *call_vector;

	/* Which queues have an ioeventfd; under the PCI bus lock. */
	bool *ioeventfd_on;
	uint64_t ioeventfd_base;
};

static struct virtio_pci *from_pci(struct pci_device *dev)
{
	return (struct virtio_pci *)((char *)dev - offsetof(struct virtio_pci, pci));
}

static uint16_t nr_queues(struct virtio_pci *vp)
{
	return vp->vdev->ops->nr_queues;
}

/* --- interrupts (any thread) --- */

static void queue_interrupt(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_pci *vp = vdev->transport_opaque;

	atomic_fetch_or(&vp->isr, ISR_QUEUE);
	if (index < nr_queues(vp))
		msix_notify(&vp->msix, atomic_load(&vp->queue_vectors[index]));
}

static void config_interrupt(struct virtio_device *vdev)
{
	struct virtio_pci *vp = vdev->transport_opaque;

	atomic_fetch_or(&vp->isr, VIRTIO_PCI_ISR_CONFIG);
	msix_notify(&vp->msix, atomic_load(&vp->config_vector));
}

/* vdev->lock held. */
static int bind_call(struct virtio_pci *vp, uint16_t index)
{
	uint16_t vector = atomic_load(&vp->queue_vectors[index]);
	int fd = vector < vp->msix.nr_vectors ? msix_vector_get_eventfd(&vp->msix, vector) : -ENOENT;

	vp->call_vector[index] = fd >= 0 ? vector : VIRTIO_MSI_NO_VECTOR;
	return fd;
}

static int queue_call_get(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_pci *vp = vdev->transport_opaque;

	if (index >= nr_queues(vp) || vp->call_held[index])
		return -EINVAL;
	int fd = bind_call(vp, index);
	vp->call_held[index] = fd >= 0 || fd == -ENOENT;
	return fd;
}

static void queue_call_put(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_pci *vp = vdev->transport_opaque;

	if (index >= nr_queues(vp) || !vp->call_held[index])
		return;
	msix_vector_put_eventfd(&vp->msix, vp->call_vector[index]);
	vp->call_vector[index] = VIRTIO_MSI_NO_VECTOR;
	vp->call_held[index] = false;
}

/* The driver gave a held queue another vector: the backend follows. */
static void call_vector_changed(struct virtio_pci *vp, uint16_t index)
{
	struct virtio_device *vdev = vp->vdev;

	if (!vp->call_held[index] ||
	    vp->call_vector[index] == atomic_load(&vp->queue_vectors[index]))
		return;
	/* The new vector first, handed to the backend, and only then the old
	 * one let go: the backend never signals an fd nobody delivers. */
	uint16_t old = vp->call_vector[index];
	int fd = bind_call(vp, index);
	if (fd < 0 && fd != -ENOENT) {
		vp->call_vector[index] = old;
		virtio_device_needs_reset(vdev, "cannot bind the queue's new MSI-X vector");
		return;
	}
	if (vdev->ops->queue_call_changed)
		vdev->ops->queue_call_changed(vdev, index, fd < 0 ? -1 : fd);
	msix_vector_put_eventfd(&vp->msix, old);
}

static const struct virtio_transport_ops transport_ops = {
	.queue_interrupt = queue_interrupt,
	.config_interrupt = config_interrupt,
	.queue_call_get = queue_call_get,
	.queue_call_put = queue_call_put,
};

/* --- common configuration (vCPU threads, vdev->lock held) --- */

static uint16_t checked_vector(struct virtio_pci *vp, uint16_t vector)
{
	/* A vector the table does not have reads back as NO_VECTOR, which is
	 * how the driver learns it was refused (§4.1.4.3). */
	return vector < vp->msix.nr_vectors ? vector : VIRTIO_MSI_NO_VECTOR;
}

static void reset_transport(struct virtio_pci *vp)
{
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->queue_select = 0;
	atomic_store(&vp->config_vector, VIRTIO_MSI_NO_VECTOR);
	for (uint16_t i = 0; i < nr_queues(vp); i++)
		atomic_store(&vp->queue_vectors[i], VIRTIO_MSI_NO_VECTOR);
	atomic_store(&vp->isr, 0);
}

static uint64_t common_read(struct virtio_pci *vp, uint32_t off, uint32_t len)
{
	struct virtio_device *vdev = vp->vdev;
	uint16_t sel = vp->queue_select;
	struct virtq_layout *l = virtio_queue_layout_locked(vdev, sel);

	switch (off | len << 8) {
	case VIRTIO_PCI_COMMON_DFSELECT | 4 << 8:
		return vp->device_feature_select;
	case VIRTIO_PCI_COMMON_DF | 4 << 8:
		return virtio_device_features_locked(vdev, vp->device_feature_select);
	case VIRTIO_PCI_COMMON_GFSELECT | 4 << 8:
		return vp->driver_feature_select;
	case VIRTIO_PCI_COMMON_GF | 4 << 8:
		return virtio_driver_features_locked(vdev, vp->driver_feature_select);
	case VIRTIO_PCI_COMMON_MSIX | 2 << 8:
		return atomic_load(&vp->config_vector);
	case VIRTIO_PCI_COMMON_NUMQ | 2 << 8:
		return nr_queues(vp);
	case VIRTIO_PCI_COMMON_STATUS | 1 << 8:
		return virtio_get_status(vdev);
	case VIRTIO_PCI_COMMON_CFGGENERATION | 1 << 8:
		return vdev->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT | 2 << 8:
		return sel;
	case VIRTIO_PCI_COMMON_Q_SIZE | 2 << 8:
		return l ? l->size : 0;	/* 0: no such queue */
	case VIRTIO_PCI_COMMON_Q_MSIX | 2 << 8:
		return l ? atomic_load(&vp->queue_vectors[sel]) : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE | 2 << 8:
		return virtio_queue_enabled_locked(vdev, sel);
	case VIRTIO_PCI_COMMON_Q_NOFF | 2 << 8:
		return sel;	/* queue n notifies at n * multiplier */
	case VIRTIO_PCI_COMMON_Q_DESCLO | 4 << 8:
		return l ? (uint32_t)l->desc : 0;
	case VIRTIO_PCI_COMMON_Q_DESCHI | 4 << 8:
		return l ? l->desc >> 32 : 0;
	case VIRTIO_PCI_COMMON_Q_DESCLO | 8 << 8:
		return l ? l->desc : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO | 4 << 8:
		return l ? (uint32_t)l->avail : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILHI | 4 << 8:
		return l ? l->avail >> 32 : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO | 8 << 8:
		return l ? l->avail : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO | 4 << 8:
		return l ? (uint32_t)l->used : 0;
	case VIRTIO_PCI_COMMON_Q_USEDHI | 4 << 8:
		return l ? l->used >> 32 : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO | 8 << 8:
		return l ? l->used : 0;
	default:
		return 0;	/* queue_notify_data, queue_reset: features not offered */
	}
}

static void set_low(uint64_t *field, uint32_t v)
{
	*field = (*field & ~0xffffffffULL) | v;
}

static void set_high(uint64_t *field, uint32_t v)
{
	*field = (*field & 0xffffffffULL) | (uint64_t)v << 32;
}

static void common_write(struct virtio_pci *vp, uint32_t off, uint32_t len, uint64_t v)
{
	struct virtio_device *vdev = vp->vdev;
	uint16_t sel = vp->queue_select;
	struct virtq_layout *l = virtio_queue_layout_locked(vdev, sel);

	/* Ring layout and vector are frozen once the queue runs. */
	bool queue_writable = l && !virtio_queue_enabled_locked(vdev, sel);

	switch (off | len << 8) {
	case VIRTIO_PCI_COMMON_DFSELECT | 4 << 8:
		vp->device_feature_select = (uint32_t)v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT | 4 << 8:
		vp->driver_feature_select = (uint32_t)v;
		break;
	case VIRTIO_PCI_COMMON_GF | 4 << 8:
		virtio_set_driver_features_locked(vdev, vp->driver_feature_select, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_MSIX | 2 << 8:
		atomic_store(&vp->config_vector, checked_vector(vp, (uint16_t)v));
		break;
	case VIRTIO_PCI_COMMON_STATUS | 1 << 8:
		virtio_set_status_locked(vdev, (uint8_t)v);
		if (v == 0)
			reset_transport(vp);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT | 2 << 8:
		vp->queue_select = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE | 2 << 8:
		if (queue_writable)
			l->size = (uint16_t)v;	/* checked when enabled */
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX | 2 << 8:
		if (l) {
			atomic_store(&vp->queue_vectors[sel], checked_vector(vp, (uint16_t)v));
			call_vector_changed(vp, sel);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE | 2 << 8:
		/* Writing 0 is not allowed (§4.1.4.3.2); a queue stops by reset. */
		if (l && v == 1)
			virtio_queue_enable_locked(vdev, sel);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO | 4 << 8:
		if (queue_writable)
			set_low(&l->desc, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCHI | 4 << 8:
		if (queue_writable)
			set_high(&l->desc, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO | 8 << 8:
		if (queue_writable)
			l->desc = v;
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO | 4 << 8:
		if (queue_writable)
			set_low(&l->avail, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILHI | 4 << 8:
		if (queue_writable)
			set_high(&l->avail, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO | 8 << 8:
		if (queue_writable)
			l->avail = v;
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO | 4 << 8:
		if (queue_writable)
			set_low(&l->used, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDHI | 4 << 8:
		if (queue_writable)
			set_high(&l->used, (uint32_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO | 8 << 8:
		if (queue_writable)
			l->used = v;
		break;
	default:
		break;	/* read-only or unknown: ignored */
	}
}

/* --- BAR 0 (vCPU threads, under the MMIO bus read lock) --- */

static void bar_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	struct virtio_device *vdev = vp->vdev;
	uint64_t v = 0;

	if (!is_write)
		memset(data, 0, len);
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return;
	if (is_write) {
		memcpy(&v, data, len);
		v = le64toh(v);
	}

	if (off < VIRTIO_PCI_COMMON_OFFSET + COMMON_CFG_LEN) {
		uint32_t o = (uint32_t)(off - VIRTIO_PCI_COMMON_OFFSET);
		pthread_mutex_lock(&vdev->lock);
		if (is_write)
			common_write(vp, o, len, v);
		else
			v = common_read(vp, o, len);
		pthread_mutex_unlock(&vdev->lock);
	} else if (off == VIRTIO_PCI_ISR_OFFSET && len == 1) {
		/* Reading acknowledges (clears) the interrupt causes. */
		if (!is_write)
			v = atomic_exchange(&vp->isr, 0);
	} else if (off >= VIRTIO_PCI_DEVICE_OFFSET && off < VIRTIO_PCI_NOTIFY_OFFSET) {
		uint32_t o = (uint32_t)(off - VIRTIO_PCI_DEVICE_OFFSET);
		pthread_mutex_lock(&vdev->lock);
		if (is_write)
			virtio_config_write_locked(vdev, o, data, len);
		else
			virtio_config_read_locked(vdev, o, data, len);
		pthread_mutex_unlock(&vdev->lock);
		return;	/* bytes already in guest order */
	} else if (off >= VIRTIO_PCI_NOTIFY_OFFSET && off < VIRTIO_PCI_MSIX_TABLE_OFFSET) {
		/* Only reached when the ioeventfd did not catch the write
		 * (KVM refused it, or an unusual access width). */
		uint64_t o = off - VIRTIO_PCI_NOTIFY_OFFSET;
		if (is_write && o % VIRTIO_PCI_NOTIFY_MULTIPLIER == 0)
			virtio_queue_kick(vdev, (uint16_t)(o / VIRTIO_PCI_NOTIFY_MULTIPLIER));
		return;
	} else if (off >= VIRTIO_PCI_MSIX_TABLE_OFFSET && off < VIRTIO_PCI_MSIX_PBA_OFFSET) {
		msix_table_access(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE_OFFSET, data, len, is_write);
		return;
	} else if (off >= VIRTIO_PCI_MSIX_PBA_OFFSET) {
		msix_pba_access(&vp->msix, off - VIRTIO_PCI_MSIX_PBA_OFFSET, data, len, is_write);
		return;
	}
	if (!is_write) {
		v = htole64(v);
		memcpy(data, &v, len);
	}
}

/* --- PCI hooks (PCI bus lock held) --- */

static void bar_mapped(struct pci_device *dev, int bar, uint64_t addr)
{
	struct virtio_pci *vp = from_pci(dev);

	vp->ioeventfd_base = addr + VIRTIO_PCI_NOTIFY_OFFSET;
	for (uint16_t i = 0; i < nr_queues(vp); i++) {
		/* The Linux driver notifies with a 16-bit write of the queue
		 * index; other widths still reach bar_access. */
		int ret = vm_ioeventfd(vp->vm, vp->ioeventfd_base + i * VIRTIO_PCI_NOTIFY_MULTIPLIER,
				       2, false, virtio_queue_kick_fd(vp->vdev, i), true);
		vp->ioeventfd_on[i] = ret == 0;
	}
}

static void bar_unmapped(struct pci_device *dev, int bar, uint64_t addr)
{
	struct virtio_pci *vp = from_pci(dev);

	for (uint16_t i = 0; i < nr_queues(vp); i++) {
		if (!vp->ioeventfd_on[i])
			continue;
		vm_ioeventfd(vp->vm, vp->ioeventfd_base + i * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
			     virtio_queue_kick_fd(vp->vdev, i), false);
		vp->ioeventfd_on[i] = false;
	}
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: BAR access through config space. */
static bool pci_cfg_window(struct virtio_pci *vp, uint32_t *offset, uint32_t *len)
{
	uint32_t cap = vp->pci_cfg_cap;
	uint32_t bar = pci_config_get(&vp->pci, cap + VIRTIO_PCI_CAP_BAR, 1);
	*offset = pci_config_get(&vp->pci, cap + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_config_get(&vp->pci, cap + VIRTIO_PCI_CAP_LENGTH, 4);
	return bar == 0 && (*len == 1 || *len == 2 || *len == 4) && *offset % *len == 0 &&
	       *offset < VIRTIO_PCI_BAR_SIZE && *len <= VIRTIO_PCI_BAR_SIZE - *offset;
}

static bool touches_cfg_data(struct virtio_pci *vp, uint32_t offset, uint32_t len)
{
	uint32_t data = vp->pci_cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	return offset < data + 4 && data < offset + len;
}

static void config_write(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t value)
{
	struct virtio_pci *vp = from_pci(dev);
	uint32_t win_off, win_len;

	msix_config_write(&vp->msix, dev, offset, len);
	if (touches_cfg_data(vp, offset, len) && pci_cfg_window(vp, &win_off, &win_len)) {
		uint32_t data = vp->pci_cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
		bar_access(vp, win_off, &dev->config[data], win_len, true);
	}
}

static void config_read(struct pci_device *dev, uint32_t offset, uint32_t len, uint32_t *value)
{
	struct virtio_pci *vp = from_pci(dev);
	uint32_t win_off, win_len;

	if (touches_cfg_data(vp, offset, len) && pci_cfg_window(vp, &win_off, &win_len)) {
		uint32_t data = vp->pci_cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
		bar_access(vp, win_off, &dev->config[data], win_len, false);
		*value = pci_config_get(dev, offset, len);
	}
}

static void destroy(struct pci_device *dev)
{
	struct virtio_pci *vp = from_pci(dev);

	/* Device first: quiescing it may still raise interrupts. */
	virtio_device_exit(vp->vdev);
	msix_exit(&vp->msix);
	free(vp->queue_vectors);
	free(vp->ioeventfd_on);
	free(vp->call_held);
	free(vp->call_vector);
	free(vp);
}

static const struct pci_device_ops pci_ops = {
	.config_write = config_write,
	.config_read = config_read,
	.bar_mapped = bar_mapped,
	.bar_unmapped = bar_unmapped,
	.destroy = destroy,
};

/* --- construction --- */

static int add_virtio_cap(struct virtio_pci *vp, uint8_t type, uint32_t offset, uint32_t length,
			  const void *extra, uint32_t extra_len)
{
	uint8_t buf[sizeof(struct virtio_pci_cap) + 4] = { 0 };
	struct virtio_pci_cap cap = {
		.cap_len = (uint8_t)(sizeof(cap) + extra_len),
		.cfg_type = type,
		.bar = 0,
		.offset = htole32(offset),
		.length = htole32(length),
	};
	memcpy(buf, &cap, sizeof(cap));
	if (extra_len)
		memcpy(buf + sizeof(cap), extra, extra_len);
	return pci_device_add_capability(&vp->pci, PCI_CAP_ID_VNDR, buf, sizeof(cap) + extra_len);
}

static int build_config_space(struct virtio_pci *vp)
{
	const struct virtio_device_ops *ops = vp->vdev->ops;
	uint32_t multiplier = htole32(VIRTIO_PCI_NOTIFY_MULTIPLIER);
	uint8_t no_data[4] = { 0 };

	if (add_virtio_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, COMMON_CFG_LEN,
			   NULL, 0) < 0 ||
	    add_virtio_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET,
			   ops->nr_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER, &multiplier, 4) < 0 ||
	    add_virtio_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, 1, NULL, 0) < 0)
		return -ENOSPC;
	/* Only devices with a config space get the capability: Linux refuses
	 * a zero-length one. */
	if (ops->config_size && add_virtio_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG,
					       VIRTIO_PCI_DEVICE_OFFSET, ops->config_size, NULL,
					       0) < 0)
		return -ENOSPC;
	int off = add_virtio_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, no_data, 4);
	if (off < 0)
		return -ENOSPC;
	vp->pci_cfg_cap = (uint8_t)off;
	/* The driver picks bar, offset, length and moves data through it. */
	pci_device_set_wmask(&vp->pci, off + VIRTIO_PCI_CAP_BAR, 1, 0xff);
	pci_device_set_wmask(&vp->pci, off + VIRTIO_PCI_CAP_OFFSET, 4, 0xffffffff);
	pci_device_set_wmask(&vp->pci, off + VIRTIO_PCI_CAP_LENGTH, 4, 0xffffffff);
	pci_device_set_wmask(&vp->pci, off + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 4,
			     0xffffffff);
	return 0;
}

int virtio_pci_add(struct vm *vm, struct virtio_device *vdev, novm_error_t *err)
{
	const struct virtio_device_ops *ops = vdev->ops;
	uint16_t n = ops->nr_queues;

	if (!vm->pci)
		return novm_error(err, EINVAL, "%s: no PCI bus", ops->name);
	if (n > MAX_QUEUES || ops->config_size > VIRTIO_PCI_NOTIFY_OFFSET - VIRTIO_PCI_DEVICE_OFFSET)
		return novm_error(err, EINVAL, "%s: too many queues or config too large", ops->name);

	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	if (!vp)
		return novm_error(err, ENOMEM, "%s: allocate transport", ops->name);
	vp->vdev = vdev;
	vp->vm = vm;
	vp->queue_vectors = calloc(n, sizeof(*vp->queue_vectors));
	vp->ioeventfd_on = calloc(n, sizeof(*vp->ioeventfd_on));
	vp->call_held = calloc(n, sizeof(*vp->call_held));
	vp->call_vector = calloc(n, sizeof(*vp->call_vector));
	if (!vp->queue_vectors || !vp->ioeventfd_on || !vp->call_held || !vp->call_vector) {
		novm_error(err, ENOMEM, "%s: allocate transport", ops->name);
		goto fail;
	}
	reset_transport(vp);

	pci_device_init(&vp->pci, &pci_ops, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + ops->device_id,
			ops->pci_class, 1, VIRTIO_PCI_VENDOR, SUBSYSTEM_ID);
	if (pci_device_add_bar(&vp->pci, 0, VIRTIO_PCI_BAR_SIZE, bar_access, vp) < 0 ||
	    build_config_space(vp) < 0) {
		novm_error(err, ENOSPC, "%s: build PCI config space", ops->name);
		goto fail;
	}
	if (msix_init(&vp->msix, vm, &vp->pci, n + 1, 0, VIRTIO_PCI_MSIX_TABLE_OFFSET,
		      VIRTIO_PCI_MSIX_PBA_OFFSET, err) < 0) {
		novm_error_wrap(err, "%s", ops->name);
		goto fail;
	}

	/* Interrupts may flow as soon as the guest can reach the device. */
	vdev->transport = &transport_ops;
	vdev->transport_opaque = vp;
	if (pci_bus_add_device(vm->pci, &vp->pci, err) < 0) {
		vdev->transport = NULL;
		vdev->transport_opaque = NULL;
		msix_exit(&vp->msix);
		novm_error_wrap(err, "%s", ops->name);
		goto fail;
	}
	return 0;

fail:
	free(vp->queue_vectors);
	free(vp->ioeventfd_on);
	free(vp->call_held);
	free(vp->call_vector);
	free(vp);
	return -1;
}

void virtio_pci_remove(struct virtio_device *vdev)
{
	struct virtio_pci *vp = vdev->transport_opaque;

	if (!vp)
		return;
	pci_bus_remove_device(vp->pci.bus, &vp->pci);
	vp->pci.ops->destroy(&vp->pci);
}

void virtio_pci_describe_all(struct vm *vm, FILE *out)
{
	bool first = true;

	fputc('[', out);
	/* Without the bus lock: the slots only change before the I/O loop
	 * starts and after it stops, and a vCPU holding the lock may be
	 * waiting for the thread this runs on. */
	for (int slot = 0; vm->pci && slot < PCI_SLOTS; slot++) {
		struct pci_device *dev = vm->pci->slots[slot];
		if (!dev || dev->ops != &pci_ops)
			continue;
		struct virtio_pci *vp = from_pci(dev);
		fprintf(out, "%s{\"slot\":%d,\"virtio\":", first ? "" : ",", slot);
		virtio_device_describe(vp->vdev, out);
		fputs(",\"queue_vectors\":[", out);
		for (uint16_t i = 0; i < nr_queues(vp); i++) {
			if (i)
				fputc(',', out);
			msix_describe_vector(&vp->msix, atomic_load(&vp->queue_vectors[i]), out);
		}
		fputs("]}", out);
		first = false;
	}
	fputc(']', out);
}
