/* Creating and freeing a server: the share root and /proc/self/fd. */
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

int fuse_server_new(const struct fuse_server_config *cfg, struct fuse_server **out,
		    novm_error_t *err)
{
	cleanup_free struct fuse_server *srv = NULL;
	cleanup_close int root_fd = -1, proc_fd = -1;
	struct stat st;
	struct statfs sfs;
	int r;

	if (!cfg || !cfg->root || !*cfg->root)
		return novm_error(err, EINVAL, "virtio-fs: no directory to share");
	/* The host's own path: following symlinks in it is fine. */
	root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return novm_error(err, errno, "virtio-fs: cannot open shared directory %s", cfg->root);
	if (fstat(root_fd, &st) < 0)
		return novm_error(err, errno, "virtio-fs: stat %s", cfg->root);

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
	if (cfg->only_name) {
		/* One plain name, or the guest could be pointed elsewhere. */
		if (!*cfg->only_name || strchr(cfg->only_name, '/') || !strcmp(cfg->only_name, ".") ||
		    !strcmp(cfg->only_name, ".."))
			return novm_error(err, EINVAL, "virtio-fs: `%s` is not a file name in %s",
					  cfg->only_name, cfg->root);
		srv->only_name = strdup(cfg->only_name);
		if (!srv->only_name)
			return novm_error(err, ENOMEM, "virtio-fs");
	}
	srv->budget = cfg->budget;
	srv->root_dev = st.st_dev;
	srv->root_ino = st.st_ino;
	pthread_mutex_init(&srv->session_lock, NULL);
	handle_table_init(&srv->handles, FUSE_SERVER_MAX_HANDLES, cfg->budget);
	r = inode_table_init(&srv->inodes, FUSE_SERVER_MAX_INODES, cfg->budget, steal_fd(&root_fd),
			     &st);
	if (r < 0) {
		free(srv->only_name);
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
	free(srv->only_name);
	free(srv);
}
