/* Attributes: GETATTR, SETATTR and ACCESS. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"

static int reply_attr(struct fuse_req *req, const struct fuse_inode *inode)
{
	struct fuse_attr_out out;
	struct stat st;
	int r = fuse_inode_stat(inode, &st);

	if (r < 0)
		return r;
	fuse_fill_attr_out(&out, &st);
	return fuse_reply_append(req, &out, sizeof(out));
}

int fuse_op_getattr(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	struct fuse_getattr_in in;
	int r;

	/* The fh the guest may name (FUSE_GETATTR_FH) is the same file: the
	 * O_PATH fd answers just as well. */
	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	inode = fuse_req_inode(req, req->hdr.nodeid);
	if (!inode)
		return -ESTALE;
	return reply_attr(req, inode);
}

int fuse_kill_priv(struct fuse_server *srv, int fd, bool caps)
{
	char name[FUSE_FD_NAME_MAX], path[FUSE_PROC_PATH_MAX], cap[XATTR_NAME_MAX + 1];
	struct stat st;
	mode_t mode;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	mode = st.st_mode & 07777 & ~S_ISUID;
	if (mode & S_IXGRP)
		mode &= ~S_ISGID;
	fuse_fd_name(fd, name);
	if (mode != (st.st_mode & 07777) && fchmodat(srv->proc_fd, name, mode, 0) < 0)
		return -errno;
	if (!caps)
		return 0;
	/* The guest's security.capability, under its mapped name.  A real
	 * one (the host file's own, which the guest reads through xattr.c's
	 * fallback) we leave: the host kernel drops it itself when our
	 * write, truncate or chown changes the file, root or not (its
	 * killpriv takes no account of CAP_FSETID); we do not strip it
	 * where the host kernel would not (a kill flag on a request that
	 * changes nothing). */
	r = fuse_xattr_to_host("security.capability", cap);
	if (r < 0)
		return r;
	fuse_proc_path(fd, path);
	if (removexattr(path, cap) < 0 && !fuse_xattr_absent(errno))
		return -errno;
	return 0;
}

/* The guest kernel checked chown's rules (CAP_CHOWN, a user namespace's
 * root, group membership we cannot see); the request's uid is its word
 * anyway, so holding it to them here would refuse legitimate callers and
 * stop no one. */
static int set_owner(const struct fuse_inode *inode, const struct fuse_setattr_in *in)
{
	uid_t uid = (in->valid & FATTR_UID) ? in->uid : (uid_t)-1;
	gid_t gid = (in->valid & FATTR_GID) ? in->gid : (gid_t)-1;

	if (fchownat(inode->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int set_mode(struct fuse_server *srv, const struct fuse_inode *inode,
		    const struct fuse_handle *h, mode_t mode)
{
	char name[FUSE_FD_NAME_MAX];

	if (h)
		return fchmod(h->fd, mode & 07777) < 0 ? -errno : 0;
	/* Linux has no modes on symlinks, and chmod through the magic link of
	 * one would fail anyway. */
	if (S_ISLNK(inode->type))
		return -EOPNOTSUPP;
	fuse_fd_name(inode->fd, name);
	return fchmodat(srv->proc_fd, name, mode & 07777, 0) < 0 ? -errno : 0;
}

static int set_size(struct fuse_server *srv, const struct fuse_inode *inode,
		    const struct fuse_handle *h, uint64_t size)
{
	cleanup_close int fd = -1;

	if (size > INT64_MAX)
		return -EFBIG;
	if (h)
		return ftruncate(h->fd, (off_t)size) < 0 ? -errno : 0;
	if (S_ISDIR(inode->type))
		return -EISDIR;
	if (!S_ISREG(inode->type))
		return -EINVAL;
	fd = fuse_inode_open(srv, inode, O_WRONLY);
	if (fd < 0)
		return fd;
	return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

static int make_time(struct timespec *ts, uint32_t valid, uint32_t set_bit, uint32_t now_bit,
		     uint64_t sec, uint32_t nsec)
{
	if (valid & now_bit) {
		*ts = (struct timespec){ .tv_nsec = UTIME_NOW };
	} else if (valid & set_bit) {
		/* The kernel sends its signed time64_t as a u64: a time before
		 * 1970 arrives as the two's complement, not as an error.  Every
		 * 64-bit value is a time the host's utimensat may judge itself. */
		if (nsec >= 1000000000u)
			return -EINVAL;
		*ts = (struct timespec){ .tv_sec = (time_t)(int64_t)sec, .tv_nsec = nsec };
	} else {
		*ts = (struct timespec){ .tv_nsec = UTIME_OMIT };
	}
	return 0;
}

static int set_times(const struct fuse_inode *inode, const struct fuse_handle *h,
		     const struct fuse_setattr_in *in)
{
	struct timespec ts[2];
	int r;

	r = make_time(&ts[0], in->valid, FATTR_ATIME, FATTR_ATIME_NOW, in->atime, in->atimensec);
	if (r == 0)
		r = make_time(&ts[1], in->valid, FATTR_MTIME, FATTR_MTIME_NOW, in->mtime,
			      in->mtimensec);
	if (r < 0)
		return r;
	if (h)
		return futimens(h->fd, ts) < 0 ? -errno : 0;
	/* AT_EMPTY_PATH: the O_PATH fd itself, symlinks included. */
	return utimensat(inode->fd, "", ts, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

int fuse_op_setattr(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	cleanup_handle struct fuse_handle *h = NULL;
	struct fuse_setattr_in in;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	inode = fuse_req_inode(req, req->hdr.nodeid);
	if (!inode)
		return -ESTALE;
	if (in.valid & FATTR_FH) {
		h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_FILE);
		if (!h)
			return -EBADF;
	}

	/* Owner before mode: chown clears setuid bits, and a guest killing
	 * them sends the mode it wants along with the new owner.  Size before
	 * times, which truncation would overwrite.  ctime can't be set, and
	 * the rest of the bits are not negotiated. */
	if (in.valid & (FATTR_UID | FATTR_GID)) {
		r = set_owner(inode, &in);
		/* The host's chown cleared S_ISUID (and group-exec S_ISGID)
		 * whoever asked; the mapped capability is ours to drop. */
		if (r == 0)
			r = fuse_kill_priv(req->srv, inode->fd, true);
		if (r < 0)
			return r;
	}
	if (in.valid & FATTR_MODE) {
		/* chmod's rules are the guest kernel's, as chown's. */
		r = set_mode(req->srv, inode, h, in.mode);
		if (r < 0)
			return r;
	}
	if (in.valid & FATTR_SIZE) {
		r = set_size(req->srv, inode, h, in.size);
		if (r < 0)
			return r;
	}
	/* killpriv_v2's truncate (or chown) by a caller without CAP_FSETID;
	 * a mode sent along is what the caller wants instead. */
	if ((in.valid & FATTR_KILL_SUIDGID) && !(in.valid & FATTR_MODE)) {
		r = fuse_kill_priv(req->srv, inode->fd, true);
		if (r < 0)
			return r;
	}
	if (in.valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) {
		r = set_times(inode, h, &in);
		if (r < 0)
			return r;
	}
	return reply_attr(req, inode);
}

int fuse_op_access(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	struct fuse_access_in in;
	struct stat st;
	unsigned bits;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	inode = fuse_req_inode(req, req->hdr.nodeid);
	if (!inode)
		return -ESTALE;
	r = fuse_inode_stat(inode, &st);
	if (r < 0)
		return r;

	/* We work as the VMM, so the host's access() would answer for root.
	 * Answer for the guest's caller from the mode bits instead (only its
	 * primary group is known).  Guests mounted with default_permissions,
	 * as virtio-fs is, check permissions themselves and rarely ask. */
	in.mask &= R_OK | W_OK | X_OK;
	if ((in.mask & W_OK) && req->srv->readonly)
		return -EROFS;
	if (req->hdr.uid == 0) {
		if ((in.mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
			return -EACCES;
		return 0;
	}
	if (req->hdr.uid == st.st_uid)
		bits = st.st_mode >> 6;
	else if (req->hdr.gid == st.st_gid)
		bits = st.st_mode >> 3;
	else
		bits = st.st_mode;
	return (in.mask & ~bits & 7) ? -EACCES : 0;
}
