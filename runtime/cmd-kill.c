/* novm-runc kill: a signal for the container's process, through the VMM. */
#include <signal.h>

#include "cleanup.h"
#include "cli.h"
#include "lifecycle.h"
#include "runtime.h"
#include "signals.h"

enum { OPT_ALL };

static const struct cli_flag kill_flags[] = {
	{ "all|a", false, OPT_ALL },
	{ 0 },
};

int cmd_kill(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	novm_error_t err = NULL;
	struct cli_parser p;
	bool all = false;
	int opt, signo = SIGTERM;

	cli_init(&p, "kill", argc, argv);
	while ((opt = cli_next(&p, kill_flags)) != CLI_END) {
		if (opt == CLI_HELP)
			return 0;
		if (opt == CLI_BAD)
			return 1;
		all = p.bool_value;
	}
	if (!cli_check_args(&p, 1, 2))
		return 1;
	/* runc's order: the container must exist before the signal is read. */
	if (ctr_open(g->root, cli_arg(&p, 0), &lock_fd, &st, &err) < 0 ||
	    (cli_nargs(&p) == 2 && signal_parse(cli_arg(&p, 1), &signo, &err) < 0) ||
	    ctr_kill(&st, signo, all, &err) < 0)
		return cli_fail(&err);
	return 0;
}
