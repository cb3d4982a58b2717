/* The in-process virtio-fs server: a FUSE (<linux/fuse.h>) file server for
 * one host directory, independent of the transport.  The virtio-fs device
 * hands it each request (the device-readable part of a descriptor chain:
 * fuse_in_header + arguments + write data) and the space for the reply (the
 * device-writable part: fuse_out_header + reply + read data).
 *
 * Trust model.  The guest is hostile: whatever it sends, it can only ever
 * reach files inside `root` (every file is an O_PATH fd reached one name at
 * a time from the root, symlinks are never followed on the host).  Inside
 * the share the guest kernel is in charge: file permissions are checked by
 * it (virtio-fs mounts with default_permissions), the server itself works
 * with the VMM's credentials.  Hence the share's parent directory must not
 * be reachable by unprivileged host users (the guest can create setuid
 * files there).
 *
 * Ownership.  Operations run as the VMM (normally root); a new file,
 * directory, node or symlink is then chowned to the requesting guest uid/gid
 * (gid from the parent if that directory is setgid), so guest users own
 * their files on the host.  A simplification of virtiofsd's per-request
 * credential switch: if the VMM can't chown (not root), files keep its
 * owner.  No uid mapping yet.  The request's uid is the guest kernel's
 * word: chown's and chmod's rules are the guest kernel's (it alone knows
 * capabilities, user namespaces and supplementary groups), but a caller
 * that is not root loses setuid bits on write, and a node whose chown
 * failed gets no setuid bit (attr.c, file.c, namespace.c); guest root is
 * root in the share.  No per-request setfsuid/setfsgid as virtiofsd does:
 * the guest can claim uid 0 anyway, and its supplementary groups are
 * unknown.  Privileged xattr names are mapped into user.novm.
 * (xattr.c).
 *
 * Descriptors.  Every file the guest knows holds an O_PATH fd until the
 * guest forgets it, every open file one more: the VMM should raise
 * RLIMIT_NOFILE and give its servers one struct fuse_fd_budget, so that
 * together they never take the descriptors the VMM needs for itself. */
#ifndef NOVM_FUSE_SERVER_H
#define NOVM_FUSE_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "error.h"

struct fuse_server;

/* The descriptors all servers of one VMM may hold for the guest (node fds
 * and open handles).  At the cap, a request that needs one more fails with
 * -ENFILE: LOOKUP and the like (the guest cannot be told to forget a node,
 * and we cannot reopen one by path), OPEN, CREATE, OPENDIR alike; the guest
 * gets it as its own "file table full" and recovers as its files are
 * forgotten and released.  Descriptors a request holds only while it runs
 * are not counted: the reserve covers those. */
struct fuse_fd_budget {
	atomic_uint used;
	unsigned max;
	atomic_bool told;	/* the VMM's log has heard of the cap once */
};

/* The budget for a process whose RLIMIT_NOFILE is nofile: that less a
 * reserve for everything else the VMM opens (an eighth, at least 256;
 * half of a tiny limit). */
unsigned fuse_fd_budget_for_limit(unsigned long nofile);

struct fuse_server_config {
	const char *root;	/* host directory to share; the host's choice, trusted */
	bool readonly;		/* every modifying request fails with -EROFS */
	/* Serve one file of root, not root: the guest finds no other name in
	 * root and can create, remove, rename or change nothing there
	 * (-EPERM).  For file bind mounts, whose siblings are not the
	 * container's to see.  NULL: all of root. */
	const char *only_name;
	/* A graft root (pods): the root shows only the trees grafted on it
	 * with fuse_server_graft(), nothing of its own; nothing can be made,
	 * removed or renamed in it (-EPERM).  root may then be NULL: the
	 * server makes its own, an empty directory made in $TMPDIR (or /tmp)
	 * and removed at once, so no host path leads to it and the kernel
	 * refuses any entry in it.  Not with only_name. */
	bool grafts;
	/* Shared with the VMM's other servers; NULL: only the per-server
	 * table limits bound the descriptors. */
	struct fuse_fd_budget *budget;
};

int fuse_server_new(const struct fuse_server_config *cfg, struct fuse_server **out,
		    novm_error_t *err);
/* From now on every modifying request fails with -EROFS.  Safe while
 * requests are served. */
void fuse_server_seal(struct fuse_server *srv);
/* Only once no fuse_server_handle() call is running. */
void fuse_server_free(struct fuse_server *srv);

/* Grafts (a server made with cfg->grafts): at most FUSE_MAX_GRAFTS names,
 * each 1..FUSE_MAX_GRAFT_NAME bytes of [A-Za-z0-9._-], not "." or "..". */
#define FUSE_MAX_GRAFTS 256
#define FUSE_MAX_GRAFT_NAME 128

/* The root shows fd (a directory or regular file, typically a detached
 * mount from open_tree(OPEN_TREE_CLONE)) as `name`.  Takes fd in every
 * case.  The graft's own mount flags are what the guest gets: a read-only
 * mount fails the guest's writes with EROFS; the server adds no check.
 * Nothing above fd is reachable from it: the server never looks up "..".
 * Safe while requests are served (any thread). */
int fuse_server_graft(struct fuse_server *srv, const char *name, int fd, novm_error_t *err);
/* The grafts whose names start with prefix are no longer found; the nodes
 * the guest holds of them stay valid until it forgets them.  Returns how
 * many went.  Safe while requests are served. */
unsigned fuse_server_ungraft(struct fuse_server *srv, const char *prefix);
/* Whether name is a name fuse_server_graft() takes (not whether it is free). */
bool fuse_graft_name_valid(const char *name);

/* Serves one request.  in/out are host buffers the transport has already
 * bounds-checked (iovec arrays into guest memory).  Returns the number of
 * bytes written into out (>= sizeof(struct fuse_out_header)), 0 when the
 * request gets no reply (FORGET, BATCH_FORGET), or -EINVAL when it is too
 * malformed to answer (header or reply space too short).  Thread-safe:
 * several worker threads may call it at once. */
ssize_t fuse_server_handle(struct fuse_server *srv, const struct iovec *in, int in_cnt,
			   const struct iovec *out, int out_cnt);

/* The same for a request of virtio-fs's high-priority queue, which the
 * device serves on its I/O thread: only FORGET and BATCH_FORGET (no reply,
 * no file I/O) are run there; anything else is answered -EINVAL (INTERRUPT
 * -ENOSYS) unserved, so the guest cannot make that thread read gigabytes
 * or sync the host's file systems. */
ssize_t fuse_server_handle_hiprio(struct fuse_server *srv, const struct iovec *in, int in_cnt,
				  const struct iovec *out, int out_cnt);

/* Device reset: forgets every node id and closes every open file, as a new
 * driver will send FUSE_INIT and start from the root again. */
void fuse_server_reset(struct fuse_server *srv);

#endif
