/* A route netlink socket through libmnl: dumps and acknowledged requests,
 * errors as values naming what was asked. */
#ifndef NOVM_RUNTIME_RTNL_H
#define NOVM_RUNTIME_RTNL_H

#include <libmnl/libmnl.h>

#include "error.h"

/* libmnl's MNL_SOCKET_BUFFER_SIZE is at most this, and not a constant. */
#define RTNL_BUF_SIZE 8192

struct rtnl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
};

int rtnl_open(struct rtnl *nl, novm_error_t *err);
void rtnl_close(struct rtnl *nl);

/* Sends a dump request of `type` (RTM_GETLINK...) with a zeroed family
 * header of `hdr_len` bytes whose first byte is `family`; `cb` sees each
 * message.  `what` names the dump in errors. */
int rtnl_dump(struct rtnl *nl, int type, int family, size_t hdr_len, mnl_cb_t cb, void *data,
	      const char *what, novm_error_t *err);

/* Sends `nlh` (built in `buf` with mnl_nlmsg_put_header) with NLM_F_ACK and
 * waits for the answer: 0, or the kernel's errno as the error. */
int rtnl_talk(struct rtnl *nl, struct nlmsghdr *nlh, const char *what, novm_error_t *err);

#define cleanup_rtnl __attribute__((cleanup(rtnl_close)))

#endif
