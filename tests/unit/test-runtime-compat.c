/* novm-runc's runc-compatibility pieces that need no VM (issue 8): ps's
 * table from the agent's answer, terminal-safe guest text, exec --cgroup,
 * runc's log lines at debug level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "runtime/compat.h"
#include "runtime/ps-table.h"
#include "tap.h"

static char *print_to_string(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	fn(out, arg);
	fclose(out);
	return buf;
}

static void escape_fn(FILE *out, void *arg)
{
	fputs_escaped(arg, out);
}

static bool escapes_to(const char *in, const char *want)
{
	char *got = print_to_string(escape_fn, (void *)in);
	bool r = !strcmp(got, want);

	if (!r)
		printf("# \"%s\" gave \"%s\"\n", in, got);
	free(got);
	return r;
}

static void test_escape(void)
{
	ok(escapes_to("sleep 1000", "sleep 1000") && escapes_to("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"),
	   "plain text and UTF-8 pass");
	ok(escapes_to("a\x1b]0;x\x07z\n\x7f", "a\\x1b]0;x\\x07z\\x0a\\x7f"), "C0 controls and DEL escaped");
	ok(escapes_to("\xc2\x9b" "2J", "\\xc2\\x9b2J"), "a C1 CSI (U+009B) escaped");
	ok(escapes_to("\xff\xc3(\xed\xa0\x80", "\\xff\\xc3(\\xed\\xa0\\x80"),
	   "bytes that are not UTF-8 (and surrogates) escaped");
}

static bool format_is(const char *want, int argc, char **argv)
{
	struct ps_format fmt;
	novm_error_t err = NULL;
	struct ps_proc none = { 0 };
	char *buf = NULL;
	size_t len = 0;

	if (ps_parse_options(argc, argv, &fmt, &err) < 0) {
		printf("# %s\n", err->msg);
		novm_error_release(&err);
		return false;
	}
	FILE *out = open_memstream(&buf, &len);
	ps_print(out, &fmt, &none, 0, 0);
	fclose(out);
	bool r = !strcmp(buf, want);
	if (!r)
		printf("# header \"%s\"\n", buf);
	free(buf);
	return r;
}

static bool option_fails(const char *msg, int argc, char **argv)
{
	struct ps_format fmt;
	novm_error_t err = NULL;
	bool r = ps_parse_options(argc, argv, &fmt, &err) < 0 && strstr(err->msg, msg);

	novm_error_release(&err);
	return r;
}

static void test_ps_options(void)
{
	char *ef[] = { "-ef" }, *e[] = { "-e" }, *o[] = { "-o", "pid,comm" }, *o2[] = { "-eopid,user,etime" };
	char *bsd[] = { "aux" }, *bad_o[] = { "-o", "pid,wchan" }, *no_list[] = { "-o" }, *x[] = { "-x" };

	ok(format_is("UID        PID  PPID  C STIME TTY          TIME CMD\n", 0, NULL) &&
		   format_is("UID        PID  PPID  C STIME TTY          TIME CMD\n", 1, ef),
	   "no options is -ef: procps's header");
	ok(format_is("  PID TTY          TIME CMD\n", 1, e), "-e: PID TTY TIME CMD");
	ok(format_is("  PID COMMAND\n", 2, o) && format_is("  PID USER         ELAPSED\n", 1, o2),
	   "-o lists, as a separate or attached argument");
	ok(option_fails("unsupported option \"aux\"", 1, bsd) && option_fails("\"-x\"", 1, x) &&
		   option_fails("column \"wchan\"", 2, bad_o) && option_fails("-o needs", 1, no_list),
	   "what we cannot show is an error naming it");
}

static void test_ps_columns(void)
{
	char buf[64];
	time_t now = 1700000000;

	ps_tty_name(0, buf, sizeof(buf));
	ok(!strcmp(buf, "?"), "no terminal: ?");
	ps_tty_name((136 << 8) | 3, buf, sizeof(buf));
	ok(!strcmp(buf, "pts/3"), "pts/3 (%s)", buf);
	ps_tty_name((4 << 8) | 65, buf, sizeof(buf));
	ok(!strcmp(buf, "ttyS1"), "ttyS1 (%s)", buf);
	ps_tty_name((5 << 8) | 1, buf, sizeof(buf));
	ok(!strcmp(buf, "console"), "console");
	ps_cpu_time(62500, buf, sizeof(buf));
	ok(!strcmp(buf, "00:01:02"), "TIME 00:01:02 (%s)", buf);
	ps_cpu_time((2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000ull, buf, sizeof(buf));
	ok(!strcmp(buf, "2-03:04:05"), "TIME with days (%s)", buf);
	ps_start_time(now - 60, now, buf, sizeof(buf));
	ok(strlen(buf) == 5 && buf[2] == ':', "STIME within a day: HH:MM (%s)", buf);
	ps_start_time(now - 40 * 86400, now, buf, sizeof(buf));
	ok(strlen(buf) == 5 && buf[2] != ':', "STIME within a year: MonDD (%s)", buf);
	ps_start_time(-1, now, buf, sizeof(buf));
	ok(!strcmp(buf, "?"), "unknown start: ?");
}

static void test_ps_table(void)
{
	const char *answer =
		"[{\"pid\":56,\"ppid\":0,\"uid\":0,\"cmd\":\"[defunct]\"},"
		"{\"pid\":57,\"ppid\":1,\"uid\":1000,\"cmd\":\"sleep 1000\",\"comm\":\"sleep\",\"tty\":34819,"
		"\"cpu_ms\":2500,\"start\":1699999990,\"elapsed_ms\":5000},"
		"{\"pid\":58,\"ppid\":57,\"uid\":0,\"cmd\":\"sh \\u001b[2J\"}]";
	struct ps_proc *procs = NULL;
	novm_error_t err = NULL;
	struct ps_format fmt;
	size_t n = 0;
	char *buf = NULL;
	size_t len = 0;

	/* The agent answers with the container's cgroup only: every entry is
	 * the container's, "[comm]" ones (empty command lines) included. */
	ok(ps_parse_answer(answer, &procs, &n, &err) == 0 && n == 3 && procs[0].pid == 56 &&
		   procs[1].pid == 57 && procs[2].pid == 58 && !procs[2].has_times,
	   "every entry of the agent's answer is kept, \"[comm]\" and entries without times too");
	ps_parse_options(0, NULL, &fmt, NULL);
	FILE *out = open_memstream(&buf, &len);
	ps_print(out, &fmt, procs, n, 1700000000);
	fclose(out);
	ok(strstr(buf, "\n1000        57     1 50 ") && strstr(buf, " pts/3    00:00:02 sleep 1000\n"),
	   "-ef: uid, pid, ppid, C (cpu/elapsed), tty, time, cmd:\n%s", buf);
	ok(strstr(buf, "\n0           58    57  0     ? ?        00:00:00 sh \\x1b[2J\n") != NULL,
	   "guest text escaped; missing times shown as ?");
	free(buf);
	ps_procs_free(procs, n);
	ok(ps_parse_answer("{\"pid\":1}", &procs, &n, &err) < 0, "an answer that is not an array fails");
	novm_error_release(&err);
}

static void test_exec_cgroup(void)
{
	novm_error_t err = NULL;

	ok(compat_check_exec_cgroup("", NULL) == 0 && compat_check_exec_cgroup("/", NULL) == 0 &&
		   compat_check_exec_cgroup("cpu,memory:/", NULL) == 0,
	   "the container's own cgroup is where execs go anyway");
	ok(compat_check_exec_cgroup("/sub", &err) < 0 && strstr(err->msg, "--cgroup /sub: cannot run"),
	   "a sub-cgroup is refused with the reason");
	novm_error_release(&err);
	ok(compat_check_exec_cgroup("memory:sub", NULL) < 0, "so is controller:sub");
}

static void test_debug_log(void)
{
	char path[] = "/tmp/novm-log-XXXXXX";
	int fd = mkstemp(path);
	char *text = NULL;
	novm_error_t err = NULL;

	close(fd);
	ok(log_init(path, "text", true, &err) == 0, "log_init text with --debug");
	log_msg(LOG_LEVEL_DEBUG, "create c1: bundle \"/b\"");
	read_file(path, &text, NULL, NULL);
	ok(text && !strncmp(text, "time=\"", 6) &&
		   strstr(text, "Z\" level=debug msg=\"create c1: bundle \\\"/b\\\"\"\n"),
	   "a logrus text line: %s", text ? text : "");
	free(text);
	text = NULL;
	ok(truncate(path, 0) == 0, "log emptied");
	log_init(path, "json", true, &err);
	log_msg(LOG_LEVEL_DEBUG, "kill c1: signal 9");
	read_file(path, &text, NULL, NULL);
	ok(text && !strncmp(text, "{\"level\":\"debug\",\"msg\":\"kill c1: signal 9\",\"time\":\"", 51),
	   "a logrus JSON line: %s", text ? text : "");
	free(text);
	text = NULL;
	ok(truncate(path, 0) == 0, "log emptied");
	log_init(path, "text", false, &err);
	log_msg(LOG_LEVEL_DEBUG, "not shown");
	read_file(path, &text, NULL, NULL);
	ok(text && !*text, "no debug lines without --debug");
	free(text);
	unlink(path);
}

/* The config warnings read the tree the spec was parsed into. */
static void test_config_warnings(void)
{
	static const char config[] =
		"{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"apparmorProfile\": \"p\","
		" \"selinuxLabel\": \"\"}, \"linux\": {\"uidMappings\": [{\"containerID\": 0}]}}";
	char path[] = "/tmp/novm-log-XXXXXX";
	int fd = mkstemp(path);
	struct oci_spec *spec = NULL;
	novm_error_t err = NULL;
	char *text = NULL;

	close(fd);
	log_init(path, "text", false, &err);
	ok(oci_spec_parse(NULL, config, strlen(config), &spec, &err) == 0 && spec->doc,
	   "the spec keeps its tree");
	if (spec)
		compat_warn_config(spec);
	read_file(path, &text, NULL, NULL);
	ok(text && strstr(text, "process.apparmorProfile is not honoured") &&
	   strstr(text, "linux.uidMappings is not honoured") && !strstr(text, "selinuxLabel"),
	   "set fields warned about, empty ones not: %s", text ? text : "");
	free(text);
	oci_spec_free(spec);
	novm_error_release(&err);
	unlink(path);
}

int main(void)
{
	test_escape();
	test_ps_options();
	test_ps_columns();
	test_ps_table();
	test_exec_cgroup();
	test_debug_log();
	test_config_warnings();
	return tap_done();
}
