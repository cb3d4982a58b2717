/* lib/ helpers shared by the VMM, the runtime and the agent: write_all,
 * send_all, unix_bind/unix_connect. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	test_text_tail();
	return tap_done();
}
