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
#include "fuse/server.h"
#include "proto/agent.h"

/* The pod share's server enforces the protocol's graft limits. */
_Static_assert(CONTROL_MAX_GRAFTS == FUSE_MAX_GRAFTS, "graft cap");
_Static_assert(CONTROL_MAX_GRAFT_NAME == FUSE_MAX_GRAFT_NAME, "graft name length");

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

/* "<verb> <len>[ tty]" (tty where takes_tty): a request whose body of len
 * bytes, at most max, follows the line. */
static int parse_body_request(char **w, int n, enum control_verb verb, unsigned long long max,
			      bool takes_tty, struct control_request *req, novm_error_t *err)
{
	bool tty = takes_tty && n == 3 && strcmp(w[2], CONTROL_REQ_EXEC_TTY) == 0;
	unsigned long long len;

	if (n < 2 || n > (tty ? 3 : 2))
		return novm_error(err, 0, "usage: %s <len>%s", w[0], takes_tty ? " [tty]" : "");
	if (parse_number(w[1], 1, max, &len) < 0)
		return novm_error(err, 0, "%s: invalid length (1 to %llu bytes)", w[0], max);
	req->verb = verb;
	req->body_len = len;
	req->tty = tty;
	return 0;
}

/* "graft <name>", "ungraft <prefix>". */
static int parse_graft_request(char **w, int n, enum control_verb verb,
			       struct control_request *req, novm_error_t *err)
{
	if (n != 2)
		return novm_error(err, 0, "usage: %s <%s>", w[0], verb == CONTROL_GRAFT ? "name" : "prefix");
	if (strlen(w[1]) > CONTROL_MAX_GRAFT_NAME ||
	    (verb == CONTROL_GRAFT && !fuse_graft_name_valid(w[1])))
		return novm_error(err, 0,
				  "%s: `%.*s` is no graft name (1 to %d bytes of A-Z a-z 0-9 . _ -, "
				  "not . or ..)", w[0], CONTROL_MAX_GRAFT_NAME, w[1],
				  CONTROL_MAX_GRAFT_NAME);
	req->verb = verb;
	snprintf(req->name, sizeof(req->name), "%s", w[1]);
	return 0;
}

/* "in <session> <request>": the request as without, for a pod container. */
static int parse_in_request(const char *line, struct control_request *req, novm_error_t *err)
{
	const char *num = line + strlen(CONTROL_REQ_IN " ");
	const char *sp = strchr(num, ' ');
	unsigned long long session;
	char digits[24];

	if (!sp || sp == num || (size_t)(sp - num) >= sizeof(digits))
		return novm_error(err, 0, "usage: in <session> <request>");
	memcpy(digits, num, (size_t)(sp - num));
	digits[sp - num] = '\0';
	/* PROTO_SESSION_ALL is no session. */
	if (parse_number(digits, 1, PROTO_SESSION_ALL - 1, &session) < 0)
		return novm_error(err, 0, "in: invalid session `%.24s`", digits);
	if (control_parse_request(sp + 1, req, err) < 0)
		return novm_error_wrap(err, "in %llu", session);
	switch (req->verb) {
	case CONTROL_START:
	case CONTROL_KILL:
	case CONTROL_PS:
	case CONTROL_STATS:
	case CONTROL_RESIZE:
	case CONTROL_EXEC:
		if (req->session)
			break;	/* in ... in ... */
		req->session = (uint32_t)session;
		return 0;
	default:
		break;
	}
	memset(req, 0, sizeof(*req));
	return novm_error(err, 0, "in: `%.32s` is not addressed to a container", sp + 1);
}

int control_parse_request(const char *line, struct control_request *req, novm_error_t *err)
{
	char copy[CONTROL_MAX_LINE];
	char *w[4];
	int n;

	memset(req, 0, sizeof(*req));
	if (strncmp(line, CONTROL_REQ_IN " ", strlen(CONTROL_REQ_IN " ")) == 0 &&
	    strlen(line) < CONTROL_MAX_LINE)
		return parse_in_request(line, req, err);
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
	if (strcmp(w[0], CONTROL_REQ_EXEC) == 0)
		return parse_body_request(w, n, CONTROL_EXEC, CONTROL_MAX_PROCESS_JSON, true, req, err);
	if (strcmp(w[0], CONTROL_REQ_CONTAINER) == 0)
		return parse_body_request(w, n, CONTROL_CONTAINER, CONTROL_MAX_PROCESS_JSON, true, req,
					  err);
	if (strcmp(w[0], CONTROL_REQ_GRAFT) == 0)
		return parse_graft_request(w, n, CONTROL_GRAFT, req, err);
	if (strcmp(w[0], CONTROL_REQ_UNGRAFT) == 0)
		return parse_graft_request(w, n, CONTROL_UNGRAFT, req, err);
	if (strcmp(w[0], CONTROL_REQ_NICS) == 0)
		return parse_body_request(w, n, CONTROL_NICS, CONTROL_MAX_NETWORK_JSON, false, req, err);
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
