/* novm-runc checkpoint / restore: a VM's memory is not saved (yet). */
#include <string.h>

#include "cli.h"
#include "runtime.h"

static int unsupported(const char *command, int argc, char **argv)
{
	novm_error_t err = NULL;
	/* Every runc flag of these commands is accepted unread: --help is the
	 * only one that changes the answer. */
	for (int i = 1; i < argc && argv[i][0] == '-'; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "-help")) {
			cli_print_help(command, stdout);
			return 0;
		}
	novm_error(&err, 0, "checkpoint is not supported by novm");
	return cli_fail(&err);
}

int cmd_checkpoint(const struct runtime_globals *g, int argc, char **argv)
{
	return unsupported("checkpoint", argc, argv);
}

int cmd_restore(const struct runtime_globals *g, int argc, char **argv)
{
	return unsupported("restore", argc, argv);
}
