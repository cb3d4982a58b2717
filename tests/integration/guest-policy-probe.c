/* Run as a container's process in guest-policy.bats (busybox cannot): the
 * errno of a raw syscall, and utimensat with a time before 1970.  Static,
 * so it needs nothing from the rootfs.
 *   guest-policy-probe syscall NAME NR...   prints "NAME:ERRNO-NAME" (or "NAME:0")
 *   guest-policy-probe mtime FILE SECONDS   sets atime and mtime, prints the new mtime */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "syscall") == 0) {
		for (int i = 2; i + 1 < argc; i += 2) {
			long r = syscall(strtol(argv[i + 1], NULL, 0), 0, 0, 0, 0, 0, 0);

			printf("%s:%s\n", argv[i], r < 0 ? strerrorname_np(errno) : "0");
		}
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "mtime") == 0) {
		struct timespec ts[2] = { { .tv_sec = strtoll(argv[3], NULL, 0) } };
		struct stat st;

		ts[1] = ts[0];
		if (utimensat(AT_FDCWD, argv[2], ts, 0) < 0 || stat(argv[2], &st) < 0) {
			printf("error: %s\n", strerrorname_np(errno));
			return 1;
		}
		printf("%lld\n", (long long)st.st_mtim.tv_sec);
		return 0;
	}
	fprintf(stderr, "usage: see the source\n");
	return 2;
}
