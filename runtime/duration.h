/* Go's time.ParseDuration, which runc's duration flags use ("5s", "1m30s",
 * "250ms", "1.5h"), to milliseconds. */
#ifndef NOVM_RUNTIME_DURATION_H
#define NOVM_RUNTIME_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/* false for anything Go would refuse, or a negative duration. */
bool duration_parse_ms(const char *text, int64_t *ms);

#endif
