/* The container's process: applying an OCI `process` to a forked child of
 * PID 1 and exec'ing it, in runc's order.  Runs inside the container's
 * root (PID 1 has switched into it). */
#ifndef NOVM_AGENT_PROCESS_H
#define NOVM_AGENT_PROCESS_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "oci/spec.h"

#define PROCESS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Exit statuses of a process that could not be started, as shells and
 * Docker use them. */
#define PROCESS_STATUS_NOT_FOUND 127
#define PROCESS_STATUS_NOT_EXECUTABLE 126

/* The child's standard streams. */
struct process_stdio {
	int in, out, err;	/* become fds 0, 1, 2 */
	int tty;		/* the terminal's slave when process.terminal, else -1 */
};

/* In the forked child: setsid, stdio (the terminal becomes the controlling
 * one), umask, rlimits, oomScoreAdj, cwd, bounding set, user and groups,
 * capabilities, noNewPrivileges, seccomp, PATH lookup, execve.  Never
 * returns: on failure the message is written to err_fd (close-on-exec, so
 * the parent reads EOF alone when the exec succeeded) and the child exits
 * with PROCESS_STATUS_NOT_EXECUTABLE for permission problems, else
 * PROCESS_STATUS_NOT_FOUND. */
__attribute__((noreturn)) void process_exec(const struct oci_process *p,
					    const struct oci_seccomp *seccomp,
					    const struct process_stdio *stdio, int err_fd);

/* Finds the program to exec as Go's exec.LookPath does for runc: a name
 * with '/' is used as is, else each directory of search_path is tried
 * ("" meaning "."), and only an executable regular file matches.  Returns
 * 0 with *out (heap), or PROCESS_STATUS_NOT_FOUND/_NOT_EXECUTABLE with
 * runc's message in *err:
 *   exec: "foo": executable file not found in $PATH
 *   exec: "/x": stat /x: no such file or directory
 *   exec: "/etc": permission denied */
int process_find_executable(const char *name, const char *search_path, char **out,
			    novm_error_t *err);

/* The value of key in an environment list ("KEY=value"), or NULL. */
const char *process_env_get(char *const *env, const char *key);

/* The home directory of uid in the text of an /etc/passwd, or NULL. */
char *passwd_home(const char *passwd, uint32_t uid);

#endif
