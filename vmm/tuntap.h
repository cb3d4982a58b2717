/* The host end of a guest NIC: an existing tap interface, opened the way
 * virtio-net (vmm/virtio/net.h) speaks to it. */
#ifndef NOVM_TUNTAP_H
#define NOVM_TUNTAP_H

#include "error.h"

/* Attaches to the tap interface `name`, which must exist already (we never
 * create one: who made it configures it): IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, non-blocking, 12-byte vnet headers (virtio_net_hdr_v1), no
 * receive offloads until a driver accepts them.  Errors name the interface
 * and what is wrong with it. */
int tap_open(const char *name, int *fd_out, novm_error_t *err);

/* Makes tap `name` (which must not exist) and opens it as tap_open does;
 * the tap is not persistent: it goes away with the last fd, the VMM's. */
int tap_create(const char *name, int *fd_out, novm_error_t *err);

/* Checks that fd, handed to us (the runtime's or a caller's), is what
 * tap_open gives: a tap with vnet headers of our size, without packet
 * info.  virtio-net would otherwise read frames of another shape. */
int tap_check_fd(int fd, novm_error_t *err);

#endif
