#ifndef NOVM_SERIAL_H
#define NOVM_SERIAL_H

#include "error.h"

struct vm;
struct serial;

/* A 16550A UART at COM1 (0x3f8, IRQ 4): the guest console.  Output goes to
 * `out_fd`; when `in_fd` >= 0 its bytes become guest input. */
int serial_init(struct vm *vm, int out_fd, int in_fd, struct serial **out, novm_error_t *err);
/* Writes out anything still buffered. */
void serial_flush(struct serial *uart);
void serial_exit(struct serial *uart);

/* The VM builder's device step (vmm/device-table.c). */
struct vmm;
struct vm_config;
int serial_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err);
void serial_detach(struct vmm *vmm);

#endif
