/* A FUSE client for the server's unit tests: builds requests in memory
 * (fuse_in_header + arguments), optionally cut into small iovec segments to
 * exercise the server's parsing across segment boundaries, and decodes
 * replies.  No KVM, no FUSE mount: a temp dir is the share. */
#ifndef NOVM_FUSE_CLIENT_H
#define NOVM_FUSE_CLIENT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "cleanup.h"
#include "tap.h"
#include "util.h"
#include "vmm/fuse/server.h"

#define TR_BUF (2u << 20)
#define TR_MAX_SEGS 4096
#define TR_FAILED (-100000)	/* fuse_server_handle() returned < 0 */

struct treq {
	unsigned char *in, *out;
	size_t inlen;
	size_t outcap;		/* reply space offered, TR_BUF by default */
	size_t split;		/* segment size of both iovec arrays; 0: one segment */
	uint32_t uid, gid;
	uint64_t unique;
	ssize_t ret;		/* what fuse_server_handle() returned */
};

static inline struct treq *treq_new(void)
{
	struct treq *t = calloc(1, sizeof(*t));
	t->in = calloc(1, TR_BUF);
	t->out = calloc(1, TR_BUF);
	t->outcap = TR_BUF;
	return t;
}

static inline void treq_free(struct treq *t)
{
	free(t->in);
	free(t->out);
	free(t);
}

static inline void tr_begin(struct treq *t, uint32_t opcode, uint64_t nodeid)
{
	struct fuse_in_header *h = (struct fuse_in_header *)t->in;

	memset(h, 0, sizeof(*h));
	h->opcode = opcode;
	h->nodeid = nodeid;
	h->unique = ++t->unique;
	h->uid = t->uid;
	h->gid = t->gid;
	h->pid = 42;
	t->inlen = sizeof(*h);
}

static inline void tr_add(struct treq *t, const void *p, size_t n)
{
	memcpy(t->in + t->inlen, p, n);
	t->inlen += n;
}

static inline void tr_str(struct treq *t, const char *s)
{
	tr_add(t, s, strlen(s) + 1);
}

static inline int tr_segments(unsigned char *buf, size_t len, size_t split, struct iovec *iov)
{
	int n = 0;

	if (!split)
		split = len ? len : 1;
	for (size_t off = 0; off < len && n < TR_MAX_SEGS; off += split, n++) {
		iov[n].iov_base = buf + off;
		iov[n].iov_len = len - off < split ? len - off : split;
	}
	return n;
}

/* Sends inlen bytes as they are (header len untouched). */
static inline int tr_send_raw(struct treq *t, struct fuse_server *srv)
{
	static __thread struct iovec in_iov[TR_MAX_SEGS], out_iov[TR_MAX_SEGS];
	size_t split = t->split;

	/* Keep within the segment array for big requests. */
	if (split && (t->inlen / split >= TR_MAX_SEGS || t->outcap / split >= TR_MAX_SEGS))
		split = 0;
	int nin = tr_segments(t->in, t->inlen, split, in_iov);
	int nout = tr_segments(t->out, t->outcap, split, out_iov);
	memset(t->out, 0xa5, sizeof(struct fuse_out_header));
	t->ret = fuse_server_handle(srv, in_iov, nin, out_iov, nout);
	if (t->ret < 0)
		return TR_FAILED;
	if (t->ret == 0)
		return 0;
	struct fuse_out_header *oh = (struct fuse_out_header *)t->out;
	return oh->error;
}

/* Fixes the header's len to what was built and sends; returns the reply's
 * error (0 or -errno). */
static inline int tr_send(struct treq *t, struct fuse_server *srv)
{
	((struct fuse_in_header *)t->in)->len = t->inlen;
	return tr_send_raw(t, srv);
}

static inline void *tr_body(struct treq *t)
{
	return t->out + sizeof(struct fuse_out_header);
}

static inline size_t tr_body_len(struct treq *t)
{
	return ((struct fuse_out_header *)t->out)->len - sizeof(struct fuse_out_header);
}

/* ---- one helper per op, on a shared request buffer ---- */

static struct treq *T;
static struct fuse_server *S;

static inline int t_init_minor(uint32_t major, uint32_t minor, uint32_t flags,
			       struct fuse_init_out *out)
{
	struct fuse_init_in in = { .major = major, .minor = minor, .max_readahead = 65536,
				   .flags = flags };
	tr_begin(T, FUSE_INIT, 0);
	tr_add(T, &in, sizeof(in));
	int r = tr_send(T, S);
	if (r == 0 && out)
		memcpy(out, tr_body(T), tr_body_len(T) < sizeof(*out) ? tr_body_len(T) : sizeof(*out));
	return r;
}

static inline int t_init(void)
{
	return t_init_minor(7, 38, 0xffffffff, NULL);
}

static inline int t_lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
	tr_begin(T, FUSE_LOOKUP, parent);
	tr_str(T, name);
	int r = tr_send(T, S);
	if (r == 0 && e)
		memcpy(e, tr_body(T), sizeof(*e));
	return r;
}

static inline void t_forget(uint64_t nodeid, uint64_t n)
{
	struct fuse_forget_in in = { .nlookup = n };
	tr_begin(T, FUSE_FORGET, nodeid);
	tr_add(T, &in, sizeof(in));
	tr_send(T, S);
}

static inline int t_getattr(uint64_t nodeid, struct fuse_attr *a)
{
	struct fuse_getattr_in in = { 0 };
	tr_begin(T, FUSE_GETATTR, nodeid);
	tr_add(T, &in, sizeof(in));
	int r = tr_send(T, S);
	if (r == 0 && a)
		*a = ((struct fuse_attr_out *)tr_body(T))->attr;
	return r;
}

static inline int t_setattr(uint64_t nodeid, const struct fuse_setattr_in *in, struct fuse_attr *a)
{
	tr_begin(T, FUSE_SETATTR, nodeid);
	tr_add(T, in, sizeof(*in));
	int r = tr_send(T, S);
	if (r == 0 && a)
		*a = ((struct fuse_attr_out *)tr_body(T))->attr;
	return r;
}

static inline int t_create(uint64_t parent, const char *name, uint32_t flags, uint32_t mode,
			   struct fuse_entry_out *e, uint64_t *fh)
{
	struct fuse_create_in in = { .flags = flags, .mode = S_IFREG | mode };
	tr_begin(T, FUSE_CREATE, parent);
	tr_add(T, &in, sizeof(in));
	tr_str(T, name);
	int r = tr_send(T, S);
	if (r == 0) {
		if (e)
			memcpy(e, tr_body(T), sizeof(*e));
		if (fh)
			*fh = ((struct fuse_open_out *)((char *)tr_body(T) + sizeof(*e)))->fh;
	}
	return r;
}

static inline int t_open_op(uint32_t op, uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
	struct fuse_open_in in = { .flags = flags };
	tr_begin(T, op, nodeid);
	tr_add(T, &in, sizeof(in));
	int r = tr_send(T, S);
	if (r == 0 && fh)
		*fh = ((struct fuse_open_out *)tr_body(T))->fh;
	return r;
}

static inline int t_open(uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
	return t_open_op(FUSE_OPEN, nodeid, flags, fh);
}

static inline int t_opendir(uint64_t nodeid, uint64_t *fh)
{
	return t_open_op(FUSE_OPENDIR, nodeid, O_RDONLY, fh);
}

static inline int t_release_op(uint32_t op, uint64_t nodeid, uint64_t fh)
{
	struct fuse_release_in in = { .fh = fh };
	tr_begin(T, op, nodeid);
	tr_add(T, &in, sizeof(in));
	return tr_send(T, S);
}

static inline int t_release(uint64_t nodeid, uint64_t fh)
{
	return t_release_op(FUSE_RELEASE, nodeid, fh);
}

static inline int t_write(uint64_t nodeid, uint64_t fh, uint64_t off, const void *data,
			  uint32_t len, uint32_t *written)
{
	struct fuse_write_in in = { .fh = fh, .offset = off, .size = len };
	tr_begin(T, FUSE_WRITE, nodeid);
	tr_add(T, &in, sizeof(in));
	tr_add(T, data, len);
	int r = tr_send(T, S);
	if (r == 0 && written)
		*written = ((struct fuse_write_out *)tr_body(T))->size;
	return r;
}

/* Reply data stays in tr_body(T). */
static inline int t_read_op(uint32_t op, uint64_t nodeid, uint64_t fh, uint64_t off, uint32_t size,
			    size_t *got)
{
	struct fuse_read_in in = { .fh = fh, .offset = off, .size = size };
	tr_begin(T, op, nodeid);
	tr_add(T, &in, sizeof(in));
	int r = tr_send(T, S);
	if (got)
		*got = r == 0 ? tr_body_len(T) : 0;
	return r;
}

static inline int t_read(uint64_t nodeid, uint64_t fh, uint64_t off, uint32_t size, size_t *got)
{
	return t_read_op(FUSE_READ, nodeid, fh, off, size, got);
}

static inline int t_mkdir(uint64_t parent, const char *name, uint32_t mode, struct fuse_entry_out *e)
{
	struct fuse_mkdir_in in = { .mode = mode };
	tr_begin(T, FUSE_MKDIR, parent);
	tr_add(T, &in, sizeof(in));
	tr_str(T, name);
	int r = tr_send(T, S);
	if (r == 0 && e)
		memcpy(e, tr_body(T), sizeof(*e));
	return r;
}

static inline int t_mknod(uint64_t parent, const char *name, uint32_t mode, uint32_t rdev,
			  struct fuse_entry_out *e)
{
	struct fuse_mknod_in in = { .mode = mode, .rdev = rdev };
	tr_begin(T, FUSE_MKNOD, parent);
	tr_add(T, &in, sizeof(in));
	tr_str(T, name);
	int r = tr_send(T, S);
	if (r == 0 && e)
		memcpy(e, tr_body(T), sizeof(*e));
	return r;
}

static inline int t_symlink(uint64_t parent, const char *name, const char *target,
			    struct fuse_entry_out *e)
{
	tr_begin(T, FUSE_SYMLINK, parent);
	tr_str(T, name);
	tr_str(T, target);
	int r = tr_send(T, S);
	if (r == 0 && e)
		memcpy(e, tr_body(T), sizeof(*e));
	return r;
}

static inline int t_readlink(uint64_t nodeid, char *buf, size_t cap)
{
	tr_begin(T, FUSE_READLINK, nodeid);
	int r = tr_send(T, S);
	if (r == 0) {
		size_t n = tr_body_len(T) < cap - 1 ? tr_body_len(T) : cap - 1;
		memcpy(buf, tr_body(T), n);
		buf[n] = '\0';
	}
	return r;
}

static inline int t_link(uint64_t old, uint64_t newparent, const char *name, struct fuse_entry_out *e)
{
	struct fuse_link_in in = { .oldnodeid = old };
	tr_begin(T, FUSE_LINK, newparent);
	tr_add(T, &in, sizeof(in));
	tr_str(T, name);
	int r = tr_send(T, S);
	if (r == 0 && e)
		memcpy(e, tr_body(T), sizeof(*e));
	return r;
}

static inline int t_remove(uint32_t op, uint64_t parent, const char *name)
{
	tr_begin(T, op, parent);
	tr_str(T, name);
	return tr_send(T, S);
}

static inline int t_rename2(uint64_t olddir, const char *oldname, uint64_t newdir,
			    const char *newname, uint32_t flags)
{
	struct fuse_rename2_in in = { .newdir = newdir, .flags = flags };
	tr_begin(T, FUSE_RENAME2, olddir);
	tr_add(T, &in, sizeof(in));
	tr_str(T, oldname);
	tr_str(T, newname);
	return tr_send(T, S);
}

static inline int t_rename(uint64_t olddir, const char *oldname, uint64_t newdir,
			   const char *newname)
{
	struct fuse_rename_in in = { .newdir = newdir };
	tr_begin(T, FUSE_RENAME, olddir);
	tr_add(T, &in, sizeof(in));
	tr_str(T, oldname);
	tr_str(T, newname);
	return tr_send(T, S);
}

static inline int t_setxattr(uint64_t nodeid, const char *name, const void *value, uint32_t size,
			     uint32_t flags)
{
	struct fuse_setxattr_in in = { .size = size, .flags = flags };
	tr_begin(T, FUSE_SETXATTR, nodeid);
	tr_add(T, &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
	tr_str(T, name);
	tr_add(T, value, size);
	return tr_send(T, S);
}

/* GETXATTR (name) or LISTXATTR (name NULL); the reply stays in tr_body(T). */
static inline int t_getxattr(uint64_t nodeid, const char *name, uint32_t size)
{
	struct fuse_getxattr_in in = { .size = size };
	tr_begin(T, name ? FUSE_GETXATTR : FUSE_LISTXATTR, nodeid);
	tr_add(T, &in, sizeof(in));
	if (name)
		tr_str(T, name);
	return tr_send(T, S);
}

/* ---- fixture ---- */

/* The fds the test process holds, to tell a leak. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The names of a READDIR(PLUS) reply, space-separated, into out. */
static inline void listing_names(const void *body, size_t len, bool plus, char *out, size_t cap)
{
	size_t pos = 0, head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);

	out[0] = '\0';
	while (pos + head <= len) {
		const void *rec = (const char *)body + pos;
		const struct fuse_dirent *d = plus ? &((const struct fuse_direntplus *)rec)->dirent : rec;
		size_t size = plus ? FUSE_DIRENTPLUS_SIZE((const struct fuse_direntplus *)rec)
				   : FUSE_DIRENT_SIZE(d);
		if (d->namelen == 0 || pos + size > len)
			break;
		snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", out[0] ? " " : "",
			 (int)d->namelen, d->name);
		pos += size;
	}
}

static char share[PATH_MAX + 16];

/* A fresh temp dir holding the share (share = <tmp>/share); returns 0. */
static inline int fixture_dir(char *base, size_t cap)
{
	snprintf(base, cap, "/tmp/novm-test-fuse-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(share, sizeof(share), "%s/share", base);
	return mkdir(share, 0755);
}

/* A test program's start: a time limit (a hang, say an open of a FIFO,
 * must fail the test, not stall it), line-buffered TAP, and the fixture's
 * directory; -1 after printing the skip plan when there is none. */
static inline int fixture_begin(char base[PATH_MAX], unsigned seconds)
{
	alarm(seconds);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fixture_dir(base, PATH_MAX) < 0) {
		printf("1..0 # SKIP no temp dir: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static inline struct fuse_server *fixture_server(bool readonly)
{
	struct fuse_server_config cfg = { .root = share, .readonly = readonly };
	struct fuse_server *srv = NULL;
	novm_error_t err = NULL;

	if (fuse_server_new(&cfg, &srv, &err) < 0) {
		printf("# fuse_server_new: %s\n", err ? err->msg : "?");
		novm_error_release(&err);
		return NULL;
	}
	return srv;
}

static inline int fixture_unlock(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, 0700);
	return 0;
}

/* Guest requests may have left directories without permissions, which
 * only matters when not running as root. */
static inline void fixture_cleanup(const char *base)
{
	novm_error_t err = NULL;
	nftw(base, fixture_unlock, 16, FTW_PHYS);
	remove_tree(base, &err);
	novm_error_release(&err);
}

/* Host-side helpers. */
static inline void host_write(const char *rel, const char *data)
{
	char p[PATH_MAX * 2 + 32];
	snprintf(p, sizeof(p), "%s/%s", share, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(data, f);
		fclose(f);
	}
}

static inline int host_stat(const char *rel, struct stat *st)
{
	char p[PATH_MAX * 2 + 32];
	snprintf(p, sizeof(p), "%s/%s", share, rel);
	return lstat(p, st);
}

/* Reads a share file into buf (NUL-terminated); returns its length or -1. */
static inline ssize_t host_read(const char *rel, char *buf, size_t cap)
{
	char p[PATH_MAX * 2 + 32];
	snprintf(p, sizeof(p), "%s/%s", share, rel);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

#endif
