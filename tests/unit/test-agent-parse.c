/* The agent's pure parsers: kernel command line, module order file, and the
 * /proc text it reports from. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "agent/cmdline.h"
#include "modorder.h"
#include "agent/procinfo.h"


static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* A test name must stay on one TAP line: shows \n and \t as escapes. */
static const char *visible(const char *s)
{
	static char buf[256];
	size_t o = 0;

	for (; *s && o + 3 < sizeof(buf); s++) {
		if (*s == '\n' || *s == '\t') {
			buf[o++] = '\\';
			buf[o++] = *s == '\n' ? 'n' : 't';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* Checks cmdline_get(cmdline, key) against want (NULL: absent). */
static void check_get(const char *cmdline, const char *key, const char *want)
{
	char *got = cmdline_get(cmdline, key);
	int saved = errno;

	if (want)
		ok(str_eq(got, want), "cmdline_get(\"%s\", %s) = \"%s\" (got \"%s\")",
		visible(cmdline), key, want, got ? got : "(null)");
	else
		ok(!got && saved == ENOENT, "cmdline_get(\"%s\", %s) is absent", visible(cmdline),
		key);
	free(got);
}

static void test_cmdline(void)
{
	check_get("console=ttyS0 novm.action=reboot panic=-1", "novm.action", "reboot");
	check_get("novm.action=reboot", "novm.action", "reboot");
	check_get("console=ttyS0 reboot=t", "novm.action", NULL);
	check_get("", "novm.action", NULL);
	/* A key that merely starts like ours is a different parameter. */
	check_get("novm.actions=reboot xnovm.action=panic", "novm.action", NULL);
	/* The last occurrence wins, as for kernel parameters. */
	check_get("novm.action=reboot quiet novm.action=panic\n", "novm.action", "panic");
	check_get("  \tnovm.action=panic  \n", "novm.action", "panic");
	check_get("a=\"x y\" novm.action=poweroff", "a", "x y");
	check_get("a=\"x novm.action=panic y\" b=1", "novm.action", NULL);
	check_get("\"a=q r\" b", "a", "q r");
	check_get("quiet novm.action", "novm.action", "");
	check_get("novm.action=", "novm.action", "");
	check_get("novm.action=a=b", "novm.action", "a=b");
}

static void test_actions(void)
{
	enum agent_action a = AGENT_ACTION_PANIC;

	ok(agent_action_parse("poweroff", &a) && a == AGENT_ACTION_POWEROFF, "poweroff parses");
	ok(agent_action_parse("reboot", &a) && a == AGENT_ACTION_REBOOT, "reboot parses");
	ok(agent_action_parse("panic", &a) && a == AGENT_ACTION_PANIC, "panic parses");
	a = AGENT_ACTION_REBOOT;
	ok(!agent_action_parse("halt", &a) && a == AGENT_ACTION_REBOOT,
	   "unknown action rejected, output untouched");
	ok(!agent_action_parse("", &a) && !agent_action_parse("Poweroff", &a),
	   "empty and wrong-case actions rejected");
	ok(AGENT_ACTION_DEFAULT == AGENT_ACTION_POWEROFF, "default action is poweroff");
	ok(str_eq(agent_action_name(AGENT_ACTION_REBOOT), "reboot") &&
		   str_eq(agent_action_name((enum agent_action)42), "unknown"),
	   "action names");
}

static void test_module_order(void)
{
	struct module_order order = { 0 };
	novm_error_t err = NULL;
	int r;

	r = module_order_parse("virtio_ring.ko\n\n  virtio.ko  \n# comment\nvirtio-rng.ko", &order,
			       &err);
	ok(r == 0 && order.count == 3 && str_eq(order.names[0], "virtio_ring.ko") &&
		   str_eq(order.names[1], "virtio.ko") && str_eq(order.names[2], "virtio-rng.ko"),
	   "order: names in order, blanks/comments/whitespace skipped, no final newline");
	module_order_release(&order);
	ok(order.names == NULL && order.count == 0, "order: release empties it");

	r = module_order_parse("\r\nvirtio.ko\r\n", &order, &err);
	ok(r == 0 && order.count == 1 && str_eq(order.names[0], "virtio.ko"),
	   "order: CRLF line ends");
	module_order_release(&order);

	r = module_order_parse("", &order, &err);
	ok(r == 0 && order.count == 0, "order: empty file is no modules");
	module_order_release(&order);

	static const char *const bad[] = {
		"a.ko\n../evil.ko\n", "kernel/drivers/virtio.ko\n", "..\n", ".\n", "/abs.ko\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = module_order_parse(bad[i], &order, &err);
		ok(r < 0 && err && err->msg && order.count == 0,
		   "order: rejects non-plain name in \"%.*s\" (%s)", (int)strcspn(bad[i], "\n"),
		   bad[i], err ? err->msg : "no error");
		novm_error_release(&err);
	}
	r = module_order_parse("a.ko\nb/c.ko\n", &order, &err);
	ok(r < 0 && err && strstr(err->msg, "line 2"), "order: error names the line");
	novm_error_release(&err);

	ok(module_name_valid("virtio.ko") && module_name_valid("..ko") &&
		   !module_name_valid("") && !module_name_valid("..") &&
		   !module_name_valid("a/b"),
	   "module_name_valid");
}

static const char cpuinfo[] =
	"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: QEMU Virtual CPU\n"
	"flags\t\t: fpu processor_like_flag\n\n"
	"processor\t: 1\nvendor_id\t: GenuineIntel\n\n"
	"processor\t: 2\n";

static const char meminfo[] =
	"MemTotal:         502344 kB\n"
	"MemFree:          480000 kB\n"
	"MemAvailable:     470000 kB\n"
	"Bogus:            x kB\n";

static void test_procinfo(void)
{
	char hex[9];

	ok(proc_in_cgroup("0::/container\n", "/container"), "cgroup: the container's own");
	ok(proc_in_cgroup("0::/container/sub\n", "/container"), "cgroup: one below it");
	ok(!proc_in_cgroup("0::/\n", "/container"), "cgroup: the root (the agent) is not");
	ok(!proc_in_cgroup("0::/containers\n", "/container"), "cgroup: a longer name is not");
	ok(!proc_in_cgroup("1:name=x:/container\n", "/container"), "cgroup: only the v2 line counts");
	ok(proc_in_cgroup("1:name=x:/\n0::/container", "/container"), "cgroup: v2 line after others");

	ok(cpuinfo_count_processors(cpuinfo) == 3, "cpuinfo: 3 processors (got %u)",
	   cpuinfo_count_processors(cpuinfo));
	ok(cpuinfo_count_processors("") == 0, "cpuinfo: empty is 0");
	ok(cpuinfo_count_processors("processors: 4\nprocessor : 0") == 1,
	   "cpuinfo: only the `processor` key counts");
	ok(meminfo_get_kib(meminfo, "MemTotal") == 502344, "meminfo: MemTotal");
	ok(meminfo_get_kib(meminfo, "MemAvailable") == 470000, "meminfo: a later key");
	ok(meminfo_get_kib(meminfo, "Mem") == -1, "meminfo: prefix of a key is not the key");
	ok(meminfo_get_kib(meminfo, "Bogus") == -1, "meminfo: non-numeric value");
	ok(meminfo_get_kib(meminfo, "SwapTotal") == -1, "meminfo: absent key");
	hex_encode((const uint8_t *)"\x00\x9f\xa0\xff", 4, hex);
	ok(str_eq(hex, "009fa0ff"), "hex_encode (got %s)", hex);

	/* comm holds ") " on purpose: the fields count from the last ')'. */
	struct proc_stat_info info;
	ok(proc_stat_parse("57 (a) b) S 1 57 57 34819 57 4194560 100 0 0 0 150 100 0 0 20 0 1 0 4242 "
			   "2000000 100 18446744073709551615",
			   &info) &&
		   str_eq(info.comm, "a) b") && info.tty_nr == 34819 && info.cpu_ticks == 250 &&
		   info.start_ticks == 4242,
	   "proc_stat_parse: comm, tty_nr, utime + stime, starttime");
	ok(!proc_stat_parse("57 (x) S 1 2", &info), "a short stat line is refused");
	ok(proc_stat_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n") == 1700000000 &&
		   proc_stat_btime("cpu 1\n") == -1,
	   "proc_stat_btime");
}

int main(void)
{
	test_cmdline();
	test_actions();
	test_module_order();
	test_procinfo();
	return tap_done();
}
