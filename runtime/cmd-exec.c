/* novm-runc exec: a new process in a created or running container.  A host process,
 * the proxy, stands for it: without --detach novm-runc itself, with
 * --detach a child left behind whose pid goes to --pid-file.  The proxy
 * hands its stdio (or a pty slave) to the VMM, forwards the signals it gets
 * and ends the way the process ended, so whoever waits for it (a shim)
 * sees the process's status.  Failures before the process runs exit 255,
 * like runc. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "compat.h"
#include "console-socket.h"
#include "create.h"
#include "exec-process.h"
#include "exec-session.h"
#include "lifecycle.h"
#include "log.h"
#include "pod.h"
#include "proc.h"
#include "runtime.h"
#include "util.h"
#include "vmm-child.h"

#define EXEC_FAILED 255

enum {
	OPT_CONSOLE_SOCKET, OPT_CWD, OPT_ENV, OPT_TTY, OPT_USER, OPT_ADDITIONAL_GIDS, OPT_PROCESS,
	OPT_DETACH, OPT_PID_FILE, OPT_PROCESS_LABEL, OPT_APPARMOR, OPT_NO_NEW_PRIVS, OPT_CAP,
	OPT_PRESERVE_FDS, OPT_CGROUP, OPT_IGNORE_PAUSED, OPT_PIDFD_SOCKET,
};

static const struct cli_flag exec_flags[] = {
	{ "console-socket", true, OPT_CONSOLE_SOCKET },
	{ "cwd", true, OPT_CWD },
	{ "env|e", true, OPT_ENV },
	{ "tty|t", false, OPT_TTY },
	{ "user|u", true, OPT_USER },
	{ "additional-gids|g", true, OPT_ADDITIONAL_GIDS },
	{ "process|p", true, OPT_PROCESS },
	{ "detach|d", false, OPT_DETACH },
	{ "pid-file", true, OPT_PID_FILE },
	{ "process-label", true, OPT_PROCESS_LABEL },
	{ "apparmor", true, OPT_APPARMOR },
	{ "no-new-privs", false, OPT_NO_NEW_PRIVS },
	{ "cap|c", true, OPT_CAP },
	{ "preserve-fds", true, OPT_PRESERVE_FDS },
	{ "cgroup", true, OPT_CGROUP },
	{ "ignore-paused", false, OPT_IGNORE_PAUSED },
	{ "pidfd-socket", true, OPT_PIDFD_SOCKET },
	{ 0 },
};

struct exec_options {
	struct exec_flags flags;
	const char *process_file;
	const char *console_socket;
	const char *pid_file;
	const char *pidfd_socket;
	const char *cgroup;
	bool detach;
	bool ignore_paused;
};

static int grow_append(void *array_p, size_t *n, size_t size, const void *item)
{
	void **array = array_p;
	char *grown = realloc(*array, (*n + 1) * size);

	if (!grown)
		return -1;
	memcpy(grown + *n * size, item, size);
	*array = grown;
	(*n)++;
	return 0;
}

static void exec_options_release(struct exec_options *o)
{
	free(o->flags.env);
	free(o->flags.caps);
	free(o->flags.additional_gids);
}

/* 0 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct exec_options *o, struct cli_parser *p)
{
	long long n;
	int opt;

	cli_init(p, "exec", argc, argv);
	while ((opt = cli_next(p, exec_flags)) != CLI_END) {
		int64_t gid;
		switch (opt) {
		case CLI_HELP: return -1;
		case CLI_BAD: return 1;
		case OPT_CONSOLE_SOCKET: o->console_socket = p->value; break;
		case OPT_CWD: o->flags.cwd = p->value; break;
		case OPT_ENV:
			if (grow_append(&o->flags.env, &o->flags.n_env, sizeof(char *), &p->value) < 0)
				return 1;
			break;
		case OPT_TTY: o->flags.tty = p->bool_value; break;
		case OPT_USER: o->flags.user = p->value; break;
		case OPT_ADDITIONAL_GIDS:
			if (!cli_parse_int(p->value, INT64_MIN, INT64_MAX, &n))
				return cli_bad_value(p, "additional-gids", "parse error");
			gid = n;
			if (grow_append(&o->flags.additional_gids, &o->flags.n_additional_gids,
					sizeof(int64_t), &gid) < 0)
				return 1;
			break;
		case OPT_PROCESS: o->process_file = p->value; break;
		case OPT_DETACH: o->detach = p->bool_value; break;
		case OPT_PID_FILE: o->pid_file = p->value; break;
		case OPT_NO_NEW_PRIVS:
			o->flags.has_no_new_privs = true;
			o->flags.no_new_privs = p->bool_value;
			break;
		case OPT_CAP:
			if (grow_append(&o->flags.caps, &o->flags.n_caps, sizeof(char *), &p->value) < 0)
				return 1;
			break;
		case OPT_PRESERVE_FDS:
			if (cli_check_preserve_fds(p))
				return 1;
			break;
		case OPT_IGNORE_PAUSED: o->ignore_paused = p->bool_value; break;
		case OPT_PIDFD_SOCKET: o->pidfd_socket = p->value; break;
		case OPT_CGROUP: o->cgroup = p->value; break;
		case OPT_APPARMOR:
		case OPT_PROCESS_LABEL:
			if (*p->value)
				log_msg(LOG_LEVEL_WARNING, "exec --%s %s is not honoured: %s does not run in the container's VM",
					opt == OPT_APPARMOR ? "apparmor" : "process-label", p->value,
					opt == OPT_APPARMOR ? "AppArmor" : "SELinux");
			break;
		}
	}
	if (!cli_check_args(p, 1, -1))
		return 1;
	o->flags.args = p->argv + p->index + 1;
	return 0;
}

static int check_status(const struct ctr_state *st, bool ignore_paused, novm_error_t *err)
{
	/* runc execs in a created container too: the agent runs an exec
	 * session whether or not the container's own process has started. */
	if (!strcmp(st->status, "running") || !strcmp(st->status, "created") ||
	    (!strcmp(st->status, "paused") && ignore_paused))
		return 0;
	if (!strcmp(st->status, "paused"))
		return novm_error(err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
	if (!strcmp(st->status, "creating"))
		return novm_error(err, 0, "cannot exec in a container that is being created");
	return novm_error(err, 0, "cannot exec in a stopped container");
}

static int build_process(const struct ctr_state *st, const struct exec_options *o,
			 struct oci_process *out, novm_error_t *err)
{
	cleanup_oci_spec struct oci_spec *spec = NULL;

	if (o->process_file) {
		cleanup_free char *text = NULL;
		size_t len;
		if (read_file(o->process_file, &text, &len, NULL) == 0)
			compat_warn_process(text, len);
		return exec_process_load(o->process_file, out, err);
	}
	if (oci_spec_load(st->oci->bundle, &spec, err) < 0)
		return -1;
	return exec_process_apply(&spec->process, &o->flags, out, err);
}

static int check_terminal(const struct oci_process *p, const struct exec_options *o, novm_error_t *err)
{
	if (p->terminal && o->detach && !o->console_socket)
		return novm_error(err, 0, "cannot allocate tty if runc will detach without setting console socket");
	if (!p->terminal && o->console_socket)
		return novm_error(err, 0, "cannot use console socket if runc will not detach or allocate tty");
	return 0;
}

struct proxy {
	const struct ctr_state *st;
	const struct exec_options *o;
	const struct oci_process *process;
	int *lock_fd;
	int report_fd;		/* detached: tells the parent "ok" or "error <msg>" */
};

/* Runs the session; on success ends this process the way the process
 * ended.  Returns only on failure. */
static int run_proxy(const struct proxy *px, novm_error_t *err)
{
	struct exec_stdio io = { .pty_slave = -1 };
	struct exec_session s = { .fd = -1 };
	cleanup_free char *json = NULL, *verb = ctr_request(px->st, CONTROL_REQ_EXEC);
	struct oci_process process = *px->process;
	sigset_t signals;
	size_t len;

	exec_session_signals(&signals);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	if (!verb) {
		novm_error(err, ENOMEM, "exec");
		goto fail;
	}
	if (exec_stdio_open(px->process->terminal, px->o->console_socket, &io, err) < 0)
		goto fail;
	if (process.terminal && io.winsize_fd >= 0) {
		struct winsize ws;
		if (ioctl(io.winsize_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
			process.has_console_size = true;
			process.console_height = ws.ws_row;
			process.console_width = ws.ws_col;
		} else if (process.has_console_size && io.pty_slave >= 0) {
			/* Our new pty has no size yet: it takes the process's
			 * consoleSize, as runc's does, so that the size we forward
			 * next (exec_session_wait) is that one, not 0x0. */
			ws = (struct winsize){ .ws_row = process.console_height,
					       .ws_col = process.console_width };
			ioctl(io.pty_slave, TIOCSWINSZ, &ws);
		}
	}
	if (exec_process_json(&process, &json, &len, err) < 0 ||
	    exec_session_start(ctr_control_dir(px->st), verb, json, len, io.fds, process.terminal, &s,
			       err) < 0) {
		exec_session_close(&s);
		goto fail;
	}
	log_msg(LOG_LEVEL_DEBUG, "exec %s: %s runs, guest pid %d, proxy pid %d", px->st->id,
		process.args.items[0], s.guest_pid, getpid());
	/* runc's pidfd is the exec's own process: ours is the proxy that the
	 * pid file names and that ends the way it ends. */
	if (px->o->pidfd_socket && compat_send_pidfd(px->o->pidfd_socket, getpid(), "setns", err) < 0) {
		exec_session_kill(&s);
		exec_session_close(&s);
		goto fail;
	}
	/* Started: others may change the container again (delete, kill). */
	close(*px->lock_fd);
	*px->lock_fd = -1;
	if (state_add_exec(px->st->dir, getpid(), err) < 0) {
		log_msg(LOG_LEVEL_DEBUG, "exec: %s", (*err)->msg);
		novm_error_release(err);
	}
	if (px->report_fd >= 0) {
		vmm_child_report(px->report_fd, "ok\n");
		close(px->report_fd);
		exec_stdio_drop();
	}
	int ret = exec_session_wait(&s, &signals, io.winsize_fd, err);
	log_msg(LOG_LEVEL_DEBUG, "exec %s: guest pid %d ended: status %d, signal %d", px->st->id,
		s.guest_pid, s.status, s.signo);
	state_remove_exec(px->st->dir, getpid());
	exec_session_close(&s);
	exec_stdio_close(&io);
	if (ret < 0)
		return -1;
	proc_exit_like(s.status, s.signo);
fail:
	exec_stdio_close(&io);
	return -1;
}

/* --detach: the proxy is a child that outlives us; we return once it has
 * the process running. */
static int run_detached(const struct proxy *px, novm_error_t *err)
{
	int report[2];
	char line[4096];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0)
		return novm_error(err, errno, "pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(report[0]);
		close(report[1]);
		return novm_error(err, errno, "fork the exec proxy");
	}
	if (pid == 0) {
		struct proxy child = *px;
		novm_error_t child_err = NULL;
		close(report[0]);
		setsid();
		child.report_fd = report[1];
		run_proxy(&child, &child_err);
		char *msg = NULL;
		if (asprintf(&msg, "error %s\n", child_err ? child_err->msg : "exec failed") >= 0)
			vmm_child_report(report[1], msg);
		_exit(EXEC_FAILED);
	}
	close(report[1]);
	while (len < sizeof(line) - 1 && (n = read(report[0], line + len, sizeof(line) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += n;
		if (memchr(line, '\n', len))
			break;
	}
	close(report[0]);
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "ok"))
		return px->o->pid_file ? write_pid_file(px->o->pid_file, pid, err) : 0;
	waitpid(pid, NULL, 0);
	if (!strncmp(line, "error ", 6))
		return novm_error(err, 0, "%s", line + 6);
	return novm_error(err, 0, "the exec proxy ended before the process started");
}

int cmd_exec(const struct runtime_globals *g, int argc, char **argv)
{
	struct exec_options o = { 0 };
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	struct oci_process process = { 0 };
	novm_error_t err = NULL;
	struct cli_parser p;
	int ret = parse_options(argc, argv, &o, &p);

	if (ret) {
		exec_options_release(&o);
		return ret < 0 ? 0 : ret;
	}
	if ((o.cgroup && compat_check_exec_cgroup(o.cgroup, &err) < 0) ||
	    ctr_open(g->root, cli_arg(&p, 0), &lock_fd, &st, &err) < 0 ||
	    check_status(&st, o.ignore_paused, &err) < 0 || build_process(&st, &o, &process, &err) < 0 ||
	    check_terminal(&process, &o, &err) < 0)
		goto fail;
	const struct proxy px = { &st, &o, &process, &lock_fd, -1 };
	if (o.detach) {
		if (run_detached(&px, &err) < 0)
			goto fail;
		oci_process_release(&process);
		exec_options_release(&o);
		return 0;
	}
	if (o.pid_file && write_pid_file(o.pid_file, getpid(), &err) < 0)
		goto fail;
	run_proxy(&px, &err);
fail:
	oci_process_release(&process);
	exec_options_release(&o);
	novm_error_wrap(&err, "exec failed");
	log_error_and_release(&err);
	return EXEC_FAILED;
}
