/* Decompression of kernel payloads and kernel modules.  Inputs come from
 * files we did not build (a downloaded bzImage, a distribution's modules):
 * every format is decoded with a bound on the output so a hostile stream
 * cannot exhaust memory. */
#ifndef NOVM_LOADER_DECOMPRESS_H
#define NOVM_LOADER_DECOMPRESS_H

#include <stddef.h>

#include "error.h"

/* Linux's decompressed vmlinux is ~60 MiB; allmodconfig stays below this. */
#define DECOMPRESS_MAX_OUTPUT (512UL << 20)

enum compression {
	COMPRESSION_NONE,	/* no known magic */
	COMPRESSION_GZIP,
	COMPRESSION_XZ,
	COMPRESSION_ZSTD,
	COMPRESSION_LZ4_LEGACY,	/* `lz4 -l`, what the kernel build uses */
	/* Recognised so the error can name them, not decoded. */
	COMPRESSION_BZIP2,
	COMPRESSION_LZMA,
	COMPRESSION_LZO,
};

/* The format of `data` from its magic bytes. */
enum compression compression_detect(const void *data, size_t len);

/* "gzip", "xz", ... for messages. */
const char *compression_name(enum compression c);

/* True when decompress() can decode the format. */
int compression_supported(enum compression c);

/* Decodes the first stream of `in` into a heap buffer (*out, caller frees).
 * Bytes after the end of the stream are ignored (the kernel build appends
 * the decompressed size).  Fails when the output would exceed max_out, the
 * stream is corrupt or truncated, or the format is unsupported. */
int decompress(enum compression c, const void *in, size_t in_len, size_t max_out, void **out,
	       size_t *out_len, novm_error_t *err);

#endif
