/* Open files and directories of the guest (OPEN/CREATE/OPENDIR), as table
 * ids like node ids: a forged or released fh fails with -EBADF.  Refcounted
 * like inodes so a RELEASE racing a READ can't close the fd mid-read. */
#ifndef NOVM_FUSE_HANDLE_H
#define NOVM_FUSE_HANDLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "idtable.h"

enum fuse_handle_kind {
	FUSE_HANDLE_FILE,
	FUSE_HANDLE_DIR,
};

struct handle_table;

struct fuse_handle {
	int fd;			/* a real fd (not O_PATH), opened for the guest */
	enum fuse_handle_kind kind;
	/* Directory reads move the fd's offset (lseek + getdents): one at a time. */
	pthread_mutex_t dir_lock;
	/* A directory's read-ahead, under dir_lock: getdents64 bytes not yet
	 * given to the guest, and the offset at which the guest continues
	 * there.  A READDIR at that offset reads on without a seek: where
	 * offsets are positions (tmpfs before 6.6), a seek after entries
	 * were removed (rm -rf) would skip as many others. */
	uint8_t *dir_buf;
	size_t dir_len, dir_pos;
	uint64_t dir_next_off;
	bool dir_streaming;	/* dir_next_off is where the fd's stream stands */
	uint64_t fh;
	unsigned refs;		/* table lock */
	struct handle_table *table;
	struct fuse_handle *reset_next;
};

struct handle_table {
	pthread_mutex_t lock;
	struct id_table ids;
	struct fuse_fd_budget *budget;	/* NULL: none */
};

struct fuse_fd_budget;
int handle_table_init(struct handle_table *t, uint32_t max, struct fuse_fd_budget *budget);
/* Only when no request is running any more. */
void handle_table_destroy(struct handle_table *t);
/* Closes every handle (new session or DESTROY). */
void handle_table_reset(struct handle_table *t);

/* Always takes fd.  Returns 0 with *fh, or -ENFILE (table full or the
 * descriptor budget spent) or -ENOMEM. */
int handle_add(struct handle_table *t, int fd, enum fuse_handle_kind kind, uint64_t *fh);
/* A referenced handle of that kind, or NULL (-EBADF for the guest). */
struct fuse_handle *handle_get(struct handle_table *t, uint64_t fh, enum fuse_handle_kind kind);
void handle_put(struct fuse_handle *h);
/* RELEASE/RELEASEDIR: the fh dies now, the fd with its last user. */
int handle_release(struct handle_table *t, uint64_t fh, enum fuse_handle_kind kind);

static inline void handle_putp(struct fuse_handle **p)
{
	if (*p)
		handle_put(*p);
}
#define cleanup_handle __attribute__((cleanup(handle_putp)))

#endif
