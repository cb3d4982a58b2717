#include "procinfo.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Start of the line after `line`, or NULL after the last one. */
static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');
	return nl ? nl + 1 : NULL;
}

/* If line is "<key><blanks>:<rest>", returns rest; else NULL. */
static const char *field_value(const char *line, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(line, key, len) != 0)
		return NULL;
	line += len;
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == ':' ? line + 1 : NULL;
}

unsigned cpuinfo_count_processors(const char *cpuinfo)
{
	unsigned n = 0;

	for (const char *line = cpuinfo; line && *line; line = next_line(line))
		if (field_value(line, "processor"))
			n++;
	return n;
}

long long meminfo_get_kib(const char *meminfo, const char *key)
{
	for (const char *line = meminfo; line && *line; line = next_line(line)) {
		const char *value = field_value(line, key);
		char *end;
		long long kib;

		if (!value)
			continue;
		while (*value == ' ' || *value == '\t')
			value++;
		if (!isdigit((unsigned char)*value))
			return -1;
		errno = 0;
		kib = strtoll(value, &end, 10);
		if (errno)
			return -1;
		return kib;
	}
	return -1;
}

void hex_encode(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}
