/* Ids handed to the guest (node ids, file handles) are slot indices plus a
 * generation, never host pointers: a forged or stale id finds an empty slot
 * or a wrong generation and fails, it can never reach freed memory.
 *
 * id = generation << 32 | index.  Index 0 is never used, so id 0 is always
 * invalid; the first object added gets index 1 with generation 0, i.e. id 1
 * (the inode table relies on that for FUSE_ROOT_ID).  Not thread-safe: the
 * owning table holds its lock around every call. */
#ifndef NOVM_FUSE_IDTABLE_H
#define NOVM_FUSE_IDTABLE_H

#include <stdint.h>

struct id_table {
	void **slots;
	uint32_t *gens;		/* generation of each slot's current/next object */
	uint32_t *free;		/* stack of released indices */
	uint32_t nfree;
	uint32_t used;		/* indices [0, used) have been handed out once */
	uint32_t cap;		/* allocated length of slots/gens/free */
	uint32_t max;		/* hard limit on live objects, bounds host memory/fds */
};

int id_table_init(struct id_table *t, uint32_t max);
void id_table_destroy(struct id_table *t);

/* Returns 0 and the new id, -ENFILE when max objects are live, -ENOMEM. */
int id_table_add(struct id_table *t, void *obj, uint64_t *id);
/* The object for id, or NULL when id is unknown, stale or forged. */
void *id_table_find(const struct id_table *t, uint64_t id);
/* Removes and returns the object (NULL if id is not live); the slot's
 * generation moves on so the id is dead for good. */
void *id_table_remove(struct id_table *t, uint64_t id);

/* Visits every live object; fn may remove the object it is given (and
 * nothing else). */
void id_table_foreach(struct id_table *t, void (*fn)(void *obj, uint64_t id, void *opaque),
		      void *opaque);

#endif
