/* novm-runc list: the containers under --root, as runc prints them. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cli.h"
#include "runtime.h"
#include "state-json.h"

enum { OPT_FORMAT, OPT_QUIET };

static const struct cli_flag list_flags[] = {
	{ "format|f", true, OPT_FORMAT },
	{ "quiet|q", false, OPT_QUIET },
	{ 0 },
};

struct listed {
	struct ctr_state st;
	char owner[64];
	char pid[16];
};

/* runc shows the user owning the state directory, "#<uid>" if unnamed. */
static void owner_of(const char *dir, char *out, size_t len)
{
	struct stat sb;
	struct passwd *pw;

	if (stat(dir, &sb) < 0) {
		snprintf(out, len, "#?");
		return;
	}
	pw = getpwuid(sb.st_uid);
	if (pw)
		snprintf(out, len, "%s", pw->pw_name);
	else
		snprintf(out, len, "#%u", sb.st_uid);
}

/* Go's tabwriter as runc sets it up (minimum width 12, padding 3); the
 * last column is not aligned. */
static void print_table(const struct listed *c, size_t n)
{
	static const char *const head[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
	size_t width[5];

	for (int col = 0; col < 5; col++) {
		size_t w = strlen(head[col]);
		for (size_t i = 0; i < n; i++) {
			const char *cells[] = { c[i].st.id, c[i].pid, c[i].st.status, c[i].st.oci->bundle,
						c[i].st.oci->created ? c[i].st.oci->created : "" };
			if (strlen(cells[col]) > w)
				w = strlen(cells[col]);
		}
		width[col] = w + 3 > 12 ? w + 3 : 12;
	}
	for (int col = 0; col < 5; col++)
		printf("%-*s", (int)width[col], head[col]);
	printf("%s\n", head[5]);
	for (size_t i = 0; i < n; i++) {
		const char *cells[] = { c[i].st.id, c[i].pid, c[i].st.status, c[i].st.oci->bundle,
					c[i].st.oci->created ? c[i].st.oci->created : "" };
		for (int col = 0; col < 5; col++)
			printf("%-*s", (int)width[col], cells[col]);
		printf("%s\n", c[i].owner);
	}
}

static int print_json(const struct listed *c, size_t n, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = NULL;
	cleanup_free char *json = NULL;
	size_t len;

	if (!n) {
		/* A nil Go slice: runc prints null. */
		puts("null");
		return 0;
	}
	gen = json_gen_new(NULL);
	if (!gen)
		return novm_error(err, ENOMEM, "list");
	json_gen_array_open(gen);
	for (size_t i = 0; i < n; i++)
		state_json_gen(gen, &c[i].st, c[i].owner);
	json_gen_array_close(gen);
	if (json_gen_finish(gen, "list", &json, &len, err) < 0)
		return -1;
	printf("%s\n", json);
	return 0;
}

int cmd_list(const struct runtime_globals *g, int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	char **ids = NULL;
	size_t n_ids = 0, n = 0;
	struct listed *listed = NULL;
	novm_error_t err = NULL;
	struct cli_parser p;
	int opt, ret = 1;

	cli_init(&p, "list", argc, argv);
	while ((opt = cli_next(&p, list_flags)) != CLI_END) {
		switch (opt) {
		case CLI_HELP: return 0;
		case CLI_BAD: return 1;
		case OPT_FORMAT: format = p.value; break;
		case OPT_QUIET: quiet = p.bool_value; break;
		}
	}
	if (!cli_check_args(&p, 0, 0))
		return 1;
	if (strcmp(format, "table") && strcmp(format, "json")) {
		novm_error(&err, 0, "invalid format option");
		return cli_fail(&err);
	}
	if (state_list_ids(g->root, &ids, &n_ids, &err) < 0)
		return cli_fail(&err);
	if (n_ids && !(listed = calloc(n_ids, sizeof(*listed)))) {
		novm_error(&err, ENOMEM, "list");
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		struct listed *l = &listed[n];
		/* One being deleted (or half created) meanwhile is left out. */
		if (state_load(g->root, ids[i], &l->st, NULL) < 0)
			continue;
		owner_of(l->st.dir, l->owner, sizeof(l->owner));
		snprintf(l->pid, sizeof(l->pid), "%d", l->st.oci->pid);
		n++;
	}
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", listed[i].st.id);
	} else if (!strcmp(format, "json")) {
		if (print_json(listed, n, &err) < 0)
			goto out;
	} else {
		print_table(listed, n);
	}
	ret = fflush(stdout) == 0 ? 0 : 1;
out:
	for (size_t i = 0; i < n; i++)
		ctr_state_release(&listed[i].st);
	free(listed);
	state_free_ids(ids, n_ids);
	if (err)
		return cli_fail(&err);
	return ret;
}
