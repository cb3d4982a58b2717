#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

bool proc_parse_stat(const char *stat, char *state, uint64_t *start_time)
{
	/* "<pid> (<comm>) <state> ..." where comm may hold ") "; the start
	 * time is field 22, the 20th after the state. */
	const char *p = strrchr(stat, ')');
	unsigned long long v = 0;
	char *end;

	if (!p || p[1] != ' ' || !p[2])
		return false;
	*state = p[2];
	p += 3;
	for (int field = 4; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return false;
		if (field == 22) {
			errno = 0;
			v = strtoull(p, &end, 10);
			if (errno || end == p)
				return false;
			break;
		}
		p = strchr(p, ' ');
		if (!p)
			return false;
	}
	*start_time = v;
	return true;
}

bool proc_start_time(pid_t pid, uint64_t *start_time)
{
	cleanup_free char *text = NULL;
	char path[64], state;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, &text, NULL, NULL) < 0)
		return false;
	if (!proc_parse_stat(text, &state, start_time))
		return false;
	return state != 'Z' && state != 'X' && state != 'x';
}

bool proc_alive(pid_t pid, uint64_t start_time)
{
	uint64_t t;

	if (!proc_start_time(pid, &t))
		return false;
	return !start_time || t == start_time;
}

bool proc_wait_gone(pid_t pid, uint64_t start_time, int timeout_ms)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };

	for (int waited = 0;; waited += 10) {
		/* Our own child stays a zombie until reaped. */
		waitpid(pid, NULL, WNOHANG);
		if (!proc_alive(pid, start_time))
			return true;
		if (waited >= timeout_ms)
			return false;
		nanosleep(&step, NULL);
	}
}

void proc_exit_like(int status, int signo)
{
	if (signo > 0 && signo < NSIG && signo != SIGKILL && signo != SIGSTOP) {
		struct rlimit no_core = { 0, 0 };
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t set;

		fflush(NULL);
		/* No core of ours (a piped core_pattern ignores RLIMIT_CORE). */
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0);
		sigaction(signo, &dfl, NULL);
		sigemptyset(&set);
		sigaddset(&set, signo);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(signo);
		/* Still here: the signal's default is to ignore it or stop. */
	} else if (signo == SIGKILL) {
		fflush(NULL);
		raise(SIGKILL);
	}
	exit(status >= 0 && status <= 255 ? status : signo > 0 ? 128 + signo : 1);
}
