/* `novm-runc ps ID [ps options]`: runc runs the host's ps and keeps the
 * container's lines; our container's processes are in its guest, so the
 * agent's process list (agent/query.c) is formatted here the way procps
 * would: `-ef` by default (UID PID PPID C STIME TTY TIME CMD), `-e`/`-A`,
 * `-f` and `-o` with the columns the agent's data can fill.  Pure, so the
 * unit tests check it; everything the guest says is untrusted. */
#ifndef NOVM_RUNTIME_PS_TABLE_H
#define NOVM_RUNTIME_PS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "error.h"

struct ps_proc {
	int64_t pid, ppid, uid;
	char *cmd;		/* the command line, "" for none */
	char *comm;		/* the process name, or NULL */
	bool has_times;		/* the fields below came (an older agent sends none) */
	int64_t tty;		/* tty_nr of /proc/<pid>/stat */
	int64_t start;		/* seconds since the epoch, guest clock; -1 unknown */
	uint64_t cpu_ms, elapsed_ms;
};

#define PS_MAX_COLUMNS 16

struct ps_format {
	int columns[PS_MAX_COLUMNS];
	size_t n;
};

/* ps options as runc passes them on: none means -ef.  Anything we cannot
 * show is an error naming it (not a silently different table). */
int ps_parse_options(int argc, char *const *argv, struct ps_format *fmt, novm_error_t *err);

/* The agent's JSON answer, without the VM's own processes (its kernel
 * threads and the agent, PID 1). */
int ps_parse_answer(const char *json, struct ps_proc **procs, size_t *n, novm_error_t *err);
void ps_procs_free(struct ps_proc *procs, size_t n);

void ps_print(FILE *out, const struct ps_format *fmt, const struct ps_proc *procs, size_t n,
	      time_t now);

/* The columns' text, exposed for the tests: a terminal name from a tty_nr
 * ("?", "pts/3", "tty1", "ttyS0", "console"), a CPU time ("00:01:02",
 * "2-03:04:05"), a start time ("14:05", "Nov25", "2024"). */
void ps_tty_name(int64_t tty_nr, char *buf, size_t len);
void ps_cpu_time(uint64_t ms, char *buf, size_t len);
void ps_start_time(int64_t start, time_t now, char *buf, size_t len);

#endif
