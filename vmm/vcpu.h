#ifndef NOVM_VCPU_H
#define NOVM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/kvm.h>

#include "error.h"

struct vm;

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

int vcpu_create(struct vm *vm, int id, struct vcpu *vcpu, novm_error_t *err);
/* Starts the KVM_RUN loop in a thread of its own. */
int vcpu_start(struct vcpu *vcpu, novm_error_t *err);
/* Makes a running vCPU leave KVM_RUN and notice the VM is stopping. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/* Installs the no-op signal handler used by vcpu_kick(); once per process. */
int vcpu_init_kick_signal(novm_error_t *err);

#endif
