/* The facts the agent reports about the guest, one console line each:
 * what the host's boot tests check to know the VM works end to end. */
#ifndef NOVM_AGENT_REPORT_H
#define NOVM_AGENT_REPORT_H

/* Prints the uname, cpus, mem_total_kib, hwrng and rng lines.  Every
 * failure becomes part of its line; nothing here stops the agent. */
void report_system(void);

#endif
