#include "bzimage.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define SECTOR 512
#define HDR_OFFSET 0x1f1		/* struct setup_header within the image */
#define HDR_JUMP_OFFSET 0x201		/* rel8 of the jump at 0x200: the header ends after it */
#define HDR_END_BASE 0x202
#define HDR_MAGIC_OFFSET 0x202
#define HDR_MAGIC 0x53726448u		/* "HdrS" */
#define BOOT_FLAG 0xAA55
/* setup_sects is a byte: the setup area is at most 256 sectors. */
#define SETUP_MAX_SIZE (256 * SECTOR)
/* kernel_version is relative to the end of the boot sector. */
#define KERNEL_VERSION_BASE 0x200

static uint16_t get_le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The release is the first word of the kernel_version string, e.g.
 * "6.1.0-56-amd64 (debian-kernel@...) #1 SMP ...". */
static void read_release(const uint8_t *data, size_t setup_end, const struct setup_header *hdr,
			 char *out, size_t out_size)
{
	out[0] = '\0';
	if (!hdr->kernel_version)
		return;
	size_t start = (size_t)hdr->kernel_version + KERNEL_VERSION_BASE;
	size_t i = 0;
	for (size_t p = start; p < setup_end && i + 1 < out_size; p++, i++) {
		if (!isgraph(data[p]))
			break;
		out[i] = data[p];
	}
	out[i] = '\0';
}

int bzimage_parse(const void *image, size_t len, uint64_t file_size, struct bzimage_info *info,
		  novm_error_t *err)
{
	const uint8_t *data = image;

	memset(info, 0, sizeof(*info));
	if (len > file_size)
		len = file_size;
	if (len < HDR_END_BASE + 4 + 2)
		return novm_error(err, 0, "not a bzImage: file is too small (%zu bytes)", len);
	if (get_le16(data + 0x1fe) != BOOT_FLAG)
		return novm_error(err, 0, "not a bzImage: no boot sector signature 0xAA55 at 0x1fe");
	if (get_le32(data + HDR_MAGIC_OFFSET) != HDR_MAGIC)
		return novm_error(err, 0, "not a bzImage: no \"HdrS\" setup header magic at 0x202");
	info->version = get_le16(data + 0x206);
	if (info->version < BZIMAGE_MIN_VERSION)
		return novm_error(err, 0,
				  "bzImage boot protocol %u.%02u is too old: need %u.%02u or later",
				  info->version >> 8, info->version & 0xff, BZIMAGE_MIN_VERSION >> 8,
				  BZIMAGE_MIN_VERSION & 0xff);

	size_t setup_sects = data[HDR_OFFSET] ? data[HDR_OFFSET] : 4;
	size_t setup_size = (setup_sects + 1) * SECTOR;
	if (setup_size > file_size)
		return novm_error(err, 0, "bzImage is truncated: setup area of %zu bytes, file of %llu",
				  setup_size, (unsigned long long)file_size);
	if (setup_size > len)
		return novm_error(err, 0, "bzImage setup area (%zu bytes) was not read", setup_size);

	/* Copy the header only as far as this image defines it. */
	size_t hdr_len = HDR_END_BASE + data[HDR_JUMP_OFFSET] - HDR_OFFSET;
	if (hdr_len > sizeof(info->hdr))
		hdr_len = sizeof(info->hdr);
	memcpy(&info->hdr, data + HDR_OFFSET, hdr_len);

	if (!info->hdr.payload_offset || !info->hdr.payload_length)
		return novm_error(err, 0, "bzImage has no payload (payload_offset %#x, length %u)",
				  info->hdr.payload_offset, info->hdr.payload_length);
	info->payload_offset = setup_size + (uint64_t)info->hdr.payload_offset;
	info->payload_length = info->hdr.payload_length;
	if (info->payload_offset + info->payload_length > file_size)
		return novm_error(err, 0,
				  "bzImage is truncated: payload at %#llx (%llu bytes) ends past the "
				  "end of the file (%llu bytes)",
				  (unsigned long long)info->payload_offset,
				  (unsigned long long)info->payload_length,
				  (unsigned long long)file_size);
	/* Detect only from the whole magic; bzimage_read_info reads it itself. */
	uint64_t magic_len = info->payload_length < 8 ? info->payload_length : 8;
	if (info->payload_offset + magic_len <= len)
		info->compression = compression_detect(data + info->payload_offset, magic_len);
	read_release(data, setup_size, &info->hdr, info->release, sizeof(info->release));
	return 0;
}

int bzimage_read_info(const char *path, struct bzimage_info *info, novm_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free uint8_t *head = NULL;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return novm_error(err, errno, "open `%s`", path);
	if (!S_ISREG(st.st_mode))
		return novm_error(err, 0, "`%s` is not a regular file", path);
	size_t want = st.st_size < SETUP_MAX_SIZE ? (size_t)st.st_size : SETUP_MAX_SIZE;
	head = malloc(want ? want : 1);
	if (!head)
		return novm_error(err, ENOMEM, "read `%s`", path);
	ssize_t n = pread(fd, head, want, 0);
	if (n < 0)
		return novm_error(err, errno, "read `%s`", path);
	if (bzimage_parse(head, n, st.st_size, info, err) < 0)
		return novm_error_wrap(err, "`%s`", path);

	/* The payload starts past the setup area that was read: read its magic. */
	uint8_t magic[8];
	ssize_t m = pread(fd, magic, sizeof(magic), info->payload_offset);
	if (m < 0)
		return novm_error(err, errno, "read `%s`", path);
	if ((uint64_t)m > info->payload_length)
		m = info->payload_length;
	info->compression = compression_detect(magic, m);
	return 0;
}

int bzimage_read_setup_header(const char *path, struct setup_header *hdr, novm_error_t *err)
{
	struct bzimage_info info;

	if (bzimage_read_info(path, &info, err) < 0)
		return -1;
	*hdr = info.hdr;
	return 0;
}

static int check_compression(enum compression c, novm_error_t *err)
{
	if (c == COMPRESSION_NONE)
		return novm_error(err, 0, "bzImage payload is in an unknown format (no gzip, xz, zstd "
					  "or lz4 magic)");
	if (!compression_supported(c))
		return novm_error(err, 0,
				  "bzImage payload is compressed with %s, which novm does not support: "
				  "build the kernel with gzip, xz, zstd or lz4 compression",
				  compression_name(c));
	return 0;
}

int bzimage_decompress(const void *image, size_t len, void **vmlinux, size_t *vmlinux_len,
		       novm_error_t *err)
{
	const uint8_t *data = image;
	struct bzimage_info info;
	cleanup_free void *out = NULL;
	size_t out_len;

	if (bzimage_parse(image, len, len, &info, err) < 0 || check_compression(info.compression, err) < 0)
		return -1;
	if (decompress(info.compression, data + info.payload_offset, info.payload_length,
		       DECOMPRESS_MAX_OUTPUT, &out, &out_len, err) < 0)
		return novm_error_wrap(err, "bzImage payload");
	/* The payload is the stripped vmlinux (relocations may follow it). */
	if (out_len < 4 || memcmp(out, "\x7f" "ELF", 4))
		return novm_error(err, 0, "bzImage payload does not decompress to an ELF vmlinux");
	*vmlinux = steal_pointer(&out);
	*vmlinux_len = out_len;
	return 0;
}

int bzimage_extract_vmlinux(const char *bzimage, const char *out_vmlinux, novm_error_t *err)
{
	cleanup_free char *image = NULL;
	cleanup_free void *vmlinux = NULL;
	size_t len, vmlinux_len;

	if (read_file(bzimage, &image, &len, err) < 0)
		return -1;
	if (bzimage_decompress(image, len, &vmlinux, &vmlinux_len, err) < 0)
		return novm_error_wrap(err, "`%s`", bzimage);
	return write_file_atomic(out_vmlinux, vmlinux, vmlinux_len, 0644, err);
}
