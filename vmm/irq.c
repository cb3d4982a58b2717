/* MSI delivery and guest-write notifications through KVM: GSI routing for
 * irqfds, direct MSI injection and ioeventfds.
 *
 * KVM_SET_GSI_ROUTING replaces the VM's whole routing table, including the
 * default routes of the in-kernel PIC and IOAPIC that KVM_CREATE_IRQCHIP
 * installed.  So the table we keep in vm->routing starts with a copy of those
 * defaults (GSI 0-15 on both PIC and IOAPIC, 16-23 on the IOAPIC only) and
 * MSI routes are appended to it; vm_irq_line() keeps working afterwards. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"

#define IOAPIC_PINS 24
#define PIC_IRQS 16
/* KVM_MAX_IRQ_ROUTES on x86. */
#define MAX_GSI 4096

static int routing_size(uint32_t nr)
{
	return sizeof(struct kvm_irq_routing) + nr * sizeof(struct kvm_irq_routing_entry);
}

static struct kvm_irq_routing *default_routing(void)
{
	struct kvm_irq_routing *r = calloc(1, routing_size(PIC_IRQS + IOAPIC_PINS));
	if (!r)
		return NULL;
	for (uint32_t gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		struct kvm_irq_routing_entry *e = &r->entries[r->nr++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi;
		if (gsi < PIC_IRQS) {
			e = &r->entries[r->nr++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
	}
	return r;
}

/* Caller holds gsi_lock.  Makes sure vm->routing exists. */
static int routing_prepare(struct vm *vm)
{
	if (!vm->routing) {
		vm->routing = default_routing();
		if (!vm->routing)
			return -ENOMEM;
	}
	return 0;
}

static struct kvm_irq_routing_entry *find_msi_route(struct vm *vm, uint32_t gsi)
{
	if (!vm->routing)
		return NULL;
	for (uint32_t i = 0; i < vm->routing->nr; i++) {
		struct kvm_irq_routing_entry *e = &vm->routing->entries[i];
		if (e->gsi == gsi && e->type == KVM_IRQ_ROUTING_MSI)
			return e;
	}
	return NULL;
}

static bool gsi_in_use(struct vm *vm, uint32_t gsi)
{
	for (uint32_t i = 0; i < vm->routing->nr; i++)
		if (vm->routing->entries[i].gsi == gsi)
			return true;
	return false;
}

static int commit_routing(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routing) < 0)
		return -errno;
	return 0;
}

static void set_msi(struct kvm_irq_routing_entry *e, uint32_t gsi, uint64_t addr, uint32_t data)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	/* 0 means the guest blocked it (e.g. a masked LAPIC): not our error. */
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

int vm_msi_irqfd_add(struct vm *vm, uint64_t addr, uint32_t data, int eventfd)
{
	int ret;

	pthread_mutex_lock(&vm->gsi_lock);
	ret = routing_prepare(vm);
	if (ret < 0)
		goto out;

	/* Reuse the lowest free GSI above the IOAPIC pins. */
	uint32_t gsi = IOAPIC_PINS;
	while (gsi < MAX_GSI && gsi_in_use(vm, gsi))
		gsi++;
	if (gsi >= MAX_GSI) {
		ret = -ENOSPC;
		goto out;
	}

	struct kvm_irq_routing *n = realloc(vm->routing, routing_size(vm->routing->nr + 1));
	if (!n) {
		ret = -ENOMEM;
		goto out;
	}
	vm->routing = n;
	set_msi(&n->entries[n->nr++], gsi, addr, data);
	ret = commit_routing(vm);
	if (ret < 0) {
		n->nr--;
		goto out;
	}

	struct kvm_irqfd irqfd = { .fd = (uint32_t)eventfd, .gsi = gsi };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		ret = -errno;
		n->nr--;
		commit_routing(vm);
		goto out;
	}
	if (gsi >= vm->next_gsi)
		vm->next_gsi = gsi + 1;
	ret = (int)gsi;
out:
	pthread_mutex_unlock(&vm->gsi_lock);
	return ret;
}

int vm_msi_route_update(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	int ret;

	pthread_mutex_lock(&vm->gsi_lock);
	struct kvm_irq_routing_entry *e = find_msi_route(vm, gsi);
	if (!e) {
		ret = -ENOENT;
		goto out;
	}
	struct kvm_irq_routing_entry old = *e;
	set_msi(e, gsi, addr, data);
	ret = commit_routing(vm);
	if (ret < 0)
		*e = old;
out:
	pthread_mutex_unlock(&vm->gsi_lock);
	return ret;
}

int vm_msi_irqfd_remove(struct vm *vm, uint32_t gsi, int eventfd)
{
	int ret = 0;

	pthread_mutex_lock(&vm->gsi_lock);
	struct kvm_irqfd irqfd = { .fd = (uint32_t)eventfd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		ret = -errno;
	struct kvm_irq_routing_entry *e = find_msi_route(vm, gsi);
	if (e) {
		*e = vm->routing->entries[--vm->routing->nr];
		int r = commit_routing(vm);
		if (!ret)
			ret = r;
	}
	pthread_mutex_unlock(&vm->gsi_lock);
	return ret;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, bool pio, int eventfd, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = len,
		.fd = eventfd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}
