#include "action.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "util.h"

#define REBOOT_TYPE_PATH "/sys/kernel/reboot/type"

enum agent_action action_from_cmdline(void)
{
	cleanup_free char *cmdline = NULL, *name = NULL;
	enum agent_action action = AGENT_ACTION_DEFAULT;
	novm_error_t err = NULL;

	if (read_file("/proc/cmdline", &cmdline, NULL, &err) < 0) {
		agent_warn(&err, "action");
		return AGENT_ACTION_DEFAULT;
	}
	name = cmdline_get(cmdline, AGENT_ACTION_KEY);
	if (!name)
		return errno == ENOENT ? AGENT_ACTION_DEFAULT : AGENT_ACTION_PANIC;
	if (!agent_action_parse(name, &action)) {
		agent_say("error: unknown %s=%s (expected poweroff, reboot or panic)",
			  AGENT_ACTION_KEY, name);
		return AGENT_ACTION_PANIC;
	}
	return action;
}

/* The VMM has no ACPI: a real power-off would only halt the CPU.  Instead it
 * treats the keyboard-controller reset (port 0x64 <- 0xfe) as a clean stop,
 * while the command line's reboot=t makes a panic reset by triple fault,
 * which it reports as a failure.  So ask for the kbd method here. */
static void select_kbd_reset(void)
{
	cleanup_close int fd = open(REBOOT_TYPE_PATH, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "kbd", 3) != 3)
		agent_say("warning: action: set `%s` to kbd: %s", REBOOT_TYPE_PATH,
			  strerror(errno));
}

__attribute__((noreturn)) static void exit_pid1(void)
{
	agent_say("action: panic: PID 1 exits with status 1");
	fflush(NULL);
	exit(1);
}

__attribute__((noreturn)) void action_run(enum agent_action action)
{
	switch (action) {
	case AGENT_ACTION_POWEROFF:
	case AGENT_ACTION_REBOOT:
		agent_say("action: %s", agent_action_name(action));
		sync();
		select_kbd_reset();
		fflush(NULL);
		reboot(RB_AUTOBOOT);
		agent_say("error: action: reboot: %s", strerror(errno));
		break;
	case AGENT_ACTION_PANIC:
		break;
	}
	exit_pid1();
}
