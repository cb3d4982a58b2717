/* The OCI state document: runc-shaped output, generate -> parse round
 * trip, and the errors of a damaged state file. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "oci/state.h"

static bool str_is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

static void test_output(void)
{
	struct oci_state st = {
		.id = "c1",
		.status = OCI_STATUS_CREATED,
		.pid = 4242,
		.bundle = "/run/bundles/c1",
	};
	const char *want = "{\n"
			   "  \"ociVersion\": \"" OCI_SPEC_VERSION "\",\n"
			   "  \"id\": \"c1\",\n"
			   "  \"pid\": 4242,\n"
			   "  \"status\": \"created\",\n"
			   "  \"bundle\": \"/run/bundles/c1\"\n"
			   "}\n";
	novm_error_t err = NULL;
	char *out = NULL;
	size_t len = 0;

	ok(oci_state_to_json(&st, &out, &len, &err) == 0 && str_is(out, want) && len == strlen(want),
	   "minimal state as runc prints it");
	for (char *line = out && strcmp(out, want) ? strtok(out, "\n") : NULL; line;
	     line = strtok(NULL, "\n"))
		printf("#   got: %s\n", line);
	free(out);
}

static void test_round_trip(void)
{
	struct oci_kv annotations[] = {
		{ "org.novm.cpus", "2" },
		{ "com.example/\"quoted\"", "multi\nline" },
	};
	struct oci_state st = {
		.oci_version = "1.0.2",
		.id = "web-1",
		.status = OCI_STATUS_RUNNING,
		.pid = 77,
		.bundle = "/srv/web",
		.annotations = annotations,
		.n_annotations = 2,
		.rootfs = "/srv/web/rootfs",
		.created = "2025-11-25T13:00:00.123456789Z",
		.owner = "",
	};
	struct oci_state *back = NULL;
	novm_error_t err = NULL;
	char *out = NULL;
	size_t len = 0;

	ok(oci_state_to_json(&st, &out, &len, &err) == 0, "full state generated");
	ok(out && oci_state_from_json("state.json", out, len, &back, &err) == 0,
	   "and parsed back%s%s", err ? ": " : "", err ? err->msg : "");
	if (back) {
		ok(str_is(back->oci_version, "1.0.2") && str_is(back->id, "web-1") &&
		   back->status == OCI_STATUS_RUNNING && back->pid == 77 &&
		   str_is(back->bundle, "/srv/web"), "version, id, status, pid, bundle");
		ok(back->n_annotations == 2 && str_is(back->annotations[0].key, "org.novm.cpus") &&
		   str_is(back->annotations[0].value, "2") &&
		   str_is(back->annotations[1].key, "com.example/\"quoted\"") &&
		   str_is(back->annotations[1].value, "multi\nline"), "annotations, in order, escaped");
		ok(str_is(back->rootfs, "/srv/web/rootfs") &&
		   str_is(back->created, "2025-11-25T13:00:00.123456789Z") && str_is(back->owner, ""),
		   "runc's extra fields");
	}
	oci_state_free(back);
	free(out);

	/* every status survives the trip */
	for (int s = OCI_STATUS_CREATING; s <= OCI_STATUS_STOPPED; s++) {
		struct oci_state one = { .id = "x", .status = s, .bundle = "/b" };

		back = NULL;
		out = NULL;
		ok(oci_state_to_json(&one, &out, &len, &err) == 0 &&
		   oci_state_from_json("s", out, len, &back, &err) == 0 && back->status == (enum oci_status)s &&
		   back->pid == 0 && !back->annotations && !back->rootfs,
		   "status %s round-trips", oci_status_name(s));
		oci_state_free(back);
		free(out);
	}
}

static void expect_error(const char *text, const char *want, const char *what)
{
	struct oci_state *st = NULL;
	novm_error_t err = NULL;

	ok(oci_state_from_json("state.json", text, strlen(text), &st, &err) < 0 && !st && err &&
	   strcmp(err->msg, want) == 0, "%s: %s", what, err ? err->msg : "(parsed)");
	oci_state_free(st);
	novm_error_release(&err);
}

static void test_errors(void)
{
	expect_error("{\"ociVersion\": \"1.0.0\", \"id\": \"a\", \"status\": \"paused\", \"bundle\": \"/b\"}",
		     "state.json: status: unknown status \"paused\"", "unknown status");
	expect_error("{\"ociVersion\": \"1.0.0\", \"status\": \"created\", \"bundle\": \"/b\"}",
		     "state.json: id: missing", "id missing");
	expect_error("{\"ociVersion\": \"1.0.0\", \"id\": \"\", \"status\": \"created\", \"bundle\": \"/b\"}",
		     "state.json: id: must not be empty", "empty id");
	expect_error("{\"ociVersion\": \"1.0.0\", \"id\": \"a\", \"status\": \"created\", "
		     "\"bundle\": \"/b\", \"pid\": -3}",
		     "state.json: pid: negative pid -3", "negative pid");
	expect_error("{\"ociVersion\": \"1.0.0\", \"id\": \"a\", \"status\": \"created\", "
		     "\"bundle\": \"/b\", \"pid\": \"12\"}",
		     "state.json: pid: expected an integer", "pid as a string");
	expect_error("{\"ociVersion\": \"1.0.0\", \"id\": \"a\"",
		     "state.json: invalid JSON at line 1, column 34: parse error: premature EOF",
		     "truncated file");
	expect_error("\"text\"", "state.json: expected an object", "not an object");

	enum oci_status s;
	ok(oci_status_parse("stopped", &s) && s == OCI_STATUS_STOPPED && !oci_status_parse("Stopped", &s),
	   "status names are exact");
}

int main(void)
{
	test_output();
	test_round_trip();
	test_errors();
	return tap_done();
}
