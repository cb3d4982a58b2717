/* process.capabilities: the five capability sets of the container's
 * process, set the way runc sets them (bounding first, while the agent
 * still has CAP_SETPCAP; the others after the user switch). */
#ifndef NOVM_AGENT_CAPS_H
#define NOVM_AGENT_CAPS_H

#include "error.h"
#include "oci/spec.h"

/* Drops from the bounding set every capability not listed in c->bounding. */
int caps_drop_bounding(const struct oci_capabilities *c, novm_error_t *err);

/* Sets the effective, permitted and inheritable sets to exactly the lists
 * and raises the ambient ones.  Names the running kernel does not know
 * (newer than it) are skipped, as runc does. */
int caps_apply(const struct oci_capabilities *c, novm_error_t *err);

/* The highest capability number the running kernel knows. */
int caps_last_cap(void);

#endif
