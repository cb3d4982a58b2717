/* Standard streams of PID 1. */
#ifndef NOVM_AGENT_CONSOLE_H
#define NOVM_AGENT_CONSOLE_H

/* Makes sure fds 0-2 are open, pointing any closed one at /dev/console.
 * The kernel opens the console for init only when the initramfs has
 * dev/console; call again once devtmpfs is mounted in case it had not. */
void console_setup(void);

#endif
