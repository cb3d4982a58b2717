#include "decompress.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "cleanup.h"

/* The legacy lz4 format cuts the input into 8 MiB blocks compressed alone. */
#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

/* liblzma's own memory for the dictionary; the kernel uses at most 64 MiB. */
#define XZ_MEMLIMIT (256u << 20)

/* Larger inputs than anything we load; keeps zlib's 32-bit counters safe. */
#define DECOMPRESS_MAX_INPUT (1UL << 30)

struct magic {
	enum compression type;
	const char *name;
	const uint8_t bytes[6];
	size_t len;
};

static const struct magic magics[] = {
	{ COMPRESSION_GZIP, "gzip", { 0x1f, 0x8b }, 2 },
	{ COMPRESSION_XZ, "xz", { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 }, 6 },
	{ COMPRESSION_ZSTD, "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
	{ COMPRESSION_LZ4_LEGACY, "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4 },
	{ COMPRESSION_BZIP2, "bzip2", { 'B', 'Z', 'h' }, 3 },
	{ COMPRESSION_LZMA, "lzma", { 0x5d, 0x00, 0x00 }, 3 },
	{ COMPRESSION_LZO, "lzo", { 0x89, 'L', 'Z', 'O' }, 4 },
};

enum compression compression_detect(const void *data, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
		if (len >= magics[i].len && !memcmp(data, magics[i].bytes, magics[i].len))
			return magics[i].type;
	return COMPRESSION_NONE;
}

const char *compression_name(enum compression c)
{
	for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
		if (magics[i].type == c)
			return magics[i].name;
	return "unknown";
}

int compression_supported(enum compression c)
{
	return c == COMPRESSION_GZIP || c == COMPRESSION_XZ || c == COMPRESSION_ZSTD ||
	       c == COMPRESSION_LZ4_LEGACY;
}

/* Output that grows by doubling up to a hard limit. */
struct outbuf {
	uint8_t *data;
	size_t len, cap, max;
};

/* Makes room for `want` more bytes, or as many as the limit leaves; fails
 * only when not even one more byte may be written. */
static int outbuf_grow(struct outbuf *b, size_t want, const char *what, novm_error_t *err)
{
	if (b->cap - b->len >= want)
		return 0;
	if (b->cap >= b->max && b->cap > b->len)
		return 0;
	if (b->cap >= b->max)
		return novm_error(err, 0, "%s data decompresses to more than %zu MiB", what,
				  b->max >> 20);
	size_t ncap = b->cap ? b->cap : 1 << 20;
	while (ncap - b->len < want && ncap < b->max)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	uint8_t *n = realloc(b->data, ncap);
	if (!n)
		return novm_error(err, ENOMEM, "decompress %s", what);
	b->data = n;
	b->cap = ncap;
	return 0;
}

static int truncated(const char *what, novm_error_t *err)
{
	return novm_error(err, 0, "%s data is truncated (ends before the end of the stream)", what);
}

static int inflate_gzip(const uint8_t *in, size_t in_len, struct outbuf *out, novm_error_t *err)
{
	z_stream zs = { 0 };
	int ret = -1;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return novm_error(err, ENOMEM, "gzip: cannot initialise zlib");
	zs.next_in = (Bytef *)in;
	zs.avail_in = in_len;
	for (;;) {
		if (outbuf_grow(out, 1, "gzip", err) < 0)
			break;
		size_t room = out->cap - out->len;
		zs.next_out = out->data + out->len;
		zs.avail_out = room > UINT_MAX ? UINT_MAX : room;
		int r = inflate(&zs, Z_NO_FLUSH);
		out->len = zs.next_out - out->data;
		if (r == Z_STREAM_END) {
			ret = 0;
			break;
		}
		if (r == Z_BUF_ERROR && zs.avail_in == 0) {
			truncated("gzip", err);
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			novm_error(err, 0, "gzip data is corrupt: %s", zs.msg ? zs.msg : "inflate failed");
			break;
		}
		if (zs.avail_in == 0 && zs.avail_out > 0) {
			truncated("gzip", err);
			break;
		}
	}
	inflateEnd(&zs);
	return ret;
}

static const char *lzma_strerror(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs too much memory to decode";
	case LZMA_FORMAT_ERROR: return "not an xz stream";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "data is corrupt";
	case LZMA_BUF_ERROR: return "data is truncated";
	default: return "decoder failed";
	}
}

static int unxz(const uint8_t *in, size_t in_len, struct outbuf *out, novm_error_t *err)
{
	lzma_stream s = LZMA_STREAM_INIT;
	int ret = -1;

	/* Without LZMA_CONCATENATED the decoder stops at the end of the first
	 * stream, leaving the kernel's appended size unread. */
	lzma_ret r = lzma_stream_decoder(&s, XZ_MEMLIMIT, 0);
	if (r != LZMA_OK)
		return novm_error(err, 0, "xz: cannot initialise liblzma: %s", lzma_strerror(r));
	s.next_in = in;
	s.avail_in = in_len;
	for (;;) {
		if (outbuf_grow(out, 1, "xz", err) < 0)
			break;
		s.next_out = out->data + out->len;
		s.avail_out = out->cap - out->len;
		r = lzma_code(&s, LZMA_FINISH);
		out->len = s.next_out - out->data;
		if (r == LZMA_STREAM_END) {
			ret = 0;
			break;
		}
		if (r == LZMA_BUF_ERROR) {
			truncated("xz", err);
			break;
		}
		if (r != LZMA_OK) {
			novm_error(err, 0, "xz %s", lzma_strerror(r));
			break;
		}
	}
	lzma_end(&s);
	return ret;
}

static int unzstd(const uint8_t *in, size_t in_len, struct outbuf *out, novm_error_t *err)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer src = { in, in_len, 0 };
	int ret = -1;

	if (!dctx)
		return novm_error(err, ENOMEM, "zstd: cannot create a decoder");
	for (;;) {
		if (outbuf_grow(out, 1, "zstd", err) < 0)
			break;
		ZSTD_outBuffer dst = { out->data + out->len, out->cap - out->len, 0 };
		size_t r = ZSTD_decompressStream(dctx, &dst, &src);
		out->len += dst.pos;
		if (ZSTD_isError(r)) {
			novm_error(err, 0, "zstd data is corrupt: %s", ZSTD_getErrorName(r));
			break;
		}
		if (r == 0) {	/* end of the frame: ignore what follows */
			ret = 0;
			break;
		}
		if (src.pos == src.size && dst.pos < dst.size) {
			truncated("zstd", err);
			break;
		}
	}
	ZSTD_freeDCtx(dctx);
	return ret;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int unlz4_legacy(const uint8_t *in, size_t in_len, struct outbuf *out, novm_error_t *err)
{
	const size_t max_block = LZ4_compressBound(LZ4_LEGACY_BLOCK);
	size_t pos = 4, blocks = 0;

	if (in_len < 4 || get_le32(in) != LZ4_LEGACY_MAGIC)
		return novm_error(err, 0, "not a legacy lz4 stream");
	while (in_len - pos >= 4) {
		uint32_t size = get_le32(in + pos);
		if (size == LZ4_LEGACY_MAGIC) {	/* concatenated streams */
			pos += 4;
			continue;
		}
		/* Exactly four bytes after a block: the size the kernel build
		 * appends, not another block. */
		if (in_len - pos == 4 && blocks > 0)
			break;
		pos += 4;
		if (size == 0 || size > max_block)
			return novm_error(err, 0, "lz4 data is corrupt: block %zu has invalid size %u",
					  blocks, size);
		if (size > in_len - pos)
			return truncated("lz4", err);
		if (outbuf_grow(out, LZ4_LEGACY_BLOCK, "lz4", err) < 0)
			return -1;
		size_t room = out->cap - out->len;
		if (room > LZ4_LEGACY_BLOCK)
			room = LZ4_LEGACY_BLOCK;
		int n = LZ4_decompress_safe((const char *)in + pos, (char *)out->data + out->len, size,
					    room);
		if (n < 0) {
			if (room < LZ4_LEGACY_BLOCK)
				return novm_error(err, 0, "lz4 data decompresses to more than %zu MiB",
						  out->max >> 20);
			return novm_error(err, 0, "lz4 data is corrupt in block %zu", blocks);
		}
		out->len += n;
		pos += size;
		blocks++;
	}
	if (blocks == 0)
		return truncated("lz4", err);
	return 0;
}

int decompress(enum compression c, const void *in, size_t in_len, size_t max_out, void **out,
	       size_t *out_len, novm_error_t *err)
{
	struct outbuf buf = { .max = max_out };
	int r;

	if (in_len > DECOMPRESS_MAX_INPUT)
		return novm_error(err, 0, "%s data is too large (%zu MiB)", compression_name(c),
				  in_len >> 20);
	switch (c) {
	case COMPRESSION_GZIP: r = inflate_gzip(in, in_len, &buf, err); break;
	case COMPRESSION_XZ: r = unxz(in, in_len, &buf, err); break;
	case COMPRESSION_ZSTD: r = unzstd(in, in_len, &buf, err); break;
	case COMPRESSION_LZ4_LEGACY: r = unlz4_legacy(in, in_len, &buf, err); break;
	case COMPRESSION_NONE:
		return novm_error(err, 0, "data is not compressed in a known format");
	default:
		return novm_error(err, 0, "%s compression is not supported (use gzip, xz, zstd or lz4)",
				  compression_name(c));
	}
	if (r < 0) {
		free(buf.data);
		return -1;
	}
	*out = buf.data;
	*out_len = buf.len;
	return 0;
}
