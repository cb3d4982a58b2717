#include "devnodes.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "inroot.h"

static const struct {
	const char *name;
	unsigned major, minor;
} standard_nodes[] = {
	{ "null", 1, 3 },
	{ "zero", 1, 5 },
	{ "full", 1, 7 },
	{ "random", 1, 8 },
	{ "urandom", 1, 9 },
	{ "tty", 5, 0 },
};

static const struct {
	const char *name, *target;
} standard_links[] = {
	{ "fd", "/proc/self/fd" },
	{ "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
	{ "ptmx", "pts/ptmx" },
};

/* mknod honours the umask; the modes asked for must be exact. */
static int make_node(int dir_fd, const char *name, mode_t type, mode_t perm, dev_t rdev,
		     novm_error_t *err)
{
	if (mknodat(dir_fd, name, type | perm, rdev) < 0 && errno != EEXIST)
		return novm_error(err, errno, "mknod `%s`", name);
	if (fchmodat(dir_fd, name, perm, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
		return novm_error(err, errno, "chmod `%s`", name);
	return 0;
}

int devnodes_populate(int dev_fd, bool console, novm_error_t *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(standard_nodes); i++) {
		if (make_node(dev_fd, standard_nodes[i].name, S_IFCHR, 0666,
			      makedev(standard_nodes[i].major, standard_nodes[i].minor), err) < 0)
			return novm_error_wrap(err, "/dev");
	}
	for (size_t i = 0; i < ARRAY_SIZE(standard_links); i++) {
		if (symlinkat(standard_links[i].target, dev_fd, standard_links[i].name) < 0 &&
		    errno != EEXIST)
			return novm_error(err, errno, "/dev: symlink `%s`", standard_links[i].name);
	}
	if (console) {
		cleanup_close int fd = openat(dev_fd, "console",
					      O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return novm_error(err, errno, "/dev: create `console`");
	}
	return 0;
}

int devnodes_create(int root_fd, const struct oci_device *dev, novm_error_t *err)
{
	cleanup_close int parent = -1;
	const char *name;
	mode_t type;
	struct stat st;

	switch (dev->type) {
	case 'c':
	case 'u':
		type = S_IFCHR;
		break;
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		return novm_error(err, 0, "device `%s`: unknown type '%c'", dev->path, dev->type);
	}
	if (dev->major < 0 || dev->minor < 0 || dev->major > 0xfff || dev->minor > 0xfffff)
		return novm_error(err, 0, "device `%s`: number %lld:%lld out of range", dev->path,
				  (long long)dev->major, (long long)dev->minor);
	if (inroot_parent(root_fd, dev->path, &parent, &name, err) < 0)
		return novm_error_wrap(err, "device");
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return novm_error(err, EISDIR, "device `%s`", dev->path);
		if (unlinkat(parent, name, 0) < 0)
			return novm_error(err, errno, "device `%s`: remove the old file", dev->path);
	}
	if (make_node(parent, name, type, dev->has_file_mode ? dev->file_mode & 07777 : 0666,
		      type == S_IFIFO ? 0 : makedev(dev->major, dev->minor), err) < 0)
		return novm_error_wrap(err, "device `%s`", dev->path);
	if (fchownat(parent, name, dev->has_uid ? dev->uid : 0, dev->has_gid ? dev->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return novm_error(err, errno, "device `%s`: chown", dev->path);
	return 0;
}
