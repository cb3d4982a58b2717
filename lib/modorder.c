#include "modorder.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

bool module_name_valid(const char *name)
{
	return name[0] != '\0' && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       !strchr(name, '/');
}

static int append_name(struct module_order *order, const char *start, size_t len,
		       novm_error_t *err)
{
	cleanup_free char *name = strndup(start, len);
	char **grown;

	if (!name)
		return novm_error(err, ENOMEM, "module order");
	grown = realloc(order->names, (order->count + 1) * sizeof(*order->names));
	if (!grown)
		return novm_error(err, ENOMEM, "module order");
	order->names = grown;
	order->names[order->count++] = steal_pointer(&name);
	return 0;
}

int module_order_parse(const char *text, struct module_order *out, novm_error_t *err)
{
	struct module_order order = { 0 };
	unsigned line_no = 0;

	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		const char *start = line, *stop = end;

		line_no++;
		while (start < stop && isspace((unsigned char)*start))
			start++;
		while (stop > start && isspace((unsigned char)stop[-1]))
			stop--;
		if (start < stop && *start != '#') {
			size_t len = stop - start;
			if (memchr(start, '/', len) || (len == 1 && *start == '.') ||
			    (len == 2 && start[0] == '.' && start[1] == '.')) {
				module_order_release(&order);
				return novm_error(err, 0,
						  "module order line %u: `%.*s` is not a plain file name",
						  line_no, (int)len, start);
			}
			if (append_name(&order, start, len, err) < 0) {
				module_order_release(&order);
				return -1;
			}
		}
		line = *end ? end + 1 : end;
	}
	*out = order;
	return 0;
}

void module_order_release(struct module_order *order)
{
	for (size_t i = 0; i < order->count; i++)
		free(order->names[i]);
	free(order->names);
	order->names = NULL;
	order->count = 0;
}
