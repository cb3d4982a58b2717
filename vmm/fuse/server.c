/* Creating and freeing a server: the share root (or a graft root's own
 * empty one) and /proc/self/fd. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cleanup.h"
#include "internal.h"
#include "log.h"

/* A graft root's own root: an empty directory no host path leads to.
 * Removed at once, it can hold nothing (the kernel refuses new entries in
 * a removed directory) and leaves nothing behind; 0755, so any guest user
 * may walk into the grafts. */
static int empty_root(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd, saved;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(path, sizeof(path), "%s/novm-graft-root-XXXXXX", tmp) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!mkdtemp(path))
		return -1;
	fd = chmod(path, 0755) < 0 ? -1 : open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	saved = errno;
	rmdir(path);
	errno = saved;
	return fd;
}

int fuse_server_new(const struct fuse_server_config *cfg, struct fuse_server **out,
		    novm_error_t *err)
{
	cleanup_free struct fuse_server *srv = NULL;
	cleanup_close int root_fd = -1, proc_fd = -1;
	struct stat st;
	struct statfs sfs;
	int r;

	if (!cfg || ((!cfg->root || !*cfg->root) && !cfg->grafts))
		return novm_error(err, EINVAL, "virtio-fs: no directory to share");
	if (cfg->root && *cfg->root)
		/* The host's own path: following symlinks in it is fine. */
		root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		root_fd = empty_root();
	const char *what = cfg->root && *cfg->root ? cfg->root : "(a graft root's own)";
	if (root_fd < 0)
		return novm_error(err, errno, "virtio-fs: cannot open shared directory %s", what);
	if (fstat(root_fd, &st) < 0)
		return novm_error(err, errno, "virtio-fs: stat %s", what);

	/* Files are reopened for I/O through their O_PATH fds' magic links;
	 * make sure that really is procfs. */
	proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return novm_error(err, errno, "virtio-fs: cannot open /proc/self/fd (is /proc mounted?)");
	if (fstatfs(proc_fd, &sfs) < 0)
		return novm_error(err, errno, "virtio-fs: statfs /proc/self/fd");
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return novm_error(err, 0, "virtio-fs: /proc/self/fd is not on procfs");

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return novm_error(err, ENOMEM, "virtio-fs");
	atomic_init(&srv->readonly, cfg->readonly);
	if (fuse_root_names_init(&srv->root, cfg, err) < 0)
		return -1;
	srv->budget = cfg->budget;
	srv->root_dev = st.st_dev;
	srv->root_ino = st.st_ino;
	pthread_mutex_init(&srv->session_lock, NULL);
	handle_table_init(&srv->handles, FUSE_SERVER_MAX_HANDLES, cfg->budget);
	r = inode_table_init(&srv->inodes, FUSE_SERVER_MAX_INODES, cfg->budget, steal_fd(&root_fd),
			     &st);
	if (r < 0) {
		fuse_root_names_destroy(&srv->root);
		handle_table_destroy(&srv->handles);
		pthread_mutex_destroy(&srv->session_lock);
		return novm_error(err, -r, "virtio-fs: inode table");
	}
	srv->proc_fd = steal_fd(&proc_fd);
	*out = steal_pointer(&srv);
	return 0;
}

unsigned fuse_fd_budget_for_limit(unsigned long nofile)
{
	unsigned long reserve;

	if (nofile > UINT_MAX)
		nofile = UINT_MAX;
	reserve = nofile / 8 > 256 ? nofile / 8 : 256;
	if (nofile < 2 * reserve)
		return (unsigned)(nofile / 2);
	return (unsigned)(nofile - reserve);
}

void fd_budget_spent(struct fuse_fd_budget *b)
{
	if (!atomic_exchange(&b->told, true))
		log_msg(LOG_LEVEL_WARNING,
			"virtio-fs: the guest holds %u host descriptors (files it knows or has "
			"open), the VMM's cap: new ones fail with ENFILE until it lets some go",
			b->max);
}

void fuse_server_seal(struct fuse_server *srv)
{
	atomic_store(&srv->readonly, true);
}

void fuse_server_free(struct fuse_server *srv)
{
	if (!srv)
		return;
	handle_table_destroy(&srv->handles);
	inode_table_destroy(&srv->inodes);
	close(srv->proc_fd);
	pthread_mutex_destroy(&srv->session_lock);
	fuse_root_names_destroy(&srv->root);
	free(srv);
}
