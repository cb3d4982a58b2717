/* Charging the VMM-wide descriptor budget (struct fuse_fd_budget in
 * server.h).  A NULL budget charges nothing: the tables' own maxima still
 * apply. */
#ifndef NOVM_FUSE_BUDGET_H
#define NOVM_FUSE_BUDGET_H

#include <stdbool.h>

#include "server.h"

/* Logs, the first time only, that the guest reached the cap (server.c). */
void fd_budget_spent(struct fuse_fd_budget *b);

/* One descriptor more, or false when the budget is spent. */
static inline bool fd_budget_take(struct fuse_fd_budget *b)
{
	if (!b)
		return true;
	unsigned used = atomic_load(&b->used);
	do {
		if (used >= b->max) {
			fd_budget_spent(b);
			return false;
		}
	} while (!atomic_compare_exchange_weak(&b->used, &used, used + 1));
	return true;
}

/* Whether n more would fit now (racing requests may take the room). */
static inline bool fd_budget_room(struct fuse_fd_budget *b, unsigned n)
{
	return !b || atomic_load(&b->used) + n <= b->max;
}

static inline void fd_budget_give(struct fuse_fd_budget *b)
{
	if (b)
		atomic_fetch_sub(&b->used, 1);
}

#endif
