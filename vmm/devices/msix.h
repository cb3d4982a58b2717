/* MSI-X for a PCI device: the capability, the vector table and the pending
 * bit array (both living in one of the device's memory BARs), and delivery.
 *
 * Delivery goes through an irqfd per vector, created at the vector's first
 * interrupt (a KVM GSI routed to the vector's message); a message the guest
 * rewrites is re-routed at its next interrupt.  When KVM refuses irqfds the
 * interrupt is injected with KVM_SIGNAL_MSI.  Masked vectors (per vector or
 * the whole function) collect a pending bit instead, delivered on unmask.
 *
 * A producer outside the VMM (an in-kernel vhost backend) may raise a vector
 * by writing its eventfd (msix_vector_get_eventfd).  While the vector can be
 * delivered the eventfd is a KVM irqfd whose route follows the guest's
 * message; while it is masked (or MSI-X is off, or the message is not an
 * MSI) KVM would inject regardless, so the irqfd is unbound and the I/O loop
 * relays the writes into the pending bit instead.
 *
 * Threads: msix_notify may be called from any thread; table/PBA accesses come
 * from vCPUs, msix_config_write from the PCI config path.  All of them take
 * m->lock, a leaf lock (only the VM's GSI lock is taken inside it). */
#ifndef NOVM_DEVICES_MSIX_H
#define NOVM_DEVICES_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct vm;
struct pci_device;

#define MSIX_ENTRY_SIZE 16
#define MSIX_MAX_VECTORS 2048

struct msix_vector {
	uint8_t entry[MSIX_ENTRY_SIZE];	/* address lo/hi, data, vector control */
	bool pending;
	int fd;				/* irqfd eventfd, -1 until first use */
	int gsi;			/* -1 until first use */
	uint64_t routed_addr;		/* message the GSI currently carries */
	uint32_t routed_data;
	bool irqfd_unavailable;		/* fall back to KVM_SIGNAL_MSI */
	int nr_external;		/* msix_vector_get_eventfd users */
	bool relayed;			/* fd watched by the I/O loop, not KVM */
	struct msix *owner;		/* for the relay callback */
};

struct msix {
	pthread_mutex_t lock;
	struct vm *vm;
	uint16_t nr_vectors;
	uint8_t cap;			/* config offset of the capability */
	bool enabled;			/* message control: MSI-X enable */
	bool function_masked;		/* message control: function mask */
	struct msix_vector *vectors;
	uint64_t nr_sent;		/* messages handed to KVM (tests) */
};

static inline uint32_t msix_table_size(uint16_t nr_vectors)
{
	return nr_vectors * MSIX_ENTRY_SIZE;
}

static inline uint32_t msix_pba_size(uint16_t nr_vectors)
{
	return ((nr_vectors + 63) / 64) * 8;
}

/* Adds the capability to dev's config space, pointing at the table and PBA
 * at the given offsets of BAR `bar` (8-byte aligned); all vectors start
 * masked. */
int msix_init(struct msix *m, struct vm *vm, struct pci_device *dev, uint16_t nr_vectors,
	      int bar, uint32_t table_offset, uint32_t pba_offset, novm_error_t *err);
/* Unbinds the irqfds and frees everything. */
void msix_exit(struct msix *m);

/* Device's config_write hook must forward every write here (PCI bus lock
 * held); it picks up changes of the enable and function-mask bits. */
void msix_config_write(struct msix *m, struct pci_device *dev, uint32_t offset, uint32_t len);

/* BAR accesses, offsets relative to the start of the table / PBA. */
void msix_table_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len,
		       bool is_write);
void msix_pba_access(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/* Raises `vector` (no-op for an out-of-range vector or with MSI-X off). */
void msix_notify(struct msix *m, uint16_t vector);
/* The eventfd of `vector` for a producer outside the VMM: each write raises
 * the vector as msix_notify would, masking included.  The fd stays the
 * msix's (valid until msix_exit); pair with msix_vector_put_eventfd.
 * Returns the fd or -errno. */
int msix_vector_get_eventfd(struct msix *m, uint16_t vector);
void msix_vector_put_eventfd(struct msix *m, uint16_t vector);

/* Writes a vector's delivery state as one JSON object (masked, pending,
 * messages sent by the whole table), for diagnosing lost interrupts. */
void msix_describe_vector(struct msix *m, uint16_t vector, FILE *out);

#endif
