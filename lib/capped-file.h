/* A log file a guest cannot grow without bound.  The guest's serial console
 * (and, without --log, the VMM's own warnings) go to
 * /run/novm/<id>/console.log; a guest printing forever would fill the host's
 * disk.  One descriptor per process can be capped: writes through
 * capped_write keep it under its cap by dropping the oldest half when full,
 * so the newest output (the tail shown when the VM dies) stays, in the same
 * file and through the same descriptor (no directory access needed). */
#ifndef NOVM_CAPPED_FILE_H
#define NOVM_CAPPED_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The size the container's console log is kept under. */
#define NOVM_CONSOLE_LOG_CAP (1024 * 1024)

/* Caps writes to fd from now on if it is a regular file (a terminal or a
 * pipe is left alone); fd -1 stops capping.  The cap is at least 4 KiB. */
void capped_file_set(int fd, uint64_t cap);

/* write_all, but a write to the capped descriptor first drops the oldest
 * output that would take it over its cap, leaving a note on the first
 * line.  Writers of that descriptor are serialized (the vCPU thread that
 * owns the UART and any thread logging). */
int capped_write(int fd, const void *data, size_t len);

#endif
