#include "guestctr.h"

#include <signal.h>

#include "rootfs.h"

/* ---- how sessions are forked ---- */

static pid_t fork_init(void *opaque, novm_error_t *err)
{
	struct guest_ctr *g = opaque;

	return container_ns_fork(&g->ns, true, err);
}

/* The init's child builds the container's root in its own mount namespace
 * and moves into it; the agent's root stays the initramfs. */
static int setup_init(void *opaque, novm_error_t *err)
{
	struct guest_ctr *g = opaque;

	if (container_ns_enter_new(&g->ns, err) < 0 || rootfs_setup(&g->cfg, err) < 0 ||
	    rootfs_switch(&g->cfg, err) < 0)
		return -1;
	return 0;
}

static pid_t fork_exec(void *opaque, novm_error_t *err)
{
	struct guest_ctr *g = opaque;

	return container_ns_fork(&g->ns, false, err);
}

static int setup_exec(void *opaque, novm_error_t *err)
{
	struct guest_ctr *g = opaque;

	return container_ns_enter_existing(&g->ns, err);
}

static const struct oci_seccomp *seccomp_of(const struct guest_ctr *g)
{
	return g->cfg.spec->has_linux ? g->cfg.spec->linux_.seccomp : NULL;
}

int guest_ctr_create(struct guest_ctr *g, struct session_table *t, pid_t sandbox_init,
		     bool *forked, novm_error_t *err)
{
	const struct session_spawn spawn = { fork_init, setup_init, g, seccomp_of(g),
					     SESSION_INIT_SETUP_MS };
	const struct oci_process *init = &g->cfg.spec->process;
	pid_t pid;

	*forked = false;
	if (container_ns_init(&g->ns, g->cfg.spec, g->session, sandbox_init, err) < 0)
		return -1;
	g->ns_up = true;
	if (session_create(t, g->session, init, false, init->terminal, &spawn, err) < 0)
		return -1;
	*forked = true;
	/* Its namespaces are kept before it may run, and exit. */
	pid = session_pid(t, g->session);
	if (container_ns_record(&g->ns, pid, err) < 0) {
		kill(pid, SIGKILL);
		return -1;
	}
	return 0;
}

int guest_ctr_exec(struct guest_ctr *g, struct session_table *t, uint32_t session,
		   const struct oci_process *p, novm_error_t *err)
{
	const struct session_spawn spawn = { fork_exec, setup_exec, g, seccomp_of(g), 0 };

	return session_create(t, session, p, true, false, &spawn, err);
}

void guest_ctr_release(struct guest_ctr *g)
{
	if (g->ns_up)
		container_ns_release(&g->ns);
	g->ns_up = false;
	agent_config_release(&g->cfg);
}
