/* novm-init: PID 1 of every novm guest.  It sets up the bare minimum of a
 * Linux userspace, loads the modules the VMM's devices need, reports what it
 * sees on the console, then ends the VM as novm.action= asks.  With
 * novm.mode=container it runs a container instead (agent-loop.c). */
#include <stdio.h>
#include <unistd.h>

#include "action.h"
#include "agent-loop.h"
#include "console.h"
#include "log.h"
#include "modules.h"
#include "mounts.h"
#include "report.h"

int main(void)
{
	/* Everything below (mounting over /dev, rebooting) is meant for a
	 * guest only: refuse to run as an ordinary process on a host. */
	if (getpid() != 1) {
		fprintf(stderr, AGENT_LOG_PREFIX "must run as PID 1 of a novm guest\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	console_setup();
	mounts_setup();
	console_setup();
	modules_load(AGENT_MODULES_DIR);
	agent_say("ready");
	if (container_mode_requested())
		container_run();
	report_system();
	/* Reads the action only now so that a bad one is reported after the
	 * facts above, which are still useful for debugging. */
	action_run(action_from_cmdline());
}
