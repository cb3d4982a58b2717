/* novm: the VMM and its kernel store. */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "boot", cmd_boot, "boot a kernel in a new VM with the console on stdout" },
	{ "kernel", cmd_kernel, "manage guest kernels (fetch, import, list, rm)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: novm <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n`novm <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("novm %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "novm: unknown command `%s`\n", argv[1]);
	usage(stderr);
	return 2;
}
