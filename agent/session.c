/* Sessions: the table, creating and starting processes, and what the host
 * sends them (stdin, signals, window size). */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdpass.h"
#include "link.h"
#include "process.h"
#include "session-internal.h"

int64_t session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void session_close_fd(int *fd)
{
	close_and_forget(fd);
}

void session_free(struct session *s)
{
	session_close_fd(&s->start_fd);
	session_close_fd(&s->err_fd);
	/* with a terminal in_fd and out_fd are the same master */
	if (s->in_fd == s->out_fd)
		s->in_fd = -1;
	session_close_fd(&s->in_fd);
	session_close_fd(&s->out_fd);
	session_close_fd(&s->errout_fd);
	session_close_fd(&s->slave_fd);
	session_close_fd(&s->handoff_fd);
	free(s->pending);
	free(s);
}

void session_table_init(struct session_table *t, struct link *link)
{
	memset(t, 0, sizeof(*t));
	t->link = link;
}

void session_table_release(struct session_table *t)
{
	for (size_t i = 0; i < t->len; i++)
		session_free(t->items[i]);
	free(t->items);
	t->items = NULL;
	t->len = 0;
}

static struct session *find(const struct session_table *t, uint32_t id)
{
	for (size_t i = 0; i < t->len; i++)
		if (t->items[i]->id == id)
			return t->items[i];
	return NULL;
}

bool session_exists(const struct session_table *t, uint32_t id)
{
	return find(t, id) != NULL;
}

pid_t session_pid(const struct session_table *t, uint32_t id)
{
	const struct session *s = find(t, id);

	return s ? s->pid : -1;
}

static struct session *find_or_fail(const struct session_table *t, uint32_t id,
				    novm_error_t *err)
{
	struct session *s = find(t, id);

	if (!s)
		novm_error(err, 0, "session %u: no such session", id);
	return s;
}

/* ---- creation ---- */

/* The child's ends of its stdio, closed in the parent after the fork. */
struct child_ends {
	int in, out, err, start, errpipe, handoff;
	int tty;	/* the terminal's slave, once the child opened it */
};

static void close_child_ends(struct child_ends *c)
{
	session_close_fd(&c->in);
	session_close_fd(&c->out);
	session_close_fd(&c->err);
	session_close_fd(&c->start);
	session_close_fd(&c->errpipe);
	session_close_fd(&c->handoff);
	session_close_fd(&c->tty);
}

static int make_pipe(int *rd, int *wr, bool nonblock_rd, bool nonblock_wr, novm_error_t *err)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return novm_error(err, errno, "pipe");
	if ((nonblock_rd && fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) ||
	    (nonblock_wr && fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)) {
		close(fds[0]);
		close(fds[1]);
		return novm_error(err, errno, "pipe");
	}
	*rd = fds[0];
	*wr = fds[1];
	return 0;
}

/* The child tells PID 1 whether it got ready: one status byte, then the
 * error text, or with a terminal its master and slave as SCM_RIGHTS. */
enum { HANDOFF_OK = 0, HANDOFF_FAILED = 1 };

/* In the child, once in the container: the terminal comes from the
 * container's own /dev/ptmx (its devpts instance), so `tty` names it. */
static int open_terminal(const struct oci_process *p, bool bind_console, int fds[2],
			 novm_error_t *err)
{
	char name[64];
	int master, slave;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return novm_error(err, errno, "open a terminal (/dev/ptmx)");
	fds[0] = master;
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)))
		return novm_error(err, errno, "terminal");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return novm_error(err, errno, "open `%s`", name);
	fds[1] = slave;
	if (fchown(slave, p->user.uid, (gid_t)-1) < 0)
		return novm_error(err, errno, "chown `%s`", name);
	if (p->has_console_size) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };

		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			return novm_error(err, errno, "set the terminal size");
	}
	if (bind_console && access("/dev/console", F_OK) == 0 &&
	    mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return novm_error(err, errno, "bind `%s` on /dev/console", name);
	return 0;
}

static int open_stdio(struct session *s, const struct oci_process *p, struct child_ends *c,
		      novm_error_t *err)
{
	int pair[2];

	if (make_pipe(&c->start, &s->start_fd, false, false, err) < 0 ||
	    make_pipe(&s->err_fd, &c->errpipe, true, false, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return novm_error(err, errno, "socketpair");
	s->handoff_fd = pair[0];
	c->handoff = pair[1];
	s->terminal = p->terminal;
	if (p->terminal)
		return 0;
	if (make_pipe(&c->in, &s->in_fd, false, true, err) < 0 ||
	    make_pipe(&s->out_fd, &c->out, true, false, err) < 0 ||
	    make_pipe(&s->errout_fd, &c->err, true, false, err) < 0)
		return -1;
	return 0;
}

/* In the child: into its namespaces (and for the init its root), then its
 * terminal, then the word to PID 1.  The terminal's slave is the child's
 * stdio; its ends go to PID 1. */
static int child_setup(const struct session_spawn *spawn, const struct oci_process *p,
		       bool bind_console, struct child_ends *c, novm_error_t *err)
{
	int tty[2] = { -1, -1 };
	char ok = HANDOFF_OK;
	ssize_t n;

	if (spawn && spawn->setup && spawn->setup(spawn->opaque, err) < 0)
		return -1;
	if (p->terminal && open_terminal(p, bind_console, tty, err) < 0)
		return -1;
	n = fdpass_send(c->handoff, &ok, 1, tty, p->terminal ? 2 : 0);
	if (n < 0)
		return novm_error(err, (int)-n, "report to PID 1");
	session_close_fd(&tty[0]);
	c->tty = tty[1];
	return 0;
}

__attribute__((noreturn)) static void child_main(const struct session_spawn *spawn,
						 const struct oci_process *p,
						 const struct oci_seccomp *seccomp,
						 bool bind_console, struct session *s,
						 struct child_ends *c)
{
	struct process_stdio stdio;
	novm_error_t err = NULL;
	sigset_t none;
	char go;
	ssize_t r;

	/* PID 1 blocks SIGCHLD for its signalfd and ignores SIGPIPE; neither
	 * survives exec otherwise. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Until it execs, the child is PID 1's copy, in the container's PID
	 * namespace: no ptrace or /proc/<pid>/fd for the container's users
	 * (execve makes the program dumpable again). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* PID 1's ends: holding the start pipe's write end would keep the
	 * read below from ever seeing PID 1 give up on the session. */
	session_close_fd(&s->start_fd);
	session_close_fd(&s->err_fd);
	session_close_fd(&s->in_fd);
	session_close_fd(&s->out_fd);
	session_close_fd(&s->errout_fd);
	session_close_fd(&s->handoff_fd);

	if (child_setup(spawn, p, bind_console, c, &err) < 0) {
		char msg[SESSION_ERRMSG_MAX];
		int len = snprintf(msg, sizeof(msg), "%c%s", HANDOFF_FAILED, err->msg);

		fdpass_send(c->handoff, msg, len < (int)sizeof(msg) ? (size_t)len : sizeof(msg) - 1,
			    NULL, 0);
		_exit(PROCESS_STATUS_NOT_FOUND);
	}
	session_close_fd(&c->handoff);

	do
		r = read(c->start, &go, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(PROCESS_STATUS_NOT_FOUND);

	if (s->terminal)
		stdio = (struct process_stdio){ c->tty, c->tty, c->tty, c->tty };
	else
		stdio = (struct process_stdio){ c->in, c->out, c->err, -1 };
	process_exec(p, seccomp, &stdio, c->errpipe);
}

/* In PID 1: what the child said.  Blocks while the child sets up (for
 * the init, the whole root file system), but not forever: an exec's child
 * is in the container's reach (SIGSTOP, a frozen cgroup) before it
 * reports, and PID 1 must go on serving everyone else. */
static int receive_handoff(struct session *s, int timeout_ms, novm_error_t *err)
{
	struct pollfd pfd = { .fd = s->handoff_fd, .events = POLLIN };
	char msg[SESSION_ERRMSG_MAX];
	int fds[2], nr = 0, r;
	ssize_t n;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		kill(s->pid, SIGKILL);
		session_close_fd(&s->handoff_fd);
		return novm_error(err, r < 0 ? errno : ETIMEDOUT, "the child was not set up in %d s",
				  timeout_ms / 1000);
	}
	n = fdpass_recv(s->handoff_fd, msg, sizeof(msg) - 1, 0, fds, 2, &nr);
	session_close_fd(&s->handoff_fd);
	if (n < 0)
		return novm_error(err, (int)-n, "hand-off from the child");
	if (n == 0)
		return novm_error(err, 0, "the child exited before it was set up");
	if (msg[0] != HANDOFF_OK) {
		msg[n] = '\0';
		for (int i = 0; i < nr; i++)
			close(fds[i]);
		return novm_error(err, 0, "%s", msg + 1);
	}
	if (nr != (s->terminal ? 2 : 0)) {
		for (int i = 0; i < nr; i++)
			close(fds[i]);
		return novm_error(err, 0, "hand-off from the child: %d fds", nr);
	}
	if (s->terminal) {
		s->in_fd = s->out_fd = fds[0];
		s->slave_fd = fds[1];
		if (fcntl(s->in_fd, F_SETFL, O_NONBLOCK) < 0)
			return novm_error(err, errno, "terminal");
	}
	return 0;
}

int session_create(struct session_table *t, uint32_t id, const struct oci_process *p,
		   bool start, bool bind_console, const struct session_spawn *spawn,
		   novm_error_t *err)
{
	struct child_ends c = { -1, -1, -1, -1, -1, -1, -1 };
	struct session *s, **grown;

	if (find(t, id))
		return novm_error(err, 0, "session %u already exists", id);
	grown = realloc(t->items, (t->len + 1) * sizeof(*t->items));
	if (!grown)
		return novm_error(err, ENOMEM, "session %u", id);
	t->items = grown;
	s = calloc(1, sizeof(*s));
	if (!s)
		return novm_error(err, ENOMEM, "session %u", id);
	s->id = id;
	s->start_fd = s->err_fd = s->in_fd = s->out_fd = s->errout_fd = s->slave_fd = -1;
	s->handoff_fd = -1;

	if (open_stdio(s, p, &c, err) < 0)
		goto fail;
	s->pid = spawn && spawn->fork ? spawn->fork(spawn->opaque, err) : fork();
	if (s->pid < 0) {
		if (!spawn || !spawn->fork)
			novm_error(err, errno, "fork");
		goto fail;
	}
	if (s->pid == 0)
		child_main(spawn, p, spawn ? spawn->seccomp : NULL, bind_console, s, &c);
	close_child_ends(&c);
	/* A child that failed exits by itself; sessions_reap() collects it. */
	if (receive_handoff(s, spawn && spawn->setup_ms ? spawn->setup_ms : SESSION_EXEC_SETUP_MS,
			    err) < 0)
		goto fail;
	t->items[t->len++] = s;
	/* Writing to the start pipe fails only when the child is gone; its
	 * exit is then reported like any other. */
	if (start && session_start(t, id, err) < 0) {
		agent_log("session %u: %s", id, (*err)->msg);
		novm_error_release(err);
	}
	return 0;
fail:
	close_child_ends(&c);
	session_free(s);
	return novm_error_wrap(err, "session %u", id);
}

int session_start(struct session_table *t, uint32_t id, novm_error_t *err)
{
	struct session *s = find_or_fail(t, id, err);

	if (!s)
		return -1;
	if (s->start_fd < 0)
		return novm_error(err, 0, "session %u: already started", id);
	if (write(s->start_fd, "", 1) != 1)
		return novm_error(err, errno, "session %u: start", id);
	session_close_fd(&s->start_fd);
	s->released = true;
	return 0;
}

/* ---- host -> process ---- */

int session_stdin(struct session_table *t, uint32_t id, const void *data, size_t len,
		  novm_error_t *err)
{
	struct session *s = find_or_fail(t, id, err);
	char eof = 4;	/* ^D unless the terminal says otherwise */
	char *grown;

	if (!s)
		return -1;
	if (s->in_fd < 0 || s->close_stdin)
		return 0;	/* the process closed it, or the host did: drop */
	if (len == 0) {
		if (s->terminal) {
			struct termios tio;

			if (tcgetattr(s->in_fd, &tio) == 0 && tio.c_cc[VEOF])
				eof = (char)tio.c_cc[VEOF];
			data = &eof;
			len = 1;
		} else {
			s->close_stdin = true;
			if (!s->pending_len)
				session_close_fd(&s->in_fd);
			return 0;
		}
	}
	grown = realloc(s->pending, s->pending_len + len);
	if (!grown)
		return novm_error(err, ENOMEM, "session %u: stdin", id);
	memcpy(grown + s->pending_len, data, len);
	s->pending = grown;
	s->pending_len += len;
	return 0;
}

int session_signal(struct session_table *t, uint32_t id, int sig, novm_error_t *err)
{
	struct session *s = find_or_fail(t, id, err);

	if (!s)
		return -1;
	if (sig <= 0 || sig >= NSIG)
		return novm_error(err, 0, "session %u: invalid signal %d", id, sig);
	/* After the exit the pid may already belong to someone else. */
	if (s->exited)
		return 0;
	if (kill(s->pid, sig) < 0 && errno != ESRCH)
		return novm_error(err, errno, "session %u: kill %d", id, sig);
	return 0;
}

int session_signal_all(int sig, novm_error_t *err)
{
	if (sig <= 0 || sig >= NSIG)
		return novm_error(err, 0, "invalid signal %d", sig);
	/* kill(-1) spares only the caller when it is init; anywhere else it
	 * would reach the whole machine. */
	if (getpid() != 1)
		return novm_error(err, 0, "signal to all processes: the agent is not PID 1");
	if (kill(-1, sig) < 0 && errno != ESRCH)
		return novm_error(err, errno, "kill -1 %d", sig);
	return 0;
}

int session_resize(struct session_table *t, uint32_t id, uint16_t rows, uint16_t cols,
		   novm_error_t *err)
{
	struct session *s = find_or_fail(t, id, err);
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	if (!s)
		return -1;
	if (!s->terminal || s->out_fd < 0)
		return 0;
	if (ioctl(s->out_fd, TIOCSWINSZ, &ws) < 0)
		return novm_error(err, errno, "session %u: resize", id);
	return 0;
}

size_t sessions_stdin_backlog(const struct session_table *t)
{
	size_t total = 0;

	for (size_t i = 0; i < t->len; i++)
		total += t->items[i]->pending_len;
	return total;
}
