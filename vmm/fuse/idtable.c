#include "idtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ID_INDEX(id) ((uint32_t)(id))
#define ID_GEN(id) ((uint32_t)((id) >> 32))
#define MAKE_ID(gen, idx) (((uint64_t)(gen) << 32) | (idx))

int id_table_init(struct id_table *t, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	t->used = 1;	/* index 0 stays empty: id 0 is never valid */
	return 0;
}

void id_table_destroy(struct id_table *t)
{
	free(t->slots);
	free(t->gens);
	free(t->free);
	memset(t, 0, sizeof(*t));
}

static int grow(struct id_table *t)
{
	/* +1: index 0 is reserved, so max objects need max + 1 slots. */
	uint32_t limit = t->max + 1;
	uint32_t ncap = t->cap ? t->cap * 2 : 64;

	if (ncap > limit || ncap < t->cap)
		ncap = limit;
	if (ncap <= t->cap)
		return -ENFILE;

	void **slots = realloc(t->slots, ncap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	uint32_t *gens = realloc(t->gens, ncap * sizeof(*gens));
	if (!gens)
		return -ENOMEM;
	t->gens = gens;
	uint32_t *fr = realloc(t->free, ncap * sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	t->free = fr;

	memset(slots + t->cap, 0, (ncap - t->cap) * sizeof(*slots));
	memset(gens + t->cap, 0, (ncap - t->cap) * sizeof(*gens));
	t->cap = ncap;
	return 0;
}

int id_table_add(struct id_table *t, void *obj, uint64_t *id)
{
	uint32_t idx;

	if (t->nfree) {
		idx = t->free[--t->nfree];
	} else {
		if (t->used >= t->cap) {
			int r = grow(t);
			if (r < 0)
				return r;
		}
		idx = t->used++;
	}
	t->slots[idx] = obj;
	*id = MAKE_ID(t->gens[idx], idx);
	return 0;
}

void *id_table_find(const struct id_table *t, uint64_t id)
{
	uint32_t idx = ID_INDEX(id);

	if (idx == 0 || idx >= t->used || !t->slots[idx] || t->gens[idx] != ID_GEN(id))
		return NULL;
	return t->slots[idx];
}

void *id_table_remove(struct id_table *t, uint64_t id)
{
	void *obj = id_table_find(t, id);
	uint32_t idx = ID_INDEX(id);

	if (!obj)
		return NULL;
	t->slots[idx] = NULL;
	/* Wrapping after 2^32 reuses of one slot is accepted: by then the
	 * guest has long dropped the old id. */
	t->gens[idx]++;
	t->free[t->nfree++] = idx;
	return obj;
}

void id_table_foreach(struct id_table *t, void (*fn)(void *obj, uint64_t id, void *opaque),
		      void *opaque)
{
	for (uint32_t i = 1; i < t->used; i++)
		if (t->slots[i])
			fn(t->slots[i], MAKE_ID(t->gens[i], i), opaque);
}
