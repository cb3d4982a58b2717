/* novm-runc's pure parts: runc-style flag parsing, signal names, Go
 * durations, cgroup paths, /proc/<pid>/stat, live status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/cli.h"
#include "runtime/duration.h"
#include "runtime/proc.h"
#include "runtime/signals.h"
#include "runtime/state.h"
#include "tap.h"

enum { F_BUNDLE, F_PID_FILE, F_DETACH, F_ENV };

static const struct cli_flag flags[] = {
	{ "bundle|b", true, F_BUNDLE },
	{ "pid-file", true, F_PID_FILE },
	{ "detach|d", false, F_DETACH },
	{ "env|e", true, F_ENV },
	{ 0 },
};

/* Usage errors print the help on stdout, which is TAP's: hide it. */
static int saved_stdout = -1;
static void quiet(bool on)
{
	fflush(stdout);
	if (on) {
		saved_stdout = dup(1);
		freopen("/dev/null", "w", stdout);
	} else {
		fflush(stdout);
		dup2(saved_stdout, 1);
		close(saved_stdout);
	}
}

static void test_flags(void)
{
	char *argv[] = { "create", "-b", "/x", "--pid-file=/p", "-e", "A=1", "--env", "B=2", "c1",
			 "--detach", NULL };
	struct cli_parser p;
	int ids[8], n = 0, opt;
	const char *values[8];

	cli_init(&p, "create", 10, argv);
	while ((opt = cli_next(&p, flags)) != CLI_END && n < 8) {
		values[n] = p.value;
		ids[n++] = opt;
	}
	ok(n == 4 && ids[0] == F_BUNDLE && !strcmp(values[0], "/x") && ids[1] == F_PID_FILE &&
		   !strcmp(values[1], "/p") && ids[2] == F_ENV && !strcmp(values[2], "A=1") &&
		   ids[3] == F_ENV && !strcmp(values[3], "B=2"),
	   "values as `-f v`, `--f=v` and repeated flags");
	ok(cli_nargs(&p) == 2 && !strcmp(cli_arg(&p, 0), "c1") && !strcmp(cli_arg(&p, 1), "--detach"),
	   "flags stop at the first argument (a later --detach is an argument)");

	char *bogus[] = { "create", "-bogus", "c1", NULL };
	cli_init(&p, "create", 3, bogus);
	quiet(true);
	opt = cli_next(&p, flags);
	quiet(false);
	ok(opt == CLI_BAD, "-bogus is an unknown flag, not -b ogus");

	char *exec_argv[] = { "exec", "c1", "ls", "-l", NULL };
	cli_init(&p, "exec", 4, exec_argv);
	ok(cli_next(&p, flags) == CLI_END && p.index == 1, "`exec c1 ls -l` leaves -l to ls");

	char *bools[] = { "run", "--detach=false", "-d", "--detach=maybe", NULL };
	cli_init(&p, "run", 4, bools);
	opt = cli_next(&p, flags);
	ok(opt == F_DETACH && !p.bool_value, "--detach=false");
	opt = cli_next(&p, flags);
	ok(opt == F_DETACH && p.bool_value, "-d alone is true");
	quiet(true);
	opt = cli_next(&p, flags);
	quiet(false);
	ok(opt == CLI_BAD, "a boolean flag with a bad value");

	char *missing[] = { "create", "--bundle", NULL };
	cli_init(&p, "create", 2, missing);
	quiet(true);
	opt = cli_next(&p, flags);
	quiet(false);
	ok(opt == CLI_BAD, "a value flag at the end without its value");

	char *dashes[] = { "exec", "--", "-x", NULL };
	cli_init(&p, "exec", 3, dashes);
	ok(cli_next(&p, flags) == CLI_END && p.index == 2, "`--` ends the flags");

	char *help[] = { "state", "-h", NULL };
	cli_init(&p, "state", 2, help);
	quiet(true);
	opt = cli_next(&p, NULL);
	quiet(false);
	ok(opt == CLI_HELP, "-h is help for every command");

	char *counts[] = { "kill", "a", "b", "c", NULL };
	cli_init(&p, "kill", 4, counts);
	quiet(true);
	bool too_many = cli_check_args(&p, 1, 2);
	p.index = 3;
	bool fine = cli_check_args(&p, 1, 2);
	p.index = 4;
	bool too_few = cli_check_args(&p, 1, 2);
	quiet(false);
	ok(!too_many && fine && !too_few, "argument counts: maximum and minimum");

	long long v;
	ok(cli_parse_int("42", 0, 100, &v) && v == 42 && !cli_parse_int("4x", 0, 100, &v) &&
		   !cli_parse_int("101", 0, 100, &v) && !cli_parse_int("", 0, 100, &v),
	   "integers in a range");
}

static bool sig_is(const char *text, int want)
{
	int signo = -1;
	novm_error_t err = NULL;
	bool r = signal_parse(text, &signo, &err) == 0 && signo == want;
	novm_error_release(&err);
	return r;
}

static bool sig_fails(const char *text, const char *msg)
{
	int signo;
	novm_error_t err = NULL;
	bool r = signal_parse(text, &signo, &err) < 0 && err && !strcmp(err->msg, msg);
	novm_error_release(&err);
	return r;
}

static void test_signals(void)
{
	ok(sig_is("KILL", SIGKILL) && sig_is("SIGKILL", SIGKILL) && sig_is("kill", SIGKILL) &&
		   sig_is("9", SIGKILL) && sig_is("sigterm", SIGTERM),
	   "signal names in any case, with or without SIG, and numbers");
	ok(sig_is("SIGRTMIN+1", SIGRTMIN + 1) && sig_is("RTMAX-2", SIGRTMAX - 2) && sig_is("IOT", SIGABRT),
	   "real-time signals and old aliases");
	ok(sig_fails("FOO", "unknown signal \"FOO\""), "runc's message for an unknown name");
	ok(sig_fails("99", "unable to signal init: invalid argument") &&
		   sig_fails("-1", "unable to signal init: invalid argument"),
	   "numbers outside 0..64 are what kill(2) would refuse");
	ok(sig_is("0", 0), "0, runc's liveness check, is a signal number");
	ok(sig_fails("SIGRTMIN+99", "unknown signal \"SIGRTMIN+99\""), "a real-time signal past the end");
}

static bool dur_is(const char *text, int64_t want)
{
	int64_t ms = -1;
	return duration_parse_ms(text, &ms) && ms == want;
}

static void test_durations(void)
{
	ok(dur_is("5s", 5000) && dur_is("1m30s", 90000) && dur_is("250ms", 250) && dur_is("1.5h", 5400000) &&
		   dur_is("0", 0) && dur_is("2000us", 2),
	   "Go durations");
	int64_t ms;
	ok(!duration_parse_ms("", &ms) && !duration_parse_ms("5", &ms) && !duration_parse_ms("5x", &ms) &&
		   !duration_parse_ms("-1s", &ms) && !duration_parse_ms("s", &ms),
	   "bad durations are refused");
}

static bool cg_is(const char *path, bool systemd, const char *want)
{
	char *dir = NULL;
	novm_error_t err = NULL;
	bool r = cgroup_resolve("/cg", path, systemd, &dir, &err) == 0 &&
		 (want ? dir && !strcmp(dir, want) : !dir);
	if (!r)
		printf("# cgroup %s -> %s (%s)\n", path, dir ? dir : "NULL", err ? err->msg : "");
	free(dir);
	novm_error_release(&err);
	return r;
}

static bool cg_fails(const char *path, bool systemd)
{
	char *dir = NULL;
	novm_error_t err = NULL;
	bool r = cgroup_resolve("/cg", path, systemd, &dir, &err) < 0 && err && !dir;
	novm_error_release(&err);
	return r;
}

static void test_cgroups(void)
{
	ok(cg_is("/a/b", false, "/cg/a/b") && cg_is("a//b/./c/", false, "/cg/a/b/c") &&
		   cg_is("", false, NULL) && cg_is(NULL, true, NULL),
	   "cgroupfs paths under the root");
	ok(cg_fails("../x", false) && cg_fails("/a/../../x", false), "`..` cannot leave the cgroup root");
	ok(cg_is("system.slice:docker:abc", true, "/cg/system.slice/docker-abc.scope") &&
		   cg_is("a-b.slice:p:n", true, "/cg/a.slice/a-b.slice/p-n.scope") &&
		   cg_is("-.slice:p:n", true, "/cg/p-n.scope") && cg_is(":p:n", true, "/cg/system.slice/p-n.scope") &&
		   cg_is("system.slice::n", true, "/cg/system.slice/n.scope"),
	   "systemd slice:prefix:name as systemd nests it");
	ok(cg_fails("foo", true) && cg_fails("a:b", true) && cg_fails("a.scope:p:n", true) &&
		   cg_fails("system.slice:p:../n", true) && cg_fails("a--b.slice:p:n", true),
	   "malformed systemd paths");
}

static void test_proc(void)
{
	char state;
	uint64_t start;
	const char *stat = "123 (a) b) c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";

	ok(proc_parse_stat(stat, &state, &start) && state == 'S' && start == 987654,
	   "/proc/<pid>/stat: a command name with \") \" in it");
	ok(!proc_parse_stat("123 (x) S 1 2", &state, &start) && !proc_parse_stat("garbage", &state, &start),
	   "a short or garbled stat");
	ok(proc_start_time(getpid(), &start) && start > 0 && proc_alive(getpid(), start) &&
		   !proc_alive(getpid(), start + 1) && !proc_alive(0, 0),
	   "our own start time; a different start time is another process");
}

static void test_live_status(void)
{
	ok(!strcmp(state_live_status(OCI_STATUS_CREATING, false, false, false), "creating") &&
		   !strcmp(state_live_status(OCI_STATUS_CREATING, true, false, false), "stopped") &&
		   !strcmp(state_live_status(OCI_STATUS_CREATED, true, true, false), "created") &&
		   !strcmp(state_live_status(OCI_STATUS_CREATED, true, false, false), "stopped") &&
		   !strcmp(state_live_status(OCI_STATUS_RUNNING, true, true, false), "running") &&
		   !strcmp(state_live_status(OCI_STATUS_RUNNING, true, true, true), "paused") &&
		   !strcmp(state_live_status(OCI_STATUS_RUNNING, true, false, true), "stopped") &&
		   !strcmp(state_live_status(OCI_STATUS_STOPPED, true, true, false), "stopped"),
	   "the live status from the record and the VMM");
}

int main(void)
{
	test_flags();
	test_signals();
	test_durations();
	test_cgroups();
	test_proc();
	test_live_status();
	return tap_done();
}
