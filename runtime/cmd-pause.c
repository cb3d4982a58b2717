/* novm-runc pause / resume: the VM's vCPUs stop and go on; the status is
 * "paused" meanwhile. */
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "control-client.h"
#include "lifecycle.h"
#include "pod.h"
#include "runtime.h"

static int pause_or_resume(const struct runtime_globals *g, int argc, char **argv, bool pause)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	novm_error_t err = NULL;
	struct cli_parser p;
	int opt;

	cli_init(&p, pause ? "pause" : "resume", argc, argv);
	while ((opt = cli_next(&p, NULL)) != CLI_END)
		return opt == CLI_HELP ? 0 : 1;
	if (!cli_check_args(&p, 1, 1))
		return 1;
	if (ctr_open(g->root, cli_arg(&p, 0), &lock_fd, &st, &err) < 0 ||
	    pod_refuse(&st, pause ? "pause" : "resume", &err) < 0)
		return cli_fail(&err);
	if (pause ? strcmp(st.status, "running") && strcmp(st.status, "created")
		  : strcmp(st.status, "paused") != 0) {
		if (!strcmp(st.status, "stopped") || !strcmp(st.status, "creating"))
			novm_error(&err, 0, "container not running");
		else if (pause)
			novm_error(&err, 0, "container already paused");
		else
			novm_error(&err, 0, "container not paused");
		return cli_fail(&err);
	}
	if (ctl_call(st.dir, pause ? CONTROL_REQ_PAUSE : CONTROL_REQ_RESUME, NULL, &err) < 0)
		return cli_fail(&err);
	st.vmm.paused = pause;
	if (state_write_vmm(st.dir, &st.vmm, &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cmd_pause(const struct runtime_globals *g, int argc, char **argv)
{
	return pause_or_resume(g, argc, argv, true);
}

int cmd_resume(const struct runtime_globals *g, int argc, char **argv)
{
	return pause_or_resume(g, argc, argv, false);
}
