#include "duration.h"

#include <ctype.h>
#include <string.h>

static const struct {
	const char *unit;
	double ms;
} units[] = {
	/* Longest first: "ms" before "m". */
	{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "\xce\xbcs", 1e-3 },
	{ "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
};

bool duration_parse_ms(const char *text, int64_t *ms)
{
	const char *p = text;
	double total = 0;

	if (!p || !*p)
		return false;
	if (*p == '+')
		p++;
	if (!strcmp(p, "0")) {
		*ms = 0;
		return true;
	}
	while (*p) {
		double value = 0, scale = 1;
		bool digits = false;
		while (isdigit((unsigned char)*p)) {
			value = value * 10 + (*p++ - '0');
			digits = true;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				scale /= 10;
				value += (*p++ - '0') * scale;
				digits = true;
			}
		}
		if (!digits)
			return false;
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t len = strlen(units[i].unit);
			if (!strncmp(p, units[i].unit, len) && (units[i].unit[0] != 'm' || len == 2 || p[1] != 's')) {
				total += value * units[i].ms;
				p += len;
				break;
			}
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return false;	/* a number without its unit */
		if (total > 9.2e15)
			return false;
	}
	*ms = (int64_t)total;
	return true;
}
