#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "util.h"

int state_check_id(const char *id, novm_error_t *err)
{
	if (!id || !*id)
		return novm_error(err, 0, "container id cannot be empty");
	if (id[0] == '.' || strlen(id) > 1024)
		return novm_error(err, 0, "invalid container id format: %s", id);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+-.", *p)))
			return novm_error(err, 0, "invalid container id format: %s", id);
	return 0;
}

int state_create_dir(const char *root, const char *id, char **dir, novm_error_t *err)
{
	cleanup_free char *path = NULL;

	if (mkdir_p(root, 0711, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s", root, id) < 0)
		return novm_error(err, ENOMEM, "state directory");
	if (mkdir(path, 0711) < 0) {
		if (errno == EEXIST)
			return novm_error(err, 0, "container with id exists: %s", id);
		return novm_error(err, errno, "create state directory `%s`", path);
	}
	*dir = steal_pointer(&path);
	return 0;
}

int state_write(const char *dir, const struct oci_state *state, novm_error_t *err)
{
	cleanup_free char *json = NULL, *path = NULL;
	size_t len;

	if (oci_state_to_json(state, &json, &len, err) < 0)
		return -1;
	if (asprintf(&path, "%s/state.json", dir) < 0)
		return novm_error(err, ENOMEM, "state");
	return write_file_atomic(path, json, len, 0600, err);
}

int state_read(const char *root, const char *id, struct oci_state **state, novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len;

	if (asprintf(&path, "%s/%s/state.json", root, id) < 0)
		return novm_error(err, ENOMEM, "state");
	if (read_file(path, &text, &len, NULL) < 0)
		return novm_error(err, 0, "container does not exist");
	return oci_state_from_json(path, text, len, state, err);
}

void state_remove_dir(const char *dir)
{
	if (dir)
		remove_tree(dir, NULL);
}
