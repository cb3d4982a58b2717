/* A VM's life: build (memory, kernel, boot structures, the devices of
 * device-table.c, vCPUs), run until the guest or a signal ends it, tear down
 * in reverse. */
#include "vmm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "channel/agent-link.h"
#include "cleanup.h"
#include "loader/bzimage.h"
#include "loader/elf.h"
#include "util.h"
#include "vcpu.h"
#include "virtio/fs.h"
#include "vmm-internal.h"
#include "x86/boot.h"
#include "x86/cpu.h"
#include "x86/mptable.h"

/* The first report on the ready pipe wins; the pipe is closed after it.
 * From the I/O loop (created) or the main thread (failure). */
static void report_ready(struct vmm *vmm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_ready(struct vmm *vmm, const char *fmt, ...)
{
	int fd = atomic_exchange(&vmm->ready_fd, -1);
	char line[640];
	va_list ap;
	int n;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(fd, line, n) < 0) {
		/* the waiting runtime is gone: nobody to tell */
	}
	close(fd);
}

void vmm_on_created(void *opaque)
{
	struct vmm *vmm = opaque;

	for (int i = 0; i < vmm->nr_shares; i++)
		if (vmm->seal_when_created[i])
			virtio_fs_seal(vmm->shares[i]);
	atomic_store(&vmm->created, true);
	report_ready(vmm, "ok");
}

static int check_config(const struct vm_config *cfg, novm_error_t *err)
{
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > VMM_MAX_CPUS)
		return novm_error(err, 0, "invalid number of vCPUs %d: must be between 1 and %d",
				  cfg->nr_cpus, VMM_MAX_CPUS);
	if (cfg->mem_size < VMM_MIN_MEMORY)
		return novm_error(err, 0, "invalid memory size %llu MiB: must be at least %llu MiB",
				  (unsigned long long)(cfg->mem_size >> 20),
				  (unsigned long long)(VMM_MIN_MEMORY >> 20));
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
	if (pages > 0 && cfg->mem_size > (uint64_t)pages * page_size)
		return novm_error(err, 0, "invalid memory size %llu MiB: the host has only %llu MiB",
				  (unsigned long long)(cfg->mem_size >> 20),
				  (unsigned long long)(((uint64_t)pages * page_size) >> 20));
	if (!cfg->kernel_path)
		return novm_error(err, 0, "no kernel given");
	return 0;
}

static int load_initrd(struct vm *vm, const char *path, uint64_t kernel_end, uint32_t addr_max,
		       uint64_t *addr, uint64_t *size, novm_error_t *err)
{
	cleanup_free char *data = NULL;
	size_t len;

	if (read_file(path, &data, &len, err) < 0)
		return novm_error_wrap(err, "initrd");
	if (x86_place_initrd(&vm->mem, len, kernel_end, addr_max, addr, err) < 0)
		return -1;
	if (guest_write(&vm->mem, *addr, data, len) < 0)
		return novm_error(err, 0, "initrd: cannot write to guest memory");
	*size = len;
	return 0;
}

static int load_guest(struct vmm *vmm, const struct vm_config *cfg, uint64_t *entry, novm_error_t *err)
{
	struct setup_header hdr;
	bool have_hdr = false;
	uint64_t kernel_end, initrd_addr = 0, initrd_size = 0;

	if (cfg->setup_header_path) {
		if (bzimage_read_setup_header(cfg->setup_header_path, &hdr, err) < 0)
			return -1;
		have_hdr = true;
	}
	if (elf_load_kernel(cfg->kernel_path, &vmm->vm.mem, entry, &kernel_end, err) < 0)
		return -1;
	if (cfg->initrd_path &&
	    load_initrd(&vmm->vm, cfg->initrd_path, kernel_end, have_hdr ? hdr.initrd_addr_max : 0x7fffffff,
			&initrd_addr, &initrd_size, err) < 0)
		return -1;
	struct x86_boot_setup setup = {
		.hdr = have_hdr ? &hdr : NULL,
		.cmdline = cfg->cmdline ? cfg->cmdline : "",
		.initrd_addr = initrd_addr,
		.initrd_size = initrd_size,
	};
	if (x86_setup_boot(&vmm->vm.mem, &setup, err) < 0)
		return -1;
	return x86_write_mptable(&vmm->vm.mem, cfg->nr_cpus, err);
}

static int create_vcpus(struct vmm *vmm, int nr_cpus, uint64_t entry, novm_error_t *err)
{
	struct vm *vm = &vmm->vm;

	if (x86_supported_cpuid(vm->kvm_fd, &vmm->cpuid, err) < 0)
		return -1;
	vm->vcpus = calloc(nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return novm_error(err, ENOMEM, "allocate vCPUs");
	for (int i = 0; i < nr_cpus; i++) {
		vm->vcpus[i].fd = -1;
		if (vcpu_create(vm, i, &vm->vcpus[i], err) < 0)
			return -1;
		vm->nr_vcpus = i + 1;
		if (x86_vcpu_init(&vm->vcpus[i], vmm->cpuid, err) < 0)
			return -1;
	}
	/* Only the boot CPU starts running; KVM holds the others until the
	 * guest sends them INIT/SIPI. */
	return x86_vcpu_enter_long_mode(&vm->vcpus[0], entry, BOOT_ZERO_PAGE_ADDR, BOOT_PML4_ADDR,
					BOOT_GDT_ADDR, BOOT_GDT_ENTRIES * 8, BOOT_STACK_ADDR, err);
}

/* Waits until the guest stops.  SIGINT/SIGTERM/SIGHUP stop a bare VM; in
 * container mode they go to the container's process, as runc forwards them. */
static void wait_for_exit(struct vm *vm, struct agent_link *agent, int sig_fd)
{
	struct pollfd fds[2] = { { vm->exit_fd, POLLIN, 0 }, { sig_fd, POLLIN, 0 } };

	while (vm_running(vm)) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sig_fd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (!agent || agent_link_signal(agent, si.ssi_signo) < 0)
				vm_request_exit(vm, VM_EXIT_SIGNAL, "stopped by signal %u", si.ssi_signo);
		}
	}
}

static void teardown(struct vmm *vmm)
{
	struct vm *vm = &vmm->vm;

	/* Parked vCPUs (and a pause request waiting for them) must see the
	 * VM stopping. */
	if (vmm->pause_up)
		vm_resume_vcpus(vm);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	if (vmm->loop_up)
		ioloop_stop(&vm->loop);
	vmm_devices_detach(vmm);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	free(vmm->cpuid);
	if (vmm->pause_up)
		vm_pause_destroy(vm);
	kvm_vm_close(vm);
}

static void describe_exit(const struct vmm *vmm, struct vmm_result *result)
{
	const struct vm *vm = &vmm->vm;

	result->reason = atomic_load(&vm->exit_reason);
	result->created = atomic_load(&vmm->created);
	result->container_status = result->container_signal = -1;
	if (vmm->agent) {
		result->container_status = agent_link_status(vmm->agent, &result->container_signal);
		if (agent_link_error(vmm->agent))
			snprintf(result->agent_error, sizeof(result->agent_error), "%s",
				 agent_link_error(vmm->agent));
	}
	/* A panic ends in a reset of whichever kind the guest was told to
	 * use (the agent picks the keyboard controller's): it is a panic all
	 * the same, not a clean stop. */
	if (vm->panic_line[0] && result->reason == VM_EXIT_RESET)
		result->reason = VM_EXIT_PANIC;
	if (vm->panic_line[0] &&
	    (result->reason == VM_EXIT_TRIPLE_FAULT || result->reason == VM_EXIT_PANIC))
		snprintf(result->message, sizeof(result->message), "guest kernel panic: %s", vm->panic_line);
	else
		snprintf(result->message, sizeof(result->message), "%s", vm->exit_message);
}

int vmm_run(const struct vm_config *cfg, struct vmm_result *result, novm_error_t *err)
{
	cleanup_free struct vmm *vmm = calloc(1, sizeof(*vmm));
	cleanup_close int sig_fd = -1;
	sigset_t stop_signals, old_mask;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_sigpipe;
	uint64_t entry;
	int ret = -1;

	if (!vmm) {
		if (cfg->ready_fd > 0)
			close(cfg->ready_fd);
		return novm_error(err, ENOMEM, "allocate VM");
	}
	vmm->cfg = cfg;
	atomic_store(&vmm->ready_fd, cfg->ready_fd > 0 ? cfg->ready_fd : -1);
	if (check_config(cfg, err) < 0 || vcpu_init_kick_signal(err) < 0) {
		report_ready(vmm, "error %s", (*err)->msg);
		return -1;
	}
	/* A reader of the container's output that went away must cost that
	 * relay its output, not the VMM its life. */
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGPIPE, &ignore, &old_sigpipe);
	/* The virtio-fs server keeps an fd per file the guest knows. */
	struct rlimit nofile = { 1 << 20, 1 << 20 };
	/* Root may raise the hard limit (up to fs.nr_open); others get theirs. */
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 && getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}

	/* Stop signals are taken synchronously by the main thread; every thread
	 * created from here on inherits the blocked mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigaddset(&stop_signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
	sigdelset(&stop_signals, SIGUSR1);
	sig_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
	if (sig_fd < 0) {
		novm_error(err, errno, "signalfd");
		goto out_mask;
	}

	if (kvm_vm_open(&vmm->vm, cfg->mem_size, err) < 0)
		goto out;
	vm_pause_init(&vmm->vm);
	vmm->pause_up = true;
	if (ioloop_init(&vmm->vm.loop, err) < 0)
		goto out;
	vmm->loop_up = true;
	if (load_guest(vmm, cfg, &entry, err) < 0 || vmm_devices_attach(vmm, err) < 0 ||
	    create_vcpus(vmm, cfg->nr_cpus, entry, err) < 0)
		goto out;
	if (ioloop_start(&vmm->vm.loop, err) < 0)
		goto out;
	for (int i = 0; i < vmm->vm.nr_vcpus; i++)
		if (vcpu_start(&vmm->vm.vcpus[i], err) < 0) {
			vm_request_exit(&vmm->vm, VM_EXIT_ERROR, "vCPU start failed");
			goto out;
		}
	wait_for_exit(&vmm->vm, vmm->agent, sig_fd);
	describe_exit(vmm, result);
	ret = 0;
out:
	if (atomic_load(&vmm->vm.exit_reason) == VM_RUNNING)
		atomic_store(&vmm->vm.exit_reason, VM_EXIT_ERROR);
	teardown(vmm);
out_mask:
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_sigpipe, NULL);
	/* Still unreported: the container was never created. */
	if (ret < 0)
		report_ready(vmm, "error %s", *err ? (*err)->msg : "the VM could not be built");
	else
		report_ready(vmm, "error the VM stopped before the container was created: %s",
			     result->agent_error[0] ? result->agent_error : result->message);
	return ret;
}

__attribute__((noreturn)) void vmm_exit_like_container(const struct vmm_result *res)
{
	int sig = res->container_signal;

	fflush(NULL);
	if (res->container_status < 0)
		exit(1);	/* the VM failed: runc's own failures exit 1 */
	if (sig > 0 && sig < NSIG) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		struct rlimit no_core = { 0, 0 };
		sigset_t set;

		/* The signal's default action, minus a core dump of the VMM
		 * (a piped core_pattern ignores RLIMIT_CORE, hence both). */
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0);
		sigemptyset(&dfl.sa_mask);
		sigaction(sig, &dfl, NULL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		/* Still here: a signal whose default is not to terminate. */
	}
	exit(res->container_status & 0xff);
}
