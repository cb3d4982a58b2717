/* One thread per vCPU running KVM_RUN; every exit that needs a device goes
 * through the VM's port-I/O or MMIO bus. */
#include "vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "jsonstr.h"
#include "kvm.h"
#include "x86/cpu.h"

#define VCPU_KICK_SIGNAL SIGUSR1
/* How long vm_pause_vcpus() waits for the vCPUs to leave the guest; an
 * exit being handled (a device access) takes microseconds. */
#define PAUSE_TIMEOUT_MS 5000

static void kick_handler(int sig)
{
	/* Only there so the signal interrupts KVM_RUN with EINTR. */
}

int vcpu_init_kick_signal(novm_error_t *err)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return novm_error(err, errno, "sigaction");
	return 0;
}

int vcpu_create(struct vm *vm, int id, struct vcpu *vcpu, novm_error_t *err)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return novm_error(err, errno, "KVM_CREATE_VCPU %d", id);
	vcpu->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return novm_error(err, errno, "mmap vCPU %d", id);
	}
	return 0;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* `rep ins/outs` arrive as one exit with count > 1. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		bus_access(&vcpu->vm->pio, run->io.port, data, run->io.size, is_write);
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len <= sizeof(run->mmio.data) ? run->mmio.len : sizeof(run->mmio.data);

	bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

/* Where the vCPU was when the guest died: enough to tell a panic's
 * deliberate triple fault (reboot=t) from a crash, and where to look. */
static void describe_state(struct vcpu *vcpu, char *buf, size_t len)
{
	/* CR0 after INIT: ET, with CD and NW as they were. */
	enum { CR0_ET = 1u << 4, CR0_NW = 1u << 29, CR0_CD = 1u << 30 };
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, len, "registers unreadable: %s", strerror(errno));
		return;
	}
	/* On AMD, KVM re-initializes the vCPU at the shutdown intercept (the
	 * VMCB is undefined after it): what is left is the reset state, which
	 * says nothing of where the guest died. */
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000 &&
	    (s.cr0 & ~(CR0_CD | CR0_NW)) == CR0_ET) {
		snprintf(buf, len, "registers lost: KVM reset the vCPU at the shutdown, as it does on AMD");
		return;
	}
	snprintf(buf, len, "rip %#llx rsp %#llx cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx efer %#llx",
		 (unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)s.cr0,
		 (unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
		 (unsigned long long)s.efer);
}

static void handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		break;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		break;
	case KVM_EXIT_SHUTDOWN: {
		char state[192];

		describe_state(vcpu, state, sizeof(state));
		vm_request_exit(vm, VM_EXIT_TRIPLE_FAULT, "vCPU %d: guest triple fault (%s)", vcpu->id,
				state);
		break;
	}
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_request_exit(vm, VM_EXIT_RESET, "guest reset");
		else if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			vm_request_exit(vm, VM_EXIT_RESET, "guest power-off");
		else
			vm_request_exit(vm, VM_EXIT_ERROR, "vCPU %d: system event %u", vcpu->id,
					run->system_event.type);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_exit(vm, VM_EXIT_ERROR, "vCPU %d: KVM entry failed, reason 0x%llx", vcpu->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_exit(vm, VM_EXIT_ERROR, "vCPU %d: KVM internal error, suberror %u", vcpu->id,
				run->internal.suberror);
		break;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours always has one. */
		break;
	default:
		vm_request_exit(vm, VM_EXIT_ERROR, "vCPU %d: unhandled KVM exit %u", vcpu->id,
				run->exit_reason);
		break;
	}
}

/* Waits outside KVM_RUN while the VM is paused. */
static void park(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->pause_requested) && vm_running(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nr_parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t set;

	/* The kick signal must reach this thread; the main thread blocks it. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (vm_running(vcpu->vm)) {
		/* Checked after immediate_exit was reset below, and a pauser sets
		 * the flag before it kicks: a pause is never missed. */
		if (atomic_load(&vcpu->vm->pause_requested)) {
			park(vcpu->vm);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			vm_request_exit(vcpu->vm, VM_EXIT_ERROR, "vCPU %d: KVM_RUN: %s", vcpu->id,
					strerror(errno));
			break;
		}
		handle_exit(vcpu);
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, novm_error_t *err)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		return novm_error(err, ret, "start vCPU %d", vcpu->id);
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* immediate_exit covers the window before the thread enters KVM_RUN. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

/* ---- pause ---- */

void vm_pause_init(struct vm *vm)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->pause_cond, &attr);
	pthread_condattr_destroy(&attr);
	atomic_store(&vm->pause_requested, false);
	vm->nr_parked = 0;
}

void vm_pause_destroy(struct vm *vm)
{
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
}

int vm_pause_vcpus(struct vm *vm, novm_error_t *err)
{
	struct timespec deadline;
	int started = 0, ret = 0;

	atomic_store(&vm->pause_requested, true);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].started) {
			started++;
			vcpu_kick(&vm->vcpus[i]);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += PAUSE_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_parked < started && vm_running(vm) && ret == 0)
		ret = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &deadline);
	pthread_mutex_unlock(&vm->pause_lock);
	if (!vm_running(vm))
		return novm_error(err, 0, "the VM is stopping");
	if (ret)
		return novm_error(err, ret, "pause: the vCPUs did not stop");
	return 0;
}

void vm_resume_vcpus(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_requested, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

bool vm_paused(struct vm *vm)
{
	return atomic_load(&vm->pause_requested);
}

void vm_describe_vcpus(struct vm *vm, FILE *out)
{
	cleanup_error novm_error_t err = NULL;
	bool paused_here = !vm_paused(vm);

	/* KVM's vCPU ioctls wait for KVM_RUN to return: park the vCPUs first,
	 * and wait for them even when a pause was asked for already (it may
	 * not have taken: then an ioctl would block the I/O thread). */
	if (vm_pause_vcpus(vm, &err) < 0) {
		fputs("{\"error\":", out);
		json_write_string(out, err->msg);
		fputc('}', out);
		if (paused_here)
			vm_resume_vcpus(vm);
		return;
	}
	fputc('[', out);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		if (i)
			fputc(',', out);
		x86_vcpu_describe(&vm->vcpus[i], out);
	}
	fputc(']', out);
	if (paused_here)
		vm_resume_vcpus(vm);
}
