/* Parsers for /proc text files the agent reports from: pure functions,
 * unit-tested on the host. */
#ifndef NOVM_AGENT_PROCINFO_H
#define NOVM_AGENT_PROCINFO_H

#include <stddef.h>
#include <stdint.h>

/* Number of "processor : N" lines in the text of /proc/cpuinfo. */
unsigned cpuinfo_count_processors(const char *cpuinfo);

/* The value of `key` (e.g. "MemTotal") in the text of /proc/meminfo, in
 * KiB; -1 when the key is absent or its value is not a number. */
long long meminfo_get_kib(const char *meminfo, const char *key);

/* Lower-case hex of len bytes into out, which holds 2 * len + 1 chars. */
void hex_encode(const uint8_t *data, size_t len, char *out);

#endif
