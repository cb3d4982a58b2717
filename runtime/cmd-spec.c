/* novm-runc spec: a default config.json, like `runc spec`. */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "oci/default-spec.h"
#include "runtime.h"

enum { OPT_BUNDLE, OPT_ROOTLESS };

static const struct cli_flag spec_flags[] = {
	{ "bundle|b", true, OPT_BUNDLE },
	{ "rootless", false, OPT_ROOTLESS },
	{ 0 },
};

int cmd_spec(const struct runtime_globals *g, int argc, char **argv)
{
	novm_error_t err = NULL;
	const char *bundle = ".";
	struct cli_parser p;
	int opt;

	cli_init(&p, "spec", argc, argv);
	while ((opt = cli_next(&p, spec_flags)) != CLI_END) {
		switch (opt) {
		case CLI_HELP: return 0;
		case CLI_BAD: return 1;
		case OPT_BUNDLE: bundle = p.value; break;
		case OPT_ROOTLESS:
			novm_error(&err, 0, "spec --rootless: rootless containers are not supported by novm (a VM needs /dev/kvm)");
			return cli_fail(&err);
		}
	}
	if (!cli_check_args(&p, 0, 0))
		return 1;
	if (oci_write_default_spec(bundle, &err) < 0)
		return cli_fail(&err);
	return 0;
}
