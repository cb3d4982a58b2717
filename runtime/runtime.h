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
int cmd_checkpoint(const struct runtime_globals *g, int argc, char **argv);
int cmd_create(const struct runtime_globals *g, int argc, char **argv);
int cmd_delete(const struct runtime_globals *g, int argc, char **argv);
int cmd_events(const struct runtime_globals *g, int argc, char **argv);
int cmd_exec(const struct runtime_globals *g, int argc, char **argv);
int cmd_features(const struct runtime_globals *g, int argc, char **argv);
int cmd_kill(const struct runtime_globals *g, int argc, char **argv);
int cmd_list(const struct runtime_globals *g, int argc, char **argv);
int cmd_pause(const struct runtime_globals *g, int argc, char **argv);
int cmd_ps(const struct runtime_globals *g, int argc, char **argv);
int cmd_restore(const struct runtime_globals *g, int argc, char **argv);
int cmd_resume(const struct runtime_globals *g, int argc, char **argv);
int cmd_run(const struct runtime_globals *g, int argc, char **argv);
int cmd_spec(const struct runtime_globals *g, int argc, char **argv);
int cmd_start(const struct runtime_globals *g, int argc, char **argv);
int cmd_state(const struct runtime_globals *g, int argc, char **argv);
int cmd_update(const struct runtime_globals *g, int argc, char **argv);

#endif
