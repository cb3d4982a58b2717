/* Parsers for /proc text files the agent reports from: pure functions,
 * unit-tested on the host. */
#ifndef NOVM_AGENT_PROCINFO_H
#define NOVM_AGENT_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Number of "processor : N" lines in the text of /proc/cpuinfo. */
unsigned cpuinfo_count_processors(const char *cpuinfo);

/* The value of `key` (e.g. "MemTotal") in the text of /proc/meminfo, in
 * KiB; -1 when the key is absent or its value is not a number. */
long long meminfo_get_kib(const char *meminfo, const char *key);

/* What `ps -ef` shows of a process, from the text of /proc/<pid>/stat. */
struct proc_stat_info {
	char comm[64];			/* field 2, without its parentheses */
	int tty_nr;			/* field 7: the controlling terminal, 0 for none */
	unsigned long long cpu_ticks;	/* fields 14 + 15: user + system time */
	unsigned long long start_ticks;	/* field 22: since boot */
};

/* false when the text is not a stat line (comm may itself hold ") "). */
bool proc_stat_parse(const char *stat, struct proc_stat_info *out);

/* The "btime" (boot time, seconds since the epoch) of /proc/stat; -1. */
long long proc_stat_btime(const char *stat);

/* Whether the cgroup v2 line ("0::/path") of the text of /proc/<pid>/cgroup
 * names `cgroup` or a cgroup below it. */
bool proc_in_cgroup(const char *cgroup_file, const char *cgroup);

/* Calls fn with the pid (its /proc name) of every process whose cgroup is
 * `cgroup` or below it, read from /proc (not pure).  -1 with errno when
 * /proc cannot be read. */
int proc_each_in_cgroup(const char *cgroup, void (*fn)(const char *pid, void *opaque),
			void *opaque);

/* Lower-case hex of len bytes into out, which holds 2 * len + 1 chars. */
void hex_encode(const uint8_t *data, size_t len, char *out);

#endif
