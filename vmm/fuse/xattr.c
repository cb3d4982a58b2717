/* Extended attributes: SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR.
 *
 * Reached through the O_PATH fd's magic link (/proc/self/fd/N): that names
 * exactly our inode, symlinks and special files included, without opening
 * it.
 *
 * The name map.  Names that mean privilege to the host kernel, or to a host
 * overlayfs using the share as a layer, are stored under our prefix in the
 * user. namespace, so the guest keeps them (setcap, its own overlayfs) and
 * the host ignores them:
 *   trusted.*                   -> user.novm.trusted.*
 *   security.* but .selinux     -> user.novm.security.*  (capability, ima...)
 *   user.overlay.*              -> user.novm.user.overlay.*  (what a host
 *                                  overlayfs mounted with userxattr obeys,
 *                                  like trusted.overlay.* without it)
 *   user.novm.*                 -> user.novm.user.novm.*  (escaped: a guest
 *                                  cannot forge a mapped name)
 * Other user.* names and security.selinux (the label, the host's policy
 * decides whether we may set it) pass as they are.  system.* (ACLs, not
 * negotiated) and names outside these namespaces are EOPNOTSUPP.  Listing
 * maps back and hides the host's own trusted.*, security.*, user.overlay.*
 * and user.novm.* names that no guest name maps to.  A mapped name is 10
 * bytes longer on the host, so the guest's names may be at most 245 bytes.
 *
 * The host's own security.capability is the one exception, read-only: a
 * file that carries a real one (ping in an image extracted on the host, by
 * whoever built it) must keep that capability in the guest, as under runc.
 * GETXATTR security.capability reads user.novm.security.capability and,
 * only when that is absent, the real one; LISTXATTR shows the real one when
 * there is no mapped one (never both); SETXATTR writes the mapped name only
 * (shadowing the real one: XATTR_CREATE sees it as existing, XATTR_REPLACE
 * may replace it); REMOVEXATTR removes both (which only lowers privilege;
 * the guest kernel, as we do not offer HANDLE_KILLPRIV, asks for that before
 * every write, truncate or chown of the file, and the host kernel would drop
 * the real one on those anyway).  The guest can thus never set a capability
 * the host kernel obeys.  Mapped names on a symlink or device node are
 * EOPNOTSUPP: the host keeps user.* names on files and directories only. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include <linux/limits.h>

#include "cleanup.h"
#include "internal.h"

#define HOST_PREFIX "user.novm."
#define REAL_CAP "security.capability"
#define MAPPED_CAP HOST_PREFIX REAL_CAP

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether a guest name lives under HOST_PREFIX on the host. */
static bool mapped(const char *name)
{
	if (has_prefix(name, "security."))
		return strcmp(name, "security.selinux") != 0;
	return has_prefix(name, "trusted.") || has_prefix(name, "user.overlay.") ||
	       has_prefix(name, HOST_PREFIX);
}

int fuse_xattr_to_host(const char *name, char host[XATTR_NAME_MAX + 1])
{
	size_t len = strlen(name);

	if (len == 0 || len > XATTR_NAME_MAX)
		return -ERANGE;
	if (mapped(name)) {
		if (strlen(HOST_PREFIX) + len > XATTR_NAME_MAX)
			return -ERANGE;
		memcpy(host, HOST_PREFIX, strlen(HOST_PREFIX));
		memcpy(host + strlen(HOST_PREFIX), name, len + 1);
		return 0;
	}
	if (!has_prefix(name, "user.") && strcmp(name, "security.selinux") != 0)
		return -EOPNOTSUPP;
	memcpy(host, name, len + 1);
	return 0;
}

const char *fuse_xattr_to_guest(const char *host)
{
	if (has_prefix(host, HOST_PREFIX)) {
		const char *name = host + strlen(HOST_PREFIX);
		return mapped(name) ? name : NULL;
	}
	if (mapped(host))
		return NULL;	/* the host's own */
	if (has_prefix(host, "user.") || strcmp(host, "security.selinux") == 0)
		return host;
	return NULL;
}

static int read_name(struct fuse_req *req, char host[XATTR_NAME_MAX + 1])
{
	char name[XATTR_NAME_MAX + 1];
	size_t len;
	int r = fuse_in_string(&req->in, name, XATTR_NAME_MAX + 1, &len);

	if (r == -ENAMETOOLONG)
		return -ERANGE;
	if (r < 0)
		return r;
	return fuse_xattr_to_host(name, host);
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

bool fuse_xattr_absent(int e)
{
	return e == ENODATA || e == ENOTSUP;
}

/* Whether the host file has a real security.capability the guest sees
 * (no mapped one shadows it).  host is the request's name on the host. */
static bool real_cap_shows(const char *host, const char *path)
{
	if (strcmp(host, MAPPED_CAP) != 0)
		return false;
	if (getxattr(path, MAPPED_CAP, NULL, 0) >= 0 || !fuse_xattr_absent(errno))
		return false;
	return getxattr(path, REAL_CAP, NULL, 0) >= 0;
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
	/* The mapped capability is set over the real one the guest sees. */
	if ((in.flags & (XATTR_CREATE | XATTR_REPLACE)) && real_cap_shows(name, path)) {
		if (in.flags & XATTR_CREATE)
			return -EEXIST;
		in.flags &= ~(uint32_t)XATTR_REPLACE;
	}
	if (setxattr(path, name, value, in.size, (int)in.flags) == 0)
		return 0;
	/* The host keeps user.* names on regular files and directories only:
	 * for a mapped name elsewhere (an overlayfs in the guest marking a
	 * copied-up symlink) say the file system has no such xattrs, which
	 * overlayfs takes as "work without them", rather than EPERM. */
	if (errno == EPERM && has_prefix(name, HOST_PREFIX) && !S_ISREG(inode->type) &&
	    !S_ISDIR(inode->type))
		return -EOPNOTSUPP;
	return -errno;
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
	if (n < 0 && fuse_xattr_absent(errno) && strcmp(name, MAPPED_CAP) == 0) {
		/* The file's own capability (see the top).  One the host kernel
		 * will not read to us (a v3 one whose root does not map into
		 * our user namespace) is absent: an error here would fail the
		 * guest's exec of the file. */
		n = getxattr(path, REAL_CAP, value, XATTR_SIZE_MAX);
		if (n < 0)
			errno = ENODATA;
	}
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
	bool mapped_cap = false;
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
	/* The real security.capability shows only without a mapped one. */
	for (ssize_t pos = 0; pos < n;) {
		size_t len = strnlen(list + pos, n - pos);
		mapped_cap |= pos + (ssize_t)len < n && strcmp(list + pos, MAPPED_CAP) == 0;
		pos += len + 1;
	}
	/* Map back and hide what no guest name reaches; compact in place
	 * (a guest name is never longer than its host name). */
	for (ssize_t pos = 0; pos < n;) {
		size_t len = strnlen(list + pos, n - pos);
		const char *name;
		if (pos + (ssize_t)len >= n)
			break;	/* unterminated tail: the kernel never does that */
		name = fuse_xattr_to_guest(list + pos);
		if (!name && !mapped_cap && strcmp(list + pos, REAL_CAP) == 0)
			name = REAL_CAP;
		if (name) {
			size_t glen = strlen(name);
			memmove(list + kept, name, glen + 1);
			kept += glen + 1;
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
	r = removexattr(path, name) == 0 ? 0 : -errno;
	/* The host's own capability goes too: a removal that succeeded must
	 * leave the file with none (not the real one showing again), and it
	 * only lowers privilege; the guest kernel asks for it before every
	 * write, truncate or chown of the file. */
	if (strcmp(name, MAPPED_CAP) == 0 && (r == 0 || fuse_xattr_absent(-r))) {
		if (removexattr(path, REAL_CAP) == 0)
			r = 0;
		else if (!fuse_xattr_absent(errno))
			r = -errno;
		else if (r < 0)
			r = -ENODATA;
	}
	return r;
}
