/* The module order file (`order` in a kernel store entry's modules
 * directory, /lib/modules/order in the initramfs): module file names, one a
 * line, dependencies first.  Blank lines and lines starting with '#' are
 * ignored.  Shared by the initramfs builder (host) and the agent (guest) so
 * both read the format the same way. */
#ifndef NOVM_MODORDER_H
#define NOVM_MODORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct module_order {
	char **names;	/* plain file names, e.g. "virtio_pci.ko" */
	size_t count;
};

/* Parses the text of an order file.  A name that is not a plain file name
 * ("", ".", "..", or containing '/') fails the whole parse: the file is
 * written by our own tools, so such a line means it is corrupt or hostile. */
int module_order_parse(const char *text, struct module_order *out, novm_error_t *err);

void module_order_release(struct module_order *order);

/* True for a name that can be used as one path component. */
bool module_name_valid(const char *name);

#endif
