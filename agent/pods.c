#include "pods.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"

struct guest_ctr *pods_find(struct pod_table *p, uint32_t session)
{
	for (size_t i = 0; i < p->len; i++)
		if (!p->items[i]->dying && p->items[i]->ctr.session == session)
			return &p->items[i]->ctr;
	return NULL;
}

/* Its fds go at once; the cgroup once its processes are reaped. */
static void start_dying(struct pod_entry *e)
{
	bool had_ns = e->ctr.ns_up;

	e->dying = true;
	if (had_ns)
		container_ns_remove_cgroup(&e->ctr.ns);
	guest_ctr_release(&e->ctr);
	if (!had_ns)
		e->ctr.ns.cgroup_name[0] = '\0';
}

int pods_create(struct pod_table *p, struct session_table *t, uint32_t session,
		const char *json, size_t len, pid_t sandbox_init, bool *forked, novm_error_t *err)
{
	struct pod_entry *e;

	*forked = false;
	if (p->len >= AGENT_MAX_POD_CONTAINERS)
		return novm_error(err, 0, "the pod has %d containers already",
				  AGENT_MAX_POD_CONTAINERS);
	e = calloc(1, sizeof(*e));
	if (!e)
		return novm_error(err, ENOMEM, "pod container");
	e->ctr.session = session;
	if (agent_container_parse(json, len, &e->ctr.cfg, err) < 0) {
		free(e);
		return -1;
	}
	/* Kept in the table even when it fails: what it left (a cgroup, a
	 * child on its way out) is cleaned up as a dead container's. */
	p->items[p->len++] = e;
	if (guest_ctr_create(&e->ctr, t, sandbox_init, forked, err) < 0) {
		novm_error_wrap(err, "container %s", e->ctr.cfg.id);
		start_dying(e);
		return -1;
	}
	agent_log("pod: container %s is session %u (cgroup %s)", e->ctr.cfg.id, session,
		  e->ctr.ns.cgroup_name);
	return 0;
}

void pods_collect(struct pod_table *p, const struct session_table *t)
{
	for (size_t i = 0; i < p->len;) {
		struct pod_entry *e = p->items[i];

		if (!e->dying && !session_exists(t, e->ctr.session)) {
			agent_log("pod: container %s has exited", e->ctr.cfg.id);
			start_dying(e);
		}
		/* EBUSY until the kernel has the last of them reaped. */
		if (e->dying && (!e->ctr.ns.cgroup_name[0] ||
				 container_ns_remove_cgroup(&e->ctr.ns) == 0 || errno != EBUSY)) {
			free(e);
			p->items[i] = p->items[--p->len];
			continue;
		}
		i++;
	}
}

static struct guest_ctr *find_or_fail(struct pod_table *p, uint32_t session, novm_error_t *err)
{
	struct guest_ctr *g = pods_find(p, session);

	if (!g)
		novm_error(err, 0, "session %u: no such pod container", session);
	return g;
}

int pods_signal_tree(struct pod_table *p, struct guest_ctr *sandbox, uint32_t session, int sig,
		     novm_error_t *err)
{
	struct guest_ctr *g;

	if (session == 0)
		return p->len ? container_ns_signal_all(&sandbox->ns, sig, err)
			      : session_signal_all(sig, err);
	g = find_or_fail(p, session, err);
	return g ? container_ns_signal_all(&g->ns, sig, err) : novm_error_wrap(err, "SIGNAL_TREE");
}

int pods_query_cgroup(struct pod_table *p, uint32_t session, const char **cgroup,
		      novm_error_t *err)
{
	struct guest_ctr *g;

	*cgroup = NULL;
	if (session == 0)
		return 0;
	g = find_or_fail(p, session, err);
	if (!g)
		return -1;
	*cgroup = g->ns.cgroup_name;
	return 0;
}

void pods_release(struct pod_table *p)
{
	for (size_t i = 0; i < p->len; i++) {
		guest_ctr_release(&p->items[i]->ctr);
		free(p->items[i]);
	}
	p->len = 0;
}
