#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "state-json.h"
#include "util.h"

#define HOOKS_FILE "config.json"
/* Enough of a failing hook's output to say why. */
#define HOOK_OUTPUT_MAX 1024

static bool has_hooks(const struct oci_hooks *h)
{
	return h->prestart.len || h->create_runtime.len || h->create_container.len ||
	       h->start_container.len || h->poststart.len || h->poststop.len;
}

int hooks_save(const char *state_dir, const struct oci_hooks *hooks, const char *config_text,
	       size_t len, novm_error_t *err)
{
	cleanup_free char *path = NULL;

	if (!has_hooks(hooks))
		return 0;
	if (asprintf(&path, "%s/%s", state_dir, HOOKS_FILE) < 0)
		return novm_error(err, ENOMEM, "hooks");
	return write_file_atomic(path, config_text, len, 0600, err);
}

int hooks_load(const char *state_dir, struct oci_hooks *out, novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (asprintf(&path, "%s/%s", state_dir, HOOKS_FILE) < 0)
		return novm_error(err, ENOMEM, "hooks");
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (read_file(path, &text, &len, err) < 0)
		return -1;
	return oci_hooks_parse(path, text, len, out, err);
}

/* A NULL-terminated copy of the pointers of v (the strings are shared). */
static char **argv_of(const struct oci_strv *v, const char *fallback)
{
	char **a = calloc(v->len + 2, sizeof(*a));

	if (!a)
		return NULL;
	for (size_t i = 0; i < v->len; i++)
		a[i] = v->items[i];
	if (!v->len && fallback)
		a[0] = (char *)fallback;
	return a;
}

static __attribute__((noreturn)) void exec_hook(const struct oci_hook *h, int in_fd, int out_fd)
{
	sigset_t none;
	char **argv = argv_of(&h->args, h->path), **envp = argv_of(&h->env, NULL);

	/* The runtime blocks signals around its own waits; a hook starts
	 * with none blocked, as any program would. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0 || !argv || !envp)
		_exit(127);
	execve(h->path, argv, envp);
	dprintf(STDERR_FILENO, "exec: %s", strerror(errno));
	_exit(127);
}

/* Reads the hook's output until it exits (not until EOF: a daemon it
 * started may hold the pipe) or its timeout passes.  Its wait status, or
 * -1 when it was killed for the timeout. */
static int collect(pid_t pid, int out_fd, int timeout_s, char *output, size_t *used)
{
	int64_t deadline = timeout_s > 0 ? monotonic_ms() + timeout_s * 1000LL : 0;
	bool eof = false;
	int status;

	for (;;) {
		/* After EOF poll only sleeps (a negative fd is skipped). */
		struct pollfd pfd = { eof ? -1 : out_fd, POLLIN, 0 };
		if (poll(&pfd, 1, 100) > 0) {
			char buf[512];
			ssize_t n = read(out_fd, buf, sizeof(buf));
			if (n > 0 && *used < HOOK_OUTPUT_MAX) {
				size_t keep = (size_t)n < HOOK_OUTPUT_MAX - *used ? (size_t)n
										     : HOOK_OUTPUT_MAX - *used;
				memcpy(output + *used, buf, keep);
				*used += keep;
			}
			if (n > 0)
				continue;
			if (n == 0 || errno != EINTR)
				eof = true;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		if (deadline && monotonic_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
	}
}

static int run_one(const struct oci_hook *h, const char *phase, const char *state, size_t state_len,
		   novm_error_t *err)
{
	cleanup_close int in_r = -1, in_w = -1, out_r = -1, out_w = -1;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_pipe;
	char output[HOOK_OUTPUT_MAX + 1];
	size_t used = 0;
	int fds[2], status;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return novm_error(err, errno, "%s hook %s: pipe", phase, h->path);
	in_r = fds[0], in_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return novm_error(err, errno, "%s hook %s: pipe", phase, h->path);
	out_r = fds[0], out_w = fds[1];

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return novm_error(err, errno, "%s hook %s: fork", phase, h->path);
	if (pid == 0)
		exec_hook(h, in_r, out_w);
	close(steal_fd(&in_r));
	close(steal_fd(&out_w));

	/* A hook that never reads its stdin must cost an EPIPE, not us. */
	sigaction(SIGPIPE, &ignore, &old_pipe);
	if (write(in_w, state, state_len) < 0) {
		/* the hook did not want the state: its business */
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(steal_fd(&in_w));

	status = collect(pid, out_r, h->has_timeout ? h->timeout : 0, output, &used);
	while (used && (output[used - 1] == '\n' || output[used - 1] == '\r'))
		used--;
	output[used] = '\0';
	if (status == -1)
		return novm_error(err, 0, "%s hook %s: timed out after %d s%s%s", phase, h->path,
				  h->timeout, used ? ": " : "", output);
	if (WIFSIGNALED(status))
		return novm_error(err, 0, "%s hook %s: killed by signal %d%s%s", phase, h->path,
				  WTERMSIG(status), used ? ": " : "", output);
	if (WEXITSTATUS(status))
		return novm_error(err, 0, "%s hook %s: exit status %d%s%s", phase, h->path,
				  WEXITSTATUS(status), used ? ": " : "", output);
	return 0;
}

int hooks_run(const struct oci_hook_list *list, const char *phase, const struct ctr_state *st,
	      novm_error_t *err)
{
	cleanup_free char *state = NULL;
	size_t len;

	if (!list->len)
		return 0;
	if (state_json_pretty(st, &state, &len, err) < 0)
		return -1;
	for (size_t i = 0; i < list->len; i++)
		if (run_one(&list->hooks[i], phase, state, len, err) < 0)
			return -1;
	return 0;
}

void hooks_run_warn(const struct oci_hook_list *list, const char *phase,
		    const struct ctr_state *st)
{
	novm_error_t err = NULL;

	/* The spec: log a warning, the remaining hooks and the lifecycle go on. */
	for (size_t i = 0; i < list->len; i++) {
		const struct oci_hook_list one = { .hooks = &list->hooks[i], .len = 1 };
		if (hooks_run(&one, phase, st, &err) < 0) {
			log_msg(LOG_LEVEL_WARNING, "%s", err->msg);
			novm_error_release(&err);
		}
	}
}
