#include "elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

struct kernel_elf {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	size_t phnum;
	uint64_t file_size;
};

static void kernel_elf_close(struct kernel_elf *k)
{
	if (k->elf)
		elf_end(k->elf);
	if (k->fd >= 0)
		close(k->fd);
}

/* True when [off, off + len) lies inside a file of `size` bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int check_segments(struct kernel_elf *k, novm_error_t *err)
{
	bool entry_loaded = false;
	size_t loads = 0;

	for (size_t i = 0; i < k->phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(k->elf, i, &ph))
			return novm_error(err, 0, "cannot read program header %zu: %s", i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD)
			continue;
		loads++;
		if (ph.p_filesz > ph.p_memsz)
			return novm_error(err, 0, "segment %zu is larger in the file (%llu) than in memory (%llu)",
					  i, (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
		if (!in_file(ph.p_offset, ph.p_filesz, k->file_size))
			return novm_error(err, 0, "file is truncated: segment %zu ends at %llu, file has %llu bytes",
					  i, (unsigned long long)(ph.p_offset + ph.p_filesz),
					  (unsigned long long)k->file_size);
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return novm_error(err, 0, "segment %zu wraps around the address space", i);
		if (k->ehdr.e_entry >= ph.p_paddr && k->ehdr.e_entry - ph.p_paddr < ph.p_filesz)
			entry_loaded = true;
	}
	if (!loads)
		return novm_error(err, 0, "no loadable segments");
	if (!entry_loaded)
		return novm_error(err, 0, "entry point %#llx is not inside a loaded segment (not a vmlinux "
					  "linked at physical addresses?)",
				  (unsigned long long)k->ehdr.e_entry);
	return 0;
}

static int kernel_elf_open(const char *path, struct kernel_elf *k, novm_error_t *err)
{
	struct stat st;

	*k = (struct kernel_elf){ .fd = -1 };
	if (elf_version(EV_CURRENT) == EV_NONE)
		return novm_error(err, 0, "libelf: %s", elf_errmsg(-1));
	k->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (k->fd < 0 || fstat(k->fd, &st) < 0)
		return novm_error(err, errno, "open kernel `%s`", path);
	if (!S_ISREG(st.st_mode))
		return novm_error(err, 0, "kernel `%s` is not a regular file", path);
	k->file_size = st.st_size;
	k->elf = elf_begin(k->fd, ELF_C_READ, NULL);
	if (!k->elf || elf_kind(k->elf) != ELF_K_ELF)
		return novm_error(err, 0, "kernel `%s` is not an ELF file", path);
	if (gelf_getclass(k->elf) != ELFCLASS64 || !gelf_getehdr(k->elf, &k->ehdr))
		return novm_error(err, 0, "kernel `%s` is not a 64-bit ELF file", path);
	if (k->ehdr.e_machine != EM_X86_64)
		return novm_error(err, 0, "kernel `%s` is not for x86-64 (ELF machine %u)", path,
				  k->ehdr.e_machine);
	if (k->ehdr.e_type != ET_EXEC)
		return novm_error(err, 0, "kernel `%s` is not an executable ELF (type %u)", path,
				  k->ehdr.e_type);
	if (elf_getphdrnum(k->elf, &k->phnum) < 0)
		return novm_error(err, 0, "kernel `%s`: cannot read program headers: %s", path,
				  elf_errmsg(-1));
	if (!in_file(k->ehdr.e_phoff, (uint64_t)k->phnum * k->ehdr.e_phentsize, k->file_size) ||
	    (k->ehdr.e_shoff &&
	     !in_file(k->ehdr.e_shoff, (uint64_t)k->ehdr.e_shnum * k->ehdr.e_shentsize, k->file_size)))
		return novm_error(err, 0, "kernel `%s` is truncated: headers end past %llu bytes", path,
				  (unsigned long long)k->file_size);
	if (check_segments(k, err) < 0)
		return novm_error_wrap(err, "kernel `%s`", path);
	return 0;
}

int elf_check_kernel(const char *path, novm_error_t *err)
{
	struct kernel_elf k;
	int r = kernel_elf_open(path, &k, err);
	kernel_elf_close(&k);
	return r;
}

static int read_at(int fd, void *dst, uint64_t len, uint64_t off)
{
	uint8_t *p = dst;
	while (len) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* shrank under us */
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int load_segments(struct kernel_elf *k, const char *path, struct guest_memory *mem,
			 uint64_t *phys_end, novm_error_t *err)
{
	uint64_t end = 0;

	for (size_t i = 0; i < k->phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(k->elf, i, &ph))
			return novm_error(err, 0, "kernel `%s`: cannot read program header %zu", path, i);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		uint8_t *host = guest_ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!host)
			return novm_error(err, 0,
					  "kernel segment at %#llx (size %llu) does not fit in %llu MiB of "
					  "guest memory",
					  (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
					  (unsigned long long)(mem->ram_size >> 20));
		int r = read_at(k->fd, host, ph.p_filesz, ph.p_offset);
		if (r < 0)
			return novm_error(err, -r, "read kernel `%s`", path);
		memset(host + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
	}
	*phys_end = end;
	return 0;
}

int elf_load_kernel(const char *path, struct guest_memory *mem, uint64_t *entry, uint64_t *phys_end,
		    novm_error_t *err)
{
	struct kernel_elf k;
	int r = kernel_elf_open(path, &k, err);
	if (r == 0)
		r = load_segments(&k, path, mem, phys_end, err);
	if (r == 0)
		*entry = k.ehdr.e_entry;
	kernel_elf_close(&k);
	return r;
}
