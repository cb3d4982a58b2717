#include "compat.h"

#include <errno.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "console-socket.h"
#include "log.h"
#include "oci/json.h"

/* Set means a non-empty string, array or object: runc's defaults are
 * absent or empty. */
static bool is_set(const struct json_node *parent, const char *key)
{
	struct json_node node;
	cleanup_free char *s = NULL;

	json_member(parent, key, &node);
	if (!json_present(&node))
		return false;
	if (json_get_string(&node, NULL, &s, NULL) > 0)
		return *s != '\0';
	return json_array_len(&node) > 0 || json_object_len(&node) > 0;
}

static void warn_unset(const struct json_node *parent, const char *where, const char *key,
		       const char *why)
{
	if (is_set(parent, key))
		log_msg(LOG_LEVEL_WARNING, "%s%s%s is not honoured: %s", where, *where ? "." : "", key, why);
}

static void warn_process(const struct json_node *process, const char *where)
{
	warn_unset(process, where, "apparmorProfile", "AppArmor does not run in the container's VM");
	warn_unset(process, where, "selinuxLabel", "SELinux does not run in the container's VM");
}

void compat_warn_config(const struct oci_spec *spec)
{
	struct json_node root, node;

	if (!spec->doc)
		return;
	json_doc_root(spec->doc, &root);
	json_member(&root, "process", &node);
	warn_process(&node, "process");
	json_member(&root, "linux", &node);
	warn_unset(&node, "linux", "mountLabel", "SELinux does not run in the container's VM");
	warn_unset(&node, "linux", "uidMappings", "no user namespace: ids in the guest are the ids given");
	warn_unset(&node, "linux", "gidMappings", "no user namespace: ids in the guest are the ids given");
}

void compat_warn_process(const char *process_json, size_t len)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root;

	if (json_doc_parse("process", process_json, len, &doc, NULL) < 0)
		return;
	json_doc_root(doc, &root);
	warn_process(&root, "process");
}

int compat_check_exec_cgroup(const char *value, novm_error_t *err)
{
	const char *path = strchr(value, ':') ? strchr(value, ':') + 1 : value;

	if (!*path || !strcmp(path, "/"))
		return 0;
	return novm_error(err, 0,
			  "--cgroup %s: cannot run the process in a sub-cgroup: the container's cgroups "
			  "are inside its VM, where novm places every exec in the container's own",
			  value);
}

int compat_send_pidfd(const char *socket_path, pid_t pid, const char *kind, novm_error_t *err)
{
	cleanup_close int fd = pidfd_open(pid, 0);

	if (fd < 0)
		return novm_error(err, errno, "pidfd_open %d", pid);
	if (console_socket_send(socket_path, fd, kind, err) < 0)
		return novm_error_wrap(err, "--pidfd-socket");
	return 0;
}
