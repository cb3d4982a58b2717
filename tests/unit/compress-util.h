/* Compressors for the loader's unit tests: build test inputs in the formats
 * the kernel build produces, with the real libraries. */
#ifndef NOVM_TEST_COMPRESS_UTIL_H
#define NOVM_TEST_COMPRESS_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "vmm/loader/decompress.h"

/* Compresses `in` as the kernel build does; returns a heap buffer (NULL on
 * failure) and its length in *out_len. */
static inline uint8_t *test_compress(enum compression c, const void *in, size_t len, size_t *out_len)
{
	size_t cap = len + len / 2 + 65536;
	uint8_t *out = malloc(cap);
	if (!out)
		return NULL;
	switch (c) {
	case COMPRESSION_GZIP: {
		z_stream zs = { 0 };
		if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			break;
		zs.next_in = (Bytef *)in;
		zs.avail_in = len;
		zs.next_out = out;
		zs.avail_out = cap;
		int r = deflate(&zs, Z_FINISH);
		*out_len = zs.total_out;
		deflateEnd(&zs);
		if (r == Z_STREAM_END)
			return out;
		break;
	}
	case COMPRESSION_XZ: {
		/* The kernel's: CRC32 check, x86 BCJ then LZMA2. */
		lzma_options_lzma opt;
		lzma_lzma_preset(&opt, 6);
		lzma_filter filters[] = {
			{ LZMA_FILTER_X86, NULL },
			{ LZMA_FILTER_LZMA2, &opt },
			{ LZMA_VLI_UNKNOWN, NULL },
		};
		size_t pos = 0;
		if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len, out, &pos, cap) ==
		    LZMA_OK) {
			*out_len = pos;
			return out;
		}
		break;
	}
	case COMPRESSION_ZSTD: {
		size_t n = ZSTD_compress(out, cap, in, len, 19);
		if (!ZSTD_isError(n)) {
			*out_len = n;
			return out;
		}
		break;
	}
	case COMPRESSION_LZ4_LEGACY: {
		/* `lz4 -l`: magic, then <le32 size><block> per 8 MiB of input. */
		const size_t block = 8u << 20;
		size_t pos = 0;
		uint32_t magic = 0x184C2102u;
		memcpy(out, &magic, 4);
		pos = 4;
		for (size_t off = 0; off < len; off += block) {
			size_t n = len - off < block ? len - off : block;
			int c_len = LZ4_compress_default((const char *)in + off, (char *)out + pos + 4, n,
							 cap - pos - 4);
			if (c_len <= 0)
				goto fail;
			uint32_t le = c_len;
			memcpy(out + pos, &le, 4);
			pos += 4 + c_len;
		}
		*out_len = pos;
		return out;
	}
	default:
		break;
	}
fail:
	free(out);
	return NULL;
}

#endif
