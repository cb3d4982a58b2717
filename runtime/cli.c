#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void cli_init(struct cli_parser *p, const char *command, int argc, char **argv)
{
	*p = (struct cli_parser){ .command = command, .argc = argc, .argv = argv, .index = 1 };
}

static bool name_matches(const char *names, const char *name, size_t len)
{
	for (const char *n = names; *n;) {
		size_t l = strcspn(n, "|");
		if (l == len && !strncmp(n, name, len))
			return true;
		n += l;
		if (*n == '|')
			n++;
	}
	return false;
}

static void usage_error(struct cli_parser *p, const char *msg)
{
	novm_error_t err = NULL;

	printf("Incorrect Usage: %s\n\n", msg);
	cli_print_help(p->command, stdout);
	fflush(stdout);
	novm_error(&err, 0, "%s", msg);
	log_error_and_release(&err);
}

int cli_next(struct cli_parser *p, const struct cli_flag *flags)
{
	static const struct cli_flag help = { "help|h", false, CLI_HELP };
	const char *arg, *name, *eq;
	const struct cli_flag *flag = NULL;
	char msg[256];
	size_t len;

	p->value = NULL;
	p->bool_value = true;
	if (p->index >= p->argc)
		return CLI_END;
	arg = p->argv[p->index];
	if (arg[0] != '-' || !arg[1])
		return CLI_END;
	if (!strcmp(arg, "--")) {
		p->index++;
		return CLI_END;
	}
	name = arg + (arg[1] == '-' ? 2 : 1);
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	for (const struct cli_flag *f = flags; f && f->names; f++)
		if (name_matches(f->names, name, len)) {
			flag = f;
			break;
		}
	if (!flag && name_matches(help.names, name, len))
		flag = &help;
	if (!flag || !len || name[0] == '-' || name[0] == '=') {
		snprintf(msg, sizeof(msg), "flag provided but not defined: -%.*s", (int)len, name);
		usage_error(p, msg);
		return CLI_BAD;
	}
	p->index++;
	if (flag->has_value) {
		if (eq) {
			p->value = eq + 1;
		} else if (p->index < p->argc) {
			p->value = p->argv[p->index++];
		} else {
			snprintf(msg, sizeof(msg), "flag needs an argument: -%.*s", (int)len, name);
			usage_error(p, msg);
			return CLI_BAD;
		}
	} else if (eq) {
		/* Go's boolean flags take `-flag=false` (and strconv's spellings). */
		const char *v = eq + 1;
		if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "TRUE") ||
		    !strcmp(v, "True") || !strcmp(v, "T")) {
			p->bool_value = true;
		} else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f") ||
			   !strcmp(v, "FALSE") || !strcmp(v, "False") || !strcmp(v, "F")) {
			p->bool_value = false;
		} else {
			snprintf(msg, sizeof(msg), "invalid boolean value \"%s\" for -%.*s: parse error", v,
				 (int)len, name);
			usage_error(p, msg);
			return CLI_BAD;
		}
	}
	if (flag == &help) {
		cli_print_help(p->command, stdout);
		return CLI_HELP;
	}
	return flag->id;
}

bool cli_check_args(struct cli_parser *p, int min, int max)
{
	int n = cli_nargs(p);
	char msg[256];

	if (min == max && n != min)
		snprintf(msg, sizeof(msg), "novm-runc: \"%s\" requires exactly %d argument(s)", p->command,
			 min);
	else if (n < min)
		snprintf(msg, sizeof(msg), "novm-runc: \"%s\" requires a minimum of %d argument(s)",
			 p->command, min);
	else if (max >= 0 && n > max)
		snprintf(msg, sizeof(msg), "novm-runc: \"%s\" requires a maximum of %d argument(s)",
			 p->command, max);
	else
		return true;
	novm_error_t err = NULL;
	printf("Incorrect Usage.\n\n");
	cli_print_help(p->command, stdout);
	fflush(stdout);
	novm_error(&err, 0, "%s", msg);
	log_error_and_release(&err);
	return false;
}

int cli_bad_value(struct cli_parser *p, const char *flag, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "invalid value \"%s\" for flag -%s: %s", p->value ? p->value : "",
		 flag, why);
	usage_error(p, msg);
	return 1;
}

int cli_check_preserve_fds(struct cli_parser *p)
{
	long long n;

	if (!cli_parse_int(p->value, 0, 1 << 20, &n))
		return cli_bad_value(p, "preserve-fds", "parse error");
	if (n > 0)
		return cli_bad_value(p, "preserve-fds",
				     "host file descriptors cannot be passed into the container's VM");
	return 0;
}

int cli_fail(novm_error_t *err)
{
	log_error_and_release(err);
	return 1;
}

bool cli_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}
