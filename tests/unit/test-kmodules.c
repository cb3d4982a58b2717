/* Guest module selection: a fake lib/modules/<release> tree of tiny ELF
 * objects with .modinfo sections (some compressed, one built in), checked
 * for the modules copied, their order and the errors. */
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

#include "compress-util.h"
#include "tap.h"
#include "util.h"
#include "vmm/kstore/kmodules.h"

static char tmpdir[] = "/tmp/test-kmodules.XXXXXX";

static const char *msg(novm_error_t err)
{
	return err ? err->msg : "(no error)";
}

/* A relocatable x86-64 ELF whose only content is a .modinfo section of
 * NUL-separated key=value strings (written by libelf into memory). */
static uint8_t *make_module(const char *name, const char *depends, size_t *len)
{
	char modinfo[256];
	size_t mlen = 0;
	char shstrtab[] = "\0.modinfo\0.shstrtab";
	char path[] = "/tmp/test-kmodules-ko.XXXXXX";
	int fd = mkstemp(path);
	uint8_t *out = NULL;

	mlen += sprintf(modinfo + mlen, "license=GPL") + 1;
	if (depends)
		mlen += sprintf(modinfo + mlen, "depends=%s", depends) + 1;
	if (name)
		mlen += sprintf(modinfo + mlen, "name=%s", name) + 1;
	mlen += sprintf(modinfo + mlen, "vermagic=6.9.0 SMP mod_unload") + 1;

	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	GElf_Ehdr eh;
	gelf_newehdr(e, ELFCLASS64);
	gelf_getehdr(e, &eh);
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;

	Elf_Scn *info_scn = elf_newscn(e);
	Elf_Data *d = elf_newdata(info_scn);
	d->d_buf = modinfo;
	d->d_size = mlen;
	d->d_align = 1;
	d->d_type = ELF_T_BYTE;
	GElf_Shdr sh;
	gelf_getshdr(info_scn, &sh);
	sh.sh_name = 1;
	sh.sh_type = SHT_PROGBITS;
	sh.sh_flags = SHF_ALLOC;
	gelf_update_shdr(info_scn, &sh);

	Elf_Scn *str_scn = elf_newscn(e);
	d = elf_newdata(str_scn);
	d->d_buf = shstrtab;
	d->d_size = sizeof(shstrtab);
	d->d_align = 1;
	d->d_type = ELF_T_BYTE;
	gelf_getshdr(str_scn, &sh);
	sh.sh_name = 10;
	sh.sh_type = SHT_STRTAB;
	gelf_update_shdr(str_scn, &sh);
	eh.e_shstrndx = elf_ndxscn(str_scn);
	gelf_update_ehdr(e, &eh);

	if (elf_update(e, ELF_C_WRITE) < 0) {
		printf("# libelf: %s\n", elf_errmsg(-1));
		abort();
	}
	elf_end(e);
	close(fd);
	novm_error_t err = NULL;
	if (read_file(path, (char **)&out, len, &err) < 0)
		abort();
	unlink(path);
	return out;
}

static void put(const char *root, const char *rel, const void *data, size_t len)
{
	char *path = NULL, *dir;
	novm_error_t err = NULL;
	if (asprintf(&path, "%s/%s", root, rel) < 0)
		abort();
	dir = strdup(path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, &err) < 0 || write_file_atomic(path, data, len, 0644, &err) < 0) {
		printf("# %s\n", err->msg);
		abort();
	}
	free(dir);
	free(path);
}

/* Writes module `file` (under kernel/) declaring `name` and `depends`,
 * compressed by the format its suffix names. */
static void put_module(const char *root, const char *file, const char *name, const char *depends)
{
	size_t len, clen;
	uint8_t *ko = make_module(name, depends, &len);
	char *rel = NULL;
	enum compression c = strstr(file, ".ko.xz")    ? COMPRESSION_XZ :
			     strstr(file, ".ko.zst") ? COMPRESSION_ZSTD :
			     strstr(file, ".ko.gz")  ? COMPRESSION_GZIP :
						       COMPRESSION_NONE;
	if (asprintf(&rel, "kernel/%s", file) < 0)
		abort();
	if (c == COMPRESSION_NONE) {
		put(root, rel, ko, len);
	} else {
		uint8_t *z = test_compress(c, ko, len, &clen);
		put(root, rel, z, clen);
		free(z);
	}
	free(rel);
	free(ko);
}

static char *read_text(const char *dir, const char *file)
{
	char *path = NULL, *text = NULL;
	novm_error_t err = NULL;
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		abort();
	if (read_file(path, &text, NULL, &err) < 0) {
		novm_error_release(&err);
		text = NULL;
	}
	free(path);
	return text;
}

static bool is_plain_module(const char *dir, const char *file)
{
	char *path = NULL, *data = NULL;
	size_t len = 0;
	novm_error_t err = NULL;
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		abort();
	bool plain = read_file(path, &data, &len, &err) == 0 && len > 4 &&
		     !memcmp(data, "\x7f" "ELF", 4) && memmem(data, len, "name=", 5);
	novm_error_release(&err);
	free(data);
	free(path);
	return plain;
}

static void test_guest_set(void)
{
	char *root = NULL, *dest = NULL;
	novm_error_t err = NULL;

	if (asprintf(&root, "%s/lib/modules/6.9.0", tmpdir) < 0 || asprintf(&dest, "%s/out", tmpdir) < 0)
		abort();
	put_module(root, "drivers/virtio/virtio.ko.xz", "virtio", "virtio_ring");
	put_module(root, "drivers/virtio/virtio_ring.ko", "virtio_ring", "");
	put_module(root, "drivers/virtio/virtio_pci.ko", "virtio_pci",
		   "virtio_ring,virtio_pci_modern_dev,virtio_pci_legacy_dev,virtio");
	put_module(root, "drivers/virtio/virtio_pci_modern_dev.ko.zst", "virtio_pci_modern_dev", "");
	put_module(root, "drivers/virtio/virtio_pci_legacy_dev.ko", "virtio_pci_legacy_dev", NULL);
	put_module(root, "drivers/char/hw_random/virtio-rng.ko", "virtio_rng", "virtio,virtio_ring");
	put_module(root, "fs/fuse/virtiofs.ko", "virtiofs", "fuse,virtio,virtio_ring");
	put_module(root, "drivers/misc/pvpanic/pvpanic-pci.ko", "pvpanic_pci", "pvpanic");
	put_module(root, "drivers/misc/pvpanic/pvpanic.ko", "pvpanic", "");
	put_module(root, "fs/overlayfs/overlay.ko.gz", "overlay", "");
	put_module(root, "drivers/unrelated/unrelated.ko", "unrelated", "virtio");
	put(root, "modules.builtin", "kernel/fs/fuse/fuse.ko\nkernel/fs/ext4/ext4.ko\n", 44);

	ok(kmodules_install(root, dest, &err) == 0 && !err, "guest set installed: %s", msg(err));
	novm_error_release(&err);
	char *order = read_text(dest, "order");
	static const char expected[] =
		"virtio_ring.ko\nvirtio.ko\nvirtio_pci_modern_dev.ko\nvirtio_pci_legacy_dev.ko\n"
		"virtio_pci.ko\nvirtio-rng.ko\nvirtiofs.ko\npvpanic.ko\npvpanic-pci.ko\noverlay.ko\n";
	ok(order && !strcmp(order, expected), "order lists each module after its dependencies");
	if (order && strcmp(order, expected))
		for (char *save = NULL, *l = strtok_r(order, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			printf("#   got %s\n", l);
	free(order);
	ok(is_plain_module(dest, "virtio.ko"), "xz module written decompressed");
	ok(is_plain_module(dest, "virtio_pci_modern_dev.ko"), "zstd module written decompressed");
	ok(is_plain_module(dest, "overlay.ko"), "gzip module written decompressed");
	ok(is_plain_module(dest, "virtio-rng.ko"), "'-' in a file name matches '_' in the wanted name");
	char *unrelated = read_text(dest, "unrelated.ko"), *fuse = read_text(dest, "fuse.ko");
	ok(!unrelated && !fuse, "neither unwanted nor built-in modules copied");
	free(unrelated);
	free(fuse);

	/* With nothing to copy the order file still exists, empty. */
	char *empty_dest = NULL;
	const char *none[] = { "fuse", "vsock" };
	if (asprintf(&empty_dest, "%s/empty", tmpdir) < 0)
		abort();
	ok(kmodules_install_set(root, none, 2, empty_dest, &err) == 0, "built-in and absent modules skipped");
	order = read_text(empty_dest, "order");
	ok(order && !*order, "empty order file");
	free(order);
	free(empty_dest);
	free(root);
	free(dest);
}

static void test_errors(void)
{
	char *root = NULL, *dest = NULL;
	novm_error_t err = NULL;
	const char *want_a[] = { "a" }, *want_c[] = { "c" }, *want_d[] = { "d" }, *want_e[] = { "e" },
		   *want_f[] = { "f" };

	if (asprintf(&root, "%s/bad", tmpdir) < 0 || asprintf(&dest, "%s/bad-out", tmpdir) < 0)
		abort();
	put_module(root, "x/a.ko", "a", "b");
	put_module(root, "x/b.ko", "b", "a");
	put_module(root, "x/c.ko", "c", "missing_dep");
	put_module(root, "x/d.ko", "impostor", "");
	put(root, "kernel/x/e.ko.xz", "\xfd" "7zXZ\0garbage", 12);
	put(root, "kernel/x/f.ko", "not an ELF object", 17);

	ok(kmodules_install_set(root, want_a, 1, dest, &err) < 0 && strstr(msg(err), "cycle"),
	   "dependency cycle: %s", msg(err));
	novm_error_release(&err);
	ok(kmodules_install_set(root, want_c, 1, dest, &err) < 0 &&
	   strstr(msg(err), "`c` needs `missing_dep`"), "missing dependency: %s", msg(err));
	novm_error_release(&err);
	ok(kmodules_install_set(root, want_d, 1, dest, &err) < 0 && strstr(msg(err), "impostor"),
	   "module whose name= disagrees with its file: %s", msg(err));
	novm_error_release(&err);
	ok(kmodules_install_set(root, want_e, 1, dest, &err) < 0 && strstr(msg(err), "xz"),
	   "corrupt compressed module: %s", msg(err));
	novm_error_release(&err);
	ok(kmodules_install_set(root, want_f, 1, dest, &err) < 0 && strstr(msg(err), "not an ELF"),
	   "module that is not an ELF object: %s", msg(err));
	novm_error_release(&err);
	ok(kmodules_install(tmpdir, dest, &err) < 0 && strstr(msg(err), "kernel/"),
	   "a directory without kernel/: %s", msg(err));
	novm_error_release(&err);
	free(root);
	free(dest);
}

/* The harness's Debian kernel, when present: the real guest set resolves. */
static void test_real_tree(void)
{
	const char *root = "/var/cache/nested-run/x/lib/modules/6.1.0-56-amd64";
	char *dest = NULL;
	novm_error_t err = NULL;

	if (access(root, R_OK) < 0) {
		ok(1, "# SKIP no Debian modules tree at %s", root);
		return;
	}
	if (asprintf(&dest, "%s/real", tmpdir) < 0)
		abort();
	ok(kmodules_install(root, dest, &err) == 0 && !err, "Debian's modules resolve: %s", msg(err));
	char *order = read_text(dest, "order");
	char *ring = order ? strstr(order, "virtio_ring.ko\n") : NULL;
	char *pci = order ? strstr(order, "virtio_pci.ko\n") : NULL;
	char *fs = order ? strstr(order, "virtiofs.ko\n") : NULL;
	char *fuse = order ? strstr(order, "fuse.ko\n") : NULL;
	ok(ring && pci && fs && fuse && ring < pci && fuse < fs, "virtio_ring before virtio_pci, fuse before virtiofs");
	free(order);
	free(dest);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_guest_set();
	test_errors();
	test_real_tree();
	remove_tree(tmpdir, NULL);
	return tap_done();
}
