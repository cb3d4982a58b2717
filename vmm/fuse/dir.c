/* Directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
 *
 * The guest's readdir offset is the host's own directory offset (d_off of
 * the last entry it got).  Each handle keeps what getdents64 returned and
 * the guest has not taken yet: a call that continues where the last one
 * stopped reads on from there, any other offset is a seek.  Entries that
 * did not fit wait in the handle for the next call. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"

/* Per open directory: a hostile guest holding every handle it may open
 * (FUSE_SERVER_MAX_HANDLES) pins at most 256 MiB. */
#define GETDENTS_BUF 4096

int fuse_op_opendir(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	struct fuse_open_in in;
	struct fuse_open_out out = { 0 };
	int fd, r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	inode = fuse_req_inode(req, req->hdr.nodeid);
	if (!inode)
		return -ESTALE;
	if (!S_ISDIR(inode->type))
		return -ENOTDIR;
	if (fuse_reply_room(req) < sizeof(out))
		return -EINVAL;
	fd = fuse_inode_open(req->srv, inode, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	r = handle_add(&req->srv->handles, fd, FUSE_HANDLE_DIR, &out.fh);
	if (r < 0)
		return r;
	r = fuse_reply_append(req, &out, sizeof(out));
	if (r < 0)
		handle_release(&req->srv->handles, out.fh, FUSE_HANDLE_DIR);
	return r;
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Whether one more entry named name fits in the reply. */
static bool entry_fits(size_t used, size_t limit, size_t namelen, bool plus)
{
	size_t head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);

	return used + FUSE_REC_ALIGN(head + namelen) <= limit;
}

/* Appends dp (its dirent's ino, off and type set, and for READDIRPLUS its
 * entry_out) with name; a failed append gives back the entry's lookup. */
static int put_entry(struct fuse_req *req, struct fuse_direntplus *dp, const char *name,
		     size_t *used, bool plus)
{
	size_t namelen = strlen(name);
	size_t head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);
	size_t reclen = FUSE_REC_ALIGN(head + namelen);
	int r;

	dp->dirent.namelen = namelen;
	r = fuse_reply_append(req, plus ? (void *)dp : (void *)&dp->dirent, head);
	if (r == 0)
		r = fuse_reply_append(req, name, namelen);
	if (r == 0)
		r = fuse_reply_zero(req, reclen - head - namelen);
	if (r < 0) {
		if (plus && dp->entry_out.nodeid)
			inode_forget(&req->srv->inodes, dp->entry_out.nodeid, 1);
		return r;
	}
	*used += reclen;
	return 0;
}

/* Fills a READDIRPLUS entry's entry_out after its lookup returned r: at
 * the descriptor cap the name comes without a node, which the guest takes
 * as it takes "." (a LOOKUP of it then fails), so listing still works. */
static void plus_without_node(struct fuse_direntplus *dp)
{
	memset(&dp->entry_out, 0, sizeof(dp->entry_out));
	dp->entry_out.attr.ino = dp->dirent.ino;
	dp->entry_out.attr.mode = dp->dirent.type << 12;
}

/* Appends one entry.  For READDIRPLUS it first gives the guest a reference
 * to the entry (counted like a LOOKUP), except for "." and "..", which
 * the guest kernel takes without one (node id 0).  Returns 1 when the
 * entry does not fit, 0 when added or skipped, -errno on failure. */
static int add_entry(struct fuse_req *req, struct fuse_handle *h, const struct dirent64 *d,
		     size_t *used, size_t limit, bool plus)
{
	struct fuse_direntplus dp = { 0 };
	int r;

	if (!entry_fits(*used, limit, strlen(d->d_name), plus))
		return 1;
	dp.dirent.ino = d->d_ino;
	dp.dirent.off = d->d_off;
	dp.dirent.type = d->d_type;
	if (plus && !is_dot_or_dotdot(d->d_name)) {
		struct stat st;

		r = fuse_lookup_at(req->srv, h->fd, d->d_name, &dp.entry_out, &st);
		if (r == -ENOENT)
			return 0;	/* removed since getdents: skip it */
		if (r < 0 && r != -ENFILE)
			return r;
		if (r == 0) {
			dp.dirent.ino = st.st_ino;
			dp.dirent.type = (st.st_mode & S_IFMT) >> 12;
		} else {
			plus_without_node(&dp);
		}
	} else if (plus) {
		plus_without_node(&dp);
	}
	return put_entry(req, &dp, d->d_name, used, plus);
}

/* Whether a handle is on a confined root.  The fd itself says which
 * directory it is: the guest's node id could lie. */
static bool on_confined_root(const struct fuse_server *srv, const struct fuse_handle *h)
{
	struct stat st;

	if (!srv->root.confined)
		return false;
	/* When in doubt, confine: hiding is the safe side. */
	return fstat(h->fd, &st) < 0 || (st.st_dev == srv->root_dev && st.st_ino == srv->root_ino);
}

/* A confined root lists ".", ".." and its names, whatever the directory
 * behind it holds.  Entry i's offset is i + 1, so the guest continues by
 * index: a name grafted or ungrafted between two calls may shift the rest
 * by one (seen twice or missed), as any directory changing under a
 * reader.  A name that went meanwhile, or whose file did, is skipped. */
static int read_confined_root(struct fuse_req *req, uint64_t offset, size_t limit, bool plus)
{
	char name[NAME_MAX + 1];
	size_t used = 0;
	int r = 0;

	for (uint64_t i = offset; r == 0; i++) {
		struct fuse_direntplus dp = { .dirent = { .off = i + 1, .type = DT_DIR } };
		struct stat st;

		if (i < 2)
			snprintf(name, sizeof(name), "%s", i ? ".." : ".");
		else if (i - 2 > SIZE_MAX || !fuse_root_name_at(req->srv, (size_t)(i - 2), name))
			break;
		if (!entry_fits(used, limit, strlen(name), plus))
			break;
		if (i < 2) {
			dp.dirent.ino = req->srv->root_ino;
			if (plus)
				plus_without_node(&dp);
			r = put_entry(req, &dp, name, &used, plus);
			continue;
		}
		r = plus ? fuse_root_lookup(req->srv, name, &dp.entry_out, &st)
			 : fuse_root_stat(req->srv, name, &st);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0 && r != -ENFILE)
			break;
		dp.dirent.ino = r == 0 ? st.st_ino : 0;
		dp.dirent.type = r == 0 ? (st.st_mode & S_IFMT) >> 12 : DT_UNKNOWN;
		if (r < 0)
			plus_without_node(&dp);
		r = put_entry(req, &dp, name, &used, plus);
	}
	/* As read_dir: entries already added win over a later error. */
	return used > 0 ? 0 : r;
}

static int read_dir(struct fuse_req *req, bool plus)
{
	cleanup_handle struct fuse_handle *h = NULL;
	struct fuse_read_in in;
	size_t limit, used = 0;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r < 0)
		return r;
	h = handle_get(&req->srv->handles, in.fh, FUSE_HANDLE_DIR);
	if (!h)
		return -EBADF;
	if (in.offset > INT64_MAX)
		return -EINVAL;
	/* Never more than the guest asked for, nor than its buffer holds. */
	limit = in.size < fuse_reply_room(req) ? in.size : fuse_reply_room(req);
	if (on_confined_root(req->srv, h))
		return read_confined_root(req, in.offset, limit, plus);

	pthread_mutex_lock(&h->dir_lock);
	if (!h->dir_buf && !(h->dir_buf = malloc(GETDENTS_BUF))) {
		r = -ENOMEM;
		goto out;
	}
	if (!h->dir_streaming || in.offset != h->dir_next_off) {
		if (lseek(h->fd, (off_t)in.offset, SEEK_SET) < 0) {
			r = -errno;
			goto out;
		}
		h->dir_len = h->dir_pos = 0;
		h->dir_next_off = in.offset;
		h->dir_streaming = true;
	}
	for (;;) {
		if (h->dir_pos == h->dir_len) {
			ssize_t n = getdents64(h->fd, h->dir_buf, GETDENTS_BUF);
			if (n < 0) {
				r = -errno;
				h->dir_streaming = false;
				break;
			}
			if (n == 0) {
				r = 0;	/* end of directory */
				break;
			}
			h->dir_len = (size_t)n;
			h->dir_pos = 0;
		}
		const struct dirent64 *d = (const struct dirent64 *)(h->dir_buf + h->dir_pos);
		/* Full or failed: the entry stays for the next call. */
		r = add_entry(req, h, d, &used, limit, plus);
		if (r != 0)
			break;
		h->dir_pos += d->d_reclen;
		h->dir_next_off = (uint64_t)d->d_off;
	}
out:
	pthread_mutex_unlock(&h->dir_lock);
	/* A full buffer ends the call; an error after some entries would
	 * lose their lookups, so those are returned and the error left for
	 * the next call. */
	if (r > 0 || used > 0)
		return 0;
	return r;
}

int fuse_op_readdir(struct fuse_req *req)
{
	return read_dir(req, false);
}

int fuse_op_readdirplus(struct fuse_req *req)
{
	return read_dir(req, true);
}

int fuse_op_releasedir(struct fuse_req *req)
{
	return fuse_release_handle(req, FUSE_HANDLE_DIR);
}

int fuse_op_fsyncdir(struct fuse_req *req)
{
	return fuse_fsync_handle(req, FUSE_HANDLE_DIR);
}
