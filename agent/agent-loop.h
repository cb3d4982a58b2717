/* Container mode (novm.mode=container): PID 1 builds the container's root
 * from virtio-fs shares, runs its process and the host's execs, and relays
 * their stdio, signals and exits over the agent channel. */
#ifndef NOVM_AGENT_LOOP_H
#define NOVM_AGENT_LOOP_H

#include <stdbool.h>

#define AGENT_MODE_KEY "novm.mode"
#define AGENT_MODE_CONTAINER "container"

/* True when /proc/cmdline asks for container mode. */
bool container_mode_requested(void);

/* Runs the container until its init exits (or the host goes away), then
 * ends the VM as novm.action= asks (a clean stop by default). */
__attribute__((noreturn)) void container_run(void);

#endif
