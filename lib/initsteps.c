#include "initsteps.h"

int init_steps_run(struct init_steps *s, novm_error_t *err)
{
	while (s->done < s->nr) {
		if (s->init(s->done, s->opaque, err) < 0) {
			init_steps_unwind(s);
			return -1;
		}
		s->done++;
	}
	return 0;
}

void init_steps_unwind(struct init_steps *s)
{
	/* done drops before each exit, so an exit that unwinds again (or a
	 * later call) never repeats a step. */
	while (s->done > 0) {
		s->done--;
		s->exit(s->done, s->opaque);
	}
}
