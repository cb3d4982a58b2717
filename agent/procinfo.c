#include "procinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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

bool proc_stat_parse(const char *stat, struct proc_stat_info *out)
{
	const char *open = strchr(stat, '('), *close = strrchr(stat, ')');
	unsigned long long v[22] = { 0 };
	const char *p;
	char *end;

	if (!open || !close || close < open)
		return false;
	snprintf(out->comm, sizeof(out->comm), "%.*s", (int)(close - open - 1), open + 1);
	/* Field 3 (the state letter) onwards; the numbers from field 4. */
	p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p)
		return false;
	p++;
	for (int field = 4; field <= 22; field++) {
		errno = 0;
		v[field - 1] = (unsigned long long)strtoll(p, &end, 10);
		if (errno || end == p)
			return false;
		p = end;
	}
	out->tty_nr = (int)v[6];
	out->cpu_ticks = v[13] + v[14];
	out->start_ticks = v[21];
	return true;
}

long long proc_stat_btime(const char *stat)
{
	for (const char *line = stat; line && *line; line = next_line(line)) {
		char *end;
		long long v;

		if (strncmp(line, "btime ", 6))
			continue;
		errno = 0;
		v = strtoll(line + 6, &end, 10);
		return errno || end == line + 6 ? -1 : v;
	}
	return -1;
}

bool proc_in_cgroup(const char *cgroup_file, const char *cgroup)
{
	size_t n = strlen(cgroup);

	for (const char *line = cgroup_file; line && *line;) {
		const char *end = strchrnul(line, '\n');

		if (!strncmp(line, "0::", 3)) {
			const char *path = line + 3;
			size_t len = (size_t)(end - path);

			return len >= n && !strncmp(path, cgroup, n) && (len == n || path[n] == '/');
		}
		line = *end ? end + 1 : end;
	}
	return false;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int proc_each_in_cgroup(const char *cgroup, void (*fn)(const char *pid, void *opaque),
			void *opaque)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char path[sizeof(de->d_name) + 16], *text = NULL;

		if (!all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
		/* gone meanwhile, or not in the cgroup: left out */
		if (read_file(path, &text, NULL, NULL) == 0 && proc_in_cgroup(text, cgroup))
			fn(de->d_name, opaque);
		free(text);
	}
	closedir(dir);
	return 0;
}
