/* A container's state as runc prints it: `state` (pretty, owner "") and
 * the entries of `list --format json` (compact, owner the state's user). */
#ifndef NOVM_RUNTIME_STATE_JSON_H
#define NOVM_RUNTIME_STATE_JSON_H

#include "oci/json.h"
#include "state.h"

/* One state object into gen, in runc's field order, with the live status
 * (which may be "paused", unknown to the OCI state). */
void state_json_gen(struct json_gen *gen, const struct ctr_state *st, const char *owner);

/* `novm-runc state` output (heap). */
int state_json_pretty(const struct ctr_state *st, char **out, size_t *len, novm_error_t *err);

#endif
