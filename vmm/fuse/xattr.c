/* Extended attributes: SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR.
 *
 * Reached through the O_PATH fd's magic link (/proc/self/fd/N): that names
 * exactly our inode, symlinks and special files included, without opening
 * it.  Only the user., trusted. and security. namespaces pass; system.
 * (ACLs, not negotiated) does not, nor trusted.overlay., which a host
 * overlayfs using the share as a layer would obey. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include <linux/limits.h>

#include "cleanup.h"
#include "internal.h"

static int check_name(const char *name)
{
	if (strncmp(name, "trusted.overlay.", strlen("trusted.overlay.")) == 0)
		return -EPERM;
	if (strncmp(name, "user.", 5) == 0 || strncmp(name, "trusted.", 8) == 0 ||
	    strncmp(name, "security.", 9) == 0)
		return 0;
	return -EOPNOTSUPP;
}

static int read_name(struct fuse_req *req, char name[XATTR_NAME_MAX + 1])
{
	size_t len;
	int r = fuse_in_string(&req->in, name, XATTR_NAME_MAX + 1, &len);

	if (r == -ENAMETOOLONG)
		return -ERANGE;
	if (r < 0)
		return r;
	if (len == 0)
		return -ERANGE;
	return check_name(name);
}

/* The inode of the request and its magic-link path. */
static int get_path(struct fuse_req *req, struct fuse_inode **inode,
		    char path[FUSE_PROC_PATH_MAX])
{
	*inode = fuse_req_inode(req, req->hdr.nodeid);
	if (!*inode)
		return -ESTALE;
	fuse_proc_path((*inode)->fd, path);
	return 0;
}

int fuse_op_setxattr(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	cleanup_free char *value = NULL;
	char name[XATTR_NAME_MAX + 1], path[FUSE_PROC_PATH_MAX];
	struct fuse_setxattr_in in;
	int r;

	/* The short form: FUSE_SETXATTR_EXT is not negotiated. */
	r = fuse_in_read(&req->in, &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
	if (r == 0)
		r = read_name(req, name);
	if (r < 0)
		return r;
	if (in.size > XATTR_SIZE_MAX)
		return -E2BIG;
	if (in.size != fuse_in_left(&req->in))
		return -EINVAL;
	if (in.flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	value = malloc(in.size ? in.size : 1);
	if (!value)
		return -ENOMEM;
	r = fuse_in_read(&req->in, value, in.size);
	if (r < 0)
		return r;
	r = get_path(req, &inode, path);
	if (r < 0)
		return r;
	return setxattr(path, name, value, in.size, (int)in.flags) < 0 ? -errno : 0;
}

/* Replies to a size query (size 0) with the length, else with the data,
 * which must fit the guest's size. */
static int reply_sized(struct fuse_req *req, uint32_t size, const void *data, size_t len)
{
	if (size == 0) {
		struct fuse_getxattr_out out = { .size = len };
		return fuse_reply_append(req, &out, sizeof(out));
	}
	if (len > size)
		return -ERANGE;
	return fuse_reply_append(req, data, len);
}

int fuse_op_getxattr(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	cleanup_free char *value = NULL;
	char name[XATTR_NAME_MAX + 1], path[FUSE_PROC_PATH_MAX];
	struct fuse_getxattr_in in;
	ssize_t n;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r == 0)
		r = read_name(req, name);
	if (r == 0)
		r = get_path(req, &inode, path);
	if (r < 0)
		return r;
	/* No value is larger than XATTR_SIZE_MAX, whatever size says. */
	value = malloc(XATTR_SIZE_MAX);
	if (!value)
		return -ENOMEM;
	n = getxattr(path, name, value, XATTR_SIZE_MAX);
	if (n < 0)
		return -errno;
	return reply_sized(req, in.size, value, n);
}

int fuse_op_listxattr(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	cleanup_free char *list = NULL;
	char path[FUSE_PROC_PATH_MAX];
	struct fuse_getxattr_in in;
	size_t kept = 0;
	ssize_t n;
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r == 0)
		r = get_path(req, &inode, path);
	if (r < 0)
		return r;
	list = malloc(XATTR_LIST_MAX);
	if (!list)
		return -ENOMEM;
	n = listxattr(path, list, XATTR_LIST_MAX);
	if (n < 0)
		return -errno;
	/* Hide what GETXATTR would refuse; compact in place. */
	for (ssize_t pos = 0; pos < n;) {
		size_t len = strnlen(list + pos, n - pos);
		if (pos + (ssize_t)len >= n)
			break;	/* unterminated tail: the kernel never does that */
		if (check_name(list + pos) == 0) {
			memmove(list + kept, list + pos, len + 1);
			kept += len + 1;
		}
		pos += len + 1;
	}
	return reply_sized(req, in.size, list, kept);
}

int fuse_op_removexattr(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *inode = NULL;
	char name[XATTR_NAME_MAX + 1], path[FUSE_PROC_PATH_MAX];
	int r;

	r = read_name(req, name);
	if (r == 0)
		r = get_path(req, &inode, path);
	if (r < 0)
		return r;
	return removexattr(path, name) < 0 ? -errno : 0;
}
