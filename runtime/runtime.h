#ifndef NOVM_RUNTIME_H
#define NOVM_RUNTIME_H

#include <stdbool.h>

/* Global options, runc's names. */
struct runtime_globals {
	const char *root;
	const char *log;
	const char *log_format;
	bool debug;
	bool systemd_cgroup;
	bool rootless;
};

/* Each command gets argv from its own name on; returns the exit status. */
int cmd_run(const struct runtime_globals *g, int argc, char **argv);
int cmd_spec(const struct runtime_globals *g, int argc, char **argv);

#endif
