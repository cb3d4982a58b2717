#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"

/* Old names the kernel headers still define, which Go's table knows too. */
static const struct {
	const char *name;
	int signo;
} aliases[] = {
	{ "IOT", SIGIOT },
	{ "POLL", SIGPOLL },
	{ "CLD", SIGCHLD },
};

/* The highest signal number of x86-64 Linux (_NSIG). */
#define SIGNAL_MAX 64

static int parse_number(const char *s, int *out)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v < -1000 || v > 1000 ? -1 : (int)v;
	return 0;
}

/* SIGRTMIN, SIGRTMIN+n, SIGRTMAX, SIGRTMAX-n (glibc's values). */
static int parse_realtime(const char *name, int *signo)
{
	int n = 0;

	if (!strncasecmp(name, "RTMIN", 5)) {
		if (name[5] && (name[5] != '+' || parse_number(name + 6, &n) < 0))
			return -1;
		*signo = SIGRTMIN + n;
	} else if (!strncasecmp(name, "RTMAX", 5)) {
		if (name[5] && (name[5] != '-' || parse_number(name + 6, &n) < 0))
			return -1;
		*signo = SIGRTMAX - n;
	} else {
		return -1;
	}
	return *signo >= SIGRTMIN && *signo <= SIGRTMAX ? 0 : -1;
}

int signal_parse(const char *text, int *signo, novm_error_t *err)
{
	const char *name = text;
	int n;

	if (parse_number(text, &n) == 0) {
		/* 0 checks the process is there, as kill(2)'s. */
		if (n < 0 || n > SIGNAL_MAX)
			return novm_error(err, 0, "unable to signal init: invalid argument");
		*signo = n;
		return 0;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (int s = 1; s < SIGRTMIN; s++) {
		const char *abbrev = sigabbrev_np(s);
		if (abbrev && !strcasecmp(abbrev, name)) {
			*signo = s;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcasecmp(aliases[i].name, name)) {
			*signo = aliases[i].signo;
			return 0;
		}
	if (parse_realtime(name, signo) == 0)
		return 0;
	return novm_error(err, 0, "unknown signal \"%s\"", text);
}
