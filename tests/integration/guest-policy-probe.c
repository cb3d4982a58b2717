/* Run as a container's process in guest-policy.bats (busybox cannot): the
 * errno of a raw syscall, and utimensat with a time before 1970.  Static,
 * so it needs nothing from the rootfs.
 *   guest-policy-probe syscall NAME NR...   prints "NAME:ERRNO-NAME" (or "NAME:0")
 *   guest-policy-probe mtime FILE SECONDS   sets atime and mtime, prints the new mtime
 *   guest-policy-probe userns-proc          in a new user, mount and PID namespace (every
 *                                           capability there, whatever the bounding set),
 *                                           mounts a procfs: prints "mount:ERRNO-NAME" or
 *                                           "mount:0"
 *   guest-policy-probe setcap FILE          what setcap cap_net_raw+ep does (a v2
 *                                           security.capability), then reads its size back:
 *                                           prints "setcap:0 20" or "setcap:ERRNO-NAME"
 *   guest-policy-probe getcap FILE          reads FILE's security.capability: prints
 *                                           "getcap:SIZE PERMITTED-MASK" (in hex) or
 *                                           "getcap:ERRNO-NAME" */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* What an unprivileged container can try: the kernel lets a user
 * namespace mount a procfs only where a fully visible one exists already
 * in the mount namespace, so one that is not masked must not be there. */
static int userns_proc(void)
{
	/* Read before unshare: unmapped ids then read as the overflow ids. */
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
	char map[64];
	pid_t pid;
	int status;

	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) < 0) {
		printf("unshare:%s\n", strerrorname_np(errno));
		return 1;
	}
	if (write_text("/proc/self/uid_map", map) < 0 ||
	    write_text("/proc/self/setgroups", "deny") < 0) {
		printf("uid_map:%s\n", strerrorname_np(errno));
		return 1;
	}
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_text("/proc/self/gid_map", map) < 0) {
		printf("gid_map:%s\n", strerrorname_np(errno));
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			printf("mount:%s\n", strerrorname_np(errno));
		else
			printf("mount:0\n");
		fflush(stdout);
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? 0 : 1;
}

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
	if (argc == 3 && strcmp(argv[1], "setcap") == 0) {
		struct vfs_cap_data cap = {
			.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
			.data = { { .permitted = 1u << CAP_NET_RAW } },
		};
		ssize_t n;

		if (setxattr(argv[2], "security.capability", &cap, XATTR_CAPS_SZ_2, 0) < 0 ||
		    (n = getxattr(argv[2], "security.capability", NULL, 0)) < 0) {
			printf("setcap:%s\n", strerrorname_np(errno));
			return 1;
		}
		printf("setcap:0 %zd\n", n);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "getcap") == 0) {
		struct vfs_cap_data cap = { 0 };
		ssize_t n = getxattr(argv[2], "security.capability", &cap, sizeof(cap));

		if (n < 0) {
			printf("getcap:%s\n", strerrorname_np(errno));
			return 1;
		}
		printf("getcap:%zd %#x\n", n, cap.data[0].permitted);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "userns-proc") == 0)
		return userns_proc();
	fprintf(stderr, "usage: see the source\n");
	return 2;
}
