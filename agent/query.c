#include "query.h"

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

struct ps_walk {
	struct json_gen *gen;
	struct ps_clock clk;
};

/* A process of the container's cgroup (not the agent, no kernel thread). */
static void ps_entry(const char *pid, void *opaque)
{
	struct ps_walk *w = opaque;
	struct json_gen *gen = w->gen;
	const struct ps_clock *clk = &w->clk;
	struct proc_stat_info info;
	cleanup_free char *stat = read_proc(pid, "stat", NULL);
	cleanup_free char *status = read_proc(pid, "status", NULL);
	cleanup_free char *cmdline = NULL;
	size_t len = 0;

	/* It exited while we looked: leave it out. */
	if (!stat || !status)
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

static int query_ps(const char *cgroup, char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);
	cleanup_free char *stat = NULL, *uptime = NULL;
	struct ps_walk w = { .gen = gen, .clk = { .btime = -1, .hz = sysconf(_SC_CLK_TCK) } };

	if (!gen)
		return novm_error(err, ENOMEM, "ps");
	if (w.clk.hz <= 0)
		w.clk.hz = 100;
	/* Without them the times are missing, the table is not. */
	if (read_file("/proc/stat", &stat, NULL, NULL) == 0)
		w.clk.btime = proc_stat_btime(stat);
	if (read_file("/proc/uptime", &uptime, NULL, NULL) == 0)
		w.clk.uptime = strtod(uptime, NULL);
	json_gen_array_open(gen);
	if (proc_each_in_cgroup(cgroup, ps_entry, &w) < 0)
		return novm_error(err, errno, "ps: open /proc");
	json_gen_array_close(gen);
	return json_gen_finish(gen, "ps", out, len, err);
}

long long cgroup_flat_value(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, n) == 0 && line[n] == ' ') {
			char *end;
			long long v = strtoll(line + n + 1, &end, 10);

			return end == line + n + 1 || v < 0 ? -1 : v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

/* The numbers "stats" reports, in bytes and nanoseconds. */
struct stats_numbers {
	uint64_t total, available, usage, cpu_ns;
	uint64_t oom_kills;	/* in the container's cgroup */
};

/* The text of file `name` of a guest cgroup. */
static int read_cgroup_file(const char *cgroup, const char *name, char **text, novm_error_t *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s%s/%s", NS_CGROUP_MOUNT, cgroup, name) < 0)
		return novm_error(err, ENOMEM, "stats");
	return read_file(path, text, NULL, err);
}

/* The OOM kills in a container's cgroup; 0 without a memory controller. */
static uint64_t oom_kills(const char *cgroup)
{
	cleanup_free char *events = NULL;
	long long v;

	if (read_cgroup_file(cgroup, "memory.events", &events, NULL) < 0)
		return 0;
	v = cgroup_flat_value(events, "oom_kill");
	return v > 0 ? (uint64_t)v : 0;
}

/* The whole VM's: what session 0, the only container of a plain VM, uses. */
static int vm_stats(struct stats_numbers *n, novm_error_t *err)
{
	cleanup_free char *meminfo = NULL, *stat = NULL;
	long long total, avail, ticks;
	long hz = sysconf(_SC_CLK_TCK);

	if (read_file("/proc/meminfo", &meminfo, NULL, err) < 0 ||
	    read_file("/proc/stat", &stat, NULL, err) < 0)
		return -1;
	total = meminfo_get_kib(meminfo, "MemTotal");
	avail = meminfo_get_kib(meminfo, "MemAvailable");
	ticks = proc_stat_busy_ticks(stat);
	if (total < 0 || avail < 0 || ticks < 0 || hz <= 0)
		return novm_error(err, 0, "unexpected /proc/meminfo or /proc/stat");
	n->total = (uint64_t)total * 1024;
	n->available = (uint64_t)avail * 1024;
	n->usage = (uint64_t)(total - avail) * 1024;
	n->cpu_ns = (uint64_t)ticks * (1000000000ull / (uint64_t)hz);
	return 0;
}

/* A pod container's: its cgroup's use, out of the VM's memory. */
static int cgroup_stats(const char *cgroup, struct stats_numbers *n, novm_error_t *err)
{
	cleanup_free char *meminfo = NULL, *current = NULL, *cpu = NULL;
	long long total, usage, usec;

	if (read_file("/proc/meminfo", &meminfo, NULL, err) < 0)
		return -1;
	if (read_cgroup_file(cgroup, "memory.current", &current, err) < 0)
		return novm_error_wrap(err, "no memory accounting");
	if (read_cgroup_file(cgroup, "cpu.stat", &cpu, err) < 0)
		return -1;
	total = meminfo_get_kib(meminfo, "MemTotal");
	usage = strtoll(current, NULL, 10);
	usec = cgroup_flat_value(cpu, "usage_usec");
	if (total < 0 || usage < 0 || usec < 0)
		return novm_error(err, 0, "unexpected /proc/meminfo or %s%s", NS_CGROUP_MOUNT, cgroup);
	n->total = (uint64_t)total * 1024;
	n->usage = (uint64_t)usage;
	n->available = n->total > n->usage ? n->total - n->usage : 0;
	n->cpu_ns = (uint64_t)usec * 1000;
	return 0;
}

static int query_stats(const char *pod_cgroup, char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);
	struct stats_numbers n = { 0 };

	if (!gen)
		return novm_error(err, ENOMEM, "stats");
	if ((pod_cgroup ? cgroup_stats(pod_cgroup, &n, err) : vm_stats(&n, err)) < 0)
		return novm_error_wrap(err, "stats");
	n.oom_kills = oom_kills(pod_cgroup ? pod_cgroup : NS_CONTAINER_CGROUP_NAME);
	json_gen_object_open(gen);
	json_gen_key(gen, "memory");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "total", n.total);
	json_gen_member_u64(gen, "available", n.available);
	json_gen_member_u64(gen, "usage", n.usage);
	json_gen_object_close(gen);
	json_gen_key(gen, "cpu");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "usage", n.cpu_ns);
	json_gen_object_close(gen);
	json_gen_member_u64(gen, "oom_kills", n.oom_kills);
	json_gen_object_close(gen);
	return json_gen_finish(gen, "stats", out, len, err);
}

/* "<name>" or "<name> <session>", the session in decimal digits. */
static bool parse_named(const char *text, size_t len, const char *name,
			struct query_request *out)
{
	size_t n = strlen(name);
	uint64_t v = 0;

	if (len < n || memcmp(text, name, n) != 0)
		return false;
	if (len == n) {
		out->has_session = false;
		return true;
	}
	if (text[n] != ' ' || len == n + 1 || len - n - 1 > 10)
		return false;
	for (size_t i = n + 1; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	out->has_session = true;
	out->session = (uint32_t)v;
	return true;
}

int query_parse(const char *text, size_t len, struct query_request *out, novm_error_t *err)
{
	if (parse_named(text, len, "ps", out)) {
		out->kind = QUERY_PS;
		return 0;
	}
	if (parse_named(text, len, "stats", out)) {
		out->kind = QUERY_STATS;
		return 0;
	}
	return novm_error(err, 0, "query \"%.*s\": unknown (ps, stats, ps <session>, stats <session>)",
			  (int)(len > 64 ? 64 : len), text);
}

int query_run(enum query_kind kind, const char *pod_cgroup, char **out, size_t *len,
	      novm_error_t *err)
{
	if (kind == QUERY_PS)
		return query_ps(pod_cgroup ? pod_cgroup : NS_CONTAINER_CGROUP_NAME, out, len, err);
	return query_stats(pod_cgroup, out, len, err);
}
