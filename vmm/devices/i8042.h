#ifndef NOVM_I8042_H
#define NOVM_I8042_H

#include "error.h"

struct vm;
struct i8042;

/* Just enough of the PS/2 controller for Linux to probe it quickly and to
 * reset the machine through it: a guest reboot ends the VM cleanly. */
int i8042_init(struct vm *vm, struct i8042 **out, novm_error_t *err);
void i8042_exit(struct i8042 *kbc);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int i8042_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void i8042_detach(struct vmm *vmm);

#endif
