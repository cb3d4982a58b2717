/* The agent's container mode against the real kernel, on the host: paths
 * resolved inside a root (symlinks must not lead out), /dev nodes, seccomp
 * filters, capability sets and the whole process setup up to exec.  What
 * changes the process (filters, capabilities, user) runs in forked
 * children.  Needs root; skips otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "agent/caps.h"
#include "agent/devnodes.h"
#include "agent/inroot.h"
#include "agent/process.h"
#include "agent/seccomp.h"
#include "cleanup.h"
#include "util.h"

static char tmp[] = "/tmp/novm-agent-proc-XXXXXX";

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *in_tmp(const char *rel)
{
	static char buf[4][256];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, 256, "%s/%s", tmp, rel);
	return p;
}

/* Runs fn in a child; returns its exit status (or 128 + signal). */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int status;

	/* a child must not write out the parent's buffered lines again */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = fn(arg);

		fflush(stdout);
		_exit(r);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- inroot ---- */

static void test_inroot(void)
{
	cleanup_close int root = -1;
	novm_error_t err = NULL;
	int fd;
	char probe[64];

	mkdir(in_tmp("root"), 0755);
	mkdir(in_tmp("root/etc"), 0755);
	/* absolute and relative links that would leave the root if followed
	 * naively, and a dangling one */
	symlink("/", in_tmp("root/abs"));
	symlink("../../../../../..", in_tmp("root/up"));
	snprintf(probe, sizeof(probe), "/novm-agent-escape-%d", getpid());
	symlink(probe, in_tmp("root/dangling"));
	root = open(in_tmp("root"), O_PATH | O_DIRECTORY);

	fd = inroot_mkdirs(root, "/abs/made/here", 0755, &err);
	ok(fd >= 0 && exists(in_tmp("root/made/here")) && !exists("/made"),
	   "mkdirs through a link to / stays inside the root");
	if (fd >= 0)
		close(fd);
	novm_error_release(&err);

	fd = inroot_mkdirs(root, "up/../up/x", 0755, &err);
	ok(fd >= 0 && exists(in_tmp("root/x")), "mkdirs through ../.. links stays inside");
	if (fd >= 0)
		close(fd);
	novm_error_release(&err);

	fd = inroot_open(root, "/../../etc/passwd", O_RDONLY);
	ok(fd < 0 && errno == ENOENT, "/../../etc/passwd is the root's (missing), not the host's");
	if (fd >= 0)
		close(fd);

	fd = inroot_mount_point(root, "/dangling", false, &err);
	ok(fd < 0 && !exists(probe), "a dangling link is not created through: %s",
	   err ? err->msg : "(accepted)");
	if (fd >= 0)
		close(fd);
	novm_error_release(&err);

	fd = inroot_mount_point(root, "/etc/resolv.conf", false, &err);
	ok(fd >= 0 && exists(in_tmp("root/etc/resolv.conf")), "a file mount point is created");
	if (fd >= 0)
		close(fd);
	novm_error_release(&err);

	fd = inroot_mount_point(root, "/etc/resolv.conf", true, &err);
	ok(fd < 0, "a file where a directory is wanted is an error");
	if (fd >= 0)
		close(fd);
	novm_error_release(&err);

	symlink("/proc/self/root", in_tmp("root/magic"));
	fd = inroot_open(root, "/magic/etc", O_PATH);
	ok(fd < 0, "a link into /proc/self (magic links) is refused");
	if (fd >= 0)
		close(fd);
}

/* ---- /dev ---- */

static bool is_node(const char *path, mode_t type, unsigned maj, unsigned min, mode_t perm)
{
	struct stat st;

	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type &&
	       (type == S_IFIFO || (major(st.st_rdev) == maj && minor(st.st_rdev) == min)) &&
	       (st.st_mode & 07777) == perm;
}

static void test_devnodes(void)
{
	cleanup_close int dev = -1, root = -1;
	novm_error_t err = NULL;
	char target[64] = "";
	struct oci_device fuse = { .path = "/dev/fuse", .type = 'c', .major = 10, .minor = 229,
				   .has_file_mode = true, .file_mode = 0600, .has_uid = true,
				   .uid = 1000 };
	struct oci_device fifo = { .path = "/dev/sub/pipe", .type = 'p' };
	struct oci_device bad = { .path = "/dev/x", .type = 'c', .major = 1, .minor = 1 << 21 };
	struct stat st;
	mode_t old = umask(077);

	mkdir(in_tmp("root/dev"), 0755);
	dev = open(in_tmp("root/dev"), O_RDONLY | O_DIRECTORY);
	root = open(in_tmp("root"), O_PATH | O_DIRECTORY);
	ok(devnodes_populate(dev, true, &err) == 0, "populate /dev%s%s", err ? ": " : "",
	   err ? err->msg : "");
	novm_error_release(&err);
	ok(is_node(in_tmp("root/dev/null"), S_IFCHR, 1, 3, 0666) &&
	   is_node(in_tmp("root/dev/urandom"), S_IFCHR, 1, 9, 0666) &&
	   is_node(in_tmp("root/dev/tty"), S_IFCHR, 5, 0, 0666),
	   "null, urandom, tty with mode 0666 despite the umask");
	if (readlink(in_tmp("root/dev/ptmx"), target, sizeof(target) - 1) < 0)
		target[0] = '\0';
	ok(strcmp(target, "pts/ptmx") == 0, "ptmx -> pts/ptmx");
	ok(stat(in_tmp("root/dev/console"), &st) == 0 && S_ISREG(st.st_mode),
	   "console is a file to bind the terminal on");
	ok(devnodes_populate(dev, false, &err) == 0, "populating twice is fine");
	novm_error_release(&err);

	ok(devnodes_create(root, &fuse, &err) == 0 &&
	   is_node(in_tmp("root/dev/fuse"), S_IFCHR, 10, 229, 0600) &&
	   lstat(in_tmp("root/dev/fuse"), &st) == 0 && st.st_uid == 1000,
	   "linux.devices: char device with mode and owner");
	novm_error_release(&err);
	ok(devnodes_create(root, &fifo, &err) == 0 &&
	   is_node(in_tmp("root/dev/sub/pipe"), S_IFIFO, 0, 0, 0666),
	   "linux.devices: fifo, parent created");
	novm_error_release(&err);
	ok(devnodes_create(root, &fuse, &err) == 0, "an existing node is replaced");
	novm_error_release(&err);
	ok(devnodes_create(root, &bad, &err) < 0 && strstr(err->msg, "out of range"),
	   "a minor over 20 bits is refused");
	novm_error_release(&err);
	umask(old);
}

/* ---- seccomp ---- */

static char *names_mkdir[] = { "mkdir", "mkdirat", "no_such_syscall_name", NULL };
static char *names_dup[] = { "dup", NULL };

static int seccomp_child(void *arg)
{
	struct oci_seccomp_arg dup_args[] = {
		{ .index = 0, .value = 100, .op = OCI_SECCOMP_CMP_EQ },
		{ .index = 0, .value = 101, .op = OCI_SECCOMP_CMP_EQ },
	};
	struct oci_seccomp_syscall calls[] = {
		{ .names = { names_mkdir, 3 }, .action = OCI_SECCOMP_ERRNO },
		{ .names = { names_dup, 1 }, .action = OCI_SECCOMP_ERRNO, .has_errno_ret = true,
		  .errno_ret = ENOMSG, .args = dup_args, .n_args = 2 },
		/* same action as the default: left out rather than refused */
		{ .names = { names_dup, 1 }, .action = OCI_SECCOMP_ALLOW },
	};
	struct oci_seccomp s = { .default_action = OCI_SECCOMP_ALLOW, .syscalls = calls,
				 .n_syscalls = 3 };
	novm_error_t err = NULL;
	int fails = 0;

	(void)arg;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (seccomp_apply(&s, &err) < 0) {
		printf("# seccomp_apply: %s\n", err->msg);
		return 10;
	}
	if (!(mkdir(in_tmp("denied"), 0755) < 0 && errno == EPERM))
		fails |= 1;
	if (!(dup(100) < 0 && errno == ENOMSG) || !(dup(101) < 0 && errno == ENOMSG))
		fails |= 2;
	int fd = dup(0);
	if (fd < 0)
		fails |= 4;
	return fails;
}

/* A deny-by-default profile: a syscall newer than any it names gets ENOSYS
 * (libc's cue to fall back), an older one it does not name the default. */
static int seccomp_enosys_child(void *arg)
{
	static char *allowed[] = { "exit_group", "exit", "write", "mkdirat", NULL };
	static char *flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", NULL };
	struct oci_seccomp_syscall calls[] = {
		{ .names = { allowed, 4 }, .action = OCI_SECCOMP_ALLOW },
	};
	struct oci_seccomp s = { .default_action = OCI_SECCOMP_ERRNO, .syscalls = calls,
				 .n_syscalls = 1, .flags = { flags, 1 } };
	novm_error_t err = NULL;
	int fails = 0;

	(void)arg;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (seccomp_apply(&s, &err) < 0) {
		printf("# seccomp_apply: %s\n", err->msg);
		return 10;
	}
	if (!(syscall(435 /* clone3 */, NULL, 0) < 0 && errno == ENOSYS))
		fails |= 1;
	if (!(syscall(1000) < 0 && errno == ENOSYS))
		fails |= 2;
	if (!(syscall(SYS_getpid) < 0 && errno == EPERM))
		fails |= 4;
	return fails;
}

static int seccomp_notify_child(void *arg)
{
	struct oci_seccomp s = { .default_action = OCI_SECCOMP_NOTIFY };
	novm_error_t err = NULL;

	(void)arg;
	return seccomp_apply(&s, &err) < 0 && strstr(err->msg, "not supported") ? 0 : 1;
}

static void test_seccomp(void)
{
	int r = in_child(seccomp_child, NULL);

	ok(r == 0, "filter: mkdir EPERM, dup(100|101) ENOMSG (two conditions on one arg = OR), "
	   "dup(0) allowed, unknown names skipped (status %d)", r);
	ok(!exists(in_tmp("denied")), "the denied mkdir really did nothing");
	r = in_child(seccomp_enosys_child, NULL);
	ok(r == 0, "deny-by-default filter: clone3 and syscall 1000 ENOSYS, getpid EPERM (status %d)",
	   r);
	ok(in_child(seccomp_notify_child, NULL) == 0, "SCMP_ACT_NOTIFY is refused");
}

/* ---- capabilities ---- */

static char *cap_kill[] = { "CAP_KILL", NULL };
static char *cap_bound[] = { "CAP_KILL", "CAP_SETPCAP", NULL };

static unsigned long long status_hex(const char *key)
{
	cleanup_free char *text = NULL;
	novm_error_t err = NULL;
	const char *p;

	if (read_file("/proc/self/status", &text, NULL, &err) < 0) {
		novm_error_release(&err);
		return ~0ULL;
	}
	p = strstr(text, key);
	return p ? strtoull(p + strlen(key) + 1, NULL, 16) : ~0ULL;
}

static int caps_child(void *arg)
{
	struct oci_capabilities c = {
		.bounding = { cap_bound, 2 }, .effective = { cap_kill, 1 },
		.permitted = { cap_kill, 1 }, .inheritable = { cap_kill, 1 },
		.ambient = { cap_kill, 1 },
	};
	novm_error_t err = NULL;

	(void)arg;
	if (caps_drop_bounding(&c, &err) < 0 || caps_apply(&c, &err) < 0) {
		printf("# caps: %s\n", err->msg);
		return 10;
	}
	if (status_hex("CapBnd:") != ((1ULL << 5) | (1ULL << 8)))
		return 1;
	if (status_hex("CapEff:") != 1ULL << 5 || status_hex("CapPrm:") != 1ULL << 5 ||
	    status_hex("CapInh:") != 1ULL << 5 || status_hex("CapAmb:") != 1ULL << 5)
		return 2;
	return 0;
}

static void test_caps(void)
{
	ok(caps_last_cap() >= 37, "the host kernel knows at least CAP_AUDIT_READ (%d)",
	   caps_last_cap());
	ok(in_child(caps_child, NULL) == 0, "bounding {KILL,SETPCAP}; E/P/I/ambient {KILL}");
}

/* ---- the whole process setup ---- */

struct exec_case {
	struct oci_process p;
	char out[4096];
	char errmsg[512];
	int status;
};

static void run_exec(struct exec_case *c)
{
	int out[2], errp[2], in[2];
	struct process_stdio stdio;
	ssize_t r;
	size_t used = 0;
	pid_t pid;
	int status;

	/* not close-on-exec: process_exec must keep it from the program */
	int leak = open("/dev/null", O_RDONLY);

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		stdio = (struct process_stdio){ in[0], out[1], out[1], -1 };
		process_exec(&c->p, NULL, &stdio, errp[1]);
	}
	close(leak);
	close(out[1]);
	close(errp[1]);
	close(in[0]);
	close(in[1]);
	while ((r = read(out[0], c->out + used, sizeof(c->out) - 1 - used)) > 0)
		used += (size_t)r;
	c->out[used] = '\0';
	used = 0;
	while ((r = read(errp[0], c->errmsg + used, sizeof(c->errmsg) - 1 - used)) > 0)
		used += (size_t)r;
	c->errmsg[used] = '\0';
	close(out[0]);
	close(errp[0]);
	waitpid(pid, &status, 0);
	c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_process_exec(void)
{
	static char *args[] = { "sh", "-c",
				"id -u; id -g; id -G; ulimit -n; umask; pwd; echo $HOME; "
				"cat /proc/self/oom_score_adj; grep CapEff /proc/self/status; "
				"grep NoNewPrivs /proc/self/status; ls /proc/self/fd | wc -l",
				NULL };
	static char *env[] = { "PATH=/usr/bin:/bin", NULL };
	static char *missing[] = { "no-such-program-here", NULL };
	static uint32_t gids[] = { 5, 7 };
	struct oci_rlimit nofile = { .type = "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE,
				     .hard = 200, .soft = 100 };
	struct exec_case c = { 0 };
	cleanup_free char *passwd = NULL, *home = NULL, *want = NULL;
	novm_error_t err = NULL;
	char cwd[300];

	if (read_file("/etc/passwd", &passwd, NULL, &err) == 0)
		home = passwd_home(passwd, 65534);
	novm_error_release(&err);
	snprintf(cwd, sizeof(cwd), "%s/work/dir", tmp);

	c.p.args = (struct oci_strv){ args, 3 };
	c.p.env = (struct oci_strv){ env, 1 };
	c.p.cwd = cwd;
	c.p.user = (struct oci_user){ .uid = 65534, .gid = 65534, .has_umask = true, .umask = 027,
				      .additional_gids = gids, .n_additional_gids = 2 };
	c.p.rlimits = &nofile;
	c.p.n_rlimits = 1;
	c.p.has_oom_score_adj = true;
	c.p.oom_score_adj = 123;
	c.p.no_new_privileges = true;
	chmod(tmp, 0755);
	run_exec(&c);
	if (asprintf(&want,
		     "65534\n65534\n65534 5 7\n100\n0027\n%s\n%s\n123\nCapEff:\t0000000000000000\n"
		     "NoNewPrivs:\t1\n4\n",
		     cwd, home ? home : "/") < 0)
		return;
	ok(c.status == 0 && strcmp(c.out, want) == 0,
	   "user, groups, rlimit, umask, cwd (created), HOME, oom, no caps, NNP, only fds 0-2 "
	   "(+ ls's own) (status %d, %s)", c.status, c.errmsg);
	if (strcmp(c.out, want) != 0)
		printf("# got:\n%s# want:\n%s", c.out, want);

	memset(&c, 0, sizeof(c));
	c.p.args = (struct oci_strv){ missing, 1 };
	c.p.env = (struct oci_strv){ env, 1 };
	c.p.cwd = "/";
	run_exec(&c);
	ok(c.status == PROCESS_STATUS_NOT_FOUND &&
	   strcmp(c.errmsg, "exec: \"no-such-program-here\": executable file not found in $PATH") ==
		   0,
	   "not found: status 127 and the message on the error pipe (%d, %s)", c.status,
	   c.errmsg);

	memset(&c, 0, sizeof(c));
	c.p.args = (struct oci_strv){ args, 3 };
	c.p.env = (struct oci_strv){ env, 1 };
	c.p.cwd = "/";
	c.p.user = (struct oci_user){ .uid = 0, .gid = 0 };
	nofile.soft = 300;	/* above the hard limit: setrlimit fails */
	c.p.rlimits = &nofile;
	c.p.n_rlimits = 1;
	run_exec(&c);
	ok(c.status == PROCESS_STATUS_NOT_FOUND && strstr(c.errmsg, "setrlimit RLIMIT_NOFILE"),
	   "a failing step is reported by name (%d, %s)", c.status, c.errmsg);
}

int main(void)
{
	novm_error_t err = NULL;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (mknod, setresuid, capabilities)\n");
		return 0;
	}
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_inroot();
	test_devnodes();
	test_seccomp();
	test_caps();
	test_process_exec();
	remove_tree(tmp, &err);
	novm_error_release(&err);
	return tap_done();
}
