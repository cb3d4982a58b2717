#include "query.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "oci/json.h"
#include "namespaces.h"
#include "procinfo.h"
#include "util.h"

pid_t proc_stat_ppid(const char *stat)
{
	const char *p = strrchr(stat, ')');
	char state;
	int ppid;

	/* "<pid> (<comm>) <state> <ppid> ..." */
	if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return ppid;
}

long long proc_status_uid(const char *status)
{
	for (const char *line = status; line && *line;) {
		if (strncmp(line, "Uid:", 4) == 0) {
			char *end;
			long long uid = strtoll(line + 4, &end, 10);

			return end == line + 4 ? -1 : uid;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

long long proc_stat_busy_ticks(const char *stat)
{
	for (const char *line = stat; line && *line;) {
		if (strncmp(line, "cpu ", 4) == 0) {
			/* user nice system idle iowait irq softirq steal */
			unsigned long long v[8] = { 0 };
			int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
				       &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);

			if (n < 4)
				return -1;
			return (long long)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

void cmdline_join(char *buf, size_t len)
{
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static char *read_proc(const char *pid, const char *file, size_t *len)
{
	cleanup_free char *path = NULL;
	char *text = NULL;
	novm_error_t err = NULL;

	if (asprintf(&path, "/proc/%s/%s", pid, file) < 0)
		return NULL;
	if (read_file(path, &text, len, &err) < 0) {
		novm_error_release(&err);
		return NULL;
	}
	return text;
}

/* The guest's clock, for the start times and elapsed times `ps` shows. */
struct ps_clock {
	long long btime;	/* boot, in seconds since the epoch */
	double uptime;		/* seconds since boot */
	long hz;		/* clock ticks per second */
};

static void ps_entry(struct json_gen *gen, const char *pid, const struct ps_clock *clk)
{
	struct proc_stat_info info;
	cleanup_free char *stat = read_proc(pid, "stat", NULL);
	cleanup_free char *status = read_proc(pid, "status", NULL);
	cleanup_free char *cmdline = NULL;
	size_t len = 0;

	cleanup_free char *cgroup = read_proc(pid, "cgroup", NULL);

	/* It exited while we looked, or it is not the container's (the
	 * agent, kernel threads): leave it out. */
	if (!stat || !status || !cgroup || !proc_in_cgroup(cgroup, NS_CONTAINER_CGROUP_NAME))
		return;
	cmdline = read_proc(pid, "cmdline", &len);
	if (cmdline)
		cmdline_join(cmdline, len);
	if (!cmdline || !*cmdline) {
		/* kernel threads have no command line: "[comm]" as ps shows them */
		const char *open = strchr(stat, '('), *close = strrchr(stat, ')');

		free(cmdline);
		cmdline = NULL;
		if (open && close > open &&
		    asprintf(&cmdline, "[%.*s]", (int)(close - open - 1), open + 1) < 0)
			cmdline = NULL;
	}
	json_gen_object_open(gen);
	json_gen_member_i64(gen, "pid", strtoll(pid, NULL, 10));
	json_gen_member_i64(gen, "ppid", proc_stat_ppid(stat));
	json_gen_member_i64(gen, "uid", proc_status_uid(status));
	json_gen_member_string(gen, "cmd", cmdline ? cmdline : "");
	/* ps -ef's other columns; the host formats them. */
	if (proc_stat_parse(stat, &info)) {
		double started = (double)info.start_ticks / clk->hz;
		double elapsed = clk->uptime > started ? clk->uptime - started : 0;

		json_gen_member_string(gen, "comm", info.comm);
		json_gen_member_i64(gen, "tty", info.tty_nr);
		json_gen_member_u64(gen, "cpu_ms", info.cpu_ticks * 1000 / clk->hz);
		if (clk->btime >= 0)
			json_gen_member_i64(gen, "start", clk->btime + (long long)started);
		json_gen_member_u64(gen, "elapsed_ms", (uint64_t)(elapsed * 1000));
	}
	json_gen_object_close(gen);
}

static int query_ps(char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);
	cleanup_closedir DIR *dir = opendir("/proc");
	cleanup_free char *stat = NULL, *uptime = NULL;
	struct ps_clock clk = { .btime = -1, .hz = sysconf(_SC_CLK_TCK) };
	struct dirent *de;

	if (!gen)
		return novm_error(err, ENOMEM, "ps");
	if (clk.hz <= 0)
		clk.hz = 100;
	/* Without them the times are missing, the table is not. */
	if (read_file("/proc/stat", &stat, NULL, NULL) == 0)
		clk.btime = proc_stat_btime(stat);
	if (read_file("/proc/uptime", &uptime, NULL, NULL) == 0)
		clk.uptime = strtod(uptime, NULL);
	if (!dir)
		return novm_error(err, errno, "ps: open /proc");
	json_gen_array_open(gen);
	while ((de = readdir(dir)))
		if (all_digits(de->d_name))
			ps_entry(gen, de->d_name, &clk);
	json_gen_array_close(gen);
	return json_gen_finish(gen, "ps", out, len, err);
}

static int query_stats(char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);
	cleanup_free char *meminfo = NULL, *stat = NULL;
	long long total, avail, ticks;
	long hz = sysconf(_SC_CLK_TCK);

	if (!gen)
		return novm_error(err, ENOMEM, "stats");
	if (read_file("/proc/meminfo", &meminfo, NULL, err) < 0 ||
	    read_file("/proc/stat", &stat, NULL, err) < 0)
		return novm_error_wrap(err, "stats");
	total = meminfo_get_kib(meminfo, "MemTotal");
	avail = meminfo_get_kib(meminfo, "MemAvailable");
	ticks = proc_stat_busy_ticks(stat);
	if (total < 0 || avail < 0 || ticks < 0 || hz <= 0)
		return novm_error(err, 0, "stats: unexpected /proc/meminfo or /proc/stat");
	json_gen_object_open(gen);
	json_gen_key(gen, "memory");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "total", (uint64_t)total * 1024);
	json_gen_member_u64(gen, "available", (uint64_t)avail * 1024);
	json_gen_member_u64(gen, "usage", (uint64_t)(total - avail) * 1024);
	json_gen_object_close(gen);
	json_gen_key(gen, "cpu");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "usage", (uint64_t)ticks * (1000000000ull / (uint64_t)hz));
	json_gen_object_close(gen);
	json_gen_object_close(gen);
	return json_gen_finish(gen, "stats", out, len, err);
}

int query_answer(const char *name, size_t len, char **out, size_t *out_len, novm_error_t *err)
{
	if (len == 2 && memcmp(name, "ps", 2) == 0)
		return query_ps(out, out_len, err);
	if (len == 5 && memcmp(name, "stats", 5) == 0)
		return query_stats(out, out_len, err);
	return novm_error(err, 0, "query \"%.*s\": unknown (ps, stats)", (int)(len > 64 ? 64 : len),
			  name);
}
