#include "mounts.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "log.h"

struct mount_spec {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data;
};

static const struct mount_spec early_mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
};

static int mount_one(const struct mount_spec *m, novm_error_t *err)
{
	/* The initramfs builder creates the mount points; this covers an
	 * initramfs made some other way. */
	if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
		return novm_error(err, errno, "mkdir `%s`", m->target);
	if (mount(m->source, m->target, m->fstype, m->flags, m->data) < 0 && errno != EBUSY)
		return novm_error(err, errno, "mount %s on `%s`", m->fstype, m->target);
	return 0;
}

void mounts_setup(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(early_mounts); i++) {
		novm_error_t err = NULL;
		if (mount_one(&early_mounts[i], &err) < 0)
			agent_warn(&err, "mounts");
	}
}
