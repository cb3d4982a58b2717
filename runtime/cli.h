/* Command-line conventions every novm-runc command shares, after runc (whose
 * CLI library is urfave/cli over Go's flag package):
 *   - a flag is `-name` or `--name`; a value follows as `-name value` or
 *     `-name=value`; one-letter aliases are just other names (no `-abc`
 *     bundling: `-bogus` is the unknown flag "bogus", not `-b ogus`);
 *   - flags stop at the first argument or `--` (`exec c1 ls -l` leaves -l
 *     to ls);
 *   - a bad flag or argument count prints "Incorrect Usage" and the
 *     command's help on stdout, the error on stderr (and --log), status 1. */
#ifndef NOVM_RUNTIME_CLI_H
#define NOVM_RUNTIME_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

struct cli_flag {
	const char *names;	/* "bundle|b": every name the flag answers to */
	bool has_value;
	int id;			/* what cli_next() returns for it; >= 0 */
};

struct cli_parser {
	const char *command;
	int argc;
	char **argv;		/* argv[0] is the command's name */
	int index;		/* next argv entry to look at */
	const char *value;	/* the value of the flag just returned */
	bool bool_value;	/* a boolean flag: false for `-flag=false` */
};

#define CLI_END (-1)	/* no more flags: arguments start at p->index */
#define CLI_HELP (-2)	/* --help/-h: the help was printed, exit 0 */
#define CLI_BAD (-3)	/* a bad flag: reported, exit 1 */

void cli_init(struct cli_parser *p, const char *command, int argc, char **argv);

/* The next flag's id (its value in p->value), or CLI_END/CLI_HELP/CLI_BAD.
 * `flags` ends with an entry whose names is NULL; help|h is built in. */
int cli_next(struct cli_parser *p, const struct cli_flag *flags);

/* Arguments left after the flags. */
static inline int cli_nargs(const struct cli_parser *p)
{
	return p->argc - p->index;
}

static inline char *cli_arg(const struct cli_parser *p, int i)
{
	return p->argv[p->index + i];
}

/* runc's `"kill" requires a minimum of 1 argument(s)` (with the help);
 * max < 0: no maximum.  False when the count is wrong. */
bool cli_check_args(struct cli_parser *p, int min, int max);

/* A flag value that is not what the flag takes: runc's
 * `invalid value "x" for flag -preserve-fds: ...` with the help. */
int cli_bad_value(struct cli_parser *p, const char *flag, const char *why);

/* --preserve-fds N: 0 is fine; more is refused (1 returned, message
 * printed), as host fds cannot cross into a VM. */
int cli_check_preserve_fds(struct cli_parser *p);

/* Prints the help of `command` (main.c holds the texts). */
void cli_print_help(const char *command, FILE *out);

/* Reports err (stderr and --log) and returns the exit status 1. */
int cli_fail(novm_error_t *err);

/* A decimal integer in [min, max]; false for anything else. */
bool cli_parse_int(const char *s, long long min, long long max, long long *out);

#endif
