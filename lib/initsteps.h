/* Ordered set-up steps, undone in reverse: kvmtool's init levels as a loop
 * over a table.  The caller keeps its own typed, const table; these walk it
 * by index through two callbacks, so no function pointer is ever cast. */
#ifndef NOVM_INITSTEPS_H
#define NOVM_INITSTEPS_H

#include <stddef.h>

#include "error.h"

struct init_steps {
	size_t nr;	/* steps in the caller's table */
	/* Runs step i.  A step that fails undoes its own partial work first:
	 * its exit is not called. */
	int (*init)(size_t i, void *opaque, novm_error_t *err);
	void (*exit)(size_t i, void *opaque);
	void *opaque;
	size_t done;	/* steps 0..done-1 are up; start at 0 */
};

/* Runs the steps from s->done on, in order.  When one fails, undoes the
 * ones done, last first, and returns -1 with its *err. */
int init_steps_run(struct init_steps *s, novm_error_t *err);

/* Undoes the steps that are up, last first.  Calling it again is a no-op. */
void init_steps_unwind(struct init_steps *s);

#endif
