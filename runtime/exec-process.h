/* The process an `exec` runs: config.json's process changed by runc exec's
 * flags, or a --process file; written out as the OCI process JSON the agent
 * takes (checked here first, so a bad one fails on the host with the field
 * named). */
#ifndef NOVM_RUNTIME_EXEC_PROCESS_H
#define NOVM_RUNTIME_EXEC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "oci/spec.h"

/* runc exec's flags, as given. */
struct exec_flags {
	char **args;		/* the command; NULL-terminated, may be empty */
	char **env;		/* --env K=V, in order */
	size_t n_env;
	const char *cwd;
	bool tty;
	const char *user;	/* "uid[:gid]" */
	int64_t *additional_gids;
	size_t n_additional_gids;
	char **caps;		/* --cap, added to every set */
	size_t n_caps;
	bool has_no_new_privs, no_new_privs;
};

/* Applies the flags to a copy of `base` as runc does: args replaced, env
 * appended (a repeated key takes the new value), terminal = --tty, user and
 * groups, capabilities added.  Errors name the bad flag. */
int exec_process_apply(const struct oci_process *base, const struct exec_flags *f,
		       struct oci_process *out, novm_error_t *err);

/* Reads and checks a --process file. */
int exec_process_load(const char *path, struct oci_process *out, novm_error_t *err);

/* The process object as JSON (compact, heap). */
int exec_process_json(const struct oci_process *p, char **json, size_t *len, novm_error_t *err);

#endif
