/* What the FUSE server's files share: the server state, the op handlers
 * (one file per concern) and the helpers they have in common.  Handlers get
 * a parsed header and an argument iterator, append their reply body, and
 * return 0 or -errno; dispatch.c writes the out header. */
#ifndef NOVM_FUSE_INTERNAL_H
#define NOVM_FUSE_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/fuse.h>
#include <linux/limits.h>

#include "budget.h"
#include "handle.h"
#include "inode.h"
#include "request.h"
#include "server.h"

/* The protocol level we implement; we answer INIT with min(this, guest's). */
#define FUSE_SERVER_MINOR 38
_Static_assert(FUSE_KERNEL_MINOR_VERSION >= FUSE_SERVER_MINOR, "linux/fuse.h too old");
/* Oldest guest protocol we serve: below it several argument structs differ. */
#define FUSE_SERVER_MIN_MINOR 12

#define FUSE_SERVER_MAX_WRITE (1u << 20)
/* The largest reply: a READ of max_write bytes (the most the max_pages we
 * announce lets the guest ask for) and its header, with room to spare. */
#define FUSE_SERVER_MAX_REPLY (FUSE_SERVER_MAX_WRITE + 4096u)
#define FUSE_SERVER_MAX_INODES (1u << 20)
#define FUSE_SERVER_MAX_HANDLES (1u << 16)
/* How long the guest may cache names and attributes: short, as the host
 * may change the share behind the guest's back. */
#define FUSE_SERVER_TIMEOUT_SEC 1

/* A confined root shows only these names (root.c).  A single-file share
 * has one, its own entry of the shared directory (fd -1); a graft root
 * those grafted at run time, each an fd of its own. */
struct fuse_root_name {
	char *name;
	int fd;			/* the graft; -1: root's own entry of that name */
};

struct fuse_root_names {
	bool confined;		/* fixed at creation: the root shows only v[] */
	bool grafts;		/* names come and go (fuse_server_graft) */
	pthread_mutex_t lock;	/* v and n: the control thread grafts while
				 * workers look up */
	struct fuse_root_name *v;
	size_t n;
};

struct fuse_server {
	int proc_fd;		/* /proc/self/fd: reopens O_PATH fds for I/O */
	atomic_bool readonly;	/* may turn true while requests run */
	struct fuse_root_names root;
	dev_t root_dev;		/* root's identity, to know its directory handles */
	ino_t root_ino;
	struct inode_table inodes;
	struct handle_table handles;
	struct fuse_fd_budget *budget;	/* the config's, may be NULL */

	pthread_mutex_t session_lock;	/* INIT/DESTROY/reset */
	atomic_bool initialized;	/* FUSE_INIT answered: other ops allowed */
};

typedef int (*fuse_op_fn)(struct fuse_req *req);

/* root.c: the confined root (single-file shares, graft roots). */
int fuse_root_names_init(struct fuse_root_names *rn, const struct fuse_server_config *cfg,
			 novm_error_t *err);
void fuse_root_names_destroy(struct fuse_root_names *rn);
/* Whether node id `dir` is a root that shows only its names: no name is
 * made, removed or renamed in it.  Only node id 1 is the root (the table
 * has one node per host inode). */
static inline bool fuse_root_confined(const struct fuse_server *srv, uint64_t dir)
{
	return srv->root.confined && dir == FUSE_ROOT_ID;
}
/* LOOKUP of name in a confined root: -ENOENT unless it is one of its
 * names; else as fuse_lookup_at (st may be NULL). */
int fuse_root_lookup(struct fuse_server *srv, const char *name, struct fuse_entry_out *e,
		     struct stat *st);
/* The same without giving the guest a reference: its stat only. */
int fuse_root_stat(struct fuse_server *srv, const char *name, struct stat *st);
/* The index-th name of a confined root into name; false past the end. */
bool fuse_root_name_at(struct fuse_server *srv, size_t index, char name[NAME_MAX + 1]);

/* session.c */
int fuse_op_init(struct fuse_req *req);
int fuse_op_destroy(struct fuse_req *req);

/* entry.c: names and node ids */
int fuse_op_lookup(struct fuse_req *req);
int fuse_op_forget(struct fuse_req *req);
int fuse_op_batch_forget(struct fuse_req *req);
int fuse_op_readlink(struct fuse_req *req);
int fuse_op_statfs(struct fuse_req *req);
int fuse_op_syncfs(struct fuse_req *req);

/* attr.c */
int fuse_op_getattr(struct fuse_req *req);
int fuse_op_setattr(struct fuse_req *req);
int fuse_op_access(struct fuse_req *req);

/* namespace.c: creating, linking, removing, renaming names */
int fuse_op_mknod(struct fuse_req *req);
int fuse_op_mkdir(struct fuse_req *req);
int fuse_op_symlink(struct fuse_req *req);
int fuse_op_link(struct fuse_req *req);
int fuse_op_unlink(struct fuse_req *req);
int fuse_op_rmdir(struct fuse_req *req);
int fuse_op_rename(struct fuse_req *req);
int fuse_op_rename2(struct fuse_req *req);

/* file.c */
int fuse_op_open(struct fuse_req *req);
int fuse_op_create(struct fuse_req *req);
int fuse_op_read(struct fuse_req *req);
int fuse_op_write(struct fuse_req *req);
int fuse_op_flush(struct fuse_req *req);
int fuse_op_release(struct fuse_req *req);
int fuse_op_fsync(struct fuse_req *req);
int fuse_op_fallocate(struct fuse_req *req);
int fuse_op_lseek(struct fuse_req *req);
int fuse_op_copy_file_range(struct fuse_req *req);

/* RELEASE/RELEASEDIR and FSYNC/FSYNCDIR of a handle of that kind (file.c). */
int fuse_release_handle(struct fuse_req *req, enum fuse_handle_kind kind);
int fuse_fsync_handle(struct fuse_req *req, enum fuse_handle_kind kind);

/* dir.c */
int fuse_op_opendir(struct fuse_req *req);
int fuse_op_readdir(struct fuse_req *req);
int fuse_op_readdirplus(struct fuse_req *req);
int fuse_op_releasedir(struct fuse_req *req);
int fuse_op_fsyncdir(struct fuse_req *req);

/* xattr.c */
int fuse_op_setxattr(struct fuse_req *req);
int fuse_op_getxattr(struct fuse_req *req);
int fuse_op_listxattr(struct fuse_req *req);
int fuse_op_removexattr(struct fuse_req *req);

/* Shared helpers (entry.c unless noted). */

/* Checked before making a file that the guest then holds with n more
 * descriptors: at the cap it gets ENFILE and no file is left behind.  A
 * racing request may still take the room; that file then exists and the
 * guest's LOOKUP of it fails the same way. */
static inline int fuse_budget_check(struct fuse_server *srv, unsigned n)
{
	return fd_budget_room(srv->budget, n) ? 0 : -ENFILE;
}

/* The inode of the request header's node id (referenced), or NULL. */
static inline struct fuse_inode *fuse_req_inode(struct fuse_req *req, uint64_t nodeid)
{
	return inode_get(&req->srv->inodes, nodeid);
}

/* "N", the name under srv->proc_fd of the magic link to exactly the file
 * behind our fd N: reaches it (to reopen, chmod, link) without a path. */
#define FUSE_FD_NAME_MAX 16
void fuse_fd_name(int fd, char buf[FUSE_FD_NAME_MAX]);
/* "/proc/self/fd/N", the same as a path, for calls without an *at() form
 * (xattrs): those need /proc mounted in the VMM's mount namespace. */
#define FUSE_PROC_PATH_MAX 32
void fuse_proc_path(int fd, char buf[FUSE_PROC_PATH_MAX]);

/* Opens the inode for I/O with flags.  Only regular files and directories:
 * symlinks are never followed (-ELOOP) and device nodes, FIFOs and sockets
 * are the guest kernel's business, never opened on the host (-EACCES). */
int fuse_inode_open(struct fuse_server *srv, const struct fuse_inode *inode, int flags);
/* Same for an O_PATH fd of that file type. */
int fuse_open_opath(struct fuse_server *srv, int opath_fd, mode_t type, int flags);

int fuse_inode_stat(const struct fuse_inode *inode, struct stat *st);
void fuse_attr_from_stat(struct fuse_attr *attr, const struct stat *st);
void fuse_fill_attr_out(struct fuse_attr_out *out, const struct stat *st);
void fuse_fill_entry(struct fuse_entry_out *e, uint64_t nodeid, const struct stat *st);

/* Looks name up in the directory dirfd without following anything, and
 * gives the guest a reference to it in *e (and its stat in *st if wanted). */
int fuse_lookup_at(struct fuse_server *srv, int dirfd, const char *name,
		   struct fuse_entry_out *e, struct stat *st);
/* Same for a file already open as an O_PATH fd (taken); st may be NULL. */
int fuse_entry_from_fd(struct fuse_server *srv, int fd, struct fuse_entry_out *e,
		       struct stat *st);

/* xattr.c: a guest xattr name as stored on the host (see xattr.c's map):
 * -ERANGE for an empty or too long one, -EOPNOTSUPP outside the namespaces
 * we serve. */
int fuse_xattr_to_host(const char *name, char host[XATTR_NAME_MAX + 1]);
/* The guest's name for a host name, or NULL when the guest must not see it. */
const char *fuse_xattr_to_guest(const char *host);
/* Whether an xattr call's errno means "not there": ENODATA, or a file
 * system with no user.* xattrs at all (tmpfs before Linux 6.6), on which no
 * mapped name can exist while a real security.capability may. */
bool fuse_xattr_absent(int e);

/* attr.c: what a local file system does to a file written, truncated or
 * chowned by a caller without CAP_FSETID: S_ISUID goes, S_ISGID too when
 * group-executable (else it marks mandatory locking), and with caps also
 * the (mapped) security.capability.  fd is open or O_PATH on the file. */
int fuse_kill_priv(struct fuse_server *srv, int fd, bool caps);

/* namespace.c: gives a just-created node (O_PATH fd or open fd) to the
 * requesting guest user and the exact mode the guest asked for (the VMM's
 * umask and chown's setuid clearing would change it).  parent_st decides
 * setgid inheritance. */
int fuse_adopt_new_node(const struct fuse_req *req, int fd, const struct stat *parent_st,
			mode_t mode);

#endif
