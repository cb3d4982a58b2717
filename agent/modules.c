#include "modules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "modorder.h"
#include "util.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Returns 0 when loaded now, 1 when it already was, -1 on failure. */
static int module_load_file(int dirfd, const char *name, novm_error_t *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	unsigned flags = 0;

	if (fd < 0)
		return novm_error(err, errno, "open `%s`", name);
	/* Compressed modules need the kernel to decompress them (5.17+,
	 * CONFIG_MODULE_DECOMPRESS); plain .ko files always work. */
	if (has_suffix(name, ".xz") || has_suffix(name, ".zst") || has_suffix(name, ".gz"))
		flags |= MODULE_INIT_COMPRESSED_FILE;
	if (syscall(SYS_finit_module, fd, "", flags) < 0) {
		if (errno == EEXIST)
			return 1;
		return novm_error(err, errno, "finit_module `%s`", name);
	}
	return 0;
}

void modules_load(const char *dir)
{
	cleanup_free char *order_path = NULL, *text = NULL;
	cleanup_close int dirfd = -1;
	struct module_order order = { 0 };
	unsigned loaded = 0;
	novm_error_t err = NULL;

	if (asprintf(&order_path, "%s/order", dir) < 0) {
		agent_say("warning: modules: out of memory");
		return;
	}
	if (read_file(order_path, &text, NULL, &err) < 0) {
		if (err->errno_ == ENOENT) {
			novm_error_release(&err);
			return;
		}
		agent_warn(&err, "modules");
		return;
	}
	if (module_order_parse(text, &order, &err) < 0) {
		novm_error_wrap(&err, "`%s`", order_path);
		agent_warn(&err, "modules");
		return;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		novm_error(&err, errno, "open `%s`", dir);
		agent_warn(&err, "modules");
		module_order_release(&order);
		return;
	}
	for (size_t i = 0; i < order.count; i++) {
		if (module_load_file(dirfd, order.names[i], &err) < 0)
			agent_warn(&err, "modules");
		else
			loaded++;
	}
	agent_say("modules: %u of %zu loaded", loaded, order.count);
	module_order_release(&order);
}
