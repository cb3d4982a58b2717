/* lib/ helpers shared by the VMM, the runtime and the agent: write_all,
 * send_all, write_file_atomic, unix_bind/unix_connect. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "tap.h"
#include "unixsock.h"
#include "util.h"

static void test_write_all(void)
{
	static char big[256 * 1024], back[sizeof(big)];
	int p[2];
	size_t got = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	ok(pipe(p) == 0, "pipe");
	/* More than a pipe holds: the writer sees short writes while the
	 * child reads. */
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(write_all(p[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(p[1]);
	for (ssize_t n; got < sizeof(back) && (n = read(p[0], back + got, sizeof(back) - got)) > 0;)
		got += (size_t)n;
	close(p[0]);
	int status = -1;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "write_all through short writes");
	ok(got == sizeof(big) && !memcmp(big, back, sizeof(big)), "every byte arrived in order");

	ok(write_all(-1, "x", 1) < 0 && errno == EBADF, "a bad fd fails with errno");
	ok(write_all(-1, "", 0) == 0, "nothing to write is success");
}

static void test_send_all(void)
{
	int sv[2];

	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	ok(send_all(sv[0], "hello", 5) == 0, "send_all");
	char buf[8] = { 0 };
	ok(read(sv[1], buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5), "sent bytes arrive");
	close(sv[1]);
	/* SIGPIPE at its default would end this test. */
	ok(send_all(sv[0], "x", 1) < 0 && errno == EPIPE, "a peer gone is EPIPE, not SIGPIPE");
	close(sv[0]);
}

/* Binds at path, connects to it and passes a byte across. */
static bool bind_connect(const char *path)
{
	cleanup_close int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cleanup_close int cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cleanup_close int conn = -1;
	char c = 0;

	if (srv < 0 || cli < 0 || unix_bind(srv, path) < 0 || listen(srv, 1) < 0 ||
	    unix_connect(cli, path) < 0)
		return false;
	conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
	return conn >= 0 && write(cli, "x", 1) == 1 && read(conn, &c, 1) == 1 && c == 'x';
}

static void test_unixsock(void)
{
	struct sockaddr_un sa;
	char base[] = "/tmp/novm-test-lib.XXXXXX";
	char dir[512], path[600];
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ok(mkdtemp(base) != NULL, "temporary directory");
	snprintf(path, sizeof(path), "%s/s.sock", base);
	ok(bind_connect(path), "a short path binds and connects");
	unlink(path);

	/* A directory path alone longer than sun_path. */
	snprintf(dir, sizeof(dir), "%s/%0150d", base, 0);
	ok(mkdir(dir, 0700) == 0, "a directory with a %zu-byte path", strlen(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	ok(strlen(path) >= sizeof(sa.sun_path) && bind_connect(path),
	   "a %zu-byte path binds and connects", strlen(path));
	struct stat st;
	ok(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the socket is at its real path");
	unlink(path);

	snprintf(path, sizeof(path), "%s/%0200d", base, 0);
	ok(unix_bind(sock, path) < 0 && errno == ENAMETOOLONG,
	   "a last component longer than sun_path: ENAMETOOLONG");
	snprintf(path, sizeof(path), "%s/absent/%0120d", base, 0);
	ok(unix_connect(sock, path) < 0 && errno == ENOENT, "a missing directory: ENOENT");
	close(sock);
	rmdir(dir);
	rmdir(base);
}

/* Interposes libc's getrandom so the test knows write_file_atomic's
 * temporary names and can plant symlinks at them: while fake_random is set,
 * the n-th call returns n. */
static uint64_t fake_random;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	if (!fake_random)
		return syscall(SYS_getrandom, buf, len, flags);
	uint64_t v = fake_random++;
	memset(buf, 0, len);
	memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
	return (ssize_t)len;
}

static bool file_is(const char *path, const char *want)
{
	cleanup_free char *got = NULL;
	size_t len;
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       read_file(path, &got, &len, NULL) == 0 && len == strlen(want) &&
	       !memcmp(got, want, len);
}

static void test_write_file_atomic(void)
{
	char dir[] = "/tmp/novm-test-lib-XXXXXX";
	char target[128], victim[128], planted[160], spare[160];

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(target, sizeof(target), "%s/pid", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	ok(write_file_atomic(victim, "precious", 8, 0644, NULL) == 0, "victim written");

	/* A symlink at the target (the pid file path) is replaced, not
	 * followed. */
	ok(symlink(victim, target) == 0, "symlink planted at the target");
	ok(write_file_atomic(target, "1234", 4, 0644, NULL) == 0, "write over the symlink");
	ok(file_is(victim, "precious"), "the victim is untouched");
	ok(file_is(target, "1234"), "the target is a regular file with the content");

	/* A symlink at the next temporary name is skipped for another name. */
	fake_random = 1;
	snprintf(planted, sizeof(planted), "%s.tmp.%016x", target, 1);
	snprintf(spare, sizeof(spare), "%s.tmp.%016x", target, 2);
	ok(symlink(victim, planted) == 0, "symlink planted at the temporary name");
	ok(write_file_atomic(target, "5678", 4, 0644, NULL) == 0, "write past the planted name");
	fake_random = 0;
	ok(file_is(victim, "precious"), "the victim is still untouched");
	ok(file_is(target, "5678"), "the target has the new content");
	struct stat st;
	ok(lstat(planted, &st) == 0 && S_ISLNK(st.st_mode), "the planted symlink is left alone");
	ok(lstat(spare, &st) < 0 && errno == ENOENT, "the temporary file was renamed away");

	/* The old name was path.tmp.<pid>: predictable, and opened without
	 * O_EXCL. */
	char old_name[160];
	snprintf(old_name, sizeof(old_name), "%s.tmp.%d", target, getpid());
	ok(symlink(victim, old_name) == 0, "symlink planted at the old predictable name");
	ok(write_file_atomic(target, "9", 1, 0644, NULL) == 0, "write");
	ok(file_is(victim, "precious") && file_is(target, "9"), "the old name is not used");

	unlink(old_name);
	unlink(planted);
	ok(remove_tree(dir, NULL) == 0, "clean up");
}

static void test_text_tail(void)
{
	const char *t = "one\ntwo\nthree\n";
	size_t len = strlen(t);

	ok(text_tail(t, len, 1) == 8, "tail 1: \"three\\n\"");
	ok(text_tail(t, len, 2) == 4, "tail 2: from \"two\"");
	ok(text_tail(t, len, 3) == 0, "tail 3: all of it");
	ok(text_tail(t, len, 9) == 0, "tail 9: all of it, no more");
	ok(text_tail("one\ntwo", 7, 1) == 4, "tail 1 without a final newline");
	ok(text_tail("", 0, 3) == 0, "tail of nothing");
	ok(text_tail("\n\n", 2, 1) == 1, "tail 1 of two empty lines: the last");
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL);
	test_write_all();
	test_send_all();
	test_unixsock();
	test_write_file_atomic();
	test_text_tail();
	return tap_done();
}
