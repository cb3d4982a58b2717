/* The virtio-pci modern transport (virtio 1.2 §4.1): a non-transitional PCI
 * function (vendor 0x1af4, device 0x1040 + virtio id, revision 1) with one
 * 32-bit memory BAR holding every register block, found by the driver
 * through vendor capabilities, and MSI-X for interrupts.
 *
 * BAR 0 layout:
 *   0x0000  common configuration
 *   0x1000  ISR status
 *   0x2000  device configuration (capability only when the device has one)
 *   0x3000  notifications: queue n at 0x3000 + 4n, each with its ioeventfd
 *   0x4000  MSI-X table (one vector per queue, plus one for config changes)
 *   0x5000  MSI-X pending bits
 */
#ifndef NOVM_VIRTIO_PCI_H
#define NOVM_VIRTIO_PCI_H

#include <stdio.h>

#include "error.h"

struct vm;
struct virtio_device;

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET 0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_MSIX_TABLE_OFFSET 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFFSET 0x5000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

/* Puts an initialised virtio device on vm->pci.  On success the PCI bus owns
 * it: pci_exit (or pci_bus_remove_device plus the device's destroy hook)
 * tears down transport and device.  On failure the caller still owns vdev
 * and releases it with virtio_device_exit(). */
int virtio_pci_add(struct vm *vm, struct virtio_device *vdev, novm_error_t *err);

/* Takes a device added with virtio_pci_add off the bus and destroys
 * transport and device (the device's ops->destroy frees its state). */
void virtio_pci_remove(struct virtio_device *vdev);

/* Writes a JSON array describing every virtio device on vm->pci: its slot,
 * virtio_device_describe() and each queue's MSI-X vector state.  While the
 * devices exist (between their setup and pci_exit); any thread. */
void virtio_pci_describe_all(struct vm *vm, FILE *out);

#endif
