/* novm-runc ps: the table shows the guest's processes (asked of the agent
 * through the VMM) in ps's format, ps options after the id (ps-table.h);
 * --format json gives the *host* pids that stand for the container, the
 * VMM and the exec proxies, which is what `docker top` feeds to the host's
 * ps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cli.h"
#include "control-client.h"
#include "pod.h"
#include "ps-table.h"
#include "runtime.h"
#include "state.h"

enum { OPT_FORMAT };

static const struct cli_flag ps_flags[] = {
	{ "format|f", true, OPT_FORMAT },
	{ 0 },
};

static int print_host_pids(const struct ctr_state *st, novm_error_t *err)
{
	cleanup_free pid_t *execs = NULL;
	size_t n = 0;

	if (st->vmm_alive && state_exec_pids(st->dir, &execs, &n, err) < 0)
		return -1;
	putchar('[');
	if (st->vmm_alive)
		printf("%d", st->vmm.pid);
	for (size_t i = 0; i < n; i++)
		printf(",%d", execs[i]);
	puts("]");
	return 0;
}

int cmd_ps(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_free char *answer = NULL;
	const char *format = "table";
	novm_error_t err = NULL;
	struct cli_parser p;
	int opt;

	cli_init(&p, "ps", argc, argv);
	while ((opt = cli_next(&p, ps_flags)) != CLI_END) {
		if (opt == CLI_HELP)
			return 0;
		if (opt == CLI_BAD)
			return 1;
		format = p.value;
	}
	if (!cli_check_args(&p, 1, -1))
		return 1;
	if (strcmp(format, "table") && strcmp(format, "json")) {
		novm_error(&err, 0, "invalid format option");
		return cli_fail(&err);
	}
	if (state_load(g->root, cli_arg(&p, 0), &st, &err) < 0)
		return cli_fail(&err);
	if (!strcmp(format, "json")) {
		if (print_host_pids(&st, &err) < 0)
			return cli_fail(&err);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	/* What runc would hand to the host's ps (json ignores them there). */
	struct ps_format fmt;
	if (ps_parse_options(cli_nargs(&p) - 1, p.argv + p.index + 1, &fmt, &err) < 0)
		return cli_fail(&err);
	if (!st.vmm_alive || !strcmp(st.status, "creating")) {
		ps_print(stdout, &fmt, NULL, 0, time(NULL));
		return fflush(stdout) == 0 ? 0 : 1;
	}
	/* The agent answers from inside the guest, which a pause stops. */
	if (!strcmp(st.status, "paused")) {
		novm_error(&err, 0, "cannot list the processes of a paused container: its VM is stopped");
		return cli_fail(&err);
	}
	struct ps_proc *procs = NULL;
	size_t n = 0;
	if (ctr_call(&st, CONTROL_REQ_PS, &answer, &err) < 0 || ps_parse_answer(answer, &procs, &n, &err) < 0)
		return cli_fail(&err);
	ps_print(stdout, &fmt, procs, n, time(NULL));
	ps_procs_free(procs, n);
	return fflush(stdout) == 0 ? 0 : 1;
}
