#include "inode.h"

#include "budget.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/fuse.h>

static size_t bucket_of(const struct inode_table *t, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;
	return (size_t)(h >> 17) & (t->nbuckets - 1);
}

static struct fuse_inode *hash_find(const struct inode_table *t, dev_t dev, ino_t ino,
				    uint64_t mnt)
{
	for (struct fuse_inode *i = t->buckets[bucket_of(t, dev, ino)]; i; i = i->hash_next)
		if (i->dev == dev && i->ino == ino && i->mnt == mnt)
			return i;
	return NULL;
}

static void hash_insert(struct inode_table *t, struct fuse_inode *inode)
{
	size_t b = bucket_of(t, inode->dev, inode->ino);
	inode->hash_next = t->buckets[b];
	t->buckets[b] = inode;
}

static void hash_remove(struct inode_table *t, struct fuse_inode *inode)
{
	struct fuse_inode **pp = &t->buckets[bucket_of(t, inode->dev, inode->ino)];
	for (; *pp; pp = &(*pp)->hash_next) {
		if (*pp == inode) {
			*pp = inode->hash_next;
			return;
		}
	}
}

/* Keeps chains short; failing to grow only costs speed. */
static void hash_maybe_grow(struct inode_table *t)
{
	if (t->count < t->nbuckets)
		return;
	size_t nb = t->nbuckets * 2;
	struct fuse_inode **nbk = calloc(nb, sizeof(*nbk));
	if (!nbk)
		return;
	struct fuse_inode **old = t->buckets;
	size_t oldn = t->nbuckets;
	t->buckets = nbk;
	t->nbuckets = nb;
	for (size_t b = 0; b < oldn; b++) {
		struct fuse_inode *i = old[b];
		while (i) {
			struct fuse_inode *next = i->hash_next;
			hash_insert(t, i);
			i = next;
		}
	}
	free(old);
}

static void inode_free(struct fuse_inode *inode)
{
	close(inode->fd);
	if (inode->charged)
		fd_budget_give(inode->table->budget);
	free(inode);
}

/* Under the lock: the node id dies; the memory goes with the last ref.
 * Returns true when the caller must free the inode (after unlocking). */
static bool unlink_locked(struct inode_table *t, struct fuse_inode *inode)
{
	id_table_remove(&t->ids, inode->nodeid);
	hash_remove(t, inode);
	t->count--;
	inode->nlookup = 0;
	return --inode->refs == 0;
}

int inode_table_init(struct inode_table *t, uint32_t max, struct fuse_fd_budget *budget, int root_fd,
		     const struct stat *root_st)
{
	struct fuse_inode *root;
	uint64_t id;
	int r;

	*t = (struct inode_table){ .nbuckets = 256, .budget = budget };
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	root = calloc(1, sizeof(*root));
	if (!t->buckets || !root) {
		free(t->buckets);
		free(root);
		close(root_fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	id_table_init(&t->ids, max);
	*root = (struct fuse_inode){
		.fd = root_fd, .dev = root_st->st_dev, .ino = root_st->st_ino,
		.type = root_st->st_mode & S_IFMT, .nlookup = 1, .refs = 1, .table = t,
	};
	r = id_table_add(&t->ids, root, &id);
	if (r < 0 || id != FUSE_ROOT_ID) {
		inode_free(root);
		id_table_destroy(&t->ids);
		free(t->buckets);
		pthread_mutex_destroy(&t->lock);
		return r < 0 ? r : -EINVAL;
	}
	root->nodeid = id;
	hash_insert(t, root);
	t->count = 1;
	return 0;
}

static void free_one(void *obj, uint64_t id, void *opaque)
{
	inode_free(obj);
}

void inode_table_destroy(struct inode_table *t)
{
	id_table_foreach(&t->ids, free_one, NULL);
	id_table_destroy(&t->ids);
	free(t->buckets);
	pthread_mutex_destroy(&t->lock);
}

struct fuse_inode *inode_get(struct inode_table *t, uint64_t nodeid)
{
	struct fuse_inode *inode;

	pthread_mutex_lock(&t->lock);
	inode = id_table_find(&t->ids, nodeid);
	if (inode)
		inode->refs++;
	pthread_mutex_unlock(&t->lock);
	return inode;
}

void inode_put(struct fuse_inode *inode)
{
	struct inode_table *t = inode->table;
	bool last;

	pthread_mutex_lock(&t->lock);
	last = --inode->refs == 0;
	pthread_mutex_unlock(&t->lock);
	if (last)
		inode_free(inode);
}

int inode_link(struct inode_table *t, int fd, const struct stat *st, uint64_t mnt,
	       uint64_t *nodeid)
{
	struct fuse_inode *inode, *fresh;
	int r;

	/* Allocated outside the lock (and freed again if the file turns out
	 * to be known already), keeping the critical section short. */
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		close(fd);
		return -ENOMEM;
	}

	pthread_mutex_lock(&t->lock);
	inode = hash_find(t, st->st_dev, st->st_ino, mnt);
	if (inode) {
		/* Another name (hard link) or a racing lookup got there first:
		 * one inode per host file keeps nlookup counts coherent. */
		inode->nlookup++;
		*nodeid = inode->nodeid;
		pthread_mutex_unlock(&t->lock);
		free(fresh);
		close(fd);
		return 0;
	}
	*fresh = (struct fuse_inode){
		.fd = fd, .dev = st->st_dev, .ino = st->st_ino, .mnt = mnt,
		.type = st->st_mode & S_IFMT, .nlookup = 1, .refs = 1, .table = t,
	};
	/* A known file costs nothing more; a new one needs its fd kept. */
	if (!fd_budget_take(t->budget)) {
		pthread_mutex_unlock(&t->lock);
		inode_free(fresh);
		return -ENFILE;
	}
	fresh->charged = true;
	r = id_table_add(&t->ids, fresh, &fresh->nodeid);
	if (r < 0) {
		pthread_mutex_unlock(&t->lock);
		inode_free(fresh);
		return r;
	}
	hash_insert(t, fresh);
	t->count++;
	hash_maybe_grow(t);
	*nodeid = fresh->nodeid;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void inode_forget(struct inode_table *t, uint64_t nodeid, uint64_t n)
{
	struct fuse_inode *inode;
	bool free_it = false;

	if (nodeid == FUSE_ROOT_ID)
		return;
	pthread_mutex_lock(&t->lock);
	inode = id_table_find(&t->ids, nodeid);
	if (inode) {
		if (n >= inode->nlookup)
			free_it = unlink_locked(t, inode);
		else
			inode->nlookup -= n;
	}
	pthread_mutex_unlock(&t->lock);
	if (free_it)
		inode_free(inode);
}

struct reset_ctx {
	struct inode_table *t;
	struct fuse_inode *to_free;	/* chained through hash_next once unlinked */
};

static void reset_one(void *obj, uint64_t id, void *opaque)
{
	struct reset_ctx *ctx = opaque;
	struct fuse_inode *inode = obj;

	if (id == FUSE_ROOT_ID)
		return;
	if (unlink_locked(ctx->t, inode)) {
		inode->hash_next = ctx->to_free;
		ctx->to_free = inode;
	}
}

void inode_table_reset(struct inode_table *t)
{
	struct reset_ctx ctx = { .t = t };

	pthread_mutex_lock(&t->lock);
	id_table_foreach(&t->ids, reset_one, &ctx);
	pthread_mutex_unlock(&t->lock);
	while (ctx.to_free) {
		struct fuse_inode *next = ctx.to_free->hash_next;
		inode_free(ctx.to_free);
		ctx.to_free = next;
	}
}
