/* Fuzzes the FUSE server with sequences of requests against a small share.
 *
 * Input: records of [u16 length][length bytes]; each record is one request
 * (header + arguments), its header's len fixed to the record's length
 * unless the record's first byte is odd, so both consistent and lying
 * headers are explored.  The server is INITed first.
 *
 * libFuzzer:  clang -g -O1 -fsanitize=fuzzer,address,undefined -DNOVM_LIBFUZZER \
 *               -D_GNU_SOURCE -I. -Ilib tests/fuzz/fuzz-fuse.c vmm/fuse/[a-z]*.c lib/error.c \
 *               lib/util.c -lpthread -o fuzz-fuse && ./fuzz-fuse
 * Replay:     tests/fuzz/fuzz-fuse FILE... (the automake build, without libFuzzer) */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "util.h"
#include "vmm/fuse/server.h"

static struct fuse_server *srv;
static unsigned char reply[1 << 20];
static char dir[] = "/tmp/novm-fuzz-fuse-XXXXXX";

static void setup(void)
{
	char p[sizeof(dir) + 32];
	novm_error_t err = NULL;

	if (!mkdtemp(dir))
		abort();
	snprintf(p, sizeof(p), "%s/file", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof(p), "%s/dir", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/link", dir);
	symlink("/etc/passwd", p);

	struct fuse_server_config cfg = { .root = dir };
	if (fuse_server_new(&cfg, &srv, &err) < 0) {
		novm_error_print(&err, "fuzz-fuse");
		abort();
	}
}

static void send(const unsigned char *data, size_t len, bool fix_len)
{
	unsigned char *req = malloc(len ? len : 1);
	struct iovec in = { req, len }, out = { reply, sizeof(reply) };

	memcpy(req, data, len);
	if (fix_len && len >= sizeof(struct fuse_in_header))
		((struct fuse_in_header *)req)->len = len;
	ssize_t n = fuse_server_handle(srv, &in, 1, &out, 1);
	if (n > (ssize_t)sizeof(reply))
		abort();	/* wrote past the reply buffer */
	free(req);
}

static void init_session(void)
{
	struct {
		struct fuse_in_header h;
		struct fuse_init_in i;
	} init = { .h = { .len = sizeof(init), .opcode = FUSE_INIT },
		   .i = { .major = 7, .minor = 38, .flags = 0xffffffff } };
	send((const unsigned char *)&init, sizeof(init), true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!srv)
		setup();
	init_session();
	while (size >= 2) {
		size_t len = data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		send(data, len, len && !(data[0] & 1));
		data += len;
		size -= len;
	}
	fuse_server_reset(srv);
	return 0;
}

#ifndef NOVM_LIBFUZZER
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *buf = NULL;
		size_t len;
		novm_error_t err = NULL;

		if (read_file(argv[i], &buf, &len, &err) < 0) {
			novm_error_print(&err, "fuzz-fuse");
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
	}
	if (srv) {
		novm_error_t err = NULL;
		fuse_server_free(srv);
		remove_tree(dir, &err);
		novm_error_release(&err);
	}
	return 0;
}
#endif
