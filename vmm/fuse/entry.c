/* Names and node ids: LOOKUP/FORGET, READLINK, STATFS, and the helpers
 * every op uses to stat, reach and open inodes without ever resolving a
 * host path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"

void fuse_fd_name(int fd, char buf[FUSE_FD_NAME_MAX])
{
	snprintf(buf, FUSE_FD_NAME_MAX, "%d", fd);
}

void fuse_proc_path(int fd, char buf[FUSE_PROC_PATH_MAX])
{
	snprintf(buf, FUSE_PROC_PATH_MAX, "/proc/self/fd/%d", fd);
}

int fuse_open_opath(struct fuse_server *srv, int opath_fd, mode_t type, int flags)
{
	char name[FUSE_FD_NAME_MAX];
	int fd;

	if (S_ISLNK(type))
		return -ELOOP;
	if (!S_ISREG(type) && !S_ISDIR(type))
		return -EACCES;
	fuse_fd_name(opath_fd, name);
	/* The magic link leads to exactly our inode, which we just checked is
	 * no symlink; O_NOFOLLOW would refuse the magic link itself. */
	fd = openat(srv->proc_fd, name, (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

int fuse_inode_open(struct fuse_server *srv, const struct fuse_inode *inode, int flags)
{
	return fuse_open_opath(srv, inode->fd, inode->type, flags);
}

int fuse_inode_stat(const struct fuse_inode *inode, struct stat *st)
{
	if (fstatat(inode->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* A graft root's own directory was removed as soon as made (server.c):
	 * to the guest it is the live, empty directory it stands for. */
	if (inode->nodeid == FUSE_ROOT_ID && st->st_nlink == 0)
		st->st_nlink = 2;
	return 0;
}

/* The guest kernel decodes rdev with new_decode_dev(). */
static uint32_t encode_dev(dev_t dev)
{
	uint32_t ma = major(dev), mi = minor(dev);
	return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffu) << 12);
}

void fuse_attr_from_stat(struct fuse_attr *a, const struct stat *st)
{
	*a = (struct fuse_attr){
		.ino = st->st_ino,
		.size = st->st_size,
		.blocks = st->st_blocks,
		.atime = st->st_atim.tv_sec,
		.mtime = st->st_mtim.tv_sec,
		.ctime = st->st_ctim.tv_sec,
		.atimensec = st->st_atim.tv_nsec,
		.mtimensec = st->st_mtim.tv_nsec,
		.ctimensec = st->st_ctim.tv_nsec,
		.mode = st->st_mode,
		.nlink = st->st_nlink,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.rdev = encode_dev(st->st_rdev),
		.blksize = st->st_blksize,
	};
}

void fuse_fill_attr_out(struct fuse_attr_out *out, const struct stat *st)
{
	*out = (struct fuse_attr_out){ .attr_valid = FUSE_SERVER_TIMEOUT_SEC };
	fuse_attr_from_stat(&out->attr, st);
}

void fuse_fill_entry(struct fuse_entry_out *e, uint64_t nodeid, const struct stat *st)
{
	*e = (struct fuse_entry_out){
		.nodeid = nodeid,
		/* Our node ids already carry a generation. */
		.generation = nodeid >> 32,
		.entry_valid = FUSE_SERVER_TIMEOUT_SEC,
		.attr_valid = FUSE_SERVER_TIMEOUT_SEC,
	};
	fuse_attr_from_stat(&e->attr, st);
}

/* The mount part of an inode's identity (see struct fuse_inode): only a
 * graft root's grafts may show one tree through mounts of different flags.
 * Without statx's mount id (Linux < 5.8) files are told apart by (dev,
 * ino) alone, as in a plain share. */
static uint64_t fuse_mount_key(const struct fuse_server *srv, int fd)
{
	struct statx sx;

	if (!srv->root.grafts ||
	    statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return 0;
	return sx.stx_mnt_id;
}

static int entry_from_fd(struct fuse_server *srv, int fd, struct fuse_entry_out *e,
			 struct stat *st_out)
{
	struct stat st;
	uint64_t nodeid;
	int r;

	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = inode_link(&srv->inodes, fd, &st, fuse_mount_key(srv, fd), &nodeid);
	if (r < 0)
		return r;
	fuse_fill_entry(e, nodeid, &st);
	if (st_out)
		*st_out = st;
	return 0;
}

int fuse_entry_from_fd(struct fuse_server *srv, int fd, struct fuse_entry_out *e,
		       struct stat *st)
{
	return entry_from_fd(srv, fd, e, st);
}

int fuse_lookup_at(struct fuse_server *srv, int dirfd, const char *name,
		   struct fuse_entry_out *e, struct stat *st)
{
	/* One component, relative to an fd we hold, never following a
	 * symlink: the only way the guest ever reaches a host file. */
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return entry_from_fd(srv, fd, e, st);
}

int fuse_op_lookup(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	char name[NAME_MAX + 1];
	struct fuse_entry_out e;
	int r;

	r = fuse_in_name(&req->in, name);
	if (r < 0)
		return r;
	dir = fuse_req_inode(req, req->hdr.nodeid);
	if (!dir)
		return -ESTALE;
	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (fuse_reply_room(req) < sizeof(e))
		return -EINVAL;
	if (fuse_root_confined(req->srv, dir->nodeid))
		r = fuse_root_lookup(req->srv, name, &e, NULL);
	else
		r = fuse_lookup_at(req->srv, dir->fd, name, &e, NULL);
	if (r < 0)
		return r;
	return fuse_reply_append(req, &e, sizeof(e));
}

int fuse_op_forget(struct fuse_req *req)
{
	struct fuse_forget_in in;

	if (fuse_in_read(&req->in, &in, sizeof(in)) == 0)
		inode_forget(&req->srv->inodes, req->hdr.nodeid, in.nlookup);
	return 0;
}

int fuse_op_batch_forget(struct fuse_req *req)
{
	struct fuse_batch_forget_in in;
	struct fuse_forget_one one;

	if (fuse_in_read(&req->in, &in, sizeof(in)) < 0)
		return 0;
	/* count is the guest's word; the bytes actually sent bound it. */
	for (uint32_t i = 0; i < in.count; i++) {
		if (fuse_in_read(&req->in, &one, sizeof(one)) < 0)
			break;
		inode_forget(&req->srv->inodes, one.nodeid, one.nlookup);
	}
	return 0;
}

int fuse_op_readlink(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = fuse_req_inode(req, req->hdr.nodeid);
	char target[PATH_MAX];
	ssize_t n;

	if (!inode)
		return -ESTALE;
	if (!S_ISLNK(inode->type))
		return -EINVAL;
	/* The target is data for the guest, resolved by the guest kernel in
	 * the guest; the host never follows it. */
	n = readlinkat(inode->fd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	return fuse_reply_append(req, target, n);
}

int fuse_op_statfs(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = fuse_req_inode(req, req->hdr.nodeid);
	struct fuse_statfs_out out = { 0 };
	struct statfs s;

	if (!inode)
		return -ESTALE;
	if (fstatfs(inode->fd, &s) < 0)
		return -errno;
	out.st = (struct fuse_kstatfs){
		.blocks = s.f_blocks, .bfree = s.f_bfree, .bavail = s.f_bavail,
		.files = s.f_files, .ffree = s.f_ffree, .bsize = s.f_bsize,
		.namelen = s.f_namelen, .frsize = s.f_frsize,
	};
	return fuse_reply_append(req, &out, sizeof(out));
}

int fuse_op_syncfs(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = fuse_req_inode(req, req->hdr.nodeid);
	cleanup_close int fd = -1;

	if (!inode)
		return -ESTALE;
	/* syncfs() wants a real fd, not an O_PATH one. */
	fd = fuse_inode_open(req->srv, inode, O_RDONLY);
	if (fd < 0)
		return fd;
	return syncfs(fd) < 0 ? -errno : 0;
}
