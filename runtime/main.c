/* novm-runc: a runc-compatible OCI runtime running each container in a VM.
 * This file reads the global options and hands over to a command. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "commands.h"
#include "log.h"
#include "oci/spec.h"
#include "runtime.h"
#include "runtime/commit.h"
#include "state.h"
#include "vmm/kstore/kstore.h"

static void usage(FILE *out)
{
	fprintf(out,
		"NAME:\n"
		"   novm-runc - Open Container Initiative runtime, each container in its own KVM virtual machine\n\n"
		"novm-runc runs OCI bundles like runc. A bundle is a directory with a\n"
		"specification file named \"config.json\" and a root filesystem.\n\n"
		"To start a new instance of a container:\n\n"
		"    # novm-runc run [ -b bundle ] <container-id>\n\n"
		"USAGE:\n"
		"   novm-runc [global options] command [command options] [arguments...]\n\n"
		"VERSION:\n"
		"   %s\n"
		"spec: %s\n\n"
		"COMMANDS:\n",
		PACKAGE_VERSION, OCI_SPEC_VERSION);
	for (size_t i = 0; i < nr_commands; i++)
		fprintf(out, "   %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"   %-11s %s\n\n"
		"GLOBAL OPTIONS:\n"
		"   --debug             enable debug logging\n"
		"   --log value         set the log file to write novm-runc logs to (default is '/dev/stderr')\n"
		"   --log-format value  set the log format ('text' (default), or 'json') (default: \"text\")\n"
		"   --root value        root directory for storage of container state (this should be located in tmpfs) (default: \"%s\")\n"
		"   --criu value        accepted for compatibility (checkpoints are not supported)\n"
		"   --systemd-cgroup    enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\"\n"
		"   --rootless value    accepted for compatibility (a VM needs /dev/kvm) (default: \"auto\")\n"
		"   --help, -h          show help\n"
		"   --version, -v       print the version\n",
		"help, h", "Shows a list of commands or help for one command", RUNTIME_DEFAULT_ROOT);
}

/* runc's three lines first (tools parse them), then ours. */
static void print_version(void)
{
	cleanup_free char *kernel = NULL;
	novm_error_t err = NULL;

	printf("novm-runc version %s\ncommit: %s\nspec: %s\n", PACKAGE_VERSION, NOVM_COMMIT,
	       OCI_SPEC_VERSION);
	printf("vmm: novm %s, each container in its own KVM guest\n", PACKAGE_VERSION);
	if (kstore_default(kstore_root(), &kernel, &err) < 0)
		novm_error_release(&err);
	printf("kernel store: %s (default kernel: %s)\n", kstore_root(), kernel ? kernel : "none");
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

/* `help [command]`, `<command> help` is the command's own business. */
static int help(int argc, char **argv)
{
	novm_error_t err = NULL;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (!command_find(argv[1])) {
		novm_error(&err, 0, "No help topic for '%s'", argv[1]);
		log_error_and_release(&err);
		return 3;
	}
	cli_print_help(argv[1], stdout);
	return 0;
}

/* Files we open must never land on 0-2 (a VMM would take a state file for
 * the container's stdout): a caller that closed them gets /dev/null. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			exit(1);
}

int main(int argc, char **argv)
{
	struct runtime_globals g = { .root = RUNTIME_DEFAULT_ROOT, .log_format = "text" };
	const char *ignored, *rootless = NULL;
	cleanup_error novm_error_t err = NULL;
	int i;

	ensure_stdio();
	/* Docker puts its runtimeArgs first: global options may come in any
	 * order before the command. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (take_value(argc, argv, &i, "root", &g.root) || take_value(argc, argv, &i, "log", &g.log) ||
		    take_value(argc, argv, &i, "log-format", &g.log_format) ||
		    take_value(argc, argv, &i, "criu", &ignored) ||
		    take_value(argc, argv, &i, "rootless", &rootless))
			continue;
		if (is_flag(argv[i], "debug")) {
			g.debug = true;
		} else if (is_flag(argv[i], "systemd-cgroup")) {
			g.systemd_cgroup = true;
		} else if (is_flag(argv[i], "version") || is_flag(argv[i], "v")) {
			print_version();
			return 0;
		} else if (is_flag(argv[i], "help") || is_flag(argv[i], "h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "novm-runc: flag provided but not defined: %s\n", argv[i]);
			return 1;
		}
	}
	g.rootless = rootless && !strcmp(rootless, "true");
	if (log_init(g.log, g.log_format, g.debug, &err) < 0) {
		log_error_and_release(&err);
		return 1;
	}
	if (i >= argc) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[i], "help") || !strcmp(argv[i], "h"))
		return help(argc - i, argv + i);
	const struct command *c = command_find(argv[i]);
	if (c)
		return c->run(&g, argc - i, argv + i);
	novm_error(&err, 0, "No help topic for '%s'", argv[i]);
	log_error_and_release(&err);
	return 3;
}
