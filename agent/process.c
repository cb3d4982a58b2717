#include "process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "seccomp.h"
#include "util.h"

#define DEFAULT_UMASK 0022

/* ---- pure helpers ---- */

const char *process_env_get(char *const *env, const char *key)
{
	size_t len = strlen(key);

	for (; env && *env; env++)
		if (strncmp(*env, key, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

char *passwd_home(const char *passwd, uint32_t uid)
{
	for (const char *line = passwd; line && *line;) {
		const char *end = strchrnul(line, '\n');
		const char *field[7];
		int n = 0;

		/* name:password:uid:gid:gecos:home:shell */
		field[n++] = line;
		for (const char *c = line; c < end && n < 7; c++)
			if (*c == ':')
				field[n++] = c + 1;
		if (n >= 6 && isdigit((unsigned char)*field[2])) {
			char *num_end;
			unsigned long v = strtoul(field[2], &num_end, 10);

			if (*num_end == ':' && v == uid) {
				const char *home_end = n == 7 ? field[6] - 1 : end;

				return strndup(field[5], home_end - field[5]);
			}
		}
		line = *end ? end + 1 : end;
	}
	return NULL;
}

/* Go's syscall errors read "no such file or directory": glibc's with the
 * first letter lowered. */
static void lower_first(char *s)
{
	if (*s)
		*s = (char)tolower((unsigned char)*s);
}

static int exec_error(novm_error_t *err, int status, const char *name, const char *detail)
{
	novm_error(err, 0, "exec: \"%s\": %s", name, detail);
	return status;
}

/* Go's findExecutable: a regular (non-directory) file we may execute. */
static int check_executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
		return -errno;
	return 0;
}

int process_find_executable(const char *name, const char *search_path, char **out,
			    novm_error_t *err)
{
	cleanup_free char *dirs = NULL;
	char *dir;
	int r;

	if (strchr(name, '/')) {
		r = check_executable(name);
		if (r < 0) {
			char reason[128];

			snprintf(reason, sizeof(reason), "%s", strerror(-r));
			lower_first(reason);
			if (r == -ENOENT || r == -ENOTDIR) {
				novm_error(err, 0, "exec: \"%s\": stat %s: %s", name, name, reason);
				return PROCESS_STATUS_NOT_FOUND;
			}
			return exec_error(err, PROCESS_STATUS_NOT_EXECUTABLE, name, reason);
		}
		*out = strdup(name);
		return *out ? 0 : novm_error(err, ENOMEM, "exec");
	}
	dirs = strdup(search_path ? search_path : "");
	if (!dirs)
		return novm_error(err, ENOMEM, "exec");
	/* strsep keeps empty entries, which mean the current directory. */
	for (char *rest = dirs; (dir = strsep(&rest, ":")) != NULL;) {
		cleanup_free char *candidate = NULL;

		if (asprintf(&candidate, "%s/%s", *dir ? dir : ".", name) < 0)
			return novm_error(err, ENOMEM, "exec");
		if (check_executable(candidate) == 0) {
			*out = steal_pointer(&candidate);
			return 0;
		}
	}
	return exec_error(err, PROCESS_STATUS_NOT_FOUND, name,
			  "executable file not found in $PATH");
}

/* ---- the steps, in the child ---- */

static int setup_stdio(const struct process_stdio *stdio, novm_error_t *err)
{
	const int fds[3] = { stdio->in, stdio->out, stdio->err };

	if (stdio->tty >= 0 && ioctl(stdio->tty, TIOCSCTTY, 0) < 0)
		return novm_error(err, errno, "make the terminal the controlling one");
	for (int i = 0; i < 3; i++) {
		/* dup2 onto itself would keep close-on-exec */
		if (fds[i] == i) {
			if (fcntl(i, F_SETFD, 0) < 0)
				return novm_error(err, errno, "stdio");
		} else if (dup2(fds[i], i) < 0) {
			return novm_error(err, errno, "stdio");
		}
	}
	return 0;
}

static int set_rlimits(const struct oci_process *p, novm_error_t *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct oci_rlimit *rl = &p->rlimits[i];
		struct rlimit lim = { .rlim_cur = rl->soft, .rlim_max = rl->hard };

		if (setrlimit(rl->resource, &lim) < 0)
			return novm_error(err, errno, "setrlimit %s", rl->type);
	}
	return 0;
}

static int set_oom_score_adj(const struct oci_process *p, novm_error_t *err)
{
	cleanup_close int fd = -1;
	char text[16];
	int len;

	if (!p->has_oom_score_adj)
		return 0;
	len = snprintf(text, sizeof(text), "%d", p->oom_score_adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != len)
		return novm_error(err, errno, "set oomScoreAdj %d", p->oom_score_adj);
	return 0;
}

static int switch_user(const struct oci_user *u, novm_error_t *err)
{
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0)
		return novm_error(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return novm_error(err, errno, "setresgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return novm_error(err, errno, "setresuid %u", u->uid);
	return 0;
}

/* process.env, plus HOME from the root's /etc/passwd (or "/") when the
 * config leaves it out, as runc does. */
static char **build_env(const struct oci_process *p)
{
	cleanup_free char *passwd = NULL, *home = NULL;
	size_t n = p->env.len;
	char **env;
	novm_error_t err = NULL;

	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		env[i] = p->env.items[i];
	if (process_env_get(env, "HOME"))
		return env;
	if (read_file("/etc/passwd", &passwd, NULL, &err) == 0)
		home = passwd_home(passwd, p->user.uid);
	novm_error_release(&err);
	if (asprintf(&env[n], "HOME=%s", home && *home ? home : "/") < 0)
		env[n] = NULL;
	return env;
}

/* All but the error pipe must be gone from the exec'd program, whatever
 * PID 1 forgot to mark. */
static void close_other_fds(void)
{
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
}

static int prepare(const struct oci_process *p, const struct oci_seccomp *seccomp,
		   const struct process_stdio *stdio, char **exe, char ***env, novm_error_t *err)
{
	const char *cwd = p->cwd ? p->cwd : "/";
	bool chdir_later = false;

	if (setsid() < 0)
		return novm_error(err, errno, "setsid");
	if (setup_stdio(stdio, err) < 0)
		return -1;
	close_other_fds();
	umask(p->user.has_umask ? p->user.umask : DEFAULT_UMASK);
	if (set_rlimits(p, err) < 0 || set_oom_score_adj(p, err) < 0)
		return -1;

	/* As root first, as runc does: the user may not be able to reach
	 * the directory it is meant to start in, but it must exist. */
	if (chdir(cwd) < 0) {
		if (errno == ENOENT) {
			novm_error_t ignored = NULL;

			mkdir_p(cwd, 0755, &ignored);
			novm_error_release(&ignored);
		}
		if (chdir(cwd) < 0) {
			if (errno != EACCES && errno != EPERM)
				return novm_error(err, errno, "chdir to cwd (\"%s\")", cwd);
			chdir_later = true;
		}
	}

	if (p->has_capabilities && caps_drop_bounding(&p->capabilities, err) < 0)
		return -1;
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it
	 * while it is still held (runc's order). */
	if (seccomp && !p->no_new_privileges && seccomp_apply(seccomp, err) < 0)
		return -1;
	if (p->has_capabilities && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return novm_error(err, errno, "PR_SET_KEEPCAPS");
	if (switch_user(&p->user, err) < 0)
		return -1;
	if (p->has_capabilities) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return novm_error(err, errno, "PR_SET_KEEPCAPS");
		if (caps_apply(&p->capabilities, err) < 0)
			return -1;
	}
	if (chdir_later && chdir(cwd) < 0)
		return novm_error(err, errno, "chdir to cwd (\"%s\")", cwd);

	*env = build_env(p);
	if (!*env)
		return novm_error(err, ENOMEM, "environment");
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return novm_error(err, errno, "PR_SET_NO_NEW_PRIVS");
	{
		const char *search = process_env_get(*env, "PATH");
		int status = process_find_executable(p->args.items[0],
						     search ? search : PROCESS_DEFAULT_PATH, exe,
						     err);
		if (status != 0)
			return status;
	}
	/* Last, so the filter has the fewest of our own calls to allow. */
	if (seccomp && p->no_new_privileges && seccomp_apply(seccomp, err) < 0)
		return -1;
	return 0;
}

static void report(int err_fd, const char *msg)
{
	/* Failing, the parent stopped listening: nobody to tell. */
	write_all(err_fd, msg, strlen(msg));
}

__attribute__((noreturn)) void process_exec(const struct oci_process *p,
					    const struct oci_seccomp *seccomp,
					    const struct process_stdio *stdio, int err_fd)
{
	char *exe = NULL, **env = NULL;
	novm_error_t err = NULL;
	int status = prepare(p, seccomp, stdio, &exe, &env, &err);

	if (status == 0) {
		execve(exe, p->args.items, env);
		status = errno == EACCES || errno == EPERM || errno == ENOEXEC || errno == EISDIR
				 ? PROCESS_STATUS_NOT_EXECUTABLE
				 : PROCESS_STATUS_NOT_FOUND;
		novm_error(&err, errno, "exec %s", exe);
	} else if (status < 0) {
		status = PROCESS_STATUS_NOT_FOUND;
	}
	report(err_fd, err ? err->msg : "cannot start the process");
	_exit(status);
}
