#include "initramfs.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "modorder.h"
#include "util.h"

#ifndef NOVM_LIBEXECDIR
#define NOVM_LIBEXECDIR "/usr/local/libexec/novm"
#endif

#define AGENT_NAME "novm-init"
#define CACHE_PREFIX "initramfs-"
#define CACHE_SUFFIX ".cpio"
#define DEFAULT_CACHE_DIR "/var/cache/novm"
/* Bumped when the initramfs layout changes, so old caches are not reused. */
#define LAYOUT_VERSION "novm-initramfs-1"

/* ---- newc cpio writer ------------------------------------------------ */

#define NEWC_MAGIC "070701"
#define NEWC_HEADER_LEN 110
#define NEWC_TRAILER "TRAILER!!!"

struct cpio_writer {
	FILE *out;
	const char *path;	/* for messages */
	uint32_t next_ino;
};

static int cpio_write(struct cpio_writer *w, const void *data, size_t len, novm_error_t *err)
{
	if (len && fwrite(data, 1, len, w->out) != len)
		return novm_error(err, errno ? errno : EIO, "write `%s`", w->path);
	return 0;
}

/* newc aligns both the header+name and the data to 4 bytes. */
static int cpio_pad(struct cpio_writer *w, uint64_t len, novm_error_t *err)
{
	static const char zeros[4];
	return cpio_write(w, zeros, (4 - len % 4) % 4, err);
}

static int cpio_header(struct cpio_writer *w, const char *name, uint32_t mode, uint32_t nlink,
		       uint32_t size, uint32_t rdev_major, uint32_t rdev_minor, novm_error_t *err)
{
	char header[NEWC_HEADER_LEN + 1];
	size_t name_len = strlen(name);
	uint32_t name_size = name_len + 1;
	/* The trailer has inode 0 like every cpio writer gives it. */
	uint32_t ino = strcmp(name, NEWC_TRAILER) == 0 ? 0 : w->next_ino++;

	if (name_len >= PATH_MAX)
		return novm_error(err, ENAMETOOLONG, "cpio entry `%.64s...`", name);

	/* Fields: ino mode uid gid nlink mtime filesize devmajor devminor
	 * rdevmajor rdevminor namesize check.  Owner root, mtime 0, so the
	 * output depends only on the inputs' contents. */
	snprintf(header, sizeof(header),
		 NEWC_MAGIC "%08" PRIX32 "%08" PRIX32 "%08X%08X%08" PRIX32 "%08X%08" PRIX32
			    "%08X%08X%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08X",
		 ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev_major, rdev_minor, name_size, 0);
	if (cpio_write(w, header, NEWC_HEADER_LEN, err) < 0 ||
	    cpio_write(w, name, name_size, err) < 0)
		return -1;
	return cpio_pad(w, NEWC_HEADER_LEN + name_size, err);
}

static int cpio_dir(struct cpio_writer *w, const char *name, novm_error_t *err)
{
	return cpio_header(w, name, S_IFDIR | 0755, 2, 0, 0, 0, err);
}

static int cpio_chardev(struct cpio_writer *w, const char *name, mode_t perm, uint32_t major_,
			uint32_t minor_, novm_error_t *err)
{
	return cpio_header(w, name, S_IFCHR | perm, 1, 0, major_, minor_, err);
}

static int cpio_data(struct cpio_writer *w, const char *name, mode_t perm, const void *data,
		     size_t len, novm_error_t *err)
{
	if (len > UINT32_MAX)
		return novm_error(err, EFBIG, "`%s` is too large for a cpio entry", name);
	if (cpio_header(w, name, S_IFREG | perm, 1, len, 0, 0, err) < 0 ||
	    cpio_write(w, data, len, err) < 0)
		return -1;
	return cpio_pad(w, len, err);
}

/* Copies the regular file open at fd (named src in messages). */
static int cpio_file(struct cpio_writer *w, const char *name, mode_t perm, int fd,
		     const char *src, novm_error_t *err)
{
	char buf[65536];
	struct stat st;
	uint64_t left;

	if (fstat(fd, &st) < 0)
		return novm_error(err, errno, "stat `%s`", src);
	if (!S_ISREG(st.st_mode))
		return novm_error(err, 0, "`%s` is not a regular file", src);
	if ((uint64_t)st.st_size > UINT32_MAX)
		return novm_error(err, EFBIG, "`%s` is too large for a cpio entry", src);
	if (cpio_header(w, name, S_IFREG | perm, 1, st.st_size, 0, 0, err) < 0)
		return -1;
	for (left = st.st_size; left;) {
		ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return novm_error(err, errno, "read `%s`", src);
		/* The header already holds the size: a file that shrinks
		 * under us would leave a corrupt archive. */
		if (r == 0)
			return novm_error(err, 0, "`%s` shrank while being copied", src);
		if (cpio_write(w, buf, r, err) < 0)
			return -1;
		left -= r;
	}
	return cpio_pad(w, st.st_size, err);
}

/* ---- inputs ---------------------------------------------------------- */

/* The initramfs has no libraries: a dynamically linked agent would only
 * fail inside the guest as "No working init found", so catch it here. */
static int check_agent_static(int fd, const char *path, novm_error_t *err)
{
	Elf64_Ehdr eh;
	ssize_t r = pread(fd, &eh, sizeof(eh), 0);

	if (r < 0)
		return novm_error(err, errno, "read `%s`", path);
	if ((size_t)r < sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (uint64_t)i * sizeof(ph)) !=
		    (ssize_t)sizeof(ph))
			return novm_error(err, 0, "`%s`: truncated ELF program headers", path);
		if (ph.p_type == PT_INTERP)
			return novm_error(err, 0,
					  "guest agent `%s` is dynamically linked; the initramfs "
					  "has no libraries, so it must be linked with -static",
					  path);
	}
	return 0;
}

/* Reads and parses <modules_dir>/order. */
static int read_module_order(const char *modules_dir, struct module_order *order,
			     novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;

	if (asprintf(&path, "%s/order", modules_dir) < 0)
		return novm_error(err, ENOMEM, "module order");
	if (read_file(path, &text, NULL, err) < 0)
		return -1;
	if (module_order_parse(text, order, err) < 0)
		return novm_error_wrap(err, "`%s`", path);
	return 0;
}

/* Joins the names back into an order file for the guest. */
static char *format_module_order(const struct module_order *order, size_t *len)
{
	size_t total = 0;
	char *text, *p;

	for (size_t i = 0; i < order->count; i++)
		total += strlen(order->names[i]) + 1;
	text = p = malloc(total + 1);
	if (!text)
		return NULL;
	for (size_t i = 0; i < order->count; i++)
		p += sprintf(p, "%s\n", order->names[i]);
	*len = total;
	return text;
}

static int write_modules(struct cpio_writer *w, const char *modules_dir,
			 const struct module_order *order, novm_error_t *err)
{
	cleanup_close int dirfd = open(modules_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *text = NULL;
	size_t len;

	if (dirfd < 0)
		return novm_error(err, errno, "open modules directory `%s`", modules_dir);
	for (size_t i = 0; i < order->count; i++) {
		const char *name = order->names[i];
		cleanup_free char *src = NULL, *dst = NULL;
		cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

		if (asprintf(&src, "%s/%s", modules_dir, name) < 0 ||
		    asprintf(&dst, "lib/modules/%s", name) < 0)
			return novm_error(err, ENOMEM, "module `%s`", name);
		if (fd < 0)
			return novm_error(err, errno, "module `%s` listed in order", src);
		if (cpio_file(w, dst, 0644, fd, src, err) < 0)
			return -1;
	}
	text = format_module_order(order, &len);
	if (!text)
		return novm_error(err, ENOMEM, "module order");
	return cpio_data(w, "lib/modules/order", 0644, text, len, err);
}

static int write_archive(struct cpio_writer *w, int agent_fd, const char *agent_path,
			 const char *modules_dir, const struct module_order *order,
			 novm_error_t *err)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "lib", "lib/modules" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (cpio_dir(w, dirs[i], err) < 0)
			return -1;
	/* The kernel opens /dev/console for init before any file system is
	 * mounted; without this node PID 1 would start with no stdio. */
	if (cpio_chardev(w, "dev/console", 0600, 5, 1, err) < 0)
		return -1;
	if (cpio_file(w, "init", 0755, agent_fd, agent_path, err) < 0)
		return -1;
	if (modules_dir) {
		if (write_modules(w, modules_dir, order, err) < 0)
			return -1;
	} else if (cpio_data(w, "lib/modules/order", 0644, "", 0, err) < 0) {
		return -1;
	}
	return cpio_header(w, NEWC_TRAILER, 0, 1, 0, 0, 0, err);
}

int initramfs_build(const char *agent_path, const char *modules_dir, const char *out_path,
		    novm_error_t *err)
{
	cleanup_close int agent_fd = -1;
	cleanup_free char *tmp = NULL;
	struct module_order order = { 0 };
	struct cpio_writer w = { .path = out_path, .next_ino = 1 };
	int fd = -1, r;

	agent_fd = open(agent_path, O_RDONLY | O_CLOEXEC);
	if (agent_fd < 0) {
		novm_error(err, errno, "open guest agent `%s`", agent_path);
		return novm_error_wrap(err, "build initramfs `%s`", out_path);
	}
	if (check_agent_static(agent_fd, agent_path, err) < 0 ||
	    (modules_dir && read_module_order(modules_dir, &order, err) < 0))
		return novm_error_wrap(err, "build initramfs `%s`", out_path);

	if (asprintf(&tmp, "%s.XXXXXX", out_path) < 0) {
		tmp = NULL;
		r = novm_error(err, ENOMEM, "temporary file name");
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = novm_error(err, errno, "create `%s`", tmp);
		free(steal_pointer(&tmp));	/* nothing to remove */
		goto out;
	}
	w.out = fdopen(fd, "w");
	if (!w.out) {
		r = novm_error(err, errno, "create `%s`", tmp);
		close(fd);
		goto out;
	}
	r = fchmod(fd, 0644) < 0 ? novm_error(err, errno, "chmod `%s`", tmp) : 0;
	if (r == 0)
		r = write_archive(&w, agent_fd, agent_path, modules_dir, &order, err);
	if (r == 0 && (fflush(w.out) != 0 || fsync(fd) < 0))
		r = novm_error(err, errno, "write `%s`", tmp);
	if (fclose(w.out) != 0 && r == 0)
		r = novm_error(err, errno, "write `%s`", tmp);
	if (r == 0 && rename(tmp, out_path) < 0)
		r = novm_error(err, errno, "rename `%s` to `%s`", tmp, out_path);
out:
	module_order_release(&order);
	if (r == 0)
		return 0;
	if (tmp)
		unlink(tmp);
	return novm_error_wrap(err, "build initramfs `%s`", out_path);
}

/* ---- cache ----------------------------------------------------------- */

/* FNV-1a: the key only tells apart inputs of trusted local files. */
static void hash_bytes(uint64_t *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= 0x100000001b3ULL;
	}
}

static void hash_string(uint64_t *h, const char *s)
{
	hash_bytes(h, s, strlen(s) + 1);
}

static int hash_file_identity(uint64_t *h, int dirfd, const char *name, const char *what,
			      novm_error_t *err)
{
	struct stat st;
	uint64_t fields[5];

	if (fstatat(dirfd, name, &st, 0) < 0)
		return novm_error(err, errno, "%s `%s`", what, name);
	fields[0] = st.st_dev;
	fields[1] = st.st_ino;
	fields[2] = st.st_size;
	fields[3] = st.st_mtim.tv_sec;
	fields[4] = st.st_mtim.tv_nsec;
	hash_bytes(h, fields, sizeof(fields));
	return 0;
}

static int cache_key(const char *agent_path, const char *modules_dir, uint64_t *key,
		     novm_error_t *err)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct module_order order = { 0 };
	cleanup_close int dirfd = -1;

	hash_string(&h, LAYOUT_VERSION);
	hash_string(&h, agent_path);
	if (hash_file_identity(&h, AT_FDCWD, agent_path, "guest agent", err) < 0)
		return novm_error_wrap(err, "build the agent (make) or set NOVM_AGENT");
	hash_string(&h, modules_dir ? modules_dir : "");
	if (modules_dir) {
		if (hash_file_identity(&h, AT_FDCWD, modules_dir, "modules directory", err) < 0)
			return -1;
		dirfd = open(modules_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return novm_error(err, errno, "open modules directory `%s`", modules_dir);
		if (hash_file_identity(&h, dirfd, "order", "module order", err) < 0 ||
		    read_module_order(modules_dir, &order, err) < 0)
			return novm_error_wrap(err, "in `%s`", modules_dir);
		for (size_t i = 0; i < order.count; i++) {
			hash_string(&h, order.names[i]);
			if (hash_file_identity(&h, dirfd, order.names[i], "module", err) < 0) {
				module_order_release(&order);
				return novm_error_wrap(err, "in `%s`", modules_dir);
			}
		}
		module_order_release(&order);
	}
	*key = h;
	return 0;
}

/* The store entry holding modules_dir, or NULL when modules_dir does not
 * look like one's `modules` subdirectory (then writing next to it could
 * litter an unrelated directory). */
static char *store_entry_of(const char *modules_dir)
{
	cleanup_free char *dir = strdup(modules_dir);
	char *slash;
	size_t len;

	if (!dir)
		return NULL;
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	slash = strrchr(dir, '/');
	if (strcmp(slash ? slash + 1 : dir, "modules") != 0)
		return NULL;
	if (!slash)
		return strdup(".");
	if (slash == dir)
		return strdup("/");
	*slash = '\0';
	return steal_pointer(&dir);
}

/* $TMPDIR/novm-<uid>: other users can write to $TMPDIR, so the directory
 * must be ours and closed to them, or they could plant an init. */
static int private_tmp_dir(char **out, novm_error_t *err)
{
	const char *tmpdir = getenv("TMPDIR");
	cleanup_free char *dir = NULL;
	struct stat st;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (asprintf(&dir, "%s/novm-%u", tmpdir, (unsigned)geteuid()) < 0)
		return novm_error(err, ENOMEM, "cache directory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return novm_error(err, errno, "mkdir `%s`", dir);
	if (lstat(dir, &st) < 0)
		return novm_error(err, errno, "stat `%s`", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return novm_error(err, EPERM,
				  "cache directory `%s` is not a private directory of this user",
				  dir);
	*out = steal_pointer(&dir);
	return 0;
}

/* Removes the entry's other cached initramfs files: each is stale, its
 * inputs having changed.  Best effort. */
static void prune_stale(const char *dir, const char *keep)
{
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *de;
	size_t pl = strlen(CACHE_PREFIX), sl = strlen(CACHE_SUFFIX);

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > pl + sl && strncmp(de->d_name, CACHE_PREFIX, pl) == 0 &&
		    strcmp(de->d_name + len - sl, CACHE_SUFFIX) == 0 &&
		    strcmp(de->d_name, keep) != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	}
}

static bool is_permission_error(const novm_error_t *err)
{
	int e = err && *err ? (*err)->errno_ : 0;
	return e == EACCES || e == EPERM || e == EROFS;
}

enum cache_place { CACHE_IN_ENTRY, CACHE_SYSTEM, CACHE_PRIVATE_TMP, CACHE_PLACES };

static int cache_dir(enum cache_place place, const char *modules_dir, char **out,
		     novm_error_t *err)
{
	const char *system_dir;

	switch (place) {
	case CACHE_IN_ENTRY:
		*out = modules_dir ? store_entry_of(modules_dir) : NULL;
		return 0;
	case CACHE_SYSTEM:
		system_dir = getenv("NOVM_CACHE_DIR");
		if (!system_dir || !*system_dir)
			system_dir = DEFAULT_CACHE_DIR;
		if (mkdir_p(system_dir, 0755, err) < 0)
			return -1;
		*out = strdup(system_dir);
		return *out ? 0 : novm_error(err, ENOMEM, "cache directory");
	case CACHE_PRIVATE_TMP:
		return private_tmp_dir(out, err);
	case CACHE_PLACES:
		break;
	}
	*out = NULL;
	return 0;
}

int initramfs_default(const char *modules_dir, char **out_path, novm_error_t *err)
{
	const char *agent = initramfs_agent_path();
	char name[sizeof(CACHE_PREFIX) + 16 + sizeof(CACHE_SUFFIX)];
	uint64_t key = 0;

	if (cache_key(agent, modules_dir, &key, err) < 0)
		return novm_error_wrap(err, "initramfs");
	snprintf(name, sizeof(name), CACHE_PREFIX "%016" PRIx64 CACHE_SUFFIX, key);

	for (int place = 0; place < CACHE_PLACES; place++) {
		cleanup_free char *dir = NULL, *path = NULL;
		struct stat st;

		novm_error_release(err);
		if (cache_dir(place, modules_dir, &dir, err) < 0) {
			if (is_permission_error(err))
				continue;
			return -1;
		}
		if (!dir)
			continue;
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			return novm_error(err, ENOMEM, "initramfs");
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			*out_path = steal_pointer(&path);
			return 0;
		}
		if (initramfs_build(agent, modules_dir, path, err) < 0) {
			if (is_permission_error(err))
				continue;
			return -1;
		}
		if (place == CACHE_IN_ENTRY)
			prune_stale(dir, name);
		*out_path = steal_pointer(&path);
		return 0;
	}
	if (err && *err)
		return novm_error_wrap(err, "no writable cache directory for the initramfs");
	return novm_error(err, EACCES, "no writable cache directory for the initramfs");
}

/* True when the running program lives inside the build tree. */
static bool running_from_build_tree(const char *build_dir)
{
	char exe[PATH_MAX], root[PATH_MAX];
	size_t len;

	if (!realpath("/proc/self/exe", exe) || !realpath(build_dir, root))
		return false;
	len = strlen(root);
	return strncmp(exe, root, len) == 0 && (exe[len] == '/' || root[len - 1] == '/');
}

const char *initramfs_agent_path(void)
{
	const char *env = getenv("NOVM_AGENT");

	if (env && *env)
		return env;
#ifdef NOVM_BUILDDIR
	if (running_from_build_tree(NOVM_BUILDDIR) &&
	    access(NOVM_BUILDDIR "/agent/" AGENT_NAME, X_OK) == 0)
		return NOVM_BUILDDIR "/agent/" AGENT_NAME;
#endif
	return NOVM_LIBEXECDIR "/" AGENT_NAME;
}
