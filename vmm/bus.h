/* Port-I/O and MMIO dispatch: every KVM exit that touches a device goes
 * through one registry, looked up by address. */
#ifndef NOVM_BUS_H
#define NOVM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* `offset` is relative to the registered base; `data` holds `len` bytes
 * (1, 2, 4 or 8) in guest byte order (little endian). */
typedef void (*bus_access_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			      bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_access_fn access;
	void *opaque;
};

struct bus {
	pthread_rwlock_t lock;	/* ranges may change at run time (PCI BAR moves) */
	struct bus_range *ranges;
	int nr_ranges;
};

void bus_init(struct bus *bus);
void bus_destroy(struct bus *bus);
/* -EEXIST when the range overlaps an existing one. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_access_fn access, void *opaque);
int bus_unregister(struct bus *bus, uint64_t base);
/* false when nothing claims the address (reads then return all ones). */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
