#include "handle.h"

#include "budget.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* Only handles that made it into the table are charged. */
static void handle_free(struct fuse_handle *h)
{
	close(h->fd);
	if (h->table)
		fd_budget_give(h->table->budget);
	free(h->dir_buf);
	pthread_mutex_destroy(&h->dir_lock);
	free(h);
}

int handle_table_init(struct handle_table *t, uint32_t max, struct fuse_fd_budget *budget)
{
	t->budget = budget;
	pthread_mutex_init(&t->lock, NULL);
	return id_table_init(&t->ids, max);
}

static void free_one(void *obj, uint64_t id, void *opaque)
{
	handle_free(obj);
}

void handle_table_destroy(struct handle_table *t)
{
	id_table_foreach(&t->ids, free_one, NULL);
	id_table_destroy(&t->ids);
	pthread_mutex_destroy(&t->lock);
}

int handle_add(struct handle_table *t, int fd, enum fuse_handle_kind kind, uint64_t *fh)
{
	struct fuse_handle *h = calloc(1, sizeof(*h));
	int r;

	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	*h = (struct fuse_handle){ .fd = fd, .kind = kind, .refs = 1 };
	pthread_mutex_init(&h->dir_lock, NULL);
	if (!fd_budget_take(t->budget)) {
		handle_free(h);
		return -ENFILE;
	}
	h->table = t;	/* charged from here on: freeing gives it back */

	pthread_mutex_lock(&t->lock);
	r = id_table_add(&t->ids, h, &h->fh);
	pthread_mutex_unlock(&t->lock);
	if (r < 0) {
		handle_free(h);
		return r;
	}
	*fh = h->fh;
	return 0;
}

struct fuse_handle *handle_get(struct handle_table *t, uint64_t fh, enum fuse_handle_kind kind)
{
	struct fuse_handle *h;

	pthread_mutex_lock(&t->lock);
	h = id_table_find(&t->ids, fh);
	if (h && h->kind == kind)
		h->refs++;
	else
		h = NULL;
	pthread_mutex_unlock(&t->lock);
	return h;
}

void handle_put(struct fuse_handle *h)
{
	struct handle_table *t = h->table;
	bool last;

	pthread_mutex_lock(&t->lock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&t->lock);
	if (last)
		handle_free(h);
}

int handle_release(struct handle_table *t, uint64_t fh, enum fuse_handle_kind kind)
{
	struct fuse_handle *h;
	bool last = false;

	pthread_mutex_lock(&t->lock);
	h = id_table_find(&t->ids, fh);
	if (h && h->kind == kind) {
		id_table_remove(&t->ids, fh);
		last = --h->refs == 0;
	} else {
		h = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	if (!h)
		return -EBADF;
	if (last)
		handle_free(h);
	return 0;
}

struct reset_ctx {
	struct handle_table *t;
	struct fuse_handle *to_free;	/* closed after unlocking */
};

static void reset_one(void *obj, uint64_t id, void *opaque)
{
	struct reset_ctx *ctx = opaque;
	struct fuse_handle *h = obj;

	id_table_remove(&ctx->t->ids, id);
	if (--h->refs == 0) {
		h->reset_next = ctx->to_free;
		ctx->to_free = h;
	}
}

void handle_table_reset(struct handle_table *t)
{
	struct reset_ctx ctx = { .t = t };

	pthread_mutex_lock(&t->lock);
	id_table_foreach(&t->ids, reset_one, &ctx);
	pthread_mutex_unlock(&t->lock);
	while (ctx.to_free) {
		struct fuse_handle *next = ctx.to_free->reset_next;
		handle_free(ctx.to_free);
		ctx.to_free = next;
	}
}
