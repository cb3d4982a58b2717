/* novm-runc create: the container's VM boots and prepares the process,
 * which waits for `start`. */
#include <stdlib.h>

#include "cli.h"
#include "create.h"
#include "runtime.h"

enum { OPT_BUNDLE, OPT_CONSOLE_SOCKET, OPT_PID_FILE, OPT_NO_PIVOT, OPT_NO_NEW_KEYRING,
       OPT_PRESERVE_FDS, OPT_PIDFD_SOCKET };

static const struct cli_flag create_flags[] = {
	{ "bundle|b", true, OPT_BUNDLE },
	{ "console-socket", true, OPT_CONSOLE_SOCKET },
	{ "pid-file", true, OPT_PID_FILE },
	{ "no-pivot", false, OPT_NO_PIVOT },
	{ "no-new-keyring", false, OPT_NO_NEW_KEYRING },
	{ "preserve-fds", true, OPT_PRESERVE_FDS },
	{ "pidfd-socket", true, OPT_PIDFD_SOCKET },
	{ 0 },
};

int cmd_create(const struct runtime_globals *g, int argc, char **argv)
{
	struct create_options o = { .bundle = "." };
	struct created_container c;
	struct cli_parser p;
	novm_error_t err = NULL;
	int opt;

	cli_init(&p, "create", argc, argv);
	while ((opt = cli_next(&p, create_flags)) != CLI_END) {
		switch (opt) {
		case CLI_HELP: return 0;
		case CLI_BAD: return 1;
		case OPT_BUNDLE: o.bundle = p.value; break;
		case OPT_CONSOLE_SOCKET: o.console_socket = p.value; break;
		case OPT_PID_FILE: o.pid_file = p.value; break;
		case OPT_PIDFD_SOCKET: o.pidfd_socket = p.value; break;
		case OPT_PRESERVE_FDS:
			if (cli_check_preserve_fds(&p))
				return 1;
			break;
		default:
			break;	/* no pivot_root or keyrings on the host side of a VM */
		}
	}
	if (!cli_check_args(&p, 1, 1))
		return 1;
	o.id = cli_arg(&p, 0);
	if (container_create(g, &o, &c, &err) < 0)
		return cli_fail(&err);
	/* Exit at once: the VMM holds the container's stdio, not us. */
	created_container_release(&c);
	return 0;
}
