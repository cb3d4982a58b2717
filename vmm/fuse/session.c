/* The FUSE session: INIT negotiates the protocol, DESTROY (or a device
 * reset) ends it.  Nothing but INIT is served outside a session. */
#include <errno.h>
#include <stddef.h>

#include "internal.h"

/* Capabilities we offer; the reply carries those the guest also has.  Not
 * offered, on purpose: POSIX/flock locks (the guest kernel keeps them
 * locally), WRITEBACK_CACHE (host changes would be lost), DONT_MASK (the
 * guest applies its umask), EXPORT_SUPPORT ("." and ".." lookups are
 * refused), POSIX_ACL, HANDLE_KILLPRIV and HANDLE_KILLPRIV_V2 (the guest
 * kernel clears setuid bits and security.capability itself, through
 * SETATTR and REMOVEXATTR; we kill the bits too on writes by users that are
 * not root, and honour the v2 kill flags should a guest send them),
 * SETXATTR_EXT and INIT_EXT (we use no flags2 feature). */
#define FUSE_SERVER_FLAGS                                                               \
	(FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |  \
	 FUSE_READDIRPLUS_AUTO | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS)

static void end_session_locked(struct fuse_server *srv)
{
	atomic_store(&srv->initialized, false);
	handle_table_reset(&srv->handles);
	inode_table_reset(&srv->inodes);
}

int fuse_op_init(struct fuse_req *req)
{
	struct fuse_server *srv = req->srv;
	struct fuse_init_in in;
	struct fuse_init_out out = { .major = FUSE_KERNEL_VERSION };
	size_t out_size = sizeof(out);
	int r;

	/* Old guests send only the first fields. */
	r = fuse_in_read_compat(&req->in, &in, sizeof(in), offsetof(struct fuse_init_in, max_readahead));
	if (r < 0)
		return r;
	if (in.major < FUSE_KERNEL_VERSION)
		return -EPROTO;
	if (in.major > FUSE_KERNEL_VERSION) {
		/* A newer protocol: state ours, the guest retries with it. */
		out.minor = FUSE_SERVER_MINOR;
		return fuse_reply_append(req, &out, FUSE_COMPAT_INIT_OUT_SIZE);
	}
	if (in.minor < FUSE_SERVER_MIN_MINOR)
		return -EPROTO;

	out.minor = in.minor < FUSE_SERVER_MINOR ? in.minor : FUSE_SERVER_MINOR;
	out.max_readahead = in.max_readahead;
	out.flags = in.flags & FUSE_SERVER_FLAGS;
	out.max_write = FUSE_SERVER_MAX_WRITE;
	out.time_gran = 1;	/* nanosecond timestamps */
	if (out.flags & FUSE_MAX_PAGES)
		out.max_pages = FUSE_SERVER_MAX_WRITE / 4096;
	/* max_background/congestion_threshold 0: the guest's defaults. */
	if (out.minor < 23)
		out_size = FUSE_COMPAT_22_INIT_OUT_SIZE;

	pthread_mutex_lock(&srv->session_lock);
	/* An INIT inside a session is a new driver (guest reboot without a
	 * device reset): its predecessor's node ids and files are dead. */
	if (atomic_load(&srv->initialized))
		end_session_locked(srv);
	r = fuse_reply_append(req, &out, out_size);
	if (r == 0)
		atomic_store(&srv->initialized, true);
	pthread_mutex_unlock(&srv->session_lock);
	return r;
}

int fuse_op_destroy(struct fuse_req *req)
{
	pthread_mutex_lock(&req->srv->session_lock);
	end_session_locked(req->srv);
	pthread_mutex_unlock(&req->srv->session_lock);
	return 0;
}

void fuse_server_reset(struct fuse_server *srv)
{
	pthread_mutex_lock(&srv->session_lock);
	end_session_locked(srv);
	pthread_mutex_unlock(&srv->session_lock);
}
