/* Kernel command line parsing for the agent: pure functions over the text of
 * /proc/cmdline, unit-tested on the host. */
#ifndef NOVM_AGENT_CMDLINE_H
#define NOVM_AGENT_CMDLINE_H

#include <stdbool.h>

/* What PID 1 does once its work is done (`novm.action=`). */
enum agent_action {
	AGENT_ACTION_POWEROFF,	/* clean stop: keyboard-controller reset */
	AGENT_ACTION_REBOOT,	/* same mechanism; the VMM decides what a reset means */
	AGENT_ACTION_PANIC,	/* PID 1 exits, the kernel panics, the VMM sees a failure */
};

#define AGENT_ACTION_KEY "novm.action"
#define AGENT_ACTION_DEFAULT AGENT_ACTION_POWEROFF

/* Finds `key=value` on a command line split the way the kernel splits it
 * (whitespace outside double quotes; quotes around the value are dropped).
 * The last occurrence wins, as for kernel parameters.  Returns a heap copy
 * of the value ("" for a bare `key`), or NULL with errno ENOENT when the key
 * is absent or ENOMEM. */
char *cmdline_get(const char *cmdline, const char *key);

/* Maps an action name to its value; false for an unknown name. */
bool agent_action_parse(const char *name, enum agent_action *out);

const char *agent_action_name(enum agent_action action);

#endif
