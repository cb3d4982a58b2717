#include "rootspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "cleanup.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct flag_word {
	const char *name;
	bool clear;		/* the word removes the flag (rw, suid, ...) */
	unsigned long flag;
};

static const struct flag_word flag_words[] = {
	{ "defaults", false, 0 },
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },
	{ "suid", true, MS_NOSUID },
	{ "nodev", false, MS_NODEV },
	{ "dev", true, MS_NODEV },
	{ "noexec", false, MS_NOEXEC },
	{ "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS },
	{ "async", true, MS_SYNCHRONOUS },
	{ "dirsync", false, MS_DIRSYNC },
	{ "remount", false, MS_REMOUNT },
	{ "mand", false, MS_MANDLOCK },
	{ "nomand", true, MS_MANDLOCK },
	{ "noatime", false, MS_NOATIME },
	{ "atime", true, MS_NOATIME },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "diratime", true, MS_NODIRATIME },
	{ "bind", false, MS_BIND },
	{ "rbind", false, MS_BIND | MS_REC },
	{ "relatime", false, MS_RELATIME },
	{ "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "lazytime", false, MS_LAZYTIME },
	{ "nolazytime", true, MS_LAZYTIME },
	{ "nosymfollow", false, MS_NOSYMFOLLOW },
	{ "symfollow", true, MS_NOSYMFOLLOW },
};

static const struct {
	const char *name;
	unsigned long flags;
} propagation_words[] = {
	{ "private", MS_PRIVATE },
	{ "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },
	{ "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },
	{ "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE },
	{ "runbindable", MS_UNBINDABLE | MS_REC },
};

/* runc extensions with no meaning to the kernel; passing them on as data
 * would make the mount fail. */
static const char *const ignored_words[] = { "tmpcopyup" };

static int append_data(char **data, const char *word, novm_error_t *err)
{
	size_t old = *data ? strlen(*data) : 0, add = strlen(word);
	char *grown = realloc(*data, old + add + 2);

	if (!grown)
		return novm_error(err, ENOMEM, "mount options");
	if (old)
		grown[old++] = ',';
	memcpy(grown + old, word, add + 1);
	*data = grown;
	return 0;
}

static bool parse_word(const char *word, struct mount_opts *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_words); i++) {
		if (strcmp(word, flag_words[i].name) == 0) {
			if (flag_words[i].clear)
				o->flags &= ~flag_words[i].flag;
			else
				o->flags |= flag_words[i].flag;
			return true;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(propagation_words); i++) {
		if (strcmp(word, propagation_words[i].name) == 0) {
			o->propagation = propagation_words[i].flags;
			return true;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(ignored_words); i++)
		if (strcmp(word, ignored_words[i]) == 0)
			return true;
	return false;
}

int mount_opts_parse(char *const *options, size_t n, struct mount_opts *out, novm_error_t *err)
{
	struct mount_opts o = { 0 };

	for (size_t i = 0; i < n; i++) {
		if (!options[i][0] || parse_word(options[i], &o))
			continue;
		if (strchr(options[i], ',')) {
			mount_opts_release(&o);
			return novm_error(err, 0, "mount option \"%s\" contains a comma",
					  options[i]);
		}
		if (append_data(&o.data, options[i], err) < 0) {
			mount_opts_release(&o);
			return -1;
		}
	}
	*out = o;
	return 0;
}

void mount_opts_release(struct mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}

unsigned long mount_opts_remount_flags(const struct mount_opts *o)
{
	return o->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
			   MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW);
}

enum mount_kind mount_kind_of(const char *type, const struct mount_opts *o)
{
	static const struct {
		const char *type;
		enum mount_kind kind;
	} kinds[] = {
		{ "bind", MOUNT_KIND_BIND },
		{ "proc", MOUNT_KIND_PROC },
		{ "sysfs", MOUNT_KIND_SYSFS },
		{ "tmpfs", MOUNT_KIND_TMPFS },
		{ "devpts", MOUNT_KIND_DEVPTS },
		{ "mqueue", MOUNT_KIND_MQUEUE },
		{ "cgroup", MOUNT_KIND_CGROUP },
		{ "cgroup2", MOUNT_KIND_CGROUP },
	};

	if (o->flags & MS_BIND)
		return MOUNT_KIND_BIND;
	for (size_t i = 0; type && i < ARRAY_SIZE(kinds); i++)
		if (strcmp(type, kinds[i].type) == 0)
			return kinds[i].kind;
	return MOUNT_KIND_OTHER;
}

static bool sysctl_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == ':' || c == '.' || c == '/';
}

int sysctl_key_path(const char *key, char **out, novm_error_t *err)
{
	cleanup_free char *path = strdup(key);
	const char *start;

	if (!path)
		return novm_error(err, ENOMEM, "sysctl");
	if (!*key || key[0] == '/' || key[0] == '.')
		return novm_error(err, 0, "sysctl \"%s\": not a valid key", key);
	for (char *c = path; *c; c++) {
		if (!sysctl_char_ok(*c))
			return novm_error(err, 0, "sysctl \"%s\": not a valid key", key);
		if (*c == '.')
			*c = '/';
	}
	/* Every component must be a real name: no "", "." or "..". */
	start = path;
	for (const char *c = path;; c++) {
		if (*c == '/' || !*c) {
			size_t len = c - start;

			if (len == 0)
				return novm_error(err, 0, "sysctl \"%s\": not a valid key", key);
			if (!*c)
				break;
			start = c + 1;
		}
	}
	*out = steal_pointer(&path);
	return 0;
}
