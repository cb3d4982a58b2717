/* The pseudo file systems PID 1 needs before anything else. */
#ifndef NOVM_AGENT_MOUNTS_H
#define NOVM_AGENT_MOUNTS_H

/* Mounts /proc, /sys and /dev (devtmpfs).  An already mounted one is fine;
 * any other failure is printed as a warning and the rest still mounted. */
void mounts_setup(void);

#endif
