/* Open files: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE,
 * LSEEK, COPY_FILE_RANGE.  Data moves straight between the file and the
 * guest's buffers (preadv/pwritev on the transport's iovecs). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"

/* The open flags we pass on; the others are the guest kernel's business
 * (O_CREAT/O_EXCL are CREATE's), dangerous here (O_PATH, O_NOFOLLOW on a
 * magic link, O_TMPFILE) or unfit for guest buffers (O_DIRECT's alignment). */
static int host_open_flags(uint32_t guest)
{
	int flags = guest & (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC);

	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	return flags;
}

static bool writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static int reply_open(struct fuse_req *req, uint64_t fh)
{
	struct fuse_open_out out = { .fh = fh };
	return fuse_reply_append(req, &out, sizeof(out));
}

int fuse_op_open(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	struct fuse_open_in in;
	uint64_t fh;
	int flags, fd, r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	flags = host_open_flags(in.flags);
	if (flags < 0)
		return flags;
	if (writes(flags) && req->srv->readonly)
		return -EROFS;
	inode = fuse_req_inode(req, req->hdr.nodeid);
	if (!inode)
		return -ESTALE;
	if (S_ISDIR(inode->type))
		return -EISDIR;
	if (fuse_reply_room(req) < sizeof(struct fuse_open_out))
		return -EINVAL;
	fd = fuse_inode_open(req->srv, inode, flags);
	if (fd < 0)
		return fd;
	/* killpriv_v2's O_TRUNC by a caller without CAP_FSETID. */
	if ((in.open_flags & FUSE_OPEN_KILL_SUIDGID) && (flags & O_TRUNC)) {
		r = fuse_kill_priv(req->srv, fd, true);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	r = handle_add(&req->srv->handles, fd, FUSE_HANDLE_FILE, &fh);
	if (r < 0)
		return r;
	r = reply_open(req, fh);
	if (r < 0)
		handle_release(&req->srv->handles, fh, FUSE_HANDLE_FILE);
	return r;
}

/* Creates name exclusively, or opens the existing file through its O_PATH
 * fd.  Never O_CREAT without O_EXCL on the host: that would open whatever
 * sits at name, a device node or FIFO included.  Returns the fd and
 * whether we created the file. */
static int create_or_open(struct fuse_req *req, const struct fuse_inode *dir, const char *name,
			  int flags, bool excl, mode_t mode, bool *created)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		cleanup_close int opath = -1;
		struct stat st;
		int fd;

		fd = openat(dir->fd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			    mode & 0777);	/* setuid bits only once adopted */
		if (fd >= 0) {
			*created = true;
			return fd;
		}
		if (errno != EEXIST || excl)
			return -errno;

		/* It exists: open it as OPEN would, symlinks and special
		 * files refused. */
		opath = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (opath < 0 && errno == ENOENT)
			continue;	/* removed meanwhile: try creating again */
		if (opath < 0)
			return -errno;
		if (fstat(opath, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		*created = false;
		return fuse_open_opath(req->srv, opath, st.st_mode, flags);
	}
	return -EAGAIN;
}

int fuse_op_create(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	cleanup_close int fd = -1;
	struct fuse_create_in in;
	struct fuse_entry_out e;
	char name[NAME_MAX + 1], fdname[FUSE_FD_NAME_MAX];
	struct stat parent_st;
	bool created = false;
	uint64_t fh;
	int flags, opath, r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r == 0)
		r = fuse_in_name(&req->in, name);
	if (r < 0)
		return r;
	flags = host_open_flags(in.flags);
	if (flags < 0)
		return flags;
	dir = fuse_req_inode(req, req->hdr.nodeid);
	if (!dir)
		return -ESTALE;
	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (fuse_reply_room(req) < sizeof(e) + sizeof(struct fuse_open_out))
		return -EINVAL;
	if (fstatat(dir->fd, "", &parent_st, AT_EMPTY_PATH) < 0)
		return -errno;
	r = fuse_budget_check(req->srv, 2);	/* the node and the handle */
	if (r < 0)
		return r;

	fd = create_or_open(req, dir, name, flags, in.flags & O_EXCL, in.mode, &created);
	if (fd < 0)
		return fd;
	if (created) {
		r = fuse_adopt_new_node(req, fd, &parent_st, in.mode);
		if (r < 0)
			return r;
	}
	/* The node id for exactly the file we opened, whatever the name is
	 * now: an O_PATH fd through the open fd's magic link. */
	fuse_fd_name(fd, fdname);
	opath = openat(req->srv->proc_fd, fdname, O_PATH | O_CLOEXEC);
	if (opath < 0)
		return -errno;
	r = fuse_entry_from_fd(req->srv, opath, &e, NULL);
	if (r < 0)
		return r;
	r = handle_add(&req->srv->handles, steal_fd(&fd), FUSE_HANDLE_FILE, &fh);
	if (r == 0) {
		r = fuse_reply_append(req, &e, sizeof(e));
		if (r == 0)
			r = reply_open(req, fh);
		if (r < 0)
			handle_release(&req->srv->handles, fh, FUSE_HANDLE_FILE);
	}
	if (r < 0)
		inode_forget(&req->srv->inodes, e.nodeid, 1);
	return r;
}

/* preadv/pwritev until done, end of file or error, in IOV_MAX pieces. */
static ssize_t rw_full(int fd, struct iovec *iov, int cnt, off_t off, bool write)
{
	ssize_t total = 0;

	while (cnt > 0) {
		int n = cnt < IOV_MAX ? cnt : IOV_MAX;
		ssize_t got = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return total ? total : -errno;
		}
		if (got == 0)
			break;
		total += got;
		off += got;
		/* Step over what was done. */
		while (cnt > 0 && (size_t)got >= iov->iov_len) {
			got -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + got;
			iov->iov_len -= got;
		}
	}
	return total;
}

int fuse_op_read(struct fuse_req *req)
{
	cleanup_handle struct fuse_handle *h = NULL;
	cleanup_free struct iovec *iov = NULL;
	struct fuse_read_in in;
	ssize_t n;
	int cnt, r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_FILE);
	if (!h)
		return -EBADF;
	if (in.offset > INT64_MAX)
		return -EINVAL;
	/* A short reply would read as end of file: refuse instead.  Nor more
	 * than the max_pages we announced: the guest never asks for more, and
	 * room for more is only the same buffer listed many times. */
	if (in.size > FUSE_SERVER_MAX_WRITE || in.size > fuse_reply_room(req))
		return -EINVAL;
	r = fuse_reply_space(req, in.size, &iov, &cnt);
	if (r < 0)
		return r;
	n = rw_full(h->fd, iov, cnt, (off_t)in.offset, false);
	if (n < 0)
		return n;
	fuse_reply_commit(req, n);
	return 0;
}

int fuse_op_write(struct fuse_req *req)
{
	cleanup_handle struct fuse_handle *h = NULL;
	cleanup_free struct iovec *iov = NULL;
	struct fuse_write_in in;
	struct fuse_write_out out = { 0 };
	ssize_t n;
	int cnt, r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	/* The data is the rest of the request, exactly. */
	if (in.size > FUSE_SERVER_MAX_WRITE || in.size != fuse_in_left(&req->in))
		return -EINVAL;
	if (in.offset > INT64_MAX)
		return -EINVAL;
	h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_FILE);
	if (!h)
		return -EBADF;
	if (fuse_reply_room(req) < sizeof(out))
		return -EINVAL;
	r = fuse_in_slice(&req->in, in.size, &iov, &cnt);
	if (r < 0)
		return r;
	/* We write as root, whose writes keep setuid bits: a write the guest
	 * marks (killpriv_v2) or one from a caller that is not root loses
	 * them, as on a local file system.  The guest kernel, which does not
	 * hand us killpriv, normally cleared them already. */
	if ((in.write_flags & FUSE_WRITE_KILL_SUIDGID) || req->hdr.uid != 0) {
		r = fuse_kill_priv(req->srv, h->fd, in.write_flags & FUSE_WRITE_KILL_SUIDGID);
		if (r < 0)
			return r;
	}
	/* The guest may change the data while we write it: that only
	 * changes what it wrote. */
	n = rw_full(h->fd, iov, cnt, (off_t)in.offset, true);
	if (n < 0)
		return n;
	out.size = n;
	return fuse_reply_append(req, &out, sizeof(out));
}

int fuse_op_flush(struct fuse_req *req)
{
	cleanup_handle struct fuse_handle *h = NULL;
	struct fuse_flush_in in;
	int r, fd;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_FILE);
	if (!h)
		return -EBADF;
	/* A guest close(): closing a duplicate runs the host file system's
	 * flush (NFS writes back) while the handle stays open. */
	fd = dup(h->fd);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

int fuse_release_handle(struct fuse_req *req, enum fuse_handle_kind kind)
{
	struct fuse_release_in in;
	int r = fuse_in_read(&req->in, &in, sizeof(in));

	return r < 0 ? r : handle_release(&req->srv->handles, in.fh, kind);
}

int fuse_fsync_handle(struct fuse_req *req, enum fuse_handle_kind kind)
{
	cleanup_handle struct fuse_handle *h = NULL;
	struct fuse_fsync_in in;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	h = handle_get(&req->srv->handles, in.fh, kind);
	if (!h)
		return -EBADF;
	r = (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(h->fd) : fsync(h->fd);
	return r < 0 ? -errno : 0;
}

int fuse_op_release(struct fuse_req *req)
{
	return fuse_release_handle(req, FUSE_HANDLE_FILE);
}

int fuse_op_fsync(struct fuse_req *req)
{
	return fuse_fsync_handle(req, FUSE_HANDLE_FILE);
}

int fuse_op_fallocate(struct fuse_req *req)
{
	cleanup_handle struct fuse_handle *h = NULL;
	struct fuse_fallocate_in in;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	if (in.offset > INT64_MAX || in.length > INT64_MAX)
		return -EINVAL;
	h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_FILE);
	if (!h)
		return -EBADF;
	/* The host kernel vets mode, offset and length. */
	return fallocate(h->fd, (int)in.mode, (off_t)in.offset, (off_t)in.length) < 0 ? -errno : 0;
}

int fuse_op_lseek(struct fuse_req *req)
{
	cleanup_handle struct fuse_handle *h = NULL;
	struct fuse_lseek_in in;
	struct fuse_lseek_out out;
	off_t pos;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	/* The guest asks for SEEK_DATA/SEEK_HOLE; the fd position it moves is
	 * unused, all our I/O is positional. */
	if (in.offset > INT64_MAX ||
	    (in.whence != SEEK_SET && in.whence != SEEK_CUR && in.whence != SEEK_END &&
	     in.whence != SEEK_DATA && in.whence != SEEK_HOLE))
		return -EINVAL;
	h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_FILE);
	if (!h)
		return -EBADF;
	pos = lseek(h->fd, (off_t)in.offset, (int)in.whence);
	if (pos < 0)
		return -errno;
	out.offset = pos;
	return fuse_reply_append(req, &out, sizeof(out));
}

int fuse_op_copy_file_range(struct fuse_req *req)
{
	cleanup_handle struct fuse_handle *hin = NULL;
	cleanup_handle struct fuse_handle *hout = NULL;
	struct fuse_copy_file_range_in in;
	struct fuse_write_out out = { 0 };
	loff_t off_in, off_out;
	ssize_t n;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	if (in.flags || in.off_in > INT64_MAX || in.off_out > INT64_MAX)
		return -EINVAL;
	hin = handle_get(&req->srv->handles, in.fh_in, FUSE_HANDLE_FILE);
	hout = handle_get(&req->srv->handles, in.fh_out, FUSE_HANDLE_FILE);
	if (!hin || !hout)
		return -EBADF;
	/* The reply's 32-bit size bounds one call, as in the Linux client. */
	if (in.len > (UINT32_MAX & ~4095u))
		in.len = UINT32_MAX & ~4095u;
	off_in = (loff_t)in.off_in;
	off_out = (loff_t)in.off_out;
	n = copy_file_range(hin->fd, &off_in, hout->fd, &off_out, in.len, 0);
	if (n < 0)
		return -errno;
	out.size = n;
	return fuse_reply_append(req, &out, sizeof(out));
}
