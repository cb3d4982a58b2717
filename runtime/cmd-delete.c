/* novm-runc delete: a stopped (or only created) container's remains go; a
 * running one only with --force, which kills its VM. */
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "lifecycle.h"
#include "runtime.h"

enum { OPT_FORCE };

static const struct cli_flag delete_flags[] = {
	{ "force|f", false, OPT_FORCE },
	{ 0 },
};

int cmd_delete(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	novm_error_t err = NULL;
	struct cli_parser p;
	bool force = false;
	int opt;

	cli_init(&p, "delete", argc, argv);
	while ((opt = cli_next(&p, delete_flags)) != CLI_END) {
		if (opt == CLI_HELP)
			return 0;
		if (opt == CLI_BAD)
			return 1;
		force = p.bool_value;
	}
	if (!cli_check_args(&p, 1, 1))
		return 1;
	const char *id = cli_arg(&p, 0);
	if (ctr_open(g->root, id, &lock_fd, &st, &err) < 0) {
		/* Like runc: forcing the deletion of nothing succeeds. */
		if (force && state_check_id(id, NULL) == 0) {
			novm_error_release(&err);
			return 0;
		}
		return cli_fail(&err);
	}
	/* A created container has no process to lose: runc deletes it too. */
	if (!force && strcmp(st.status, "stopped") && strcmp(st.status, "created")) {
		novm_error(&err, 0, "cannot delete container %s that is not stopped: %s", id, st.status);
		return cli_fail(&err);
	}
	if (ctr_destroy(&st, &err) < 0)
		return cli_fail(&err);
	return 0;
}
