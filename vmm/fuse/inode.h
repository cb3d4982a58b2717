/* The inode table: every file the guest knows is an O_PATH|O_NOFOLLOW fd
 * keyed by (st_dev, st_ino), so the guest names host files only by what we
 * opened for it, never by a host path.
 *
 * Two counts keep an inode alive:
 *   nlookup - the guest's references (LOOKUP, CREATE, MKDIR, READDIRPLUS...
 *             add one, FORGET takes some away); at 0 the node id dies.
 *   refs    - one for being in the table plus one per request using it now,
 *             so a FORGET racing a GETATTR can't close the fd under it.
 * The root (FUSE_ROOT_ID) is pinned: FORGET of it is ignored. */
#ifndef NOVM_FUSE_INODE_H
#define NOVM_FUSE_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "idtable.h"

struct inode_table;

struct fuse_inode {
	int fd;			/* O_PATH|O_NOFOLLOW; never followed, never reopened by name */
	dev_t dev;
	ino_t ino;
	/* The mount the fd is on, where one file may be reached through
	 * several (a graft root's read-only and writable grafts of one tree):
	 * each its own inode, so each keeps its own mount's flags.  0 for a
	 * plain share, whose files are keyed by (dev, ino) alone. */
	uint64_t mnt;
	mode_t type;		/* S_IFMT bits: a file's type never changes */
	bool charged;		/* fd counted in the table's budget */
	uint64_t nodeid;
	/* Both protected by the table lock. */
	uint64_t nlookup;
	unsigned refs;
	struct fuse_inode *hash_next;
	struct inode_table *table;
};

struct inode_table {
	pthread_mutex_t lock;
	struct id_table ids;
	struct fuse_inode **buckets;	/* (dev, ino) -> inode, chained */
	size_t nbuckets;		/* power of two */
	size_t count;
	struct fuse_fd_budget *budget;	/* NULL: none; the root is not charged */
};

/* Takes root_fd; the root becomes node id FUSE_ROOT_ID.  budget may be NULL. */
struct fuse_fd_budget;
int inode_table_init(struct inode_table *t, uint32_t max, struct fuse_fd_budget *budget, int root_fd,
		     const struct stat *root_st);
/* Only when no request is running any more. */
void inode_table_destroy(struct inode_table *t);

/* A referenced inode, or NULL for an unknown, stale or forged node id. */
struct fuse_inode *inode_get(struct inode_table *t, uint64_t nodeid);
void inode_put(struct fuse_inode *inode);

/* Gives the guest one more reference to the file behind fd (an O_PATH fd
 * whose fstat is st, on mount mnt): an existing inode for the same (dev,
 * ino, mnt) is reused.
 * Always takes fd.  Returns 0 with *nodeid, or -ENFILE (table full or the
 * descriptor budget spent) or -ENOMEM. */
int inode_link(struct inode_table *t, int fd, const struct stat *st, uint64_t mnt,
	       uint64_t *nodeid);

/* Drops n guest references; unknown ids are ignored (FORGET has no reply). */
void inode_forget(struct inode_table *t, uint64_t nodeid, uint64_t n);

/* Forgets every inode but the root (new session or DESTROY). */
void inode_table_reset(struct inode_table *t);

static inline void inode_putp(struct fuse_inode **p)
{
	if (*p)
		inode_put(*p);
}
#define cleanup_inode __attribute__((cleanup(inode_putp)))

#endif
