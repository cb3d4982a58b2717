/* The command table: each command's entry point and help, runc's wording
 * adapted to a runtime whose containers are VMs. */
#ifndef NOVM_RUNTIME_COMMANDS_H
#define NOVM_RUNTIME_COMMANDS_H

#include <stddef.h>

#include "runtime.h"

struct command {
	const char *name;
	int (*run)(const struct runtime_globals *g, int argc, char **argv);
	const char *summary;	/* one line for the list */
	const char *usage;	/* what follows the name on the USAGE line */
	const char *help;	/* DESCRIPTION and OPTIONS, or NULL */
};

extern const struct command commands[];
extern const size_t nr_commands;

const struct command *command_find(const char *name);

#endif
