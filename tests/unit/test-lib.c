/* lib/ helpers shared by the VMM, the runtime and the agent: write_all,
 * send_all. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
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

int main(void)
{
	signal(SIGPIPE, SIG_DFL);
	test_write_all();
	test_send_all();
	return tap_done();
}
