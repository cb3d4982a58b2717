#include "cmdline.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One parameter of the command line, as pointers into it. */
struct cmdline_token {
	const char *key, *value;	/* value is NULL for a bare key */
	size_t key_len, value_len;
};

/* Splits the next token off *pos like the kernel's next_arg(): a double
 * quote toggles quoting, so `a="b c"` is one token; an opening quote of the
 * token or of its value and the matching closing one are not part of it. */
static bool next_token(const char **pos, struct cmdline_token *tok)
{
	const char *p = *pos, *start, *end, *eq = NULL;
	bool in_quote = false;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return false;
	start = p;
	for (; *p && (in_quote || !isspace((unsigned char)*p)); p++) {
		if (*p == '"')
			in_quote = !in_quote;
		else if (*p == '=' && !eq)
			eq = p;
	}
	*pos = p;
	end = p;

	if (*start == '"')
		start++;
	tok->key = start;
	if (!eq || eq < start) {
		if (end > start && end[-1] == '"')
			end--;
		tok->key_len = end - start;
		tok->value = NULL;
		tok->value_len = 0;
		return true;
	}
	tok->key_len = eq - start;
	tok->value = eq + 1;
	if (tok->value < end && *tok->value == '"')
		tok->value++;
	if (end > tok->value && end[-1] == '"')
		end--;
	tok->value_len = end - tok->value;
	return true;
}

char *cmdline_get(const char *cmdline, const char *key)
{
	struct cmdline_token tok, found = { 0 };
	size_t key_len = strlen(key);
	const char *pos = cmdline;
	bool have = false;

	while (next_token(&pos, &tok)) {
		if (tok.key_len == key_len && memcmp(tok.key, key, key_len) == 0) {
			found = tok;
			have = true;
		}
	}
	if (!have) {
		errno = ENOENT;
		return NULL;
	}
	if (!found.value)
		return strdup("");
	return strndup(found.value, found.value_len);
}

static const char *const action_names[] = {
	[AGENT_ACTION_POWEROFF] = "poweroff",
	[AGENT_ACTION_REBOOT] = "reboot",
	[AGENT_ACTION_PANIC] = "panic",
};

bool agent_action_parse(const char *name, enum agent_action *out)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		if (strcmp(name, action_names[i]) == 0) {
			*out = (enum agent_action)i;
			return true;
		}
	}
	return false;
}

const char *agent_action_name(enum agent_action action)
{
	if ((size_t)action < sizeof(action_names) / sizeof(action_names[0]))
		return action_names[action];
	return "unknown";
}
