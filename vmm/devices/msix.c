#include "msix.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "jsonstr.h"
#include "devices/pci.h"
#include "kvm.h"

#define ENTRY_ADDR_LO 0
#define ENTRY_ADDR_HI 4
#define ENTRY_DATA 8
#define ENTRY_CTRL 12

/* x86 MSIs are writes to the LAPIC window; anything else would be a DMA
 * write into memory, which we do not model, so it is dropped. */
#define MSI_ADDR_WINDOW 0xFEE00000ULL
#define MSI_ADDR_WINDOW_MASK 0xFFF00000ULL

struct msix_cap {
	uint8_t id, next;
	uint16_t control;
	uint32_t table;
	uint32_t pba;
} __attribute__((packed));

static uint32_t entry_u32(const struct msix_vector *v, int field)
{
	uint32_t x;
	memcpy(&x, &v->entry[field], 4);
	return le32toh(x);
}

static bool vector_masked(const struct msix_vector *v)
{
	return entry_u32(v, ENTRY_CTRL) & PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

int msix_init(struct msix *m, struct vm *vm, struct pci_device *dev, uint16_t nr_vectors,
	      int bar, uint32_t table_offset, uint32_t pba_offset, novm_error_t *err)
{
	if (!nr_vectors || nr_vectors > MSIX_MAX_VECTORS || (table_offset & 7) || (pba_offset & 7))
		return novm_error(err, EINVAL, "invalid MSI-X layout");

	memset(m, 0, sizeof(*m));
	m->vm = vm;
	m->nr_vectors = nr_vectors;
	m->vectors = calloc(nr_vectors, sizeof(*m->vectors));
	if (!m->vectors)
		return novm_error(err, ENOMEM, "allocate MSI-X vectors");
	for (uint16_t i = 0; i < nr_vectors; i++) {
		struct msix_vector *v = &m->vectors[i];
		v->fd = v->gsi = -1;
		v->owner = m;
		/* Vectors come out of reset masked (PCI spec, MSI-X table). */
		v->entry[ENTRY_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	}

	struct msix_cap cap = {
		.control = htole16(nr_vectors - 1),
		.table = htole32(table_offset | (uint32_t)bar),
		.pba = htole32(pba_offset | (uint32_t)bar),
	};
	int off = pci_device_add_capability(dev, PCI_CAP_ID_MSIX, &cap, sizeof(cap));
	if (off < 0) {
		free(m->vectors);
		m->vectors = NULL;
		return novm_error(err, ENOSPC, "no room for the MSI-X capability");
	}
	m->cap = (uint8_t)off;
	pci_device_set_wmask(dev, off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pthread_mutex_init(&m->lock, NULL);
	return 0;
}

void msix_exit(struct msix *m)
{
	if (!m->vectors)
		return;
	for (uint16_t i = 0; i < m->nr_vectors; i++) {
		struct msix_vector *v = &m->vectors[i];
		if (v->gsi >= 0)
			vm_msi_irqfd_remove(m->vm, (uint32_t)v->gsi, v->fd);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(m->vectors);
	m->vectors = NULL;
	pthread_mutex_destroy(&m->lock);
}

/* Binds an irqfd to the vector's current message, once.  Caller holds lock. */
static void ensure_irqfd(struct msix *m, struct msix_vector *v, uint64_t addr, uint32_t data)
{
	if (v->gsi >= 0 || v->irqfd_unavailable)
		return;
	/* The fd outlives its binding: an external producer may hold it. */
	if (v->fd < 0 && (v->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		v->irqfd_unavailable = true;
		return;
	}
	int gsi = vm_msi_irqfd_add(m->vm, addr, data, v->fd);
	if (gsi < 0) {
		v->irqfd_unavailable = true;
		return;
	}
	v->gsi = gsi;
	v->routed_addr = addr;
	v->routed_data = data;
}

/* Sends the vector's message now.  Caller holds lock; vector unmasked. */
static void deliver_locked(struct msix *m, struct msix_vector *v)
{
	uint64_t addr = (uint64_t)entry_u32(v, ENTRY_ADDR_HI) << 32 | entry_u32(v, ENTRY_ADDR_LO);
	uint32_t data = entry_u32(v, ENTRY_DATA);

	v->pending = false;
	if ((addr & MSI_ADDR_WINDOW_MASK) != MSI_ADDR_WINDOW)
		return;
	m->nr_sent++;

	/* An external vector's binding is sync_external_locked's: while
	 * relayed, a write to its fd would come back here. */
	if (!v->nr_external)
		ensure_irqfd(m, v, addr, data);
	if (v->gsi >= 0 && (v->routed_addr != addr || v->routed_data != data) &&
	    vm_msi_route_update(m->vm, (uint32_t)v->gsi, addr, data) == 0) {
		v->routed_addr = addr;
		v->routed_data = data;
	}
	if (v->gsi >= 0 && v->routed_addr == addr && v->routed_data == data)
		eventfd_write(v->fd, 1);
	else
		vm_signal_msi(m->vm, addr, data);
}

static void flush_pending_locked(struct msix *m)
{
	if (!m->enabled || m->function_masked)
		return;
	for (uint16_t i = 0; i < m->nr_vectors; i++) {
		struct msix_vector *v = &m->vectors[i];
		if (v->pending && !vector_masked(v))
			deliver_locked(m, v);
	}
}

static void raise_locked(struct msix *m, struct msix_vector *v)
{
	if (!m->enabled) {
		/* No INTx fallback on this platform: the event is lost, as the
		 * driver asked for by disabling MSI-X. */
	} else if (m->function_masked || vector_masked(v)) {
		v->pending = true;
	} else {
		deliver_locked(m, v);
	}
}

void msix_notify(struct msix *m, uint16_t vector)
{
	if (vector >= m->nr_vectors)
		return;	/* includes VIRTIO_MSI_NO_VECTOR */
	pthread_mutex_lock(&m->lock);
	raise_locked(m, &m->vectors[vector]);
	pthread_mutex_unlock(&m->lock);
}

/* --- vectors raised from outside the VMM --- */

static uint64_t vector_addr(const struct msix_vector *v)
{
	return (uint64_t)entry_u32(v, ENTRY_ADDR_HI) << 32 | entry_u32(v, ENTRY_ADDR_LO);
}

/* What KVM may inject on its own: the guest would take it now. */
static bool deliverable(const struct msix *m, const struct msix_vector *v)
{
	return m->enabled && !m->function_masked && !vector_masked(v) &&
	       (vector_addr(v) & MSI_ADDR_WINDOW_MASK) == MSI_ADDR_WINDOW;
}

/* I/O loop thread: the producer wrote a vector KVM must not deliver now. */
static void relay_ready(void *opaque)
{
	struct msix_vector *v = opaque;
	struct msix *m = v->owner;
	eventfd_t count;

	if (eventfd_read(v->fd, &count) < 0)
		return;
	pthread_mutex_lock(&m->lock);
	raise_locked(m, v);
	pthread_mutex_unlock(&m->lock);
}

static void relay_stop(struct msix *m, struct msix_vector *v)
{
	if (v->relayed)
		ioloop_remove(&m->vm->loop, v->fd);
	v->relayed = false;
}

/* Caller holds lock.  Deliverable: an irqfd on the current message (KVM
 * injects what the fd already counts when it binds).  Otherwise: the
 * relay, which turns writes into the pending bit. */
static void sync_external_locked(struct msix *m, struct msix_vector *v)
{
	if (!v->nr_external)
		return;
	if (deliverable(m, v) && !v->irqfd_unavailable) {
		uint64_t addr = vector_addr(v);
		uint32_t data = entry_u32(v, ENTRY_DATA);

		relay_stop(m, v);
		if (v->gsi >= 0 && (v->routed_addr != addr || v->routed_data != data)) {
			if (vm_msi_route_update(m->vm, (uint32_t)v->gsi, addr, data) == 0) {
				v->routed_addr = addr;
				v->routed_data = data;
			} else {
				vm_msi_irqfd_remove(m->vm, (uint32_t)v->gsi, v->fd);
				v->gsi = -1;
				v->irqfd_unavailable = true;
			}
		}
		ensure_irqfd(m, v, addr, data);
		if (v->gsi >= 0) {
			if (v->pending)
				deliver_locked(m, v);
			return;
		}
	}
	if (v->gsi >= 0) {
		vm_msi_irqfd_remove(m->vm, (uint32_t)v->gsi, v->fd);
		v->gsi = -1;
	}
	if (!v->relayed && ioloop_add(&m->vm->loop, v->fd, relay_ready, v) == 0)
		v->relayed = true;
	/* Written before the relay watched it: count it now. */
	eventfd_t count;
	if (eventfd_read(v->fd, &count) == 0)
		raise_locked(m, v);
}

static void sync_all_external_locked(struct msix *m)
{
	for (uint16_t i = 0; i < m->nr_vectors; i++)
		sync_external_locked(m, &m->vectors[i]);
}

int msix_vector_get_eventfd(struct msix *m, uint16_t vector)
{
	if (vector >= m->nr_vectors)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	struct msix_vector *v = &m->vectors[vector];
	if (v->fd < 0 && (v->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		int e = errno;
		pthread_mutex_unlock(&m->lock);
		return -e;
	}
	v->nr_external++;
	sync_external_locked(m, v);
	int fd = v->fd;
	pthread_mutex_unlock(&m->lock);
	return fd;
}

void msix_vector_put_eventfd(struct msix *m, uint16_t vector)
{
	if (vector >= m->nr_vectors)
		return;
	pthread_mutex_lock(&m->lock);
	struct msix_vector *v = &m->vectors[vector];
	if (v->nr_external && --v->nr_external == 0)
		relay_stop(m, v);	/* msix_notify binds it again when needed */
	pthread_mutex_unlock(&m->lock);
}

void msix_describe_vector(struct msix *m, uint16_t vector, FILE *out)
{
	if (vector >= m->nr_vectors) {
		fprintf(out, "{\"vector\":null}");
		return;
	}
	pthread_mutex_lock(&m->lock);
	const struct msix_vector *v = &m->vectors[vector];
	fprintf(out,
		"{\"vector\":%u,\"enabled\":%s,\"function_masked\":%s,\"masked\":%s,"
		"\"pending\":%s,\"irqfd\":%s,\"external\":%d,\"relayed\":%s,\"sent\":%llu}",
		vector, json_bool(m->enabled), json_bool(m->function_masked),
		json_bool(vector_masked(v)), json_bool(v->pending),
		json_bool(v->gsi >= 0), v->nr_external, json_bool(v->relayed),
		(unsigned long long)m->nr_sent);
	pthread_mutex_unlock(&m->lock);
}

void msix_config_write(struct msix *m, struct pci_device *dev, uint32_t offset, uint32_t len)
{
	uint32_t ctrl_off = m->cap + PCI_MSIX_FLAGS;

	if (offset >= ctrl_off + 2 || offset + len <= ctrl_off)
		return;
	uint16_t ctrl = (uint16_t)pci_config_get(dev, ctrl_off, 2);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	m->function_masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	flush_pending_locked(m);
	sync_all_external_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_table_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len,
		       bool is_write)
{
	uint64_t size = msix_table_size(m->nr_vectors);

	if (offset >= size || len > size - offset) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = offset + i;
		struct msix_vector *v = &m->vectors[o / MSIX_ENTRY_SIZE];
		uint32_t field = o % MSIX_ENTRY_SIZE;
		if (!is_write) {
			data[i] = v->entry[field];
		} else if (field < ENTRY_CTRL) {
			v->entry[field] = data[i];
		} else if (field == ENTRY_CTRL) {
			/* Only the mask bit is writable in vector control. */
			bool was_masked = vector_masked(v);
			v->entry[field] = data[i] & PCI_MSIX_ENTRY_CTRL_MASKBIT;
			if (was_masked && !vector_masked(v) && v->pending && m->enabled &&
			    !m->function_masked)
				deliver_locked(m, v);
		}
	}
	if (is_write)
		for (uint64_t n = offset / MSIX_ENTRY_SIZE; n <= (offset + len - 1) / MSIX_ENTRY_SIZE; n++)
			sync_external_locked(m, &m->vectors[n]);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	if (is_write)
		return;	/* read-only */
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t byte = 0;
		for (int bit = 0; bit < 8; bit++) {
			uint64_t n = (offset + i) * 8 + bit;
			if (n < m->nr_vectors && m->vectors[n].pending)
				byte |= 1u << bit;
		}
		data[i] = byte;
	}
	pthread_mutex_unlock(&m->lock);
}
