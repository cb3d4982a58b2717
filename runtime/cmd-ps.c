/* novm-runc ps: the table shows the guest's processes (asked of the agent
 * through the VMM); --format json gives the *host* pids that stand for the
 * container, the VMM and the exec proxies, which is what `docker top`
 * feeds to the host's ps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "control-client.h"
#include "oci/json.h"
#include "runtime.h"
#include "state.h"

enum { OPT_FORMAT };

static const struct cli_flag ps_flags[] = {
	{ "format|f", true, OPT_FORMAT },
	{ 0 },
};

static int print_host_pids(const struct ctr_state *st, novm_error_t *err)
{
	cleanup_free pid_t *execs = NULL;
	size_t n = 0;

	if (st->vmm_alive && state_exec_pids(st->dir, &execs, &n, err) < 0)
		return -1;
	putchar('[');
	if (st->vmm_alive)
		printf("%d", st->vmm.pid);
	for (size_t i = 0; i < n; i++)
		printf(",%d", execs[i]);
	puts("]");
	return 0;
}

/* The agent's answer: [{"pid":..,"ppid":..,"uid":..,"cmd":".."}...]. */
static int print_guest_table(const char *json, novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root, item;

	if (json_doc_parse("ps", json, strlen(json), &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (json_want_array(&root, NULL, err) < 0)
		return -1;
	printf("%-8s %7s %7s %s\n", "UID", "PID", "PPID", "CMD");
	for (size_t i = 0; i < json_array_len(&root); i++) {
		cleanup_free char *cmd = NULL;
		int64_t pid = 0, ppid = 0, uid = 0;

		json_element(&root, i, &item);
		if (json_get_i64(&item, "pid", &pid, err) < 0 || json_get_i64(&item, "ppid", &ppid, err) < 0 ||
		    json_get_i64(&item, "uid", &uid, err) < 0 || json_get_string(&item, "cmd", &cmd, err) < 0)
			return -1;
		/* Kernel threads and the agent (PID 1) are the VM's, not the
		 * container's. */
		if (pid == 1 || (cmd && cmd[0] == '[') || ppid == 2 || pid == 2)
			continue;
		printf("%-8lld %7lld %7lld %s\n", (long long)uid, (long long)pid, (long long)ppid,
		       cmd ? cmd : "");
	}
	return 0;
}

int cmd_ps(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_free char *answer = NULL;
	const char *format = "table";
	novm_error_t err = NULL;
	struct cli_parser p;
	int opt;

	cli_init(&p, "ps", argc, argv);
	while ((opt = cli_next(&p, ps_flags)) != CLI_END) {
		if (opt == CLI_HELP)
			return 0;
		if (opt == CLI_BAD)
			return 1;
		format = p.value;
	}
	/* Further arguments are options for the host's ps in runc: ignored. */
	if (!cli_check_args(&p, 1, -1))
		return 1;
	if (strcmp(format, "table") && strcmp(format, "json")) {
		novm_error(&err, 0, "invalid format option");
		return cli_fail(&err);
	}
	if (state_load(g->root, cli_arg(&p, 0), &st, &err) < 0)
		return cli_fail(&err);
	if (!strcmp(format, "json")) {
		if (print_host_pids(&st, &err) < 0)
			return cli_fail(&err);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (!st.vmm_alive || !strcmp(st.status, "creating")) {
		printf("%-8s %7s %7s %s\n", "UID", "PID", "PPID", "CMD");
		return fflush(stdout) == 0 ? 0 : 1;
	}
	/* The agent answers from inside the guest, which a pause stops. */
	if (!strcmp(st.status, "paused")) {
		novm_error(&err, 0, "cannot list the processes of a paused container: its VM is stopped");
		return cli_fail(&err);
	}
	if (ctl_call(st.dir, "ps", &answer, &err) < 0 || print_guest_table(answer, &err) < 0)
		return cli_fail(&err);
	return fflush(stdout) == 0 ? 0 : 1;
}
