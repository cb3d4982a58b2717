/* The opcode table and the one entry point: header checks, the rules every
 * op shares (INIT first, read-only shares), then the op's handler. */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "internal.h"

enum {
	OP_MODIFIES = 1 << 0,	/* refused with -EROFS on a read-only share */
	OP_NO_REPLY = 1 << 1,	/* the guest expects no answer */
};

struct fuse_op {
	fuse_op_fn fn;
	unsigned flags;
};

static const struct fuse_op fuse_ops[] = {
	[FUSE_LOOKUP] = { fuse_op_lookup, 0 },
	[FUSE_FORGET] = { fuse_op_forget, OP_NO_REPLY },
	[FUSE_GETATTR] = { fuse_op_getattr, 0 },
	[FUSE_SETATTR] = { fuse_op_setattr, OP_MODIFIES },
	[FUSE_READLINK] = { fuse_op_readlink, 0 },
	[FUSE_SYMLINK] = { fuse_op_symlink, OP_MODIFIES },
	[FUSE_MKNOD] = { fuse_op_mknod, OP_MODIFIES },
	[FUSE_MKDIR] = { fuse_op_mkdir, OP_MODIFIES },
	[FUSE_UNLINK] = { fuse_op_unlink, OP_MODIFIES },
	[FUSE_RMDIR] = { fuse_op_rmdir, OP_MODIFIES },
	[FUSE_RENAME] = { fuse_op_rename, OP_MODIFIES },
	[FUSE_LINK] = { fuse_op_link, OP_MODIFIES },
	[FUSE_OPEN] = { fuse_op_open, 0 },	/* checks its flags itself */
	[FUSE_READ] = { fuse_op_read, 0 },
	[FUSE_WRITE] = { fuse_op_write, OP_MODIFIES },
	[FUSE_STATFS] = { fuse_op_statfs, 0 },
	[FUSE_RELEASE] = { fuse_op_release, 0 },
	[FUSE_FSYNC] = { fuse_op_fsync, 0 },
	[FUSE_SETXATTR] = { fuse_op_setxattr, OP_MODIFIES },
	[FUSE_GETXATTR] = { fuse_op_getxattr, 0 },
	[FUSE_LISTXATTR] = { fuse_op_listxattr, 0 },
	[FUSE_REMOVEXATTR] = { fuse_op_removexattr, OP_MODIFIES },
	[FUSE_FLUSH] = { fuse_op_flush, 0 },
	[FUSE_INIT] = { fuse_op_init, 0 },
	[FUSE_OPENDIR] = { fuse_op_opendir, 0 },
	[FUSE_READDIR] = { fuse_op_readdir, 0 },
	[FUSE_RELEASEDIR] = { fuse_op_releasedir, 0 },
	[FUSE_FSYNCDIR] = { fuse_op_fsyncdir, 0 },
	[FUSE_ACCESS] = { fuse_op_access, 0 },
	[FUSE_CREATE] = { fuse_op_create, OP_MODIFIES },
	[FUSE_DESTROY] = { fuse_op_destroy, 0 },
	[FUSE_BATCH_FORGET] = { fuse_op_batch_forget, OP_NO_REPLY },
	[FUSE_FALLOCATE] = { fuse_op_fallocate, OP_MODIFIES },
	[FUSE_READDIRPLUS] = { fuse_op_readdirplus, 0 },
	[FUSE_RENAME2] = { fuse_op_rename2, OP_MODIFIES },
	[FUSE_LSEEK] = { fuse_op_lseek, 0 },
	[FUSE_COPY_FILE_RANGE] = { fuse_op_copy_file_range, OP_MODIFIES },
	[FUSE_SYNCFS] = { fuse_op_syncfs, 0 },
};

static const struct fuse_op *find_op(uint32_t opcode)
{
	if (opcode >= ARRAY_SIZE(fuse_ops) || !fuse_ops[opcode].fn)
		return NULL;
	return &fuse_ops[opcode];
}

/* Checks the header against the bytes the transport gave us and points
 * req->in at the op's arguments (extensions, which we never negotiate,
 * are cut off the end). */
static int parse_header(struct fuse_req *req, struct fuse_in_iter *it, size_t in_total)
{
	size_t len = req->hdr.len, ext = (size_t)req->hdr.total_extlen * 8;

	if (len < sizeof(req->hdr) || len > in_total)
		return -EINVAL;
	if (ext > len - sizeof(req->hdr))
		return -EINVAL;
	req->in = *it;
	req->in.left = len - sizeof(req->hdr) - ext;
	return 0;
}

static int run_op(struct fuse_req *req, const struct fuse_op *op)
{
	if (!op)
		return -ENOSYS;
	if (req->hdr.opcode != FUSE_INIT && !atomic_load(&req->srv->initialized))
		return -EIO;
	if ((op->flags & OP_MODIFIES) && req->srv->readonly)
		return -EROFS;
	/* A confined root (single-file share, graft root) is not the
	 * guest's: no name in it is made, removed or renamed, nor is it
	 * chmod-ed or given xattrs.  RENAME's target directory: do_rename. */
	if ((op->flags & OP_MODIFIES) && fuse_root_confined(req->srv, req->hdr.nodeid))
		return -EPERM;
	int r = op->fn(req);
	return r > 0 ? 0 : r;
}

static ssize_t handle(struct fuse_server *srv, const struct iovec *in, int in_cnt,
		      const struct iovec *out, int out_cnt, bool hiprio)
{
	struct fuse_req req = { .srv = srv, .out = out, .out_cnt = out_cnt };
	struct fuse_in_iter it;
	struct fuse_out_header oh;
	const struct fuse_op *op;
	size_t in_total;
	int r;

	if (iov_total(in, in_cnt, &in_total) < 0 || in_total < sizeof(req.hdr))
		return -EINVAL;
	fuse_in_init(&it, in, in_cnt, in_total);
	fuse_in_read(&it, &req.hdr, sizeof(req.hdr));
	op = find_op(req.hdr.opcode);
	r = parse_header(&req, &it, in_total);

	if (op && (op->flags & OP_NO_REPLY)) {
		if (r == 0)
			run_op(&req, op);
		return 0;
	}

	if (iov_total(out, out_cnt, &req.out_cap) < 0 || req.out_cap < sizeof(oh))
		return -EINVAL;
	/* No reply is larger than this, whatever room the guest gives (it may
	 * list one buffer a thousand times): no op can be made to produce
	 * more. */
	if (req.out_cap > FUSE_SERVER_MAX_REPLY)
		req.out_cap = FUSE_SERVER_MAX_REPLY;
	/* The high-priority queue is served on the I/O loop thread: only the
	 * no-reply ops above belong there, not a READ or a SYNCFS. */
	if (r == 0 && hiprio && req.hdr.opcode != FUSE_INTERRUPT)
		r = -EINVAL;
	if (r == 0)
		r = run_op(&req, op);
	if (r < 0)
		req.body = 0;	/* an error reply is the header alone */

	oh = (struct fuse_out_header){
		.len = sizeof(oh) + req.body,
		.error = r,
		.unique = req.hdr.unique,
	};
	iov_write(out, out_cnt, 0, &oh, sizeof(oh));
	return oh.len;
}

ssize_t fuse_server_handle(struct fuse_server *srv, const struct iovec *in, int in_cnt,
			   const struct iovec *out, int out_cnt)
{
	return handle(srv, in, in_cnt, out, out_cnt, false);
}

ssize_t fuse_server_handle_hiprio(struct fuse_server *srv, const struct iovec *in, int in_cnt,
				  const struct iovec *out, int out_cnt)
{
	return handle(srv, in, in_cnt, out, out_cnt, true);
}
