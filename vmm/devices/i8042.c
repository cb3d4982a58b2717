/* i8042 keyboard controller (ports 0x60/0x64) without a keyboard: it answers
 * the controller commands Linux sends while probing and turns the reset
 * command (0xfe on 0x64, or clearing bit 0 of the output port) into a clean
 * stop of the VM. */
#include "devices/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "kvm.h"
#include "vmm-internal.h"

#define I8042_DATA 0x60
#define I8042_COMMAND 0x64

#define STATUS_OBF 0x01		/* output buffer full: a byte waits on 0x60 */
#define STATUS_SYS 0x04		/* self-test passed */
#define STATUS_CMD 0x08		/* last write was a command */
#define STATUS_UNLOCKED 0x10	/* keyboard not inhibited by the keylock */

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_PULSE_RESET 0xfe

#define SELF_TEST_OK 0x55
#define PORT_TEST_OK 0x00

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr;		/* controller configuration ("command byte") */
	uint8_t status;
	uint8_t out;		/* byte waiting to be read on 0x60 */
	uint8_t pending_cmd;	/* command waiting for its data byte */
};

static void reply(struct i8042 *kbc, uint8_t byte)
{
	kbc->out = byte;
	kbc->status |= STATUS_OBF;
}

static void command(struct i8042 *kbc, uint8_t cmd)
{
	kbc->status |= STATUS_CMD;
	switch (cmd) {
	case CMD_READ_CTR:
		reply(kbc, kbc->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
		kbc->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		reply(kbc, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		reply(kbc, PORT_TEST_OK);
		break;
	case CMD_PULSE_RESET:
		vm_request_exit(kbc->vm, VM_EXIT_RESET, "guest reset through the keyboard controller");
		break;
	default:
		/* Port enables/disables and the rest need no answer. */
		break;
	}
}

static void data_write(struct i8042 *kbc, uint8_t byte)
{
	kbc->status &= ~STATUS_CMD;
	switch (kbc->pending_cmd) {
	case CMD_WRITE_CTR:
		kbc->ctr = byte;
		break;
	case CMD_WRITE_OUTPUT:
		if (!(byte & 0x01))
			vm_request_exit(kbc->vm, VM_EXIT_RESET, "guest reset through the keyboard controller");
		break;
	default:
		/* A byte for the (absent) keyboard: no device answers. */
		break;
	}
	kbc->pending_cmd = 0;
}

static void i8042_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct i8042 *kbc = opaque;
	uint16_t port = I8042_DATA + offset;

	pthread_mutex_lock(&kbc->lock);
	if (port == I8042_DATA) {
		if (is_write) {
			data_write(kbc, data[0]);
		} else {
			data[0] = kbc->out;
			kbc->status &= ~STATUS_OBF;
		}
	} else if (port == I8042_COMMAND) {
		if (is_write)
			command(kbc, data[0]);
		else
			data[0] = kbc->status;
	} else if (!is_write) {
		/* Port B (0x61) reads 0: Linux reads it for the reason of an
		 * unclaimed NMI, and 0xff would say SERR and IOCHK.  (KVM's PIT,
		 * when the VM has one, answers 0x61 before we see it.) */
		data[0] = port == I8042_DATA + 1 ? 0 : 0xff;
	}
	pthread_mutex_unlock(&kbc->lock);
}

int i8042_init(struct vm *vm, struct i8042 **out, novm_error_t *err)
{
	struct i8042 *kbc = calloc(1, sizeof(*kbc));
	if (!kbc)
		return novm_error(err, ENOMEM, "i8042");
	kbc->vm = vm;
	kbc->status = STATUS_SYS | STATUS_UNLOCKED;
	kbc->ctr = 0x30;	/* both ports disabled, no interrupts */
	pthread_mutex_init(&kbc->lock, NULL);
	/* 0x60..0x64 as one range; 0x62 and 0x63 read as absent. */
	int ret = bus_register(&vm->pio, I8042_DATA, 5, i8042_access, kbc);
	if (ret < 0) {
		free(kbc);
		return novm_error(err, -ret, "register i8042");
	}
	*out = kbc;
	return 0;
}

void i8042_exit(struct i8042 *kbc)
{
	if (!kbc)
		return;
	bus_unregister(&kbc->vm->pio, I8042_DATA);
	pthread_mutex_destroy(&kbc->lock);
	free(kbc);
}

int i8042_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	(void)cfg;
	return i8042_init(&vmm->vm, &vmm->i8042, err);
}

void i8042_detach(struct vmm *vmm)
{
	i8042_exit(vmm->i8042);
	vmm->i8042 = NULL;
}
