/* One FUSE request and its reply, over the transport's iovec arrays (guest
 * memory the transport has already bounds-checked).
 *
 * The guest can rewrite its buffers while we work, so every request byte is
 * copied out exactly once through the iterator and checked after the copy;
 * nothing is read twice, and nothing is read from the reply buffers. */
#ifndef NOVM_FUSE_REQUEST_H
#define NOVM_FUSE_REQUEST_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/fuse.h>

struct fuse_server;

/* Sum of iov lengths; -EINVAL when it overflows. */
int iov_total(const struct iovec *iov, int cnt, size_t *total);
/* A heap array of iovecs covering bytes [offset, offset + len) of iov, for
 * preadv/pwritev straight into or out of guest memory.  *out_cnt may be 0
 * when len is 0; free(*out) either way. */
int iov_slice(const struct iovec *iov, int cnt, size_t offset, size_t len, struct iovec **out,
	      int *out_cnt);
/* Copies src to bytes [offset, offset + n) of iov; -EINVAL if it won't fit. */
int iov_write(const struct iovec *iov, int cnt, size_t offset, const void *src, size_t n);

/* Reads the request's arguments front to back. */
struct fuse_in_iter {
	const struct iovec *iov;
	int cnt;
	int idx;		/* current segment */
	size_t off;		/* offset in it */
	size_t left;		/* bytes of the request still unread */
};

/* Iterates over the first len bytes of iov; len must not exceed its total. */
void fuse_in_init(struct fuse_in_iter *it, const struct iovec *iov, int cnt, size_t len);

static inline size_t fuse_in_left(const struct fuse_in_iter *it)
{
	return it->left;
}

/* Copies the next n bytes; -EINVAL when the request is shorter. */
int fuse_in_read(struct fuse_in_iter *it, void *dst, size_t n);
/* For structs that grew with the protocol: copies up to n bytes (at least
 * min, else -EINVAL) and zeroes the part the guest did not send. */
int fuse_in_read_compat(struct fuse_in_iter *it, void *dst, size_t n, size_t min);
/* Skips n bytes; -EINVAL when the request is shorter. */
int fuse_in_skip(struct fuse_in_iter *it, size_t n);
/* A NUL-terminated string of at most cap - 1 bytes into dst: -EINVAL when
 * the request ends before the NUL, -ENAMETOOLONG when it is longer. */
int fuse_in_string(struct fuse_in_iter *it, char *dst, size_t cap, size_t *len);
/* A single path component: non-empty, no '/', not "." or "..", at most
 * NAME_MAX bytes (-EINVAL / -ENAMETOOLONG otherwise). */
int fuse_in_name(struct fuse_in_iter *it, char dst[NAME_MAX + 1]);
/* The next n bytes as an iovec array into the request (write payload),
 * without copying; free(*iov) afterwards. */
int fuse_in_slice(struct fuse_in_iter *it, size_t n, struct iovec **iov, int *cnt);

/* A request being served. */
struct fuse_req {
	struct fuse_server *srv;
	struct fuse_in_header hdr;	/* our copy */
	struct fuse_in_iter in;		/* the arguments after the header */
	const struct iovec *out;	/* the reply: out header, then body */
	int out_cnt;
	size_t out_cap;			/* total bytes of out */
	size_t body;			/* reply body bytes written so far */
};

/* Bytes of body that still fit. */
static inline size_t fuse_reply_room(const struct fuse_req *req)
{
	return req->out_cap - sizeof(struct fuse_out_header) - req->body;
}

/* Appends n bytes to the reply body; -EINVAL when the guest's buffer is too
 * small (only a broken driver offers less room than the reply needs). */
int fuse_reply_append(struct fuse_req *req, const void *data, size_t n);
/* Appends n zero bytes (dirent padding). */
int fuse_reply_zero(struct fuse_req *req, size_t n);
/* The next n bytes of reply space as iovecs, to fill in place (READ); make
 * them part of the body with fuse_reply_commit().  free(*iov) afterwards. */
int fuse_reply_space(struct fuse_req *req, size_t n, struct iovec **iov, int *cnt);
void fuse_reply_commit(struct fuse_req *req, size_t n);

#endif
