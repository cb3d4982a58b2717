/* Adding kernels to the store (the layout is in kstore.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "kmodules.h"
#include "kstore.h"
#include "loader/bzimage.h"
#include "loader/elf.h"
#include "util.h"

#define RELEASE_MAX_LEN 64

static bool valid_release(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > RELEASE_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

/* The release in a vmlinux's linux_banner ("Linux version 6.1.0-56-amd64
 * (...)"), or NULL. */
static char *vmlinux_release(const char *path)
{
	static const char banner[] = "Linux version ";
	cleanup_free char *data = NULL;
	novm_error_t err = NULL;
	size_t len;

	if (read_file(path, &data, &len, &err) < 0) {
		novm_error_release(&err);
		return NULL;
	}
	for (const char *p = data, *end = data + len;
	     (p = memmem(p, end - p, banner, sizeof(banner) - 1)); p++) {
		const char *v = p + sizeof(banner) - 1;
		size_t n = 0;
		while (v + n < end && isgraph((unsigned char)v[n]) && n <= RELEASE_MAX_LEN)
			n++;
		if (n && n <= RELEASE_MAX_LEN && isdigit((unsigned char)v[0]))
			return strndup(v, n);
	}
	return NULL;
}

/* The release: given, else the modules directory's name (lib/modules/<release>),
 * else the kernel's own version string, else "unknown". */
static int pick_release(const struct kstore_import *imp, const struct bzimage_info *info,
			char **out, novm_error_t *err)
{
	cleanup_free char *release = NULL;

	if (imp->release) {
		release = strdup(imp->release);
	} else if (imp->modules_dir) {
		cleanup_free char *dir = strdup(imp->modules_dir);
		if (dir) {
			size_t n = strlen(dir);
			while (n > 1 && dir[n - 1] == '/')
				dir[--n] = '\0';
			const char *base = strrchr(dir, '/');
			release = strdup(base ? base + 1 : dir);
		}
	} else if (info && info->release[0]) {
		release = strdup(info->release);
	} else if (imp->vmlinux && (release = vmlinux_release(imp->vmlinux))) {
		/* found in the banner */
	} else {
		release = strdup("unknown");
	}
	if (!release)
		return novm_error(err, ENOMEM, "import");
	if (!valid_release(release))
		return novm_error(err, 0, "invalid kernel release `%s`", release);
	*out = steal_pointer(&release);
	return 0;
}

static int stage_bzimage(const char *dir, const char *bzimage, novm_error_t *err)
{
	cleanup_free char *image = NULL, *vmlinuz = NULL, *vmlinux_path = NULL;
	cleanup_free void *vmlinux = NULL;
	size_t len, vmlinux_len;

	if (asprintf(&vmlinuz, "%s/vmlinuz", dir) < 0 || asprintf(&vmlinux_path, "%s/vmlinux", dir) < 0)
		return novm_error(err, ENOMEM, "import");
	if (read_file(bzimage, &image, &len, err) < 0)
		return -1;
	if (bzimage_decompress(image, len, &vmlinux, &vmlinux_len, err) < 0)
		return novm_error_wrap(err, "`%s`", bzimage);
	if (write_file_atomic(vmlinuz, image, len, 0644, err) < 0 ||
	    write_file_atomic(vmlinux_path, vmlinux, vmlinux_len, 0644, err) < 0)
		return -1;
	if (elf_check_kernel(vmlinux_path, err) < 0)
		return novm_error_wrap(err, "vmlinux extracted from `%s`", bzimage);
	return 0;
}

static int stage(const char *dir, const struct kstore_import *imp, const char *release,
		 novm_error_t *err)
{
	cleanup_free char *vmlinux = NULL, *modules = NULL, *release_path = NULL, *line = NULL;

	if (asprintf(&vmlinux, "%s/vmlinux", dir) < 0 || asprintf(&modules, "%s/modules", dir) < 0 ||
	    asprintf(&release_path, "%s/release", dir) < 0 || asprintf(&line, "%s\n", release) < 0)
		return novm_error(err, ENOMEM, "import");
	if (imp->bzimage && stage_bzimage(dir, imp->bzimage, err) < 0)
		return -1;
	if (imp->vmlinux && copy_file(imp->vmlinux, vmlinux, 0644, err) < 0)
		return -1;
	if (imp->modules_dir && kmodules_install(imp->modules_dir, modules, err) < 0)
		return novm_error_wrap(err, "modules");
	if (write_file_atomic(release_path, line, strlen(line), 0644, err) < 0)
		return -1;
	if (chmod(dir, 0755) < 0)	/* mkdtemp made it private */
		return novm_error(err, errno, "chmod `%s`", dir);
	return 0;
}

static int check_sources(const struct kstore_import *imp, struct bzimage_info *info, novm_error_t *err)
{
	struct stat st;

	if (!imp->bzimage == !imp->vmlinux)
		return novm_error(err, 0, "import needs exactly one of a bzImage and a vmlinux");
	if (imp->bzimage && bzimage_read_info(imp->bzimage, info, err) < 0)
		return -1;
	if (imp->vmlinux && elf_check_kernel(imp->vmlinux, err) < 0)
		return -1;
	if (imp->modules_dir && (stat(imp->modules_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return novm_error(err, errno ? errno : ENOTDIR, "modules directory `%s`", imp->modules_dir);
	return 0;
}

int kstore_import(const char *root, const struct kstore_import *imp, char **name_out, novm_error_t *err)
{
	cleanup_free char *release = NULL, *dest = NULL, *tmp = NULL, *default_name = NULL;
	struct bzimage_info info;
	struct stat st;

	errno = 0;
	if (check_sources(imp, &info, err) < 0 ||
	    pick_release(imp, imp->bzimage ? &info : NULL, &release, err) < 0)
		return -1;
	const char *name = imp->name ? imp->name : release;
	if (!kstore_valid_name(name))
		return novm_error(err, 0,
				  "invalid kernel name `%s`: use at most 64 letters, digits, '.', '_', "
				  "'+' and '-'%s",
				  name, imp->name ? "" : " (pass --name)");
	if (asprintf(&dest, "%s/%s", root, name) < 0 ||
	    asprintf(&tmp, "%s/.import-%s.XXXXXX", root, name) < 0)
		return novm_error(err, ENOMEM, "import");
	if (lstat(dest, &st) == 0)
		return novm_error(err, 0,
				  "a kernel named `%s` is already in the store `%s`: remove it first "
				  "(`novm kernel rm %s`) or choose another --name",
				  name, root, name);
	if (mkdir_p(root, 0755, err) < 0)
		return -1;
	if (!mkdtemp(tmp))
		return novm_error(err, errno, "create `%s`", tmp);
	if (stage(tmp, imp, release, err) < 0) {
		remove_tree(tmp, NULL);
		return novm_error_wrap(err, "import `%s`", name);
	}
	/* NOREPLACE: a concurrent import of the same name must not be clobbered. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) < 0) {
		int e = errno;
		remove_tree(tmp, NULL);
		return novm_error(err, e, "move the new kernel to `%s`", dest);
	}
	if (kstore_default(root, &default_name, err) < 0)
		return -1;
	if ((imp->make_default || !default_name) && kstore_set_default(root, name, err) < 0)
		return -1;
	if (name_out && !(*name_out = strdup(name)))
		return novm_error(err, ENOMEM, "import");
	return 0;
}
