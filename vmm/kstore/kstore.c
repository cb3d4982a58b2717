/* The kernel store: naming, the default link, resolving what `--kernel`
 * means, listing and removal.  Adding entries is in kstore-import.c. */
#include "kstore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "loader/bzimage.h"
#include "loader/elf.h"
#include "util.h"

#define NAME_MAX_LEN 64
#define DEFAULT_LINK "default"
#define MAX_TREE_DEPTH 8

const char *kstore_root(void)
{
	const char *env = getenv("NOVM_KERNEL_STORE");
	return env && *env ? env : KSTORE_DEFAULT_ROOT;
}

bool kstore_valid_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > NAME_MAX_LEN || name[0] == '.' || name[0] == '-' ||
	    !strcmp(name, DEFAULT_LINK))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._+-", *p))
			return false;
	return true;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *path_join(const char *a, const char *b)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

/* First line of a small text file, or NULL. */
static char *read_line(const char *path)
{
	char *text = NULL;
	novm_error_t err = NULL;
	if (read_file(path, &text, NULL, &err) < 0) {
		novm_error_release(&err);
		return NULL;
	}
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

int kstore_default(const char *root, char **name, novm_error_t *err)
{
	cleanup_free char *link = path_join(root, DEFAULT_LINK);
	char target[NAME_MAX_LEN + 2];

	*name = NULL;
	if (!link)
		return novm_error(err, ENOMEM, "read the default kernel");
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : novm_error(err, errno, "read `%s`", link);
	target[n] = '\0';
	if (!kstore_valid_name(target))
		return novm_error(err, 0, "`%s` points at `%s`, which is not a kernel store entry", link,
				  target);
	cleanup_free char *dir = path_join(root, target);
	if (!dir)
		return novm_error(err, ENOMEM, "read the default kernel");
	if (!is_dir(dir))
		return 0;	/* dangling: as if there were no default */
	*name = strdup(target);
	return *name ? 0 : novm_error(err, ENOMEM, "read the default kernel");
}

int kstore_set_default(const char *root, const char *name, novm_error_t *err)
{
	cleanup_free char *link = path_join(root, DEFAULT_LINK);
	cleanup_free char *dir = path_join(root, name);
	cleanup_free char *tmp = NULL;

	if (!link || !dir || asprintf(&tmp, "%s/.default.%d", root, getpid()) < 0)
		return novm_error(err, ENOMEM, "set the default kernel");
	if (!kstore_valid_name(name) || !is_dir(dir))
		return novm_error(err, 0, "no kernel `%s` in the store `%s`", name, root);
	/* A relative link keeps the store movable; rename() replaces it whole. */
	unlink(tmp);
	if (symlink(name, tmp) < 0)
		return novm_error(err, errno, "create `%s`", tmp);
	if (rename(tmp, link) < 0) {
		int e = errno;
		unlink(tmp);
		return novm_error(err, e, "replace `%s`", link);
	}
	return 0;
}

static bool has_elf_magic(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char magic[4];
	return fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, "\x7f" "ELF", 4);
}

/* FNV-1a: a cache key, not a security boundary (the cache directory is
 * only writable by its owner). */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* A directory for extracted vmlinux files of bzImages given by path: next
 * to the store when it is writable, else private to the user in $TMPDIR. */
static int cache_dir(const char *root, char **out, novm_error_t *err)
{
	cleanup_free char *store_cache = path_join(root, ".cache");
	if (!store_cache)
		return novm_error(err, ENOMEM, "kernel cache");
	if (mkdir_p(store_cache, 0755, NULL) == 0 && access(store_cache, W_OK) == 0) {
		*out = steal_pointer(&store_cache);
		return 0;
	}
	const char *tmpdir = getenv("TMPDIR");
	cleanup_free char *dir = NULL;
	if (asprintf(&dir, "%s/novm-%u", tmpdir && *tmpdir ? tmpdir : "/tmp", (unsigned)getuid()) < 0)
		return novm_error(err, ENOMEM, "kernel cache");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return novm_error(err, errno, "create `%s`", dir);
	struct stat st;
	if (lstat(dir, &st) < 0)
		return novm_error(err, errno, "`%s`", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022))
		return novm_error(err, 0, "`%s` is not a private directory of this user", dir);
	*out = steal_pointer(&dir);
	return 0;
}

/* The vmlinux of a bzImage given by path, extracted once per version of
 * the file (path, inode, size and mtime make the cache key). */
static int cached_vmlinux(const char *root, const char *bzimage, char **out, novm_error_t *err)
{
	cleanup_free char *dir = NULL, *real = realpath(bzimage, NULL), *path = NULL;
	struct stat st;

	if (!real || stat(real, &st) < 0)
		return novm_error(err, errno, "kernel `%s`", bzimage);
	uint64_t key = 0xcbf29ce484222325ULL;
	key = fnv1a(key, real, strlen(real));
	key = fnv1a(key, &st.st_dev, sizeof(st.st_dev));
	key = fnv1a(key, &st.st_ino, sizeof(st.st_ino));
	key = fnv1a(key, &st.st_size, sizeof(st.st_size));
	key = fnv1a(key, &st.st_mtim, sizeof(st.st_mtim));
	if (cache_dir(root, &dir, err) < 0)
		return -1;
	if (asprintf(&path, "%s/vmlinux-%016" PRIx64, dir, key) < 0)
		return novm_error(err, ENOMEM, "kernel cache");
	if (!is_file(path) && bzimage_extract_vmlinux(real, path, err) < 0)
		return -1;
	*out = steal_pointer(&path);
	return 0;
}

static int resolve_path(const char *root, const char *path, struct kernel_ref *out, novm_error_t *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return novm_error(err, errno, "kernel `%s`", path);
	if (!S_ISREG(st.st_mode))
		return novm_error(err, 0, "kernel `%s` is not a regular file", path);
	if (has_elf_magic(path)) {
		if (elf_check_kernel(path, err) < 0)
			return -1;
		out->vmlinux = strdup(path);
		return out->vmlinux ? 0 : novm_error(err, ENOMEM, "kernel `%s`", path);
	}
	struct bzimage_info info;
	if (bzimage_read_info(path, &info, err) < 0)
		return novm_error_wrap(err, "kernel is neither a vmlinux ELF nor a bzImage");
	if (info.release[0] && !(out->release = strdup(info.release)))
		return novm_error(err, ENOMEM, "kernel `%s`", path);
	if (!(out->bzimage = strdup(path)))
		return novm_error(err, ENOMEM, "kernel `%s`", path);
	return cached_vmlinux(root, path, &out->vmlinux, err);
}

static int resolve_entry(const char *root, const char *name, struct kernel_ref *out, novm_error_t *err)
{
	cleanup_free char *dir = path_join(root, name);
	if (!dir || !(out->name = strdup(name)) || !(out->vmlinux = path_join(dir, "vmlinux")))
		return novm_error(err, ENOMEM, "kernel `%s`", name);
	cleanup_free char *vmlinuz = path_join(dir, "vmlinuz");
	cleanup_free char *modules = path_join(dir, "modules");
	cleanup_free char *order = path_join(dir, "modules/order");
	cleanup_free char *release = path_join(dir, "release");
	if (!vmlinuz || !modules || !order || !release)
		return novm_error(err, ENOMEM, "kernel `%s`", name);

	if (is_file(vmlinuz)) {
		out->bzimage = steal_pointer(&vmlinuz);
		/* The vmlinux is a cache of the bzImage: rebuild it if lost. */
		if (!is_file(out->vmlinux) && bzimage_extract_vmlinux(out->bzimage, out->vmlinux, err) < 0)
			return novm_error_wrap(err, "kernel store entry `%s`", name);
	}
	if (elf_check_kernel(out->vmlinux, err) < 0)
		return novm_error_wrap(err, "kernel store entry `%s` is broken (re-import it)", name);
	if (is_file(order))
		out->modules_dir = steal_pointer(&modules);
	out->release = read_line(release);
	return 0;
}

int kstore_resolve(const char *root, const char *what, struct kernel_ref *out, novm_error_t *err)
{
	cleanup_free char *default_name = NULL, *entry_dir = NULL;
	int r;

	*out = (struct kernel_ref){ 0 };
	if (!what) {
		if (kstore_default(root, &default_name, err) < 0)
			return -1;
		if (!default_name)
			return novm_error(err, 0,
					  "the kernel store `%s` has no default kernel: run `novm kernel "
					  "fetch` or `novm kernel import`, or pass --kernel",
					  root);
		what = default_name;
	}
	if (!strchr(what, '/') && kstore_valid_name(what)) {
		entry_dir = path_join(root, what);
		if (!entry_dir)
			return novm_error(err, ENOMEM, "kernel `%s`", what);
	}
	if (entry_dir && is_dir(entry_dir))
		r = resolve_entry(root, what, out, err);
	else if (strchr(what, '/') || is_file(what))
		r = resolve_path(root, what, out, err);
	else
		r = novm_error(err, 0,
			       "kernel `%s` is neither an entry of the kernel store `%s` nor a file "
			       "(see `novm kernel list`)",
			       what, root);
	if (r < 0)
		kernel_ref_release(out);
	return r;
}

int kstore_resolve_entry(const char *root, const char *name, struct kernel_ref *out,
			 novm_error_t *err)
{
	cleanup_free char *dir = NULL;

	*out = (struct kernel_ref){ 0 };
	if (kstore_valid_name(name) && !(dir = path_join(root, name)))
		return novm_error(err, ENOMEM, "kernel `%s`", name);
	if (!dir || !is_dir(dir))
		return novm_error(err, 0, "kernel `%s` is not an entry of the kernel store `%s` (see "
				  "`novm kernel list`)", name, root);
	if (resolve_entry(root, name, out, err) < 0) {
		kernel_ref_release(out);
		return -1;
	}
	return 0;
}

void kernel_ref_release(struct kernel_ref *ref)
{
	free(ref->name);
	free(ref->vmlinux);
	free(ref->bzimage);
	free(ref->modules_dir);
	free(ref->release);
	*ref = (struct kernel_ref){ 0 };
}

/* Bytes in the regular files below dirfd/name, not following symlinks. */
static uint64_t tree_size(int dirfd, const char *name, int depth)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	cleanup_closedir DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			total += st.st_size;
		else if (S_ISDIR(st.st_mode) && depth < MAX_TREE_DEPTH)
			total += tree_size(fd, de->d_name, depth + 1);
	}
	return total;
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct kstore_entry *)a)->name, ((const struct kstore_entry *)b)->name);
}

int kstore_list(const char *root, struct kstore_entry **entries, size_t *count, novm_error_t *err)
{
	cleanup_free char *default_name = NULL;
	struct kstore_entry *list = NULL;
	size_t n = 0;

	*entries = NULL;
	*count = 0;
	cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT ? 0 : novm_error(err, errno, "open the kernel store `%s`", root);
	if (kstore_default(root, &default_name, err) < 0)
		return -1;
	cleanup_closedir DIR *d = fdopendir(dup(rootfd));
	if (!d)
		return novm_error(err, errno, "read the kernel store `%s`", root);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!kstore_valid_name(de->d_name) ||
		    fstatat(rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		struct kstore_entry *nl = realloc(list, (n + 1) * sizeof(*nl));
		if (!nl)
			goto nomem;
		list = nl;
		struct kstore_entry *e = &list[n++];
		*e = (struct kstore_entry){ .name = strdup(de->d_name) };
		cleanup_free char *release_path = NULL;
		if (asprintf(&release_path, "%s/%s/release", root, de->d_name) < 0 || !e->name)
			goto nomem;
		e->release = read_line(release_path);
		if (!e->release && !(e->release = strdup("unknown")))
			goto nomem;
		e->is_default = default_name && !strcmp(default_name, e->name);
		e->size = tree_size(rootfd, de->d_name, 0);
	}
	qsort(list, n, sizeof(*list), compare_entries);
	*entries = list;
	*count = n;
	return 0;
nomem:
	kstore_entries_free(list, n);
	return novm_error(err, ENOMEM, "list the kernel store");
}

void kstore_entries_free(struct kstore_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(entries[i].name);
		free(entries[i].release);
	}
	free(entries);
}

int kstore_find_release(const char *root, const char *release, char **name, novm_error_t *err)
{
	struct kstore_entry *list;
	size_t n;

	*name = NULL;
	if (kstore_list(root, &list, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && !*name; i++)
		if (!strcmp(list[i].release, release))
			*name = steal_pointer(&list[i].name);
	kstore_entries_free(list, n);
	return 0;
}

int kstore_remove(const char *root, const char *name, novm_error_t *err)
{
	cleanup_free char *dir = NULL, *doomed = NULL, *default_name = NULL;

	if (!kstore_valid_name(name))
		return novm_error(err, 0, "invalid kernel name `%s`", name);
	if (asprintf(&dir, "%s/%s", root, name) < 0 ||
	    asprintf(&doomed, "%s/.remove-%s.%d", root, name, getpid()) < 0)
		return novm_error(err, ENOMEM, "remove `%s`", name);
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return novm_error(err, 0, "no kernel `%s` in the store `%s` (see `novm kernel list`)", name,
				  root);
	if (kstore_default(root, &default_name, err) < 0)
		return -1;
	if (default_name && !strcmp(default_name, name)) {
		cleanup_free char *link = path_join(root, DEFAULT_LINK);
		if (!link || (unlink(link) < 0 && errno != ENOENT))
			return novm_error(err, link ? errno : ENOMEM, "remove the default link");
	}
	/* Renamed first so a half-removed entry is never seen as an entry. */
	if (rename(dir, doomed) < 0)
		return novm_error(err, errno, "remove `%s`", dir);
	return remove_tree(doomed, err);
}
