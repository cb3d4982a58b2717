/* The control protocol's pure parts: request lines, line reassembly, fd
 * passing, and turning agent answers into answer lines.  Everything here
 * comes from a client or the guest and is checked. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "control.h"
#include "fdpass.h"

/* A decimal number without sign, spaces or leading junk, in [min, max]. */
static int parse_number(const char *s, unsigned long long min, unsigned long long max,
			unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s || strlen(s) > 20)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* Splits a line at single spaces into at most max words (pointing into
 * copy).  -1 when there are more, or empty words (doubled spaces). */
static int split_words(char *copy, char **words, int max)
{
	int n = 0;
	char *p = copy;

	if (!*p)
		return 0;
	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == max)
			return -1;
		words[n++] = p;
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	for (int i = 0; i < n; i++)
		if (!*words[i])
			return -1;
	return n;
}

static int parse_signal(const char *s, int *signo, novm_error_t *err)
{
	unsigned long long v;

	if (parse_number(s, 1, NSIG - 1, &v) < 0)
		return novm_error(err, 0, "invalid signal `%.32s`", s);
	*signo = (int)v;
	return 0;
}

/* The words of a request line, split in `copy`: their count (-1 for more
 * than max or empty words), or -2 with *err when the line is too long. */
static int request_words(const char *line, char copy[CONTROL_MAX_LINE], char **w, int max,
			 novm_error_t *err)
{
	if (strlen(line) >= CONTROL_MAX_LINE) {
		novm_error(err, 0, "request too long");
		return -2;
	}
	strcpy(copy, line);
	return split_words(copy, w, max);
}

int control_parse_request(const char *line, struct control_request *req, novm_error_t *err)
{
	char copy[CONTROL_MAX_LINE];
	char *w[4];
	int n;

	memset(req, 0, sizeof(*req));
	n = request_words(line, copy, w, 4, err);
	if (n == -2)
		return -1;
	if (n <= 0)
		return novm_error(err, 0, "malformed request");

	static const struct {
		const char *name;
		enum control_verb verb;
	} simple[] = {
		{ CONTROL_REQ_START, CONTROL_START }, { CONTROL_REQ_PS, CONTROL_PS },
		{ CONTROL_REQ_STATS, CONTROL_STATS }, { CONTROL_REQ_PAUSE, CONTROL_PAUSE },
		{ CONTROL_REQ_RESUME, CONTROL_RESUME }, { CONTROL_REQ_DIAG, CONTROL_DIAG },
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcmp(w[0], simple[i].name) != 0)
			continue;
		if (n != 1)
			return novm_error(err, 0, "%s takes no arguments", simple[i].name);
		req->verb = simple[i].verb;
		return 0;
	}
	if (strcmp(w[0], CONTROL_REQ_KILL) == 0) {
		if (n < 2 || n > 3 || (n == 3 && strcmp(w[2], CONTROL_REQ_KILL_ALL) != 0))
			return novm_error(err, 0, "usage: kill <signo> [all]");
		req->verb = CONTROL_KILL;
		req->all = n == 3;
		return parse_signal(w[1], &req->signo, err);
	}
	if (strcmp(w[0], CONTROL_REQ_EXEC) == 0) {
		unsigned long long len;

		if (n < 2 || n > 3 || (n == 3 && strcmp(w[2], CONTROL_REQ_EXEC_TTY) != 0))
			return novm_error(err, 0, "usage: exec <len> [tty]");
		if (parse_number(w[1], 1, CONTROL_MAX_PROCESS_JSON, &len) < 0)
			return novm_error(err, 0, "exec: invalid length (1 to %d bytes)",
					  CONTROL_MAX_PROCESS_JSON);
		req->verb = CONTROL_EXEC;
		req->body_len = len;
		req->tty = n == 3;
		return 0;
	}
	if (strcmp(w[0], CONTROL_REQ_NICS) == 0) {
		unsigned long long len;

		if (n != 2 || parse_number(w[1], 1, CONTROL_MAX_NETWORK_JSON, &len) < 0)
			return novm_error(err, 0, "usage: nics <len> (1 to %d bytes)",
					  CONTROL_MAX_NETWORK_JSON);
		req->verb = CONTROL_NICS;
		req->body_len = len;
		return 0;
	}
	if (strcmp(w[0], CONTROL_REQ_RESIZE) == 0) {
		unsigned long long rows, cols;

		if (n != 3 || parse_number(w[1], 0, UINT16_MAX, &rows) < 0 ||
		    parse_number(w[2], 0, UINT16_MAX, &cols) < 0)
			return novm_error(err, 0, "usage: resize <rows> <cols>");
		req->verb = CONTROL_RESIZE;
		req->rows = (unsigned)rows;
		req->cols = (unsigned)cols;
		return 0;
	}
	return novm_error(err, 0, "unknown command `%.32s`", w[0]);
}

int control_parse_session_request(const char *line, struct control_session_request *req,
				  novm_error_t *err)
{
	char copy[CONTROL_MAX_LINE];
	char *w[4];
	int n;

	memset(req, 0, sizeof(*req));
	n = request_words(line, copy, w, 4, err);
	if (n == -2)
		return -1;
	if (n == 2 && strcmp(w[0], CONTROL_REQ_SIGNAL) == 0) {
		req->verb = CONTROL_SESSION_SIGNAL;
		return parse_signal(w[1], &req->signo, err);
	}
	if (n == 3 && strcmp(w[0], CONTROL_REQ_RESIZE) == 0) {
		unsigned long long rows, cols;

		if (parse_number(w[1], 0, UINT16_MAX, &rows) < 0 ||
		    parse_number(w[2], 0, UINT16_MAX, &cols) < 0)
			return novm_error(err, 0, "resize: invalid size");
		req->verb = CONTROL_SESSION_RESIZE;
		req->rows = (unsigned)rows;
		req->cols = (unsigned)cols;
		return 0;
	}
	return novm_error(err, 0, "expected `signal <signo>` or `resize <rows> <cols>`");
}

int control_take_line(char *buf, size_t *len, char *line)
{
	size_t scan = *len < CONTROL_MAX_LINE ? *len : CONTROL_MAX_LINE;
	char *nl = memchr(buf, '\n', scan);
	size_t n;

	if (!nl)
		return *len >= CONTROL_MAX_LINE ? -1 : 0;
	n = (size_t)(nl - buf);
	if (memchr(buf, '\0', n))
		return -1;
	memcpy(line, buf, n);
	line[n] = '\0';
	memmove(buf, nl + 1, *len - n - 1);
	*len -= n + 1;
	return 1;
}

ssize_t control_recv(int sock, void *buf, size_t len, int *fds, int max_fds, int *nr_fds)
{
	return fdpass_recv(sock, buf, len, MSG_DONTWAIT, fds, max_fds, nr_fds);
}

/* {"error":"..."} as the agent sends it (json_gen, no spaces): the message
 * with the common escapes undone, or NULL. */
static size_t agent_error_message(const char *json, size_t len, char *out, size_t cap)
{
	static const char prefix[] = "{\"error\":\"";
	size_t plen = sizeof(prefix) - 1, o = 0;

	if (len < plen + 2 || memcmp(json, prefix, plen) != 0 || json[len - 2] != '"' ||
	    json[len - 1] != '}')
		return 0;
	for (size_t i = plen; i < len - 2 && o + 1 < cap; i++) {
		char c = json[i];

		if (c == '\\' && i + 1 < len - 2) {
			c = json[++i];
			if (c == 'n' || c == 't' || c == 'r')
				c = ' ';
		}
		/* One line, whatever the guest put in it. */
		out[o++] = (unsigned char)c < 0x20 ? ' ' : c;
	}
	out[o] = '\0';
	return o;
}

size_t control_format_reply(const char *json, size_t len, char *out, size_t cap)
{
	char msg[512];
	size_t o;

	if (cap < 16)
		return 0;
	if (agent_error_message(json, len, msg, sizeof(msg))) {
		o = (size_t)snprintf(out, cap, CONTROL_ANS_ERROR " %s\n", msg);
		return o < cap ? o : cap - 1;
	}
	memcpy(out, CONTROL_ANS_OK " ", strlen(CONTROL_ANS_OK " "));
	o = strlen(CONTROL_ANS_OK " ");
	for (size_t i = 0; i < len && o + 2 < cap; i++) {
		char c = json[i];

		/* Raw line breaks can only be JSON whitespace; NULs have no
		 * place in JSON at all. */
		out[o++] = c == '\n' || c == '\r' || c == '\0' ? ' ' : c;
	}
	out[o++] = '\n';
	out[o] = '\0';
	return o;
}
