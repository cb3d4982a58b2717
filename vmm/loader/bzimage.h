/* The x86 bzImage (Documentation/arch/x86/boot.rst): a real-mode setup area
 * with the setup header, then the protected-mode part holding the
 * compressed vmlinux ELF (the "payload").  We never run the bzImage's own
 * decompressor: the payload is unpacked on the host and the ELF loaded
 * directly, so the guest starts at startup_64. */
#ifndef NOVM_LOADER_BZIMAGE_H
#define NOVM_LOADER_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h>

#include "decompress.h"
#include "error.h"

/* Payload fields (payload_offset/length) appeared in protocol 2.08. */
#define BZIMAGE_MIN_VERSION 0x0208

struct bzimage_info {
	struct setup_header hdr;	/* as far as the image defines it, zero-padded */
	uint16_t version;		/* boot protocol, e.g. 0x020f */
	uint64_t payload_offset;	/* file offset of the compressed vmlinux */
	uint64_t payload_length;
	enum compression compression;
	char release[65];		/* first word of kernel_version; "" if absent */
};

/* Validates the setup header of a bzImage whose first `len` bytes are `data`
 * (at least the whole setup area) and whose file is `file_size` bytes long,
 * and locates the payload.  The payload's compression is only detected:
 * an unsupported one is reported by bzimage_decompress. */
int bzimage_parse(const void *data, size_t len, uint64_t file_size, struct bzimage_info *info,
		  novm_error_t *err);

/* Reads and validates the setup header of the bzImage at `path` for the
 * boot parameters (bytes 0x1f1 up to 0x202 + the byte at 0x201; the rest
 * of *hdr is zero). */
int bzimage_read_setup_header(const char *path, struct setup_header *hdr, novm_error_t *err);

/* Parses the bzImage at `path` (reading only its setup area). */
int bzimage_read_info(const char *path, struct bzimage_info *info, novm_error_t *err);

/* Decompresses the payload of an in-memory bzImage into a heap buffer
 * holding the vmlinux ELF (checked to start with the ELF magic). */
int bzimage_decompress(const void *image, size_t len, void **vmlinux, size_t *vmlinux_len,
		       novm_error_t *err);

/* Extracts the vmlinux of the bzImage at `bzimage` to `out_vmlinux`,
 * atomically (a reader never sees a partial file). */
int bzimage_extract_vmlinux(const char *bzimage, const char *out_vmlinux, novm_error_t *err);

#endif
