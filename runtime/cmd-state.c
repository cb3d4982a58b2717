/* novm-runc state: the OCI state, from the state directory and the VMM's
 * liveness, without asking the guest. */
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "runtime.h"
#include "state-json.h"

int cmd_state(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_free char *json = NULL;
	novm_error_t err = NULL;
	struct cli_parser p;
	size_t len;
	int opt;

	cli_init(&p, "state", argc, argv);
	while ((opt = cli_next(&p, NULL)) != CLI_END)
		return opt == CLI_HELP ? 0 : 1;
	if (!cli_check_args(&p, 1, 1))
		return 1;
	if (state_load(g->root, cli_arg(&p, 0), &st, &err) < 0 ||
	    state_json_pretty(&st, &json, &len, &err) < 0)
		return cli_fail(&err);
	fwrite(json, 1, len, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
