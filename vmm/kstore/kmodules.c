#include "kmodules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "loader/decompress.h"
#include "util.h"

const char *const kmodules_guest_set[] = {
	"virtio", "virtio_ring", "virtio_pci", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
	"virtio-rng", "virtio_console", "fuse", "virtiofs", "vsock", "vmw_vsock_virtio_transport",
	"vmw_vsock_virtio_transport_common", "pvpanic", "pvpanic-pci", "overlay", "virtio_net",
};
const size_t kmodules_guest_set_size = ARRAY_SIZE(kmodules_guest_set);

/* Real dependency chains are a handful deep; this bounds the recursion on a
 * hostile tree. */
#define MAX_DEPTH 32
#define MAX_TREE_DEPTH 16
#define MAX_MODULE_SIZE (128UL << 20)
#define MAX_NAME 64

struct suffix {
	const char *text;
	enum compression compression;
};

static const struct suffix suffixes[] = {
	{ ".ko", COMPRESSION_NONE },
	{ ".ko.xz", COMPRESSION_XZ },
	{ ".ko.zst", COMPRESSION_ZSTD },
	{ ".ko.gz", COMPRESSION_GZIP },
};

struct module_file {
	char name[MAX_NAME];	/* normalised: '-' → '_' */
	char *path;		/* relative to modules_dir */
	const struct suffix *suffix;
};

enum visit_state { VISITING, VISITED };

struct seen {
	char name[MAX_NAME];
	enum visit_state state;
};

struct resolver {
	const char *dir;
	struct module_file *files;
	size_t nr_files, cap_files;
	char (*builtin)[MAX_NAME];
	size_t nr_builtin;
	struct seen *seen;
	size_t nr_seen, cap_seen;
	/* Output, dependencies first. */
	char **order;
	size_t nr_order;
	int dest_fd;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Module name of `s` (a name or a file name without its suffix, `len`
 * bytes) in the form the kernel uses; false when it is too long. */
static bool normalise(const char *s, size_t len, char out[MAX_NAME])
{
	if (len == 0 || len >= MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = s[i] == '-' ? '_' : s[i];
	out[len] = '\0';
	return true;
}

static const struct suffix *module_suffix(const char *file)
{
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (ends_with(file, suffixes[i].text))
			return &suffixes[i];
	return NULL;
}

static int add_file(struct resolver *r, const char *rel, const char *base, const struct suffix *sfx)
{
	char name[MAX_NAME];

	if (!normalise(base, strlen(base) - strlen(sfx->text), name))
		return 0;	/* no real module has such a name */
	if (r->nr_files == r->cap_files) {
		size_t ncap = r->cap_files ? r->cap_files * 2 : 1024;
		struct module_file *n = realloc(r->files, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		r->files = n;
		r->cap_files = ncap;
	}
	struct module_file *f = &r->files[r->nr_files];
	f->path = strdup(rel);
	if (!f->path)
		return -ENOMEM;
	memcpy(f->name, name, sizeof(name));
	f->suffix = sfx;
	r->nr_files++;
	return 0;
}

/* Indexes the module files below `rel` (relative to r->dir), not
 * following symlinks. */
static int index_tree(struct resolver *r, int dirfd, const char *rel, int depth, novm_error_t *err)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return novm_error(err, errno, "open `%s/%s`", r->dir, rel);
	cleanup_closedir DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return novm_error(err, errno, "read `%s/%s`", r->dir, rel);
	}
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *child = NULL;
		if (asprintf(&child, "%s/%s", rel, de->d_name) < 0)
			return novm_error(err, ENOMEM, "index modules");
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd, child, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_DIR) {
			if (depth >= MAX_TREE_DEPTH)
				return novm_error(err, 0, "`%s/%s` is nested too deep", r->dir, child);
			if (index_tree(r, dirfd, child, depth + 1, err) < 0)
				return -1;
		} else if (type == DT_REG) {
			const struct suffix *sfx = module_suffix(de->d_name);
			if (sfx && add_file(r, child, de->d_name, sfx) < 0)
				return novm_error(err, ENOMEM, "index modules");
		}
	}
	if (errno)
		return novm_error(err, errno, "read `%s/%s`", r->dir, rel);
	return 0;
}

/* modules.builtin: one `kernel/.../name.ko` a line. */
static int read_builtin(struct resolver *r, int dirfd, novm_error_t *err)
{
	cleanup_close int fd = openat(dirfd, "modules.builtin", O_RDONLY | O_CLOEXEC);
	cleanup_fclose FILE *f = NULL;
	cleanup_free char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : novm_error(err, errno, "open `%s/modules.builtin`", r->dir);
	f = fdopen(fd, "r");
	if (!f)
		return novm_error(err, errno, "open `%s/modules.builtin`", r->dir);
	steal_fd(&fd);
	while ((n = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\n")] = '\0';
		const char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		if (!ends_with(base, ".ko"))
			continue;
		if (r->nr_builtin == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			char (*nb)[MAX_NAME] = realloc(r->builtin, alloc * MAX_NAME);
			if (!nb)
				return novm_error(err, ENOMEM, "read modules.builtin");
			r->builtin = nb;
		}
		if (normalise(base, strlen(base) - 3, r->builtin[r->nr_builtin]))
			r->nr_builtin++;
	}
	return 0;
}

static bool is_builtin(const struct resolver *r, const char *name)
{
	for (size_t i = 0; i < r->nr_builtin; i++)
		if (!strcmp(r->builtin[i], name))
			return true;
	return false;
}

static const struct module_file *find_file(const struct resolver *r, const char *name)
{
	for (size_t i = 0; i < r->nr_files; i++)
		if (!strcmp(r->files[i].name, name))
			return &r->files[i];
	return NULL;
}

static struct seen *find_seen(struct resolver *r, const char *name)
{
	for (size_t i = 0; i < r->nr_seen; i++)
		if (!strcmp(r->seen[i].name, name))
			return &r->seen[i];
	return NULL;
}

static struct seen *add_seen(struct resolver *r, const char *name)
{
	if (r->nr_seen == r->cap_seen) {
		size_t ncap = r->cap_seen ? r->cap_seen * 2 : 32;
		struct seen *n = realloc(r->seen, ncap * sizeof(*n));
		if (!n)
			return NULL;
		r->seen = n;
		r->cap_seen = ncap;
	}
	struct seen *s = &r->seen[r->nr_seen++];
	memcpy(s->name, name, MAX_NAME);
	s->state = VISITING;
	return s;
}

/* Reads a module file, decompressing it when its suffix says so. */
static int read_module(const struct resolver *r, const struct module_file *f, void **data,
		       size_t *len, novm_error_t *err)
{
	cleanup_free char *path = NULL, *raw = NULL;
	size_t raw_len;

	if (asprintf(&path, "%s/%s", r->dir, f->path) < 0)
		return novm_error(err, ENOMEM, "read module");
	if (read_file(path, &raw, &raw_len, err) < 0)
		return -1;
	if (f->suffix->compression == COMPRESSION_NONE) {
		*data = steal_pointer(&raw);
		*len = raw_len;
		return 0;
	}
	if (compression_detect(raw, raw_len) != f->suffix->compression)
		return novm_error(err, 0, "module `%s` is not %s-compressed", path,
				  compression_name(f->suffix->compression));
	if (decompress(f->suffix->compression, raw, raw_len, MAX_MODULE_SIZE, data, len, err) < 0)
		return novm_error_wrap(err, "module `%s`", path);
	return 0;
}

/* Copies out the .modinfo section (NUL-separated key=value strings) of the
 * module in `data`, NUL-terminated so modinfo_get() cannot run off it. */
static int read_modinfo(void *data, size_t len, char **info, size_t *info_len, novm_error_t *err)
{
	Elf *elf;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	int ret = 1;	/* until found */

	if (elf_version(EV_CURRENT) == EV_NONE)
		return novm_error(err, 0, "libelf: %s", elf_errmsg(-1));
	elf = elf_memory(data, len);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ret = novm_error(err, 0, "not an ELF file");
		goto out;
	}
	if (elf_getshdrstrndx(elf, &shstrndx) < 0) {
		ret = novm_error(err, 0, "no section names: %s", elf_errmsg(-1));
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".modinfo"))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || sh.sh_type == SHT_NOBITS) {
			ret = novm_error(err, 0, "unreadable .modinfo section: %s", elf_errmsg(-1));
			goto out;
		}
		*info = malloc(d->d_size + 1);
		if (!*info) {
			ret = novm_error(err, ENOMEM, "read .modinfo");
			goto out;
		}
		memcpy(*info, d->d_buf, d->d_size);
		(*info)[d->d_size] = '\0';
		*info_len = d->d_size;
		ret = 0;
		break;
	}
out:
	if (elf)
		elf_end(elf);
	if (ret > 0)
		ret = novm_error(err, 0, "no .modinfo section (not a kernel module?)");
	return ret;
}

/* Value of `key` in a .modinfo blob, or NULL. */
static const char *modinfo_get(const char *info, size_t len, const char *key)
{
	size_t klen = strlen(key);
	for (size_t off = 0; off < len; off += strlen(info + off) + 1)
		if (!strncmp(info + off, key, klen) && info[off + klen] == '=')
			return info + off + klen + 1;
	return NULL;
}

static int visit(struct resolver *r, const char *wanted, const char *needed_by, int depth,
		 novm_error_t *err);

static int visit_depends(struct resolver *r, const char *self, const char *depends, int depth,
			 novm_error_t *err)
{
	const char *p = depends;
	while (*p) {
		size_t n = strcspn(p, ",");
		char dep[MAX_NAME];
		if (n && !normalise(p, n, dep))
			return novm_error(err, 0, "module `%s` has an invalid dependency `%.*s`", self,
					  (int)n, p);
		if (n && visit(r, dep, self, depth + 1, err) < 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int write_module(struct resolver *r, const struct module_file *f, const void *data,
			size_t len, novm_error_t *err)
{
	const char *base = strrchr(f->path, '/');
	base = base ? base + 1 : f->path;
	cleanup_free char *file = strndup(base, strlen(base) - strlen(f->suffix->text) + 3);
	if (!file)
		return novm_error(err, ENOMEM, "copy module");
	cleanup_close int fd = openat(r->dest_fd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return novm_error(err, errno, "create module `%s`", file);
	if (write_all(fd, data, len) < 0)
		return novm_error(err, errno, "write module `%s`", file);
	char **n = realloc(r->order, (r->nr_order + 1) * sizeof(*n));
	if (!n)
		return novm_error(err, ENOMEM, "copy module");
	r->order = n;
	r->order[r->nr_order++] = steal_pointer(&file);
	return 0;
}

/* Depth-first: a module is written after everything it depends on. */
static int visit(struct resolver *r, const char *name, const char *needed_by, int depth,
		 novm_error_t *err)
{
	cleanup_free void *data = NULL;
	cleanup_free char *info = NULL;
	size_t len = 0, info_len = 0;

	struct seen *s = find_seen(r, name);
	if (s && s->state == VISITED)
		return 0;
	if (s)
		return novm_error(err, 0, "module dependency cycle through `%s`", name);
	if (depth > MAX_DEPTH)
		return novm_error(err, 0, "module dependencies nested too deep at `%s`", name);
	if (is_builtin(r, name) || !find_file(r, name)) {
		if (!is_builtin(r, name) && needed_by)
			return novm_error(err, 0, "module `%s` needs `%s`, which is neither under `%s/kernel` nor built in",
					  needed_by, name, r->dir);
		s = add_seen(r, name);
		if (!s)
			return novm_error(err, ENOMEM, "resolve modules");
		s->state = VISITED;
		return 0;
	}
	if (!add_seen(r, name))
		return novm_error(err, ENOMEM, "resolve modules");
	size_t seen_index = r->nr_seen - 1;
	const struct module_file *f = find_file(r, name);

	if (read_module(r, f, &data, &len, err) < 0)
		return -1;
	if (read_modinfo(data, len, &info, &info_len, err) < 0)
		return novm_error_wrap(err, "module `%s/%s`", r->dir, f->path);
	const char *declared = modinfo_get(info, info_len, "name");
	char declared_norm[MAX_NAME];
	if (declared && (!normalise(declared, strlen(declared), declared_norm) ||
			 strcmp(declared_norm, name)))
		return novm_error(err, 0, "module `%s/%s` calls itself `%s`", r->dir, f->path, declared);
	const char *depends = modinfo_get(info, info_len, "depends");
	if (depends && visit_depends(r, name, depends, depth, err) < 0)
		return -1;
	if (write_module(r, f, data, len, err) < 0)
		return -1;
	r->seen[seen_index].state = VISITED;	/* index: visit_depends may realloc */
	return 0;
}

static int write_order(struct resolver *r, const char *dest_dir, novm_error_t *err)
{
	cleanup_free char *text = NULL, *path = NULL;
	size_t size = 0;
	cleanup_fclose FILE *f = open_memstream(&text, &size);

	if (!f)
		return novm_error(err, ENOMEM, "write module order");
	for (size_t i = 0; i < r->nr_order; i++)
		fprintf(f, "%s\n", r->order[i]);
	if (fclose(steal_pointer(&f)) != 0)
		return novm_error(err, ENOMEM, "write module order");
	if (asprintf(&path, "%s/order", dest_dir) < 0)
		return novm_error(err, ENOMEM, "write module order");
	return write_file_atomic(path, text ? text : "", size, 0644, err);
}

static void resolver_release(struct resolver *r)
{
	for (size_t i = 0; i < r->nr_files; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->builtin);
	free(r->seen);
	for (size_t i = 0; i < r->nr_order; i++)
		free(r->order[i]);
	free(r->order);
	if (r->dest_fd >= 0)
		close(r->dest_fd);
}

static int install(struct resolver *r, const char *const *wanted, size_t nr_wanted,
		   const char *dest_dir, novm_error_t *err)
{
	cleanup_close int dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (dirfd < 0)
		return novm_error(err, errno, "open modules directory `%s`", r->dir);
	if (fstatat(dirfd, "kernel", &st, 0) < 0 || !S_ISDIR(st.st_mode))
		return novm_error(err, 0, "`%s` has no kernel/ directory: not a lib/modules/<release> directory",
				  r->dir);
	if (read_builtin(r, dirfd, err) < 0 || index_tree(r, dirfd, "kernel", 0, err) < 0)
		return -1;
	if (mkdir_p(dest_dir, 0755, err) < 0)
		return -1;
	r->dest_fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dest_fd < 0)
		return novm_error(err, errno, "open `%s`", dest_dir);
	for (size_t i = 0; i < nr_wanted; i++) {
		char name[MAX_NAME];
		if (!normalise(wanted[i], strlen(wanted[i]), name))
			return novm_error(err, 0, "invalid module name `%s`", wanted[i]);
		if (visit(r, name, NULL, 0, err) < 0)
			return -1;
	}
	return write_order(r, dest_dir, err);
}

int kmodules_install_set(const char *modules_dir, const char *const *wanted, size_t nr_wanted,
			 const char *dest_dir, novm_error_t *err)
{
	struct resolver r = { .dir = modules_dir, .dest_fd = -1 };
	int ret = install(&r, wanted, nr_wanted, dest_dir, err);
	resolver_release(&r);
	return ret;
}

int kmodules_install(const char *modules_dir, const char *dest_dir, novm_error_t *err)
{
	return kmodules_install_set(modules_dir, kmodules_guest_set, kmodules_guest_set_size, dest_dir,
				    err);
}
