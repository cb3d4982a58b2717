/* 16550A UART, enough of it for Linux's 8250 driver: transmit is
 * instantaneous, receive has a 16-byte FIFO, interrupts follow IER/IIR. */
#include "devices/serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capped-file.h"
#include "kvm.h"
#include "util.h"
#include "vmm-internal.h"

#define COM1_BASE 0x3f8
#define COM1_IRQ 4

#define UART_RX 0	/* DLAB=0, read */
#define UART_TX 0	/* DLAB=0, write */
#define UART_IER 1
#define UART_IIR 2	/* read */
#define UART_FCR 2	/* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE_FIFO 0x01
#define FCR_CLEAR_RCVR 0x02
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define MSR_DCD 0x80
#define MSR_DSR 0x20
#define MSR_CTS 0x10

#define RX_FIFO_SIZE 16
#define TX_BUFFER_SIZE 4096

struct serial {
	struct vm *vm;
	pthread_mutex_t lock;
	int out_fd, in_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;	/* THR became empty and IIR has not reported it yet */
	int irq_level;
	uint8_t rx[RX_FIFO_SIZE];
	int rx_head, rx_count;
	char tx[TX_BUFFER_SIZE];
	size_t tx_len;
	/* The current console line, to remember a kernel panic message. */
	char line[160];
	size_t line_len;
};

static void write_out(struct serial *uart)
{
	/* Failing, the reader went away: console output is dropped. */
	if (uart->out_fd >= 0)
		capped_write(uart->out_fd, uart->tx, uart->tx_len);
	uart->tx_len = 0;
}

static void watch_line(struct serial *uart, char c)
{
	if (c != '\n') {
		if (uart->line_len < sizeof(uart->line) - 1)
			uart->line[uart->line_len++] = c;
		return;
	}
	uart->line[uart->line_len] = '\0';
	char *panic = strstr(uart->line, "Kernel panic - not syncing");
	if (panic && !uart->vm->panic_line[0]) {
		size_t n = strcspn(panic, "\r");
		if (n >= sizeof(uart->vm->panic_line))
			n = sizeof(uart->vm->panic_line) - 1;
		memcpy(uart->vm->panic_line, panic, n);
		uart->vm->panic_line[n] = '\0';
	}
	uart->line_len = 0;
}

static void transmit(struct serial *uart, uint8_t c)
{
	uart->tx[uart->tx_len++] = c;
	watch_line(uart, c);
	/* Flush per line: console output shows up promptly without a write(2)
	 * per byte. */
	if (c == '\n' || uart->tx_len == sizeof(uart->tx))
		write_out(uart);
}

static uint8_t iir(const struct serial *uart)
{
	uint8_t fifo = (uart->fcr & FCR_ENABLE_FIFO) ? IIR_FIFO_ENABLED : 0;

	if ((uart->ier & IER_RDI) && uart->rx_count)
		return IIR_RDI | fifo;
	if ((uart->ier & IER_THRI) && uart->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* ISA interrupts are edge-triggered on the IOAPIC: the line must drop
 * whenever nothing is pending so the next event makes a new edge. */
static void update_irq(struct serial *uart)
{
	int level = !(iir(uart) & IIR_NO_INT);
	if (level != uart->irq_level) {
		uart->irq_level = level;
		vm_irq_line(uart->vm, COM1_IRQ, level);
	}
}

static uint8_t read_reg(struct serial *uart, uint64_t reg)
{
	uint8_t v;

	if ((uart->lcr & LCR_DLAB) && reg <= 1)
		return reg == 0 ? uart->dll : uart->dlm;
	switch (reg) {
	case UART_RX:
		if (!uart->rx_count)
			return 0;
		v = uart->rx[uart->rx_head];
		uart->rx_head = (uart->rx_head + 1) % RX_FIFO_SIZE;
		uart->rx_count--;
		return v;
	case UART_IER:
		return uart->ier;
	case UART_IIR:
		v = iir(uart);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			uart->thri_pending = false;
		return v;
	case UART_LCR:
		return uart->lcr;
	case UART_MCR:
		return uart->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (uart->rx_count ? LSR_DR : 0);
	case UART_MSR:
		/* In loopback the modem inputs mirror MCR (the driver's probe
		 * checks): DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
		if (uart->mcr & MCR_LOOP)
			return ((uart->mcr & 0x01) << 5) | ((uart->mcr & 0x02) << 3) |
			       ((uart->mcr & 0x0c) << 4);
		return MSR_DCD | MSR_DSR | MSR_CTS;
	case UART_SCR:
		return uart->scr;
	}
	return 0;
}

static void write_reg(struct serial *uart, uint64_t reg, uint8_t v)
{
	if ((uart->lcr & LCR_DLAB) && reg <= 1) {
		if (reg == 0)
			uart->dll = v;
		else
			uart->dlm = v;
		return;
	}
	switch (reg) {
	case UART_TX:
		if (!(uart->mcr & MCR_LOOP))
			transmit(uart, v);
		else if (uart->rx_count < RX_FIFO_SIZE)
			uart->rx[(uart->rx_head + uart->rx_count++) % RX_FIFO_SIZE] = v;
		uart->thri_pending = true;
		break;
	case UART_IER:
		/* Enabling THRI while the THR is empty raises it at once, which
		 * is what starts the 8250 driver's transmit path. */
		if (!(uart->ier & IER_THRI) && (v & IER_THRI))
			uart->thri_pending = true;
		uart->ier = v & 0x0f;
		break;
	case UART_FCR:
		uart->fcr = v;
		if (v & FCR_CLEAR_RCVR)
			uart->rx_count = 0;
		break;
	case UART_LCR:
		uart->lcr = v;
		break;
	case UART_MCR:
		uart->mcr = v & 0x1f;
		break;
	case UART_SCR:
		uart->scr = v;
		break;
	}
}

static void serial_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *uart = opaque;

	pthread_mutex_lock(&uart->lock);
	if (is_write)
		write_reg(uart, offset, data[0]);
	else
		data[0] = read_reg(uart, offset);
	update_irq(uart);
	pthread_mutex_unlock(&uart->lock);
}

static void serial_input(void *opaque)
{
	struct serial *uart = opaque;
	uint8_t buf[RX_FIFO_SIZE];

	pthread_mutex_lock(&uart->lock);
	size_t room = RX_FIFO_SIZE - uart->rx_count;
	/* With the FIFO full we still read, dropping bytes like a real UART's
	 * overrun, so a flood on stdin cannot spin the loop. */
	ssize_t n = read(uart->in_fd, buf, room ? room : sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			ioloop_remove(&uart->vm->loop, uart->in_fd);
			uart->in_fd = -1;
		}
	} else {
		for (ssize_t i = 0; i < n && uart->rx_count < RX_FIFO_SIZE; i++)
			uart->rx[(uart->rx_head + uart->rx_count++) % RX_FIFO_SIZE] = buf[i];
		update_irq(uart);
	}
	pthread_mutex_unlock(&uart->lock);
}

int serial_init(struct vm *vm, int out_fd, int in_fd, struct serial **out, novm_error_t *err)
{
	struct serial *uart = calloc(1, sizeof(*uart));
	int ret;

	if (!uart)
		return novm_error(err, ENOMEM, "serial");
	uart->vm = vm;
	uart->out_fd = out_fd;
	uart->in_fd = -1;
	pthread_mutex_init(&uart->lock, NULL);
	ret = bus_register(&vm->pio, COM1_BASE, 8, serial_access, uart);
	if (ret < 0) {
		free(uart);
		return novm_error(err, -ret, "register COM1");
	}
	if (in_fd >= 0 && ioloop_add(&vm->loop, in_fd, serial_input, uart) == 0)
		uart->in_fd = in_fd;
	*out = uart;
	return 0;
}

void serial_flush(struct serial *uart)
{
	pthread_mutex_lock(&uart->lock);
	write_out(uart);
	pthread_mutex_unlock(&uart->lock);
}

void serial_exit(struct serial *uart)
{
	if (!uart)
		return;
	serial_flush(uart);
	bus_unregister(&uart->vm->pio, COM1_BASE);
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}

int serial_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	if (cfg->console_capped)
		capped_file_set(cfg->console_fd, NOVM_CONSOLE_LOG_CAP);
	return serial_init(&vmm->vm, cfg->console_fd, cfg->console_in_fd, &vmm->serial, err);
}

void serial_detach(struct vmm *vmm)
{
	serial_exit(vmm->serial);
	vmm->serial = NULL;
}
