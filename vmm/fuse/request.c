#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int iov_total(const struct iovec *iov, int cnt, size_t *total)
{
	size_t sum = 0;

	if (cnt < 0 || (cnt > 0 && !iov))
		return -EINVAL;
	for (int i = 0; i < cnt; i++)
		if (__builtin_add_overflow(sum, iov[i].iov_len, &sum))
			return -EINVAL;
	*total = sum;
	return 0;
}

/* Finds the segment and in-segment offset of byte `offset`. */
static int iov_seek(const struct iovec *iov, int cnt, size_t offset, int *idx, size_t *off)
{
	int i = 0;

	while (i < cnt && offset >= iov[i].iov_len) {
		offset -= iov[i].iov_len;
		i++;
	}
	if (i == cnt && offset)
		return -EINVAL;
	*idx = i;
	*off = offset;
	return 0;
}

int iov_slice(const struct iovec *iov, int cnt, size_t offset, size_t len, struct iovec **out,
	      int *out_cnt)
{
	struct iovec *v;
	size_t off;
	int i, n = 0;

	*out = NULL;
	*out_cnt = 0;
	if (iov_seek(iov, cnt, offset, &i, &off) < 0)
		return -EINVAL;
	/* At most every remaining segment; +1 keeps calloc(0) out. */
	v = calloc(cnt - i + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (; len && i < cnt; i++, off = 0) {
		size_t take = iov[i].iov_len - off;
		if (take == 0)
			continue;
		if (take > len)
			take = len;
		v[n].iov_base = (char *)iov[i].iov_base + off;
		v[n].iov_len = take;
		n++;
		len -= take;
	}
	if (len) {
		free(v);
		return -EINVAL;
	}
	*out = v;
	*out_cnt = n;
	return 0;
}

int iov_write(const struct iovec *iov, int cnt, size_t offset, const void *src, size_t n)
{
	const char *p = src;
	size_t off;
	int i;

	if (iov_seek(iov, cnt, offset, &i, &off) < 0)
		return -EINVAL;
	for (; n && i < cnt; i++, off = 0) {
		size_t take = iov[i].iov_len - off;
		if (take > n)
			take = n;
		memcpy((char *)iov[i].iov_base + off, p, take);
		p += take;
		n -= take;
	}
	return n ? -EINVAL : 0;
}

void fuse_in_init(struct fuse_in_iter *it, const struct iovec *iov, int cnt, size_t len)
{
	*it = (struct fuse_in_iter){ .iov = iov, .cnt = cnt, .left = len };
}

/* Moves over up to n bytes, handing each contiguous run to fn. */
static void walk(struct fuse_in_iter *it, size_t n,
		 void (*fn)(const void *src, size_t len, void *opaque), void *opaque)
{
	while (n && it->idx < it->cnt) {
		const struct iovec *v = &it->iov[it->idx];
		size_t take = v->iov_len - it->off;
		if (take > n)
			take = n;
		if (take && fn)
			fn((const char *)v->iov_base + it->off, take, opaque);
		it->off += take;
		it->left -= take;
		n -= take;
		if (it->off == v->iov_len) {
			it->idx++;
			it->off = 0;
		}
	}
}

static void copy_run(const void *src, size_t len, void *opaque)
{
	char **dst = opaque;
	memcpy(*dst, src, len);
	*dst += len;
}

int fuse_in_read(struct fuse_in_iter *it, void *dst, size_t n)
{
	char *p = dst;

	if (n > it->left)
		return -EINVAL;
	walk(it, n, copy_run, &p);
	return 0;
}

int fuse_in_read_compat(struct fuse_in_iter *it, void *dst, size_t n, size_t min)
{
	size_t have = it->left < n ? it->left : n;

	if (have < min)
		return -EINVAL;
	memset((char *)dst + have, 0, n - have);
	return fuse_in_read(it, dst, have);
}

int fuse_in_skip(struct fuse_in_iter *it, size_t n)
{
	if (n > it->left)
		return -EINVAL;
	walk(it, n, NULL, NULL);
	return 0;
}

int fuse_in_string(struct fuse_in_iter *it, char *dst, size_t cap, size_t *len)
{
	size_t n = 0;

	/* Byte by byte from our copy: the terminator we check is the one we
	 * keep, whatever the guest writes meanwhile. */
	while (n < cap) {
		if (it->left == 0)
			return -EINVAL;
		char c;
		fuse_in_read(it, &c, 1);
		dst[n] = c;
		if (c == '\0') {
			if (len)
				*len = n;
			return 0;
		}
		n++;
	}
	return -ENAMETOOLONG;
}

int fuse_in_name(struct fuse_in_iter *it, char dst[NAME_MAX + 1])
{
	size_t len;
	int r = fuse_in_string(it, dst, NAME_MAX + 1, &len);

	if (r < 0)
		return r;
	if (len == 0 || strchr(dst, '/') || strcmp(dst, ".") == 0 || strcmp(dst, "..") == 0)
		return -EINVAL;
	return 0;
}

int fuse_in_slice(struct fuse_in_iter *it, size_t n, struct iovec **iov, int *cnt)
{
	size_t offset = 0;
	int r;

	if (n > it->left)
		return -EINVAL;
	/* Offset of the iterator inside the whole array. */
	for (int i = 0; i < it->idx; i++)
		offset += it->iov[i].iov_len;
	offset += it->off;
	r = iov_slice(it->iov, it->cnt, offset, n, iov, cnt);
	if (r == 0)
		walk(it, n, NULL, NULL);
	return r;
}

int fuse_reply_append(struct fuse_req *req, const void *data, size_t n)
{
	int r;

	if (n > fuse_reply_room(req))
		return -EINVAL;
	r = iov_write(req->out, req->out_cnt, sizeof(struct fuse_out_header) + req->body, data, n);
	if (r == 0)
		req->body += n;
	return r;
}

int fuse_reply_zero(struct fuse_req *req, size_t n)
{
	static const char zeros[8];
	int r = 0;

	while (n && r == 0) {
		size_t take = n < sizeof(zeros) ? n : sizeof(zeros);
		r = fuse_reply_append(req, zeros, take);
		n -= take;
	}
	return r;
}

int fuse_reply_space(struct fuse_req *req, size_t n, struct iovec **iov, int *cnt)
{
	if (n > fuse_reply_room(req))
		return -EINVAL;
	return iov_slice(req->out, req->out_cnt, sizeof(struct fuse_out_header) + req->body, n, iov,
			 cnt);
}

void fuse_reply_commit(struct fuse_req *req, size_t n)
{
	req->body += n;
}
