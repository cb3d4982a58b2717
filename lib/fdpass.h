/* Messages with file descriptors over unix sockets (SCM_RIGHTS), for the
 * agent's session hand-off, the VMM's control socket and the runtime's
 * console socket. */
#ifndef NOVM_FDPASS_H
#define NOVM_FDPASS_H

#include <sys/types.h>

/* Most fds one message may carry. */
#define FDPASS_MAX 16

/* sendmsg() of buf with nfds fds (0..FDPASS_MAX), retried on EINTR,
 * without SIGPIPE.  Returns the bytes sent or -errno. */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, int nfds);

/* recvmsg() into buf, collecting the fds that came (close-on-exec) into
 * fds[*nr_fds..max_fds).  flags go to recvmsg (MSG_DONTWAIT).  Returns the
 * bytes read (0 at EOF), -errno (-EAGAIN), or -EPROTO when more fds came
 * than fit: all of that message's fds are then closed. */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int flags, int *fds, int max_fds,
		    int *nr_fds);

#endif
