/* Answers to the host's PROTO_QUERY: "ps" (the container's processes) and
 * "stats" (memory and CPU use), as JSON read from /proc and the cgroups.  The /proc text
 * parsers are pure and unit-tested on the host. */
#ifndef NOVM_AGENT_QUERY_H
#define NOVM_AGENT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum query_kind { QUERY_PS, QUERY_STATS };

/* A PROTO_QUERY: "ps", "stats", or either with " <session>" (decimal, a
 * uint32) naming a pod container. */
struct query_request {
	enum query_kind kind;
	bool has_session;
	uint32_t session;
};

/* Parses the payload (len bytes, not NUL-terminated); anything else is an
 * error naming what is known. */
int query_parse(const char *text, size_t len, struct query_request *out, novm_error_t *err);

/* Runs the query and returns its JSON answer (heap).  pod_cgroup NULL:
 * session 0's processes (ps) and the whole VM's use (stats, the VM being
 * its container's); else the processes and use of that cgroup, a pod
 * container's. */
int query_run(enum query_kind kind, const char *pod_cgroup, char **out, size_t *out_len,
	      novm_error_t *err);

/* The value of the line "<key> <n>" of a cgroup v2 flat-keyed file
 * (cpu.stat's usage_usec, memory.events' oom_kill), or -1. */
long long cgroup_flat_value(const char *text, const char *key);

/* The parent pid in the text of /proc/<pid>/stat, or -1.  The command name
 * in parentheses may itself contain ") ". */
pid_t proc_stat_ppid(const char *stat);

/* The real uid in the text of /proc/<pid>/status, or -1. */
long long proc_status_uid(const char *status);

/* CPU time spent outside idle and iowait, in clock ticks, from the first
 * "cpu " line of /proc/stat; -1 if there is none. */
long long proc_stat_busy_ticks(const char *stat);

/* /proc/<pid>/cmdline (NUL-separated) as one space-separated string. */
void cmdline_join(char *buf, size_t len);

#endif
