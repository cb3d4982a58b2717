/* novm-runc start: the created container's process starts. */
#include <unistd.h>

#include "cleanup.h"

#include "cli.h"
#include "lifecycle.h"
#include "runtime.h"

int cmd_start(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	novm_error_t err = NULL;
	struct cli_parser p;
	int opt;

	cli_init(&p, "start", argc, argv);
	while ((opt = cli_next(&p, NULL)) != CLI_END)
		return opt == CLI_HELP ? 0 : 1;
	if (!cli_check_args(&p, 1, 1))
		return 1;
	if (ctr_open(g->root, cli_arg(&p, 0), &lock_fd, &st, &err) < 0 || ctr_start(&st, &err) < 0)
		return cli_fail(&err);
	return 0;
}
