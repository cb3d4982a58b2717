/* A running virtual machine: KVM handles, guest memory, buses, vCPUs and the
 * devices registered on them.  Devices see the VM through this header.
 * Implemented by kvm.c (the VM's KVM set-up, exit requests, legacy IRQ
 * lines), irq.c (MSI routing, irqfds, ioeventfds) and vcpu.c (pausing). */
#ifndef NOVM_KVM_H
#define NOVM_KVM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kvm.h>

#include "bus.h"
#include "error.h"
#include "ioloop.h"
#include "memory.h"
#include "vmm.h"

struct vcpu;
struct pci_bus;

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_memory mem;
	struct bus pio;
	struct bus mmio;
	struct ioloop loop;
	struct pci_bus *pci;

	int nr_vcpus;
	struct vcpu *vcpus;
	bool has_pit;	/* an in-kernel PIT: only without a TSC-deadline timer */

	/* MSI routing: KVM replaces the whole table on each change. */
	pthread_mutex_t gsi_lock;
	struct kvm_irq_routing *routing;
	uint32_t next_gsi;

	/* vm_request_exit() records the first reason and signals exit_fd (an
	 * eventfd) to wake the main thread, which then stops the vCPUs. */
	int exit_fd;
	pthread_mutex_t exit_lock;
	_Atomic enum vm_exit_reason exit_reason;
	char exit_message[256];
	/* Last "Kernel panic" line seen on the console, for the error message. */
	char panic_line[160];

	/* Pause: while pause_requested is set, vCPU threads park outside
	 * KVM_RUN (nr_parked counts them) until it is cleared or the VM ends. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	_Atomic bool pause_requested;
	int nr_parked;
};

/* Ends the VM: records the first reason (later ones are ignored) and wakes
 * the main thread, which stops the vCPUs.  Safe from any thread. */
void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline bool vm_running(const struct vm *vm)
{
	return atomic_load(&vm->exit_reason) == VM_RUNNING;
}

/* Pausing the guest (vcpu.c).  vm_pause_init() before the vCPUs start;
 * vm_pause_vcpus() returns once every started vCPU is parked (or fails
 * after a few seconds, leaving the pause requested); vm_resume_vcpus() lets
 * them go, and must also run before the vCPU threads are joined. */
void vm_pause_init(struct vm *vm);
void vm_pause_destroy(struct vm *vm);
int vm_pause_vcpus(struct vm *vm, novm_error_t *err);
void vm_resume_vcpus(struct vm *vm);
bool vm_paused(struct vm *vm);
/* Every vCPU's state as a JSON array (x86_vcpu_describe), pausing the VM
 * for the moment it takes unless it is paused already; {"error": why} when
 * the vCPUs would not stop. */
void vm_describe_vcpus(struct vm *vm, FILE *out);

/* KVM set-up that everything else needs: /dev/kvm, the VM, its in-kernel
 * interrupt controllers and PIT, and guest RAM mapped into it. */
int kvm_vm_open(struct vm *vm, uint64_t mem_size, novm_error_t *err);
void kvm_vm_close(struct vm *vm);

/* Level of a legacy interrupt line on the in-kernel PIC/IOAPIC. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);

/* Raises one MSI directly (slow path, no eventfd). */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* Allocates a GSI routed to the MSI (addr, data) and binds `eventfd` to it
 * with KVM_IRQFD, so writing the eventfd injects the interrupt without
 * leaving the kernel.  Returns the GSI or -errno. */
int vm_msi_irqfd_add(struct vm *vm, uint64_t addr, uint32_t data, int eventfd);
/* Changes the MSI message of a GSI from vm_msi_irqfd_add. */
int vm_msi_route_update(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
int vm_msi_irqfd_remove(struct vm *vm, uint32_t gsi, int eventfd);

/* Registers an ioeventfd: a guest write of `len` bytes at `addr` signals
 * `eventfd` in the kernel instead of exiting to userspace. */
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, bool pio, int eventfd, bool assign);

#endif
