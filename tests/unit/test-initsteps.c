/* lib/initsteps: steps run in order, a failure undoes the steps before it
 * in reverse (not the failed one), and teardown runs in reverse once. */
#include <string.h>

#include "initsteps.h"
#include "tap.h"

#define NR 4

struct trace {
	char log[64];	/* "i0 i1 e1 e0": init/exit calls in order */
	int fail_at;	/* -1: none fails */
};

static void note(struct trace *t, char what, size_t i)
{
	size_t n = strlen(t->log);

	if (n + 4 < sizeof(t->log)) {
		if (n)
			t->log[n++] = ' ';
		t->log[n++] = what;
		t->log[n++] = (char)('0' + i);
		t->log[n] = '\0';
	}
}

static int step_init(size_t i, void *opaque, novm_error_t *err)
{
	struct trace *t = opaque;

	note(t, 'i', i);
	if ((int)i == t->fail_at)
		return novm_error(err, 0, "step %zu failed", i);
	return 0;
}

static void step_exit(size_t i, void *opaque)
{
	note(opaque, 'e', i);
}

static struct init_steps steps_for(struct trace *t, int fail_at)
{
	memset(t, 0, sizeof(*t));
	t->fail_at = fail_at;
	return (struct init_steps){ .nr = NR, .init = step_init, .exit = step_exit, .opaque = t };
}

int main(void)
{
	struct trace t;
	struct init_steps s;
	novm_error_t err = NULL;

	s = steps_for(&t, -1);
	ok(init_steps_run(&s, &err) == 0 && !err, "all steps succeed");
	ok(s.done == NR && !strcmp(t.log, "i0 i1 i2 i3"), "run in table order: %s", t.log);
	init_steps_unwind(&s);
	ok(s.done == 0 && !strcmp(t.log, "i0 i1 i2 i3 e3 e2 e1 e0"), "unwound in reverse: %s",
	   t.log);
	init_steps_unwind(&s);
	ok(!strcmp(t.log, "i0 i1 i2 i3 e3 e2 e1 e0"), "a second unwind does nothing");

	s = steps_for(&t, 2);
	ok(init_steps_run(&s, &err) < 0, "a failing step fails the run");
	ok(err && !strcmp(err->msg, "step 2 failed"), "with the step's error: %s",
	   err ? err->msg : "(none)");
	novm_error_release(&err);
	ok(s.done == 0 && !strcmp(t.log, "i0 i1 i2 e1 e0"),
	   "the steps before it undone in reverse, not the failed one: %s", t.log);
	init_steps_unwind(&s);
	ok(!strcmp(t.log, "i0 i1 i2 e1 e0"), "nothing left to unwind after a failure");

	s = steps_for(&t, 0);
	ok(init_steps_run(&s, &err) < 0 && s.done == 0 && !strcmp(t.log, "i0"),
	   "the first step failing undoes nothing: %s", t.log);
	novm_error_release(&err);

	s = steps_for(&t, -1);
	s.nr = 0;
	ok(init_steps_run(&s, &err) == 0 && !t.log[0], "an empty table runs nothing");

	return tap_done();
}
