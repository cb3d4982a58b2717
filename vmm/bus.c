#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
}

static bool overlaps(const struct bus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_access_fn access, void *opaque)
{
	int ret = 0;

	if (!len || base + len < base)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	for (int i = 0; i < bus->nr_ranges; i++) {
		if (overlaps(&bus->ranges[i], base, len)) {
			ret = -EEXIST;
			goto out;
		}
	}
	struct bus_range *n = realloc(bus->ranges, (bus->nr_ranges + 1) * sizeof(*n));
	if (!n) {
		ret = -ENOMEM;
		goto out;
	}
	bus->ranges = n;
	bus->ranges[bus->nr_ranges++] = (struct bus_range){ base, len, access, opaque };
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	for (int i = 0; i < bus->nr_ranges; i++) {
		if (bus->ranges[i].base == base) {
			bus->ranges[i] = bus->ranges[--bus->nr_ranges];
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	for (int i = 0; i < bus->nr_ranges; i++) {
		struct bus_range *r = &bus->ranges[i];
		if (addr >= r->base && addr - r->base < r->len) {
			r->access(r->opaque, addr - r->base, data, len, is_write);
			found = true;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!found && !is_write)
		memset(data, 0xff, len);
	return found;
}
