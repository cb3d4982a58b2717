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
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		v->irqfd_unavailable = true;
		return;
	}
	int gsi = vm_msi_irqfd_add(m->vm, addr, data, fd);
	if (gsi < 0) {
		close(fd);
		v->irqfd_unavailable = true;
		return;
	}
	v->fd = fd;
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

void msix_notify(struct msix *m, uint16_t vector)
{
	if (vector >= m->nr_vectors)
		return;	/* includes VIRTIO_MSI_NO_VECTOR */
	pthread_mutex_lock(&m->lock);
	struct msix_vector *v = &m->vectors[vector];
	if (!m->enabled) {
		/* No INTx fallback on this platform: the event is lost, as the
		 * driver asked for by disabling MSI-X. */
	} else if (m->function_masked || vector_masked(v)) {
		v->pending = true;
	} else {
		deliver_locked(m, v);
	}
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
		"\"pending\":%s,\"irqfd\":%s,\"sent\":%llu}",
		vector, json_bool(m->enabled), json_bool(m->function_masked),
		json_bool(vector_masked(v)), json_bool(v->pending),
		json_bool(v->fd >= 0), (unsigned long long)m->nr_sent);
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
