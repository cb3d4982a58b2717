/* Answers to the host's PROTO_QUERY: "ps" (the guest's processes) and
 * "stats" (memory and CPU use), as JSON read from /proc.  The /proc text
 * parsers are pure and unit-tested on the host. */
#ifndef NOVM_AGENT_QUERY_H
#define NOVM_AGENT_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Runs the query `name` (len bytes) and returns its JSON answer (heap).
 * An unknown name is an error. */
int query_answer(const char *name, size_t len, char **out, size_t *out_len, novm_error_t *err);

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
