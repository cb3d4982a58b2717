/* novm-runc run: create + start, then (without --detach) wait in the
 * foreground, forwarding signals to the container's process, and exit with
 * its status (128+n for a signal); the container is deleted afterwards
 * unless --keep. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "control-client.h"
#include "create.h"
#include "lifecycle.h"
#include "log.h"
#include "runtime.h"

enum { OPT_BUNDLE, OPT_CONSOLE_SOCKET, OPT_DETACH, OPT_KEEP, OPT_PID_FILE, OPT_IGNORED,
       OPT_PRESERVE_FDS, OPT_PIDFD_SOCKET };

static const struct cli_flag run_flags[] = {
	{ "bundle|b", true, OPT_BUNDLE },
	{ "console-socket", true, OPT_CONSOLE_SOCKET },
	{ "detach|d", false, OPT_DETACH },
	{ "keep", false, OPT_KEEP },
	{ "pid-file", true, OPT_PID_FILE },
	{ "no-subreaper", false, OPT_IGNORED },
	{ "no-pivot", false, OPT_IGNORED },
	{ "no-new-keyring", false, OPT_IGNORED },
	{ "preserve-fds", true, OPT_PRESERVE_FDS },
	{ "pidfd-socket", true, OPT_PIDFD_SOCKET },
	{ 0 },
};

/* The signals run forwards to the container (SIGWINCH as its terminal's
 * size), plus SIGCHLD to learn that the VMM is gone. */
static void run_signals(sigset_t *set)
{
	static const int taken[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
				     SIGCHLD };

	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(taken); i++)
		sigaddset(set, taken[i]);
}

static void forward_signal(const char *dir, int signo, bool own_terminal)
{
	novm_error_t err = NULL;
	char request[64];

	if (signo == SIGWINCH) {
		struct winsize ws;
		if (!own_terminal || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
			return;
		snprintf(request, sizeof(request), CONTROL_REQ_RESIZE " %u %u", ws.ws_row, ws.ws_col);
	} else {
		snprintf(request, sizeof(request), CONTROL_REQ_KILL " %d", signo);
	}
	if (ctl_call(dir, request, NULL, &err) < 0) {
		log_msg(LOG_LEVEL_DEBUG, "run: %s: %s", request, err->msg);
		novm_error_release(&err);
	}
}

/* Waits for the VMM (our child) to end; its wait status. */
static int wait_vmm(pid_t pid, const char *dir, const sigset_t *signals, bool own_terminal)
{
	cleanup_close int sfd = signalfd(-1, signals, SFD_CLOEXEC);
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return r == pid ? status : 0;
		struct pollfd pfd = { sfd, POLLIN, 0 };
		if (sfd < 0 || poll(&pfd, 1, 1000) <= 0)
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo == SIGCHLD)
			continue;
		forward_signal(dir, si.ssi_signo, own_terminal);
	}
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* A start that failed: the VMM ends by itself (its process never ran);
 * its exit code (127 for a missing program) is ours too. */
static int wait_failed_start(pid_t pid)
{
	int status;

	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			int code = exit_code(status);
			return code ? code : 1;
		}
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}

static void remove_container(const struct runtime_globals *g, const char *id)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	novm_error_t err = NULL;

	if (ctr_open(g->root, id, &lock_fd, &st, &err) < 0 || ctr_destroy(&st, &err) < 0) {
		log_msg(LOG_LEVEL_WARNING, "run: cleaning up %s: %s", id, err->msg);
		novm_error_release(&err);
	}
}

int cmd_run(const struct runtime_globals *g, int argc, char **argv)
{
	struct create_options o = { .bundle = ".", .run = true };
	struct created_container c;
	cleanup_ctr_state struct ctr_state st = { 0 };
	bool detach = false, keep = false, raw = false;
	struct termios saved;
	novm_error_t err = NULL;
	struct cli_parser p;
	sigset_t signals;
	int opt, status = 1;

	cli_init(&p, "run", argc, argv);
	while ((opt = cli_next(&p, run_flags)) != CLI_END) {
		switch (opt) {
		case CLI_HELP: return 0;
		case CLI_BAD: return 1;
		case OPT_BUNDLE: o.bundle = p.value; break;
		case OPT_CONSOLE_SOCKET: o.console_socket = p.value; break;
		case OPT_DETACH: detach = p.bool_value; break;
		case OPT_KEEP: keep = p.bool_value; break;
		case OPT_PID_FILE: o.pid_file = p.value; break;
		case OPT_PIDFD_SOCKET: o.pidfd_socket = p.value; break;
		case OPT_PRESERVE_FDS:
			if (cli_check_preserve_fds(&p))
				return 1;
			break;
		default: break;
		}
	}
	if (!cli_check_args(&p, 1, 1))
		return 1;
	o.id = cli_arg(&p, 0);
	o.foreground = !detach;

	/* From here on our signals are the container's: none may end us
	 * before the VMM is created and known. */
	run_signals(&signals);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	if (container_create(g, &o, &c, &err) < 0) {
		status = c.vmm_exit_code > 0 ? c.vmm_exit_code : 1;
		goto out;
	}
	if (state_load(g->root, o.id, &st, &err) < 0 || ctr_start(&st, &err) < 0) {
		log_error_and_release(&err);
		close(c.lock_fd);
		c.lock_fd = -1;
		status = wait_failed_start(c.pid);
		remove_container(g, o.id);
		created_container_release(&c);
		goto out;
	}
	/* Others may exec, kill or pause it now. */
	close(c.lock_fd);
	c.lock_fd = -1;
	if (detach) {
		status = 0;
		created_container_release(&c);
		goto out;
	}
	bool own_terminal = c.terminal && !o.console_socket && isatty(STDIN_FILENO);
	if (own_terminal && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
		forward_signal(c.dir, SIGWINCH, true);
	}
	status = exit_code(wait_vmm(c.pid, c.dir, &signals, own_terminal));
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (!keep)
		remove_container(g, o.id);
	created_container_release(&c);
out:
	/* The mask stays: a signal still pending was the container's. */
	if (err)
		log_error_and_release(&err);
	return status;
}
