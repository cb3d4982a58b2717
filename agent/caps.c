#include "caps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "cleanup.h"

int caps_last_cap(void)
{
	int last = 0;

	/* PR_CAPBSET_READ fails with EINVAL past the kernel's last one; this
	 * needs no /proc, which the container may not have. */
	while (last < 255 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

/* The values of the names in v that the kernel knows, in *out (heap). */
static int resolve(const struct oci_strv *v, int last, cap_value_t **out, int *n,
		   novm_error_t *err)
{
	cap_value_t *values = calloc(v->len ? v->len : 1, sizeof(*values));
	int count = 0;

	if (!values)
		return novm_error(err, ENOMEM, "capabilities");
	for (size_t i = 0; i < v->len; i++) {
		cap_value_t value;

		if (cap_from_name(v->items[i], &value) < 0) {
			free(values);
			return novm_error(err, 0, "unknown capability \"%s\"", v->items[i]);
		}
		if (value <= last)
			values[count++] = value;
	}
	*out = values;
	*n = count;
	return 0;
}

static bool listed(const cap_value_t *values, int n, cap_value_t value)
{
	for (int i = 0; i < n; i++)
		if (values[i] == value)
			return true;
	return false;
}

int caps_drop_bounding(const struct oci_capabilities *c, novm_error_t *err)
{
	cleanup_free cap_value_t *keep = NULL;
	int last = caps_last_cap(), n;

	if (resolve(&c->bounding, last, &keep, &n, err) < 0)
		return -1;
	for (cap_value_t cap = 0; cap <= last; cap++) {
		if (listed(keep, n, cap))
			continue;
		if (cap_drop_bound(cap) < 0)
			return novm_error(err, errno, "drop capability %d from the bounding set",
					  cap);
	}
	return 0;
}

static int set_flag(cap_t caps, cap_flag_t flag, const struct oci_strv *names, int last,
		    novm_error_t *err)
{
	cleanup_free cap_value_t *values = NULL;
	int n;

	if (resolve(names, last, &values, &n, err) < 0)
		return -1;
	if (n && cap_set_flag(caps, flag, n, values, CAP_SET) < 0)
		return novm_error(err, errno, "capabilities");
	return 0;
}

int caps_apply(const struct oci_capabilities *c, novm_error_t *err)
{
	cleanup_free cap_value_t *ambient = NULL;
	int last = caps_last_cap(), n;
	cap_t caps = cap_init();
	int r = 0;

	if (!caps)
		return novm_error(err, errno, "capabilities");
	if (set_flag(caps, CAP_EFFECTIVE, &c->effective, last, err) < 0 ||
	    set_flag(caps, CAP_PERMITTED, &c->permitted, last, err) < 0 ||
	    set_flag(caps, CAP_INHERITABLE, &c->inheritable, last, err) < 0)
		r = -1;
	else if (cap_set_proc(caps) < 0)
		r = novm_error(err, errno, "set capabilities");
	if (r < 0 || resolve(&c->ambient, last, &ambient, &n, err) < 0) {
		cap_free(caps);
		return -1;
	}
	if (cap_reset_ambient() < 0 && n)
		r = novm_error(err, errno, "reset ambient capabilities");
	/* The kernel lets only a capability that is both permitted and
	 * inheritable become ambient; runc skips the others (`runc spec`
	 * lists three that are not inheritable), and so do we. */
	for (int i = 0; r == 0 && i < n; i++) {
		cap_flag_value_t p = CAP_CLEAR, inh = CAP_CLEAR;

		cap_get_flag(caps, ambient[i], CAP_PERMITTED, &p);
		cap_get_flag(caps, ambient[i], CAP_INHERITABLE, &inh);
		if (p != CAP_SET || inh != CAP_SET)
			continue;
		if (cap_set_ambient(ambient[i], CAP_SET) < 0)
			r = novm_error(err, errno, "raise ambient capability %d", ambient[i]);
	}
	cap_free(caps);
	return r;
}
