/* The kernel loader: synthetic bzImages (a setup header and a compressed
 * tiny ELF) in every supported format, the errors for bad images, the
 * output bound, ELF loading into a plain buffer as guest memory, and, when
 * one is at hand, a real Debian kernel. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress-util.h"
#include "tap.h"
#include "util.h"
#include "vmm/loader/bzimage.h"
#include "vmm/loader/decompress.h"
#include "vmm/loader/elf.h"
#include "vmm/memory.h"

#define MiB (1ULL << 20)
#define SETUP_SECTS 3
#define PAYLOAD_OFFSET 0x180	/* within the protected-mode part */
#define KERNEL_VERSION_STRING "6.9.0-test (builder@example) #1 SMP"

static char tmpdir[] = "/tmp/test-bzimage.XXXXXX";

/* A minimal x86-64 vmlinux: two PT_LOAD segments, the first holding the
 * entry point, the second with bss (memsz > filesz). */
struct tiny_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t text[32];
	uint8_t data[16];
};

static void make_tiny_elf(struct tiny_elf *e, uint64_t text_paddr, uint64_t data_paddr)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = text_paddr;
	e->eh.e_phoff = offsetof(struct tiny_elf, ph);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 2;
	e->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = offsetof(struct tiny_elf, text),
				 .p_vaddr = 0xffffffff80000000ULL + text_paddr, .p_paddr = text_paddr,
				 .p_filesz = sizeof(e->text), .p_memsz = sizeof(e->text),
				 .p_flags = PF_R | PF_X, .p_align = 16 };
	e->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = offsetof(struct tiny_elf, data),
				 .p_vaddr = 0xffffffff80000000ULL + data_paddr, .p_paddr = data_paddr,
				 .p_filesz = sizeof(e->data), .p_memsz = 4096,
				 .p_flags = PF_R | PF_W, .p_align = 16 };
	for (size_t i = 0; i < sizeof(e->text); i++)
		e->text[i] = 0x90 + i;
	for (size_t i = 0; i < sizeof(e->data); i++)
		e->data[i] = 0x40 + i;
}

struct image {
	uint8_t *data;
	size_t len;
};

/* A bzImage around `payload`: boot sector, setup header (boot protocol
 * `version`), the kernel's appended 4-byte size, some bytes after. */
static struct image make_bzimage(const void *payload, size_t plen, uint16_t version)
{
	size_t setup = (SETUP_SECTS + 1) * 512;
	size_t pstart = setup + PAYLOAD_OFFSET;
	struct image img = { .len = pstart + plen + 4 + 64 };
	img.data = calloc(1, img.len);
	uint8_t *d = img.data;

	d[0x1f1] = SETUP_SECTS;
	d[0x1fe] = 0x55;
	d[0x1ff] = 0xaa;
	d[0x200] = 0xeb;		/* jmp rel8 */
	d[0x201] = 0x66;		/* header ends at 0x268 */
	memcpy(d + 0x202, "HdrS", 4);
	d[0x206] = version & 0xff;
	d[0x207] = version >> 8;
	d[0x20e] = 0x00;		/* kernel_version: string at 0x200 + 0x100 */
	d[0x20f] = 0x01;
	strcpy((char *)d + 0x300, KERNEL_VERSION_STRING);
	memset(d + 0x268, 0xff, 4);	/* past the header end: must not be copied */
	uint32_t off = PAYLOAD_OFFSET, len = plen + 4;
	memcpy(d + 0x248, &off, 4);
	memcpy(d + 0x24c, &len, 4);
	memcpy(d + pstart, payload, plen);
	uint32_t size = 0x12345;
	memcpy(d + pstart + plen, &size, 4);
	memset(d + pstart + plen + 4, 0xcc, 64);
	return img;
}

static char *write_temp(const char *name, const void *data, size_t len)
{
	char *path = NULL;
	novm_error_t err = NULL;
	if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
		abort();
	if (write_file_atomic(path, data, len, 0644, &err) < 0) {
		printf("# %s\n", err->msg);
		abort();
	}
	return path;
}

static const char *msg(novm_error_t err)
{
	return err ? err->msg : "(no error)";
}

static bool error_has(novm_error_t err, const char *text)
{
	return err && strstr(err->msg, text);
}

static void test_formats(const struct tiny_elf *elf)
{
	static const enum compression formats[] = {
		COMPRESSION_GZIP, COMPRESSION_XZ, COMPRESSION_ZSTD, COMPRESSION_LZ4_LEGACY,
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		enum compression c = formats[i];
		const char *name = compression_name(c);
		novm_error_t err = NULL;
		size_t clen;
		uint8_t *compressed = test_compress(c, elf, sizeof(*elf), &clen);
		struct image img = make_bzimage(compressed, clen, 0x020f);
		struct bzimage_info info;

		ok(bzimage_parse(img.data, img.len, img.len, &info, &err) == 0, "%s: parses: %s", name,
		   msg(err));
		ok(info.compression == c, "%s: compression detected by magic", name);
		ok(info.payload_offset == (SETUP_SECTS + 1) * 512 + PAYLOAD_OFFSET &&
		   info.payload_length == clen + 4, "%s: payload located", name);

		void *out = NULL;
		size_t out_len = 0;
		ok(bzimage_decompress(img.data, img.len, &out, &out_len, &err) == 0 &&
		   out_len == sizeof(*elf) && !memcmp(out, elf, sizeof(*elf)),
		   "%s: payload decompresses to the ELF (trailing size ignored): %s", name, msg(err));
		free(out);
		novm_error_release(&err);

		/* The stream cut short: the payload still lies inside the file. */
		struct image cut = make_bzimage(compressed, clen / 2, 0x020f);
		ok(bzimage_decompress(cut.data, cut.len, &out, &out_len, &err) < 0 &&
		   (error_has(err, "truncated") || error_has(err, "corrupt")),
		   "%s: a truncated stream is an error: %s", name, msg(err));
		novm_error_release(&err);
		free(cut.data);

		/* The bound: a stream decompressing to more than max_out. */
		size_t zeros_len = 3 * MiB;
		uint8_t *zeros = calloc(1, zeros_len);
		size_t zlen;
		uint8_t *z = test_compress(c, zeros, zeros_len, &zlen);
		ok(decompress(c, z, zlen, MiB, &out, &out_len, &err) < 0 && error_has(err, "more than 1 MiB"),
		   "%s: output bounded: %s", name, msg(err));
		novm_error_release(&err);
		ok(decompress(c, z, zlen, 4 * MiB, &out, &out_len, &err) == 0 && out_len == zeros_len,
		   "%s: multi-MiB stream decodes within a larger bound", name);
		free(out);
		free(z);
		free(zeros);
		free(img.data);
		free(compressed);
	}
}

static void test_extract_file(const struct tiny_elf *elf)
{
	novm_error_t err = NULL;
	size_t clen;
	uint8_t *compressed = test_compress(COMPRESSION_XZ, elf, sizeof(*elf), &clen);
	struct image img = make_bzimage(compressed, clen, 0x020f);
	char *path = write_temp("bzImage", img.data, img.len);
	char *out_path = NULL;
	char *data = NULL;
	size_t len = 0;

	if (asprintf(&out_path, "%s/vmlinux", tmpdir) < 0)
		abort();
	ok(bzimage_extract_vmlinux(path, out_path, &err) == 0, "extract to a file: %s", msg(err));
	ok(read_file(out_path, &data, &len, &err) == 0 && len == sizeof(*elf) && !memcmp(data, elf, len),
	   "the extracted file is the ELF");
	free(data);

	struct setup_header hdr;
	ok(bzimage_read_setup_header(path, &hdr, &err) == 0, "setup header read: %s", msg(err));
	ok(hdr.boot_flag == 0xAA55 && hdr.header == 0x53726448 && hdr.version == 0x020f &&
	   hdr.setup_sects == SETUP_SECTS, "setup header fields copied");
	ok(hdr.kernel_info_offset == 0, "bytes past the header end (0x202 + jump) are zero");

	struct bzimage_info info;
	ok(bzimage_read_info(path, &info, &err) == 0 && info.compression == COMPRESSION_XZ &&
	   !strcmp(info.release, "6.9.0-test"),
	   "read_info detects the payload format and the release (`%s`)", info.release);

	/* The file cut in the middle of the payload. */
	char *short_path = write_temp("short", img.data, img.len - clen);
	ok(bzimage_read_setup_header(short_path, &hdr, &err) < 0 && error_has(err, "truncated"),
	   "a file ending inside the payload: %s", msg(err));
	novm_error_release(&err);
	ok(bzimage_extract_vmlinux(short_path, out_path, &err) < 0 && error_has(err, "truncated"),
	   "extraction refuses it too: %s", msg(err));
	novm_error_release(&err);

	free(short_path);
	free(out_path);
	free(path);
	free(img.data);
	free(compressed);
}

static void test_bad_images(const struct tiny_elf *elf)
{
	novm_error_t err = NULL;
	struct bzimage_info info;
	size_t clen;
	uint8_t *gz = test_compress(COMPRESSION_GZIP, elf, sizeof(*elf), &clen);
	void *out;
	size_t out_len;

	struct image img = make_bzimage(gz, clen, 0x020f);
	img.data[0x1fe] = 0;
	ok(bzimage_parse(img.data, img.len, img.len, &info, &err) < 0 && error_has(err, "0xAA55"),
	   "bad boot flag: %s", msg(err));
	novm_error_release(&err);
	free(img.data);

	img = make_bzimage(gz, clen, 0x020f);
	memcpy(img.data + 0x202, "HdrX", 4);
	ok(bzimage_parse(img.data, img.len, img.len, &info, &err) < 0 && error_has(err, "HdrS"),
	   "bad header magic: %s", msg(err));
	novm_error_release(&err);
	free(img.data);

	img = make_bzimage(gz, clen, 0x0206);
	ok(bzimage_parse(img.data, img.len, img.len, &info, &err) < 0 && error_has(err, "too old"),
	   "protocol 2.06 (no payload fields): %s", msg(err));
	novm_error_release(&err);
	free(img.data);

	img = make_bzimage(gz, clen, 0x020f);
	uint32_t huge = 0x7fffffff;
	memcpy(img.data + 0x24c, &huge, 4);
	ok(bzimage_parse(img.data, img.len, img.len, &info, &err) < 0 && error_has(err, "truncated"),
	   "payload_length past the end of the file: %s", msg(err));
	novm_error_release(&err);
	free(img.data);

	ok(bzimage_parse(gz, clen, clen, &info, &err) < 0 && error_has(err, "not a bzImage"),
	   "a bare gzip file is not a bzImage: %s", msg(err));
	novm_error_release(&err);

	static const struct {
		const char *name;
		const char *magic;
		size_t len;
	} unsupported[] = {
		{ "bzip2", "BZh91AY&SY", 10 },
		{ "lzma", "\x5d\x00\x00\x80\x00\xff\xff\xff", 8 },
		{ "lzo", "\x89LZO\x00\x0d\x0a\x1a\x0a", 9 },
	};
	for (size_t i = 0; i < 3; i++) {
		uint8_t payload[64] = { 0 };
		memcpy(payload, unsupported[i].magic, unsupported[i].len);
		img = make_bzimage(payload, sizeof(payload), 0x020f);
		ok(bzimage_decompress(img.data, img.len, &out, &out_len, &err) < 0 &&
		   error_has(err, unsupported[i].name) && error_has(err, "not support"),
		   "%s payload named as unsupported: %s", unsupported[i].name, msg(err));
		novm_error_release(&err);
		free(img.data);
	}

	uint8_t junk[64];
	memset(junk, 0x33, sizeof(junk));
	img = make_bzimage(junk, sizeof(junk), 0x020f);
	ok(bzimage_decompress(img.data, img.len, &out, &out_len, &err) < 0 &&
	   error_has(err, "unknown format"), "payload without a known magic: %s", msg(err));
	novm_error_release(&err);
	free(img.data);

	static const char text[] = "not an ELF file, just text";
	size_t tlen;
	uint8_t *t = test_compress(COMPRESSION_ZSTD, text, sizeof(text), &tlen);
	img = make_bzimage(t, tlen, 0x020f);
	ok(bzimage_decompress(img.data, img.len, &out, &out_len, &err) < 0 && error_has(err, "ELF"),
	   "payload that is not an ELF: %s", msg(err));
	novm_error_release(&err);
	free(img.data);
	free(t);

	/* Corrupt data behind a valid magic. */
	uint8_t *bad = malloc(clen);
	memcpy(bad, gz, clen);
	memset(bad + 10, 0xff, clen - 10);
	img = make_bzimage(bad, clen, 0x020f);
	ok(bzimage_decompress(img.data, img.len, &out, &out_len, &err) < 0 && error_has(err, "gzip"),
	   "corrupt gzip stream: %s", msg(err));
	novm_error_release(&err);
	free(img.data);
	free(bad);
	free(gz);
}

static void test_elf_load(void)
{
	struct guest_memory mem = { 0 };
	novm_error_t err = NULL;
	uint8_t *ram = malloc(4 * MiB);
	struct tiny_elf elf;
	uint64_t entry = 0, end = 0;

	memset(ram, 0xaa, 4 * MiB);
	guest_memory_add(&mem, 0, 4 * MiB, ram);
	make_tiny_elf(&elf, 0x100000, 0x200000);
	char *path = write_temp("tiny.elf", &elf, sizeof(elf));
	ok(elf_check_kernel(path, &err) == 0, "tiny ELF passes the kernel check: %s", msg(err));
	ok(elf_load_kernel(path, &mem, &entry, &end, &err) == 0, "tiny ELF loads: %s", msg(err));
	ok(entry == 0x100000, "entry is e_entry (0x%llx)", (unsigned long long)entry);
	ok(end == 0x200000 + 4096, "phys_end after the highest segment (0x%llx)", (unsigned long long)end);
	ok(!memcmp(ram + 0x100000, elf.text, sizeof(elf.text)) &&
	   !memcmp(ram + 0x200000, elf.data, sizeof(elf.data)), "segments copied to p_paddr");
	bool zeroed = true;
	for (size_t i = sizeof(elf.data); i < 4096; i++)
		zeroed &= ram[0x200000 + i] == 0;
	ok(zeroed && ram[0x200000 + 4096] == 0xaa, "bss zeroed up to p_memsz and not beyond");

	make_tiny_elf(&elf, 0x100000, 0x10000000);
	char *far = write_temp("far.elf", &elf, sizeof(elf));
	ok(elf_load_kernel(far, &mem, &entry, &end, &err) < 0 &&
	   error_has(err, "kernel segment at 0x10000000 (size 4096) does not fit in 4 MiB"),
	   "segment outside guest RAM: %s", msg(err));
	novm_error_release(&err);

	make_tiny_elf(&elf, 0x100000, 0x3ff800);
	char *straddle = write_temp("straddle.elf", &elf, sizeof(elf));
	ok(elf_load_kernel(straddle, &mem, &entry, &end, &err) < 0 && error_has(err, "does not fit"),
	   "segment crossing the end of RAM: %s", msg(err));
	novm_error_release(&err);

	make_tiny_elf(&elf, 0x100000, 0x200000);
	char *cut = write_temp("cut.elf", &elf, sizeof(elf) - 8);
	ok(elf_load_kernel(cut, &mem, &entry, &end, &err) < 0 && error_has(err, "truncated"),
	   "truncated ELF: %s", msg(err));
	novm_error_release(&err);

	elf.eh.e_machine = EM_386;
	char *i386 = write_temp("i386.elf", &elf, sizeof(elf));
	ok(elf_check_kernel(i386, &err) < 0 && error_has(err, "x86-64"), "wrong machine: %s", msg(err));
	novm_error_release(&err);

	make_tiny_elf(&elf, 0x100000, 0x200000);
	elf.eh.e_entry = 0xffffffff81000000ULL;
	char *virt = write_temp("virt.elf", &elf, sizeof(elf));
	ok(elf_check_kernel(virt, &err) < 0 && error_has(err, "entry point"),
	   "entry outside the loaded segments: %s", msg(err));
	novm_error_release(&err);

	free(virt);
	free(i386);
	free(cut);
	free(straddle);
	free(far);
	free(path);
	free(ram);
}

/* A Debian kernel: $NOVM_TEST_BZIMAGE, or the harness's cached one. */
static void test_real_kernel(void)
{
	const char *path = getenv("NOVM_TEST_BZIMAGE");
	glob_t g = { 0 };

	if (!path && glob("/var/cache/nested-run/x/boot/vmlinuz-*", 0, NULL, &g) == 0 && g.gl_pathc)
		path = g.gl_pathv[0];
	if (!path || access(path, R_OK) < 0) {
		ok(1, "# SKIP no real kernel (set NOVM_TEST_BZIMAGE)");
		globfree(&g);
		return;
	}
	novm_error_t err = NULL;
	char *out = NULL;
	if (asprintf(&out, "%s/real-vmlinux", tmpdir) < 0)
		abort();
	ok(bzimage_extract_vmlinux(path, out, &err) == 0, "real kernel `%s` extracted: %s", path, msg(err));
	ok(elf_check_kernel(out, &err) == 0, "it is an x86-64 ELF kernel: %s", msg(err));

	bool found = false;
	int fd = open(out, O_RDONLY);
	elf_version(EV_CURRENT);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	size_t n = 0;
	if (e && elf_getphdrnum(e, &n) == 0)
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD && ph.p_paddr == 0x1000000)
				found = true;
		}
	ok(found, "it has a PT_LOAD at physical 0x1000000");
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	unlink(out);
	free(out);
	globfree(&g);
}

int main(void)
{
	struct tiny_elf elf;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	make_tiny_elf(&elf, 0x100000, 0x200000);
	test_formats(&elf);
	test_extract_file(&elf);
	test_bad_images(&elf);
	test_elf_load();
	test_real_kernel();
	remove_tree(tmpdir, NULL);
	return tap_done();
}
