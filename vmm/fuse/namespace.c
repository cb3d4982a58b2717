/* Creating, linking, removing and renaming names: MKNOD, MKDIR, SYMLINK,
 * LINK, UNLINK, RMDIR, RENAME, RENAME2.  Every name is one validated
 * component relative to a directory fd we hold. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"

int fuse_adopt_new_node(const struct fuse_req *req, int fd, const struct stat *parent_st,
			mode_t mode)
{
	bool sgid_parent = parent_st->st_mode & S_ISGID;
	uid_t uid = req->hdr.uid;
	/* In a setgid directory the host kernel already gave the parent's group. */
	gid_t gid = sgid_parent ? (gid_t)-1 : req->hdr.gid;
	char fdname[FUSE_FD_NAME_MAX];
	struct stat st;
	mode_t want;

	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((st.st_uid != uid || (gid != (gid_t)-1 && st.st_gid != gid)) &&
	    fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		/* Without CAP_CHOWN (or with the id unmapped) the file keeps
		 * the VMM's owner, by design (see server.h). */
		if (errno != EPERM && errno != EINVAL)
			return -errno;
	}
	if (S_ISLNK(st.st_mode))
		return 0;

	/* The VMM's umask (the guest applied its own) and chown's clearing of
	 * setuid bits both change what the guest asked for: set it exactly. */
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	want = mode & 07777;
	/* The guest kernel stripped what its caller may not have (setgid
	 * outside its groups); but when our chown to that caller failed, the
	 * file is not the caller's: no setuid bit on it for them. */
	if (req->hdr.uid != 0 && st.st_uid != uid)
		want &= ~(mode_t)S_ISUID;
	if (S_ISDIR(st.st_mode) && sgid_parent)
		want |= S_ISGID;
	fuse_fd_name(fd, fdname);
	if ((st.st_mode & 07777) != want && fchmodat(req->srv->proc_fd, fdname, want, 0) < 0)
		return -errno;
	return 0;
}

/* The parent directory of a name-taking op, referenced. */
static int get_dir(struct fuse_req *req, uint64_t nodeid, struct fuse_inode **dir)
{
	*dir = fuse_req_inode(req, nodeid);
	if (!*dir)
		return -ESTALE;
	if (!S_ISDIR((*dir)->type)) {
		inode_put(*dir);
		*dir = NULL;
		return -ENOTDIR;
	}
	return 0;
}

/* After mknodat/mkdirat/symlinkat created `name`: hand it to the guest
 * user and reply with its entry.  The name could be swapped by a racing
 * rename between creation and our open; whatever we open is still a file
 * of the share. */
static int finish_create(struct fuse_req *req, const struct fuse_inode *dir, const char *name,
			 mode_t mode)
{
	cleanup_close int fd = -1;
	struct fuse_entry_out e;
	struct stat parent_st;
	int r;

	if (fstatat(dir->fd, "", &parent_st, AT_EMPTY_PATH) < 0)
		return -errno;
	fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fuse_adopt_new_node(req, fd, &parent_st, mode);
	if (r < 0)
		return r;
	r = fuse_entry_from_fd(req->srv, steal_fd(&fd), &e, NULL);
	if (r < 0)
		return r;
	r = fuse_reply_append(req, &e, sizeof(e));
	if (r < 0)
		inode_forget(&req->srv->inodes, e.nodeid, 1);
	return r;
}

/* Device numbers as the guest kernel encodes them (new_encode_dev). */
static dev_t decode_dev(uint32_t rdev)
{
	return makedev((rdev & 0xfff00) >> 8, (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
}

int fuse_op_mknod(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	struct fuse_mknod_in in;
	char name[NAME_MAX + 1];
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r == 0)
		r = fuse_in_name(&req->in, name);
	if (r < 0)
		return r;
	switch (in.mode & S_IFMT) {
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		in.rdev = 0;
		break;
	case S_IFCHR:
		/* Only the 0:0 whiteout (overlayfs): device nodes belong on
		 * the guest's devtmpfs, and a real one in the share would
		 * open a host device to anything on the host that opens it. */
		if (in.rdev != 0)
			return -EPERM;
		break;
	default:
		return -EPERM;
	}
	r = get_dir(req, req->hdr.nodeid, &dir);
	if (r < 0)
		return r;
	if (fuse_reply_room(req) < sizeof(struct fuse_entry_out))
		return -EINVAL;
	r = fuse_budget_check(req->srv, 1);
	if (r < 0)
		return r;
	/* Setuid bits only once the node is the guest user's (adopt). */
	if (mknodat(dir->fd, name, (in.mode & S_IFMT) | (in.mode & 0777), decode_dev(in.rdev)) < 0)
		return -errno;
	return finish_create(req, dir, name, in.mode);
}

int fuse_op_mkdir(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	struct fuse_mkdir_in in;
	char name[NAME_MAX + 1];
	int r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r == 0)
		r = fuse_in_name(&req->in, name);
	if (r == 0)
		r = get_dir(req, req->hdr.nodeid, &dir);
	if (r < 0)
		return r;
	if (fuse_reply_room(req) < sizeof(struct fuse_entry_out))
		return -EINVAL;
	r = fuse_budget_check(req->srv, 1);
	if (r < 0)
		return r;
	if (mkdirat(dir->fd, name, in.mode & 01777) < 0)
		return -errno;
	return finish_create(req, dir, name, in.mode);
}

int fuse_op_symlink(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	char name[NAME_MAX + 1], target[PATH_MAX];
	size_t len;
	int r;

	/* Name first, then the target: the order of the Linux client. */
	r = fuse_in_name(&req->in, name);
	if (r == 0)
		r = fuse_in_string(&req->in, target, sizeof(target), &len);
	if (r < 0)
		return r;
	if (len == 0)
		return -ENOENT;
	r = get_dir(req, req->hdr.nodeid, &dir);
	if (r < 0)
		return r;
	if (fuse_reply_room(req) < sizeof(struct fuse_entry_out))
		return -EINVAL;
	r = fuse_budget_check(req->srv, 1);
	if (r < 0)
		return r;
	/* Any text is fine: the host never follows it. */
	if (symlinkat(target, dir->fd, name) < 0)
		return -errno;
	return finish_create(req, dir, name, 0777);
}

int fuse_op_link(struct fuse_req *req)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	cleanup_inode struct fuse_inode *old = NULL;
	struct fuse_link_in in;
	struct fuse_entry_out e;
	char name[NAME_MAX + 1];
	int fd, r;

	r = fuse_in_read(&req->in, &in, sizeof(in));
	if (r == 0)
		r = fuse_in_name(&req->in, name);
	if (r == 0)
		r = get_dir(req, req->hdr.nodeid, &dir);
	if (r < 0)
		return r;
	old = fuse_req_inode(req, in.oldnodeid);
	if (!old)
		return -ESTALE;
	if (S_ISDIR(old->type))
		return -EPERM;
	if (fuse_reply_room(req) < sizeof(e))
		return -EINVAL;
	/* Links the inode itself (both ends are share fds), not a name. */
	if (linkat(old->fd, "", dir->fd, name, AT_EMPTY_PATH) < 0) {
		char fdname[FUSE_FD_NAME_MAX];

		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the magic link
		 * does the same for anything but a symlink. */
		if ((errno != ENOENT && errno != EPERM) || S_ISLNK(old->type))
			return -errno;
		fuse_fd_name(old->fd, fdname);
		if (linkat(req->srv->proc_fd, fdname, dir->fd, name, AT_SYMLINK_FOLLOW) < 0)
			return -errno;
	}
	/* A reference to the same inode, whatever the new name meanwhile. */
	fd = dup(old->fd);
	if (fd < 0)
		return -errno;
	r = fuse_entry_from_fd(req->srv, fd, &e, NULL);
	if (r < 0)
		return r;
	r = fuse_reply_append(req, &e, sizeof(e));
	if (r < 0)
		inode_forget(&req->srv->inodes, e.nodeid, 1);
	return r;
}

static int remove_name(struct fuse_req *req, int flags)
{
	cleanup_inode struct fuse_inode *dir = NULL;
	char name[NAME_MAX + 1];
	int r;

	r = fuse_in_name(&req->in, name);
	if (r == 0)
		r = get_dir(req, req->hdr.nodeid, &dir);
	if (r < 0)
		return r;
	/* The inode stays in our table until the guest forgets it. */
	return unlinkat(dir->fd, name, flags) < 0 ? -errno : 0;
}

int fuse_op_unlink(struct fuse_req *req)
{
	return remove_name(req, 0);
}

int fuse_op_rmdir(struct fuse_req *req)
{
	return remove_name(req, AT_REMOVEDIR);
}

static int do_rename(struct fuse_req *req, uint64_t newdir_id, unsigned flags)
{
	cleanup_inode struct fuse_inode *olddir = NULL;
	cleanup_inode struct fuse_inode *newdir = NULL;
	char oldname[NAME_MAX + 1], newname[NAME_MAX + 1];
	int r;

	r = fuse_in_name(&req->in, oldname);
	if (r == 0)
		r = fuse_in_name(&req->in, newname);
	if (r == 0)
		r = get_dir(req, req->hdr.nodeid, &olddir);
	if (r == 0)
		r = get_dir(req, newdir_id, &newdir);
	if (r < 0)
		return r;
	/* Nor is anything moved into a confined root (the source side is
	 * the request's node id, which dispatch checked). */
	if (fuse_root_confined(req->srv, newdir->nodeid))
		return -EPERM;
	if (renameat2(olddir->fd, oldname, newdir->fd, newname, flags) < 0)
		return -errno;
	return 0;
}

int fuse_op_rename(struct fuse_req *req)
{
	struct fuse_rename_in in;
	int r = fuse_in_read(&req->in, &in, sizeof(in));

	return r < 0 ? r : do_rename(req, in.newdir, 0);
}

int fuse_op_rename2(struct fuse_req *req)
{
	struct fuse_rename2_in in;
	int r = fuse_in_read(&req->in, &in, sizeof(in));

	if (r < 0)
		return r;
	/* WHITEOUT leaves a 0:0 character device, as MKNOD allows. */
	if (in.flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	return do_rename(req, in.newdir, in.flags);
}
