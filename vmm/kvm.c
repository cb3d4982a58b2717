/* The VM-wide KVM plumbing: /dev/kvm, the VM fd, the in-kernel irqchip (and a
 * PIT where the guest needs one), guest RAM slots, and the exit request every
 * part of the VMM uses. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"
#include "x86/cpu.h"

/* Intel needs these two pages for real-mode emulation; both lie above the
 * LAPIC, outside RAM and the PCI window. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

static int open_kvm(novm_error_t *err)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return novm_error(err, errno, "open /dev/kvm (is the kvm module loaded and virtualization enabled?)");
	if (errno == EACCES || errno == EPERM)
		return novm_error(err, errno, "open /dev/kvm (add the user to the kvm group or run as root)");
	return novm_error(err, errno, "open /dev/kvm");
}

static int map_guest_ram(struct vm *vm, novm_error_t *err)
{
	for (int i = 0; i < vm->mem.nr_regions; i++) {
		struct guest_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return novm_error(err, errno, "KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

int kvm_vm_open(struct vm *vm, uint64_t mem_size, novm_error_t *err)
{
	vm->kvm_fd = vm->vm_fd = vm->exit_fd = -1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->gsi_lock, NULL);
	vm->next_gsi = 24;	/* 0-23 are the IOAPIC pins */
	atomic_store(&vm->exit_reason, VM_RUNNING);
	bus_init(&vm->pio);
	bus_init(&vm->mmio);

	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0)
		return novm_error(err, errno, "eventfd");
	vm->kvm_fd = open_kvm(err);
	if (vm->kvm_fd < 0)
		return -1;
	int version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return novm_error(err, 0, "/dev/kvm speaks KVM API %d, need %d", version, KVM_API_VERSION);
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return novm_error(err, 0, "the host KVM lacks %s", required_caps[i].name);
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run))
		return novm_error(err, errno, "KVM_GET_VCPU_MMAP_SIZE");

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return novm_error(err, errno, "KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return novm_error(err, errno, "KVM_SET_TSS_ADDR");
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return novm_error(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return novm_error(err, errno, "KVM_CREATE_IRQCHIP");
	/* A PIT only for a guest without a TSC-deadline timer, which calibrates
	 * its LAPIC timer against it.  Otherwise it would be one more timer
	 * source (and L1 kthread, when nested) that nothing needs. */
	vm->has_pit = !x86_has_tsc_deadline(vm->kvm_fd);
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (vm->has_pit && ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return novm_error(err, errno, "KVM_CREATE_PIT2");

	if (guest_memory_alloc(&vm->mem, mem_size, err) < 0)
		return -1;
	return map_guest_ram(vm, err);
}

void kvm_vm_close(struct vm *vm)
{
	guest_memory_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	vm->vm_fd = vm->kvm_fd = vm->exit_fd = -1;
	free(vm->routing);
	vm->routing = NULL;
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, const char *fmt, ...)
{
	va_list ap;
	uint64_t one = 1;

	pthread_mutex_lock(&vm->exit_lock);
	if (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		va_start(ap, fmt);
		vsnprintf(vm->exit_message, sizeof(vm->exit_message), fmt, ap);
		va_end(ap);
		atomic_store(&vm->exit_reason, reason);
	}
	pthread_mutex_unlock(&vm->exit_lock);
	if (vm->exit_fd >= 0 && write(vm->exit_fd, &one, sizeof(one)) < 0) {
		/* The counter can only overflow if it was already signalled. */
	}
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}
