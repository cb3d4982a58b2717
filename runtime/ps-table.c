#include "ps-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "oci/json.h"
#include "util.h"

enum {
	COL_FUID, COL_UID, COL_USER, COL_PID, COL_PPID, COL_C, COL_STIME, COL_FTTY, COL_TTY,
	COL_TIME, COL_ETIME, COL_CMD, COL_ARGS, COL_COMM, COL_UCOMM,
};

/* procps's headers and widths.  The -f UID column holds names on a host;
 * the guest's user names are in its /etc/passwd: we show numbers. */
static const struct column {
	const char *names;	/* for -o; "" for the fixed formats' own */
	const char *header;
	int width;
	bool left;
} columns[] = {
	[COL_FUID] = { "", "UID", 8, true },
	[COL_UID] = { "uid|euid", "UID", 5, false },
	[COL_USER] = { "user|euser|uname", "USER", 8, true },
	[COL_PID] = { "pid", "PID", 5, false },
	[COL_PPID] = { "ppid", "PPID", 5, false },
	[COL_C] = { "c", "C", 2, false },
	[COL_STIME] = { "stime|start_time", "STIME", 5, false },
	[COL_FTTY] = { "", "TTY", 8, true },
	[COL_TTY] = { "tty|tt|tname", "TT", 8, true },
	[COL_TIME] = { "time|cputime", "TIME", 8, false },
	[COL_ETIME] = { "etime", "ELAPSED", 11, false },
	[COL_CMD] = { "cmd", "CMD", 0, true },
	[COL_ARGS] = { "args|command", "COMMAND", 0, true },
	[COL_COMM] = { "comm|ucomm", "COMMAND", 0, true },
	[COL_UCOMM] = { "", "CMD", 0, true },
};

static int add_column(struct ps_format *fmt, int col, novm_error_t *err)
{
	if (fmt->n >= PS_MAX_COLUMNS)
		return novm_error(err, 0, "ps: more than %d columns", PS_MAX_COLUMNS);
	fmt->columns[fmt->n++] = col;
	return 0;
}

static bool name_in(const char *names, const char *name, size_t len)
{
	for (const char *n = names; *n;) {
		size_t l = strcspn(n, "|");
		if (l == len && !strncmp(n, name, len))
			return true;
		n += l + (n[l] == '|');
	}
	return false;
}

/* "pid,comm" or "pid comm": each one a column we know. */
static int add_list(struct ps_format *fmt, const char *list, novm_error_t *err)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ", ");
		int col = -1;

		for (size_t c = 0; len && c < ARRAY_SIZE(columns); c++)
			if (name_in(columns[c].names, p, len))
				col = (int)c;
		if (len && col < 0)
			return novm_error(err, 0, "ps: unknown or unsupported -o column \"%.*s\"", (int)len, p);
		if (len && add_column(fmt, col, err) < 0)
			return -1;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

int ps_parse_options(int argc, char *const *argv, struct ps_format *fmt, novm_error_t *err)
{
	static const int full[] = { COL_FUID, COL_PID, COL_PPID, COL_C, COL_STIME, COL_FTTY, COL_TIME, COL_CMD };
	static const int brief[] = { COL_PID, COL_FTTY, COL_TIME, COL_UCOMM };
	bool f = argc == 0, o = false;

	fmt->n = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1])
			return novm_error(err, 0, "ps: unsupported option \"%s\" (use -e, -f, -o)", a);
		for (const char *c = a + 1; *c; c++) {
			if (*c == 'e' || *c == 'A')
				continue;	/* every process of the container is listed anyway */
			if (*c == 'f') {
				f = true;
				continue;
			}
			if (*c != 'o')
				return novm_error(err, 0, "ps: unsupported option \"-%c\" (use -e, -f, -o)", *c);
			const char *list = c[1] ? c + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (!list)
				return novm_error(err, 0, "ps: -o needs a list of columns");
			if (add_list(fmt, list, err) < 0)
				return -1;
			o = true;
			break;
		}
	}
	if (o) {
		if (!fmt->n)
			return novm_error(err, 0, "ps: -o needs a list of columns");
		return 0;
	}
	const int *cols = f ? full : brief;
	size_t n = f ? ARRAY_SIZE(full) : ARRAY_SIZE(brief);
	for (size_t i = 0; i < n; i++)
		fmt->columns[i] = cols[i];
	fmt->n = n;
	return 0;
}

void ps_procs_free(struct ps_proc *procs, size_t n)
{
	for (size_t i = 0; procs && i < n; i++) {
		free(procs[i].cmd);
		free(procs[i].comm);
	}
	free(procs);
}

static int parse_proc(const struct json_node *item, struct ps_proc *p, novm_error_t *err)
{
	int got;

	*p = (struct ps_proc){ .start = -1 };
	if (json_get_i64(item, "pid", &p->pid, err) < 0 || json_get_i64(item, "ppid", &p->ppid, err) < 0 ||
	    json_get_i64(item, "uid", &p->uid, err) < 0 || json_get_string(item, "cmd", &p->cmd, err) < 0 ||
	    json_get_string(item, "comm", &p->comm, err) < 0 ||
	    json_get_i64(item, "start", &p->start, err) < 0)
		return -1;
	got = json_get_i64(item, "tty", &p->tty, err);
	if (got < 0 || json_get_u64(item, "cpu_ms", &p->cpu_ms, err) < 0 ||
	    json_get_u64(item, "elapsed_ms", &p->elapsed_ms, err) < 0)
		return -1;
	p->has_times = got > 0;
	if (!p->cmd && !(p->cmd = strdup("")))
		return novm_error(err, ENOMEM, "ps");
	return 0;
}

int ps_parse_answer(const char *json, struct ps_proc **procs, size_t *n, novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root, item;
	struct ps_proc *list = NULL;
	size_t count = 0;

	*procs = NULL;
	*n = 0;
	if (json_doc_parse("ps", json, strlen(json), &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (json_want_array(&root, NULL, err) < 0)
		return -1;
	if (json_array_len(&root) && !(list = calloc(json_array_len(&root), sizeof(*list))))
		return novm_error(err, ENOMEM, "ps");
	for (size_t i = 0; i < json_array_len(&root); i++) {
		struct ps_proc *p = &list[count];

		json_element(&root, i, &item);
		if (parse_proc(&item, p, err) < 0) {
			ps_procs_free(list, count + 1);
			return -1;
		}
		/* The agent lists the container's cgroup only: the agent and
		 * kernel threads are not in it, and a process with an empty
		 * command line ("[comm]") must not vanish from the table. */
		count++;
	}
	*procs = list;
	*n = count;
	return 0;
}

void ps_tty_name(int64_t tty_nr, char *buf, size_t len)
{
	unsigned major = ((uint64_t)tty_nr >> 8) & 0xfff;
	unsigned minor = (tty_nr & 0xff) | (((uint64_t)tty_nr >> 12) & 0xfff00);

	if (tty_nr <= 0)
		snprintf(buf, len, "?");
	else if (major >= 136 && major <= 143)
		snprintf(buf, len, "pts/%u", minor + (major - 136) * 256);
	else if (major == 4 && minor < 64)
		snprintf(buf, len, "tty%u", minor);
	else if (major == 4)
		snprintf(buf, len, "ttyS%u", minor - 64);
	else if (major == 5 && minor == 1)
		snprintf(buf, len, "console");
	else
		snprintf(buf, len, "?");
}

void ps_cpu_time(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, len, "%llu-%02llu:%02llu:%02llu", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

/* procps's etime: [[DD-]hh:]mm:ss. */
static void elapsed_time(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		ps_cpu_time(ms, buf, len);
	else if (s >= 3600)
		snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%02llu:%02llu", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
}

void ps_start_time(int64_t start, time_t now, char *buf, size_t len)
{
	time_t t = (time_t)start;
	struct tm tm;

	if (start < 0 || !localtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	/* procps: the time of day within a day, the date within a year. */
	strftime(buf, len, now - t < 86400 ? "%H:%M" : now - t < 365 * 86400 ? "%b%d" : "%Y", &tm);
}

static void cell(const struct ps_proc *p, int col, time_t now, char *buf, size_t len)
{
	switch (col) {
	case COL_FUID: case COL_UID: case COL_USER:
		snprintf(buf, len, "%lld", (long long)p->uid);
		break;
	case COL_PID: snprintf(buf, len, "%lld", (long long)p->pid); break;
	case COL_PPID: snprintf(buf, len, "%lld", (long long)p->ppid); break;
	case COL_C: {
		uint64_t c = p->elapsed_ms ? p->cpu_ms * 100 / p->elapsed_ms : 0;
		snprintf(buf, len, "%llu", (unsigned long long)(c > 99 ? 99 : c));
		break;
	}
	case COL_STIME: ps_start_time(p->has_times ? p->start : -1, now, buf, len); break;
	case COL_FTTY: case COL_TTY: ps_tty_name(p->has_times ? p->tty : 0, buf, len); break;
	case COL_TIME: ps_cpu_time(p->cpu_ms, buf, len); break;
	case COL_ETIME: elapsed_time(p->elapsed_ms, buf, len); break;
	default: buf[0] = '\0'; break;
	}
}

/* The command columns hold guest text: escaped for the terminal. */
static const char *text_of(const struct ps_proc *p, int col)
{
	if (col == COL_COMM || col == COL_UCOMM)
		return p->comm ? p->comm : p->cmd;
	return p->cmd;
}

static void print_field(FILE *out, const struct column *c, const char *text, bool last)
{
	/* A left-aligned last column needs no padding (procps's neither). */
	if (last && c->left)
		fputs(text, out);
	else
		fprintf(out, c->left ? "%-*s" : "%*s", c->width, text);
}

void ps_print(FILE *out, const struct ps_format *fmt, const struct ps_proc *procs, size_t n,
	      time_t now)
{
	char buf[64];

	for (size_t i = 0; i < fmt->n; i++) {
		const struct column *c = &columns[fmt->columns[i]];
		fputs(i ? " " : "", out);
		print_field(out, c, c->header, i + 1 == fmt->n);
	}
	fputc('\n', out);
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < fmt->n; i++) {
			int col = fmt->columns[i];
			bool last = i + 1 == fmt->n;
			fputs(i ? " " : "", out);
			if (col >= COL_CMD) {
				/* Padding would count escapes: text goes last or as is. */
				fputs_escaped(text_of(&procs[r], col), out);
				continue;
			}
			cell(&procs[r], col, now, buf, sizeof(buf));
			print_field(out, &columns[col], buf, last);
		}
		fputc('\n', out);
	}
}
