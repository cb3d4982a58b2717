/* The end of PID 1: what it does once the guest has been set up. */
#ifndef NOVM_AGENT_ACTION_H
#define NOVM_AGENT_ACTION_H

#include "cmdline.h"

/* The action asked for with novm.action= on /proc/cmdline (default
 * poweroff).  An unknown one is reported and becomes a panic, so a typo
 * shows up as a failed VM rather than a clean stop. */
enum agent_action action_from_cmdline(void);

/* Carries the action out; never returns.  If a reset cannot be requested
 * the failure is printed and PID 1 exits, which panics the kernel. */
__attribute__((noreturn)) void action_run(enum agent_action action);

#endif
