/* Terminals for containers and exec sessions, the runc way: a pty pair made
 * on the host; the master goes to whoever listens on --console-socket (an
 * AF_UNIX stream socket; one message whose payload is the pty's name and
 * whose SCM_RIGHTS carries the master), the slave becomes the stdio the VMM
 * relays to the guest process. */
#ifndef NOVM_RUNTIME_CONSOLE_SOCKET_H
#define NOVM_RUNTIME_CONSOLE_SOCKET_H

#include "error.h"

/* A new pty pair, both ends close-on-exec, the slave without becoming our
 * controlling terminal.  *name is the slave's path (heap). */
int pty_open(int *master, int *slave, char **name, novm_error_t *err);

/* Connects to `socket_path` and sends `fd` with `name` as the payload. */
int console_socket_send(const char *socket_path, int fd, const char *name, novm_error_t *err);

#endif
