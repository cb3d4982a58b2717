/* A confined root: one that shows the guest only the names in its table.
 * A single-file share's table holds that file's name, looked up in the
 * shared directory as any name; a graft root's (pods) the trees the host
 * grafts on it at run time, each an fd of its own whose dup becomes the
 * node when the guest looks it up.  Workers look names up while the
 * control thread grafts: the table has its own lock, held only to copy a
 * name or dup an fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"
#include "util.h"

bool fuse_graft_name_valid(const char *name)
{
	return name_is_plain(name, FUSE_MAX_GRAFT_NAME);
}

/* Under the lock. */
static struct fuse_root_name *find_locked(struct fuse_root_names *rn, const char *name)
{
	for (size_t i = 0; i < rn->n; i++)
		if (!strcmp(rn->v[i].name, name))
			return &rn->v[i];
	return NULL;
}

static int add_locked(struct fuse_root_names *rn, const char *name, int fd)
{
	struct fuse_root_name *grown;
	char *copy = strdup(name);

	if (!copy)
		return -ENOMEM;
	grown = realloc(rn->v, (rn->n + 1) * sizeof(*rn->v));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	rn->v = grown;
	rn->v[rn->n++] = (struct fuse_root_name){ .name = copy, .fd = fd };
	return 0;
}

int fuse_root_names_init(struct fuse_root_names *rn, const struct fuse_server_config *cfg,
			 novm_error_t *err)
{
	*rn = (struct fuse_root_names){ .grafts = cfg->grafts };
	rn->confined = cfg->grafts || cfg->only_name;
	pthread_mutex_init(&rn->lock, NULL);
	if (!cfg->only_name)
		return 0;
	if (cfg->grafts) {
		fuse_root_names_destroy(rn);
		return novm_error(err, EINVAL, "virtio-fs: a single-file share takes no grafts");
	}
	/* One plain name, or the guest could be pointed elsewhere. */
	if (!*cfg->only_name || strchr(cfg->only_name, '/') || !strcmp(cfg->only_name, ".") ||
	    !strcmp(cfg->only_name, "..")) {
		fuse_root_names_destroy(rn);
		return novm_error(err, EINVAL, "virtio-fs: `%s` is not a file name in %s",
				  cfg->only_name, cfg->root);
	}
	if (add_locked(rn, cfg->only_name, -1) < 0) {
		fuse_root_names_destroy(rn);
		return novm_error(err, ENOMEM, "virtio-fs");
	}
	return 0;
}

void fuse_root_names_destroy(struct fuse_root_names *rn)
{
	for (size_t i = 0; i < rn->n; i++) {
		if (rn->v[i].fd >= 0)
			close(rn->v[i].fd);
		free(rn->v[i].name);
	}
	free(rn->v);
	rn->v = NULL;
	rn->n = 0;
	pthread_mutex_destroy(&rn->lock);
}

int fuse_server_graft(struct fuse_server *srv, const char *name, int fd, novm_error_t *err)
{
	cleanup_close int owned = fd;
	struct fuse_root_names *rn = &srv->root;
	struct stat st;
	int r;

	if (!rn->grafts)
		return novm_error(err, EINVAL, "graft: this share takes no grafts");
	if (!fuse_graft_name_valid(name))
		return novm_error(err, EINVAL,
				  "graft: `%.*s` is no graft name (1 to %d bytes of A-Z a-z 0-9 . _ -, "
				  "not . or ..)", FUSE_MAX_GRAFT_NAME, name, FUSE_MAX_GRAFT_NAME);
	if (fstat(fd, &st) < 0)
		return novm_error(err, errno, "graft `%s`", name);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return novm_error(err, EINVAL, "graft `%s`: neither a directory nor a regular file",
				  name);
	/* Kept by the VMM only: an exec'd helper must not inherit it. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return novm_error(err, errno, "graft `%s`", name);
	pthread_mutex_lock(&rn->lock);
	if (find_locked(rn, name))
		r = -EEXIST;
	else if (rn->n >= FUSE_MAX_GRAFTS)
		r = -ENOSPC;
	else
		r = add_locked(rn, name, fd);
	pthread_mutex_unlock(&rn->lock);
	if (r == -EEXIST)
		return novm_error(err, EEXIST, "graft: `%s` is grafted already", name);
	if (r == -ENOSPC)
		return novm_error(err, ENOSPC, "graft: the share has %d grafts already",
				  FUSE_MAX_GRAFTS);
	if (r < 0)
		return novm_error(err, -r, "graft `%s`", name);
	owned = -1;	/* the table's now */
	return 0;
}

unsigned fuse_server_ungraft(struct fuse_server *srv, const char *prefix)
{
	struct fuse_root_names *rn = &srv->root;
	size_t plen = strlen(prefix), kept = 0;
	unsigned gone = 0;

	if (!rn->grafts)
		return 0;
	pthread_mutex_lock(&rn->lock);
	for (size_t i = 0; i < rn->n; i++) {
		if (strncmp(rn->v[i].name, prefix, plen) != 0) {
			rn->v[kept++] = rn->v[i];
			continue;
		}
		/* The inodes the guest holds have dups of their own. */
		close(rn->v[i].fd);
		free(rn->v[i].name);
		gone++;
	}
	rn->n = kept;
	pthread_mutex_unlock(&rn->lock);
	return gone;
}

/* An O_PATH-like fd of the root's name (the graft's dup, or the entry of
 * the shared directory, never followed), or -errno. */
static int root_open(struct fuse_server *srv, const char *name)
{
	struct fuse_root_names *rn = &srv->root;
	struct fuse_root_name *entry;
	bool own_entry = false;
	int fd = -ENOENT;

	pthread_mutex_lock(&rn->lock);
	entry = find_locked(rn, name);
	if (entry && entry->fd < 0)
		own_entry = true;
	else if (entry && (fd = fcntl(entry->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		fd = -errno;
	pthread_mutex_unlock(&rn->lock);
	if (!own_entry)
		return fd;

	/* The shared directory's entry of that name, as any lookup. */
	cleanup_inode struct fuse_inode *root = inode_get(&srv->inodes, FUSE_ROOT_ID);
	if (!root)
		return -ESTALE;
	fd = openat(root->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int fuse_root_lookup(struct fuse_server *srv, const char *name, struct fuse_entry_out *e,
		     struct stat *st)
{
	int fd = root_open(srv, name);

	if (fd < 0)
		return fd;
	return fuse_entry_from_fd(srv, fd, e, st);
}

int fuse_root_stat(struct fuse_server *srv, const char *name, struct stat *st)
{
	cleanup_close int fd = root_open(srv, name);

	if (fd < 0)
		return fd;
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

bool fuse_root_name_at(struct fuse_server *srv, size_t index, char name[NAME_MAX + 1])
{
	struct fuse_root_names *rn = &srv->root;
	bool found;

	pthread_mutex_lock(&rn->lock);
	found = index < rn->n;
	if (found)
		snprintf(name, NAME_MAX + 1, "%s", rn->v[index].name);
	pthread_mutex_unlock(&rn->lock);
	return found;
}
