/* xattr-tool: extended attributes from inside a test guest, where busybox
 * has no setfattr/getfattr.  Built static so it runs in any rootfs.
 *   xattr-tool set FILE NAME VALUE | get FILE NAME | list FILE | rm FILE NAME
 * `get` prints the value, `list` one name per line; errors go to stderr
 * with the errno name the test can match. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

static int fail(const char *what, const char *file)
{
	fprintf(stderr, "xattr-tool: %s %s: %s\n", what, file, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	char buf[4096];
	ssize_t n;

	if (argc == 5 && !strcmp(argv[1], "set")) {
		if (lsetxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0) < 0)
			return fail("set", argv[2]);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "get")) {
		n = lgetxattr(argv[2], argv[3], buf, sizeof(buf));
		if (n < 0)
			return fail("get", argv[2]);
		printf("%.*s\n", (int)n, buf);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "list")) {
		n = llistxattr(argv[2], buf, sizeof(buf));
		if (n < 0)
			return fail("list", argv[2]);
		for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
			printf("%s\n", buf + i);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "rm")) {
		if (lremovexattr(argv[2], argv[3]) < 0)
			return fail("rm", argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: xattr-tool set FILE NAME VALUE | get FILE NAME | list FILE | rm FILE NAME\n");
	return 2;
}
