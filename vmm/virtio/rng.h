/* virtio-rng (virtio 1.2 §5.4): one request queue the driver fills with
 * writable buffers; the device fills them with host entropy from
 * getrandom(2).  Shows up in the guest as /dev/hwrng. */
#ifndef NOVM_VIRTIO_RNG_H
#define NOVM_VIRTIO_RNG_H

#include "error.h"

struct vm;

/* Creates the device on vm->pci (pci_init first).  Call before the I/O loop
 * thread starts. */
int virtio_rng_init(struct vm *vm, novm_error_t *err);
/* Removes and frees it (no-op when absent).  vCPUs and the I/O loop must be
 * stopped.  pci_exit() also does this for every device still on the bus. */
void virtio_rng_exit(struct vm *vm);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int virtio_rng_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void virtio_rng_detach(struct vmm *vmm);

#endif
