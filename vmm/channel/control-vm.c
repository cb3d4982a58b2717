/* The control server's real backend: the VM's agent link and vCPUs. */
#include <unistd.h>

#include "control-internal.h"
#include "jsonstr.h"
#include "kvm.h"
#include "virtio/fs.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "vmm-internal.h"

static int vm_start(void *be, const struct agent_session_ops *ops, void *opaque, novm_error_t *err)
{
	return agent_link_start(((struct control *)be)->link, ops, opaque, err);
}

static void vm_start_forget(void *be)
{
	agent_link_start_forget(((struct control *)be)->link);
}

static int vm_signal(void *be, int signo, bool all, novm_error_t *err)
{
	struct control *ctl = be;
	int ret;

	if (all)
		return agent_link_signal_all(ctl->link, signo, err);
	ret = agent_link_signal(ctl->link, signo);
	return ret < 0 ? novm_error(err, -ret, "signal %d", signo) : 0;
}

static int vm_query(void *be, const char *name, agent_reply_fn fn, void *opaque, uint32_t *id,
		    novm_error_t *err)
{
	return agent_link_query(((struct control *)be)->link, name, fn, opaque, id, err);
}

static void vm_query_forget(void *be, uint32_t id)
{
	agent_link_query_forget(((struct control *)be)->link, id);
}

static int vm_exec(void *be, const char *json, size_t len, const int stdio[3],
		   const struct agent_session_ops *ops, void *opaque, uint32_t *id, novm_error_t *err)
{
	return agent_link_exec(((struct control *)be)->link, json, len, stdio, ops, opaque, id, err);
}

static int vm_session_signal(void *be, uint32_t id, int signo, novm_error_t *err)
{
	return agent_link_session_signal(((struct control *)be)->link, id, signo, err);
}

static int vm_session_resize(void *be, uint32_t id, unsigned rows, unsigned cols, novm_error_t *err)
{
	return agent_link_session_resize(((struct control *)be)->link, id, rows, cols, err);
}

static void vm_session_forget(void *be, uint32_t id)
{
	agent_link_session_forget(((struct control *)be)->link, id);
}

static int vm_pause(void *be, novm_error_t *err)
{
	struct vm *vm = ((struct control *)be)->vm;

	/* A pause that did not take is undone: the VM runs, and says so. */
	if (vm_pause_vcpus(vm, err) < 0) {
		vm_resume_vcpus(vm);
		return -1;
	}
	return 0;
}

static int vm_resume(void *be, novm_error_t *err)
{
	(void)err;
	vm_resume_vcpus(((struct control *)be)->vm);
	return 0;
}

static bool vm_is_paused(void *be)
{
	return vm_paused(((struct control *)be)->vm);
}

static void vm_describe(void *be, FILE *out)
{
	struct control *ctl = be;

	fputs("{\"agent\":", out);
	agent_link_describe(ctl->link, out);
	fputs(",\"devices\":", out);
	virtio_pci_describe_all(ctl->vm, out);
	fprintf(out, ",\"paused\":%s,\"vcpus\":", json_bool(vm_paused(ctl->vm)));
	vm_describe_vcpus(ctl->vm, out);
	fputc('}', out);
}

/* ---- pods ---- */

static bool vm_is_pod(void *be)
{
	return ((struct control *)be)->pod_share != NULL;
}

static int vm_graft(void *be, const char *name, int fd, novm_error_t *err)
{
	return virtio_fs_graft(((struct control *)be)->pod_share, name, fd, err);
}

static unsigned vm_ungraft(void *be, const char *prefix)
{
	return virtio_fs_ungraft(((struct control *)be)->pod_share, prefix);
}

static int vm_container(void *be, const char *json, size_t len, const int stdio[3],
			const struct agent_session_ops *ops, void *opaque, uint32_t *id,
			novm_error_t *err)
{
	return agent_link_container(((struct control *)be)->link, json, len, stdio, ops, opaque, id,
				    err);
}

static bool vm_is_container(void *be, uint32_t id)
{
	return agent_link_is_container(((struct control *)be)->link, id);
}

static int vm_container_start(void *be, uint32_t id, const struct agent_session_ops *ops,
			      void *opaque, novm_error_t *err)
{
	return agent_link_container_start(((struct control *)be)->link, id, ops, opaque, err);
}

static void vm_container_start_forget(void *be, uint32_t id)
{
	agent_link_container_start_forget(((struct control *)be)->link, id);
}

static int vm_signal_tree(void *be, uint32_t id, int signo, novm_error_t *err)
{
	return agent_link_signal_tree(((struct control *)be)->link, id, signo, err);
}

static int vm_exec_in(void *be, uint32_t target, const char *json, size_t len, const int stdio[3],
		      const struct agent_session_ops *ops, void *opaque, uint32_t *id,
		      novm_error_t *err)
{
	return agent_link_exec_in(((struct control *)be)->link, target, json, len, stdio, ops, opaque,
				  id, err);
}

/* ---- links added between create and start (ctr run --cni) ---- */

/* The spares are connected first: the agent finds their links up. */
static int vm_nics(void *be, const char *json, size_t len, const int *fds, int nr_fds,
		   agent_reply_fn fn, void *opaque, uint32_t *id, novm_error_t *err)
{
	struct control *ctl = be;

	if (agent_link_before_start(ctl->link, "nics", err) < 0) {
		for (int i = 0; i < nr_fds; i++)
			close(fds[i]);
		return -1;
	}
	if (virtio_net_connect_spares(ctl->vmm, fds, nr_fds, err) < 0)
		return -1;
	return agent_link_network(ctl->link, json, len, fn, opaque, id, err);
}

static const struct control_backend_ops vm_backend_ops = {
	.start = vm_start,
	.start_forget = vm_start_forget,
	.signal = vm_signal,
	.query = vm_query,
	.query_forget = vm_query_forget,
	.exec = vm_exec,
	.session_signal = vm_session_signal,
	.session_resize = vm_session_resize,
	.session_forget = vm_session_forget,
	.pause = vm_pause,
	.resume = vm_resume,
	.paused = vm_is_paused,
	.describe = vm_describe,
	.is_pod = vm_is_pod,
	.graft = vm_graft,
	.ungraft = vm_ungraft,
	.container = vm_container,
	.is_container = vm_is_container,
	.container_start = vm_container_start,
	.container_start_forget = vm_container_start_forget,
	.signal_tree = vm_signal_tree,
	.exec_in = vm_exec_in,
	.nics = vm_nics,
};

int control_new_vm(struct vm *vm, struct agent_link *link, struct virtio_fs *pod_share,
		   const char *path, struct control **out, novm_error_t *err)
{
	struct control *ctl;

	/* The backend is the control object itself, filled in below: no
	 * client can call before control_new() returns. */
	if (control_new(&vm->loop, path, &vm_backend_ops, NULL, &ctl, err) < 0)
		return -1;
	ctl->backend = ctl;
	ctl->vm = vm;
	ctl->link = link;
	ctl->pod_share = pod_share;
	*out = ctl;
	return 0;
}

/* Container mode only: the socket drives the agent link. */
int control_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	if (!cfg->control_socket)
		return 0;
	if (!vmm->agent)
		return novm_error(err, 0, "a control socket needs container mode");
	if (control_new_vm(&vmm->vm, vmm->agent, vmm->pod_share, cfg->control_socket, &vmm->control,
			   err) < 0)
		return novm_error_wrap(err, "control socket");
	vmm->control->vmm = vmm;
	return 0;
}

void control_detach(struct vmm *vmm)
{
	control_free(vmm->control);
	vmm->control = NULL;
}
