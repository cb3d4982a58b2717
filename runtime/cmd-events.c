/* novm-runc events: resource use as runc's JSON lines
 *   {"type":"stats","id":..,"data":{"cpu":{"usage":{"total":ns}},
 *    "memory":{"usage":{"usage":bytes,"limit":bytes}}}}
 * once with --stats, else every --interval until the container stops,
 * each after {"type":"oom","id":..} when the guest's OOM killer killed in
 * the container's cgroup since the last one.  The numbers are the guest's
 * (the VMM's `stats`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cli.h"
#include "control-client.h"
#include "duration.h"
#include "jsonstr.h"
#include "oci/json.h"
#include "pod.h"
#include "runtime.h"
#include "state.h"

enum { OPT_INTERVAL, OPT_STATS };

static const struct cli_flag events_flags[] = {
	{ "interval", true, OPT_INTERVAL },
	{ "stats", false, OPT_STATS },
	{ 0 },
};

/* The VMM's answer: {"memory":{"total","available","usage"},"cpu":{"usage"},
 * "oom_kills"} (an older agent's has no oom_kills: 0). */
static int stats_event(const char *id, const char *answer, char **out, uint64_t *ooms,
		       novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);
	struct json_node root, memory, cpu;
	uint64_t mem_usage = 0, mem_total = 0, cpu_total = 0;
	size_t len;

	if (!gen)
		return novm_error(err, ENOMEM, "events");
	if (json_doc_parse("stats", answer, strlen(answer), &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	json_member(&root, "memory", &memory);
	json_member(&root, "cpu", &cpu);
	*ooms = 0;
	if (json_get_u64(&memory, "usage", &mem_usage, err) < 0 ||
	    json_get_u64(&memory, "total", &mem_total, err) < 0 ||
	    json_get_u64(&cpu, "usage", &cpu_total, err) < 0 ||
	    json_get_u64(&root, "oom_kills", ooms, err) < 0)
		return -1;
	json_gen_object_open(gen);
	json_gen_member_string(gen, "type", "stats");
	json_gen_member_string(gen, "id", id);
	json_gen_key(gen, "data");
	json_gen_object_open(gen);
	json_gen_key(gen, "cpu");
	json_gen_object_open(gen);
	json_gen_key(gen, "usage");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "total", cpu_total);
	json_gen_object_close(gen);
	json_gen_object_close(gen);
	json_gen_key(gen, "memory");
	json_gen_object_open(gen);
	json_gen_key(gen, "usage");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "limit", mem_total);
	json_gen_member_u64(gen, "usage", mem_usage);
	json_gen_object_close(gen);
	json_gen_object_close(gen);
	json_gen_object_close(gen);
	json_gen_object_close(gen);
	return json_gen_finish(gen, "events", out, &len, err);
}

/* One stats line.  With seen_ooms (the stream) the OOM count is kept
 * there, and with report an "oom" line comes first when it grew. */
static int print_stats(const struct ctr_state *st, uint64_t *seen_ooms, bool report,
		       novm_error_t *err)
{
	cleanup_free char *answer = NULL, *line = NULL;
	uint64_t ooms;

	if (ctr_call(st, CONTROL_REQ_STATS, &answer, err) < 0 ||
	    stats_event(st->id, answer, &line, &ooms, err) < 0)
		return -1;
	if (seen_ooms && report && ooms > *seen_ooms) {
		printf("{\"type\":\"oom\",\"id\":");
		json_write_string(stdout, st->id);
		printf("}\n");
	}
	if (seen_ooms)
		*seen_ooms = ooms;
	printf("%s\n", line);
	if (fflush(stdout) != 0)
		return novm_error(err, errno, "write");
	return 0;
}

static bool runs(const struct ctr_state *st)
{
	return strcmp(st->status, "stopped") && strcmp(st->status, "creating");
}

int cmd_events(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	novm_error_t err = NULL;
	struct cli_parser p;
	bool once = false;
	int64_t interval_ms = 5000;
	int opt;

	cli_init(&p, "events", argc, argv);
	while ((opt = cli_next(&p, events_flags)) != CLI_END) {
		switch (opt) {
		case CLI_HELP: return 0;
		case CLI_BAD: return 1;
		case OPT_STATS: once = p.bool_value; break;
		case OPT_INTERVAL:
			if (!duration_parse_ms(p.value, &interval_ms))
				return cli_bad_value(&p, "interval", "time: invalid duration");
			break;
		}
	}
	if (!cli_check_args(&p, 1, 1))
		return 1;
	if (interval_ms <= 0) {
		novm_error(&err, 0, "duration interval must be greater than 0");
		return cli_fail(&err);
	}
	const char *id = cli_arg(&p, 0);
	if (state_load(g->root, id, &st, &err) < 0)
		return cli_fail(&err);
	if (!runs(&st)) {
		novm_error(&err, 0, "container with id %s is not running", id);
		return cli_fail(&err);
	}
	if (once)
		return print_stats(&st, NULL, false, &err) < 0 ? cli_fail(&err) : 0;
	/* Kills from before the stream began are not news. */
	uint64_t seen_ooms = 0;
	for (bool first = true;; first = false) {
		if (print_stats(&st, &seen_ooms, !first, &err) < 0) {
			ctr_state_release(&st);
			/* The container stopping ends the stream quietly. */
			if (state_load(g->root, id, &st, NULL) < 0 || !runs(&st)) {
				novm_error_release(&err);
				return 0;
			}
			return cli_fail(&err);
		}
		struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ctr_state_release(&st);
		if (state_load(g->root, id, &st, NULL) < 0 || !runs(&st))
			return 0;
	}
}
