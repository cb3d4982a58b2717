/* Host processes the runtime keeps track of (the VMM, exec proxies) by pid
 * and start time, so a recycled pid is never taken for them. */
#ifndef NOVM_RUNTIME_PROC_H
#define NOVM_RUNTIME_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Field 22 of /proc/<pid>/stat (clock ticks since boot); false when the
 * process is gone or is a zombie. */
bool proc_start_time(pid_t pid, uint64_t *start_time);

/* From the text of /proc/<pid>/stat: the state letter and start time. */
bool proc_parse_stat(const char *stat, char *state, uint64_t *start_time);

/* The process runs (not a zombie) and is the one that started at
 * start_time (0: any). */
bool proc_alive(pid_t pid, uint64_t start_time);

/* Waits until proc_alive() is false, reaping it if it is our child;
 * false after timeout_ms. */
bool proc_wait_gone(pid_t pid, uint64_t start_time, int timeout_ms);

/* Makes this process end the way a process of ours ended: exit with its
 * status, or die by its signal (without a core dump). */
__attribute__((noreturn)) void proc_exit_like(int status, int signo);

#endif
