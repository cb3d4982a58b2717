#include "exec-session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "console-socket.h"
#include "log.h"

void exec_session_signals(sigset_t *set)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(set, forwarded[i]);
}

bool exec_parse_exit(const char *line, int *status, int *signo)
{
	char extra;

	return sscanf(line, CONTROL_ANS_EXIT " %d %d%c", status, signo, &extra) == 2 && *status >= 0 &&
	       *signo >= 0;
}

int exec_session_start(const char *dir, const char *verb, const char *process_json, size_t len,
		       const int stdio[3], bool tty, struct exec_session *s, novm_error_t *err)
{
	char request[128];
	const char *data;
	char *line;
	int got;

	*s = (struct exec_session){ .fd = -1 };
	if (len > CONTROL_MAX_PROCESS_JSON)
		return novm_error(err, 0, "the process is too big: %zu bytes of JSON (at most %d)", len,
				  CONTROL_MAX_PROCESS_JSON);
	if (ctl_connect(dir, &s->fd, err) < 0)
		return -1;
	ctl_reader_init(&s->reader, s->fd);
	snprintf(request, sizeof(request), "%s %zu%s\n", verb, len, tty ? " " CONTROL_REQ_EXEC_TTY : "");
	if (ctl_send(s->fd, request, stdio, 3, err) < 0 ||
	    ctl_write_all(s->fd, process_json, len, err) < 0)
		return -1;
	got = ctl_read_line(&s->reader, CTL_CALL_TIMEOUT_MS, &line, err);
	if (got < 0) {
		if ((*err)->errno_ == ETIMEDOUT)
			ctl_log_stall(dir, "exec");
		return -1;
	}
	if (got == 0)
		return novm_error(err, 0, "the VM stopped before the process started");
	if (exec_parse_exit(line, &s->status, &s->signo)) {
		s->ended = true;
		return 0;
	}
	if (ctl_parse_answer(line, &data, err) < 0)
		return -1;
	/* A pod container's init may be reported without its pid (0). */
	if (sscanf(data, "%d %u", &s->guest_pid, &s->session) < 1 || s->guest_pid < 0)
		return novm_error(err, 0, "unexpected answer from the VMM: \"ok %.80s\"", data);
	return 0;
}

static void forward(struct exec_session *s, const struct signalfd_siginfo *si, int winsize_fd)
{
	char line[64];
	novm_error_t err = NULL;

	if (si->ssi_signo == SIGWINCH) {
		struct winsize ws;
		/* 0x0 is a terminal nobody has sized: forwarding it would undo
		 * the process's consoleSize. */
		if (winsize_fd < 0 || ioctl(winsize_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
			return;
		snprintf(line, sizeof(line), CONTROL_REQ_RESIZE " %u %u\n", ws.ws_row, ws.ws_col);
	} else {
		snprintf(line, sizeof(line), CONTROL_REQ_SIGNAL " %u\n", si->ssi_signo);
	}
	if (ctl_send(s->fd, line, NULL, 0, &err) < 0) {
		log_msg(LOG_LEVEL_DEBUG, "exec: %s", err->msg);
		novm_error_release(&err);
	}
}

int exec_session_wait(struct exec_session *s, const sigset_t *signals, int winsize_fd,
		      novm_error_t *err)
{
	cleanup_close int sfd = signalfd(-1, signals, SFD_CLOEXEC);
	const char *rest;
	char *line;

	if (sfd < 0)
		return novm_error(err, errno, "signalfd");
	/* A terminal's size is sent at once: it may have changed since the
	 * process JSON was written. */
	if (winsize_fd >= 0) {
		struct signalfd_siginfo winch = { .ssi_signo = SIGWINCH };
		forward(s, &winch, winsize_fd);
	}
	while (!s->ended) {
		struct pollfd fds[2] = { { s->fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return novm_error(err, errno, "exec: poll");
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				forward(s, &si, winsize_fd);
		}
		if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		int got = ctl_read_line(&s->reader, -1, &line, err);
		if (got < 0)
			return -1;
		if (got == 0) {
			/* The VMM went away (killed, deleted): the process went with
			 * it, as runc's exec sees a process killed with its container. */
			log_msg(LOG_LEVEL_DEBUG, "exec: the VM stopped before the process ended");
			s->status = 128 + SIGKILL;
			s->signo = SIGKILL;
			s->ended = true;
			break;	/* no line: nothing more to read */
		}
		if (exec_parse_exit(line, &s->status, &s->signo))
			s->ended = true;
		else if ((rest = ctl_answer_rest(line, CONTROL_ANS_ERROR)) && *rest)
			log_msg(LOG_LEVEL_DEBUG, "exec: %s", rest);
	}
	return 0;
}

void exec_session_kill(struct exec_session *s)
{
	novm_error_t err = NULL;

	if (!s->ended && s->fd >= 0 && ctl_send(s->fd, CONTROL_REQ_SIGNAL " 9\n", NULL, 0, &err) < 0)
		novm_error_release(&err);
}

void exec_session_close(struct exec_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	ctl_reader_release(&s->reader);
}

int exec_stdio_open(bool terminal, const char *console_socket, struct exec_stdio *io,
		    novm_error_t *err)
{
	*io = (struct exec_stdio){ .fds = { 0, 1, 2 }, .pty_slave = -1, .winsize_fd = -1 };
	if (console_socket) {
		cleanup_free char *name = NULL;
		cleanup_close int master = -1;
		if (pty_open(&master, &io->pty_slave, &name, err) < 0 ||
		    console_socket_send(console_socket, master, name, err) < 0)
			return -1;
		io->fds[0] = io->fds[1] = io->fds[2] = io->pty_slave;
		/* As the slave's session leader we get its SIGWINCH when the
		 * listener resizes the master (a foreground novm-runc may lead a
		 * process group already: then sizes are not followed). */
		if (setsid() >= 0 || getsid(0) == getpid())
			ioctl(io->pty_slave, TIOCSCTTY, 0);
		io->winsize_fd = io->pty_slave;
		return 0;
	}
	if (terminal && isatty(STDIN_FILENO)) {
		/* Our own terminal: its keys go to the guest's pty untouched. */
		struct termios raw;
		if (tcgetattr(STDIN_FILENO, &io->saved) == 0) {
			raw = io->saved;
			cfmakeraw(&raw);
			io->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		}
		io->winsize_fd = STDIN_FILENO;
	}
	return 0;
}

void exec_stdio_close(struct exec_stdio *io)
{
	if (io->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &io->saved);
	io->raw = false;
	if (io->pty_slave >= 0)
		close(io->pty_slave);
	io->pty_slave = -1;
}

void exec_stdio_drop(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	for (int fd = 0; fd <= 2; fd++)
		dup2(null, fd);
	close(null);
}
