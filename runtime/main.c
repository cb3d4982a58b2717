/* novm-runc: a runc-compatible OCI runtime running each container in a VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "oci/spec.h"
#include "runtime.h"
#include "state.h"

struct command {
	const char *name;
	int (*run)(const struct runtime_globals *g, int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "create and run a container" },
	{ "spec", cmd_spec, "create a new specification file" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: novm-runc [global options] command [command options] [arguments...]\n\n"
		"novm-runc runs OCI bundles like runc, each container in its own KVM virtual machine.\n\n"
		"commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\nglobal options:\n"
		"  --root DIR          state directory (default %s)\n"
		"  --log FILE          log file (default stderr)\n"
		"  --log-format FMT    text or json (default text)\n"
		"  --debug             debug logging\n"
		"  --systemd-cgroup    accepted for compatibility\n"
		"  --rootless VALUE    accepted for compatibility (rootless VMs are not supported)\n"
		"  --version, --help\n",
		RUNTIME_DEFAULT_ROOT);
}

/* Matches `--name value` and `--name=value` (runc also takes one dash). */
static bool take_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	if (a[0] == '-' && a[1] == '-')
		a++;
	if (a[0] != '-' || strncmp(a + 1, name, strlen(name)))
		return false;
	const char *rest = a + 1 + strlen(name);
	if (*rest == '=') {
		*value = rest + 1;
		return true;
	}
	if (*rest || *i + 1 >= argc)
		return false;
	*value = argv[++*i];
	return true;
}

static bool is_flag(const char *arg, const char *name)
{
	if (arg[0] == '-' && arg[1] == '-')
		arg++;
	return arg[0] == '-' && !strcmp(arg + 1, name);
}

int main(int argc, char **argv)
{
	struct runtime_globals g = { .root = RUNTIME_DEFAULT_ROOT, .log_format = "text" };
	const char *ignored;
	cleanup_error novm_error_t err = NULL;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (take_value(argc, argv, &i, "root", &g.root) || take_value(argc, argv, &i, "log", &g.log) ||
		    take_value(argc, argv, &i, "log-format", &g.log_format) ||
		    take_value(argc, argv, &i, "criu", &ignored) ||
		    take_value(argc, argv, &i, "rootless", &ignored))
			continue;
		if (is_flag(argv[i], "debug")) {
			g.debug = true;
		} else if (is_flag(argv[i], "systemd-cgroup")) {
			g.systemd_cgroup = true;
		} else if (is_flag(argv[i], "version") || is_flag(argv[i], "v")) {
			printf("novm-runc version %s\nspec: %s\n", PACKAGE_VERSION, OCI_SPEC_VERSION);
			return 0;
		} else if (is_flag(argv[i], "help") || is_flag(argv[i], "h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "novm-runc: flag provided but not defined: %s\n", argv[i]);
			return 1;
		}
	}
	if (log_init(g.log, g.log_format, g.debug, &err) < 0) {
		log_error_and_release(&err);
		return 1;
	}
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(&g, argc - i, argv + i);
	novm_error(&err, 0, "No help topic for '%s'", argv[i]);
	log_error_and_release(&err);
	return 1;
}
