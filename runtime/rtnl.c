#include "rtnl.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int rtnl_open(struct rtnl *nl, novm_error_t *err)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return novm_error(err, errno, "open a route netlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		rtnl_close(nl);
		return novm_error(err, e, "bind the route netlink socket");
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

void rtnl_close(struct rtnl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Reads answers to `seq` until the dump ends or the request is acked. */
static int receive(struct rtnl *nl, unsigned int seq, mnl_cb_t cb, void *data, const char *what,
		   novm_error_t *err)
{
	char buf[RTNL_BUF_SIZE];
	int ret;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return novm_error(err, errno, "%s", what);
		ret = mnl_cb_run(buf, n, seq, nl->portid, cb, data);
		if (ret < 0)
			return novm_error(err, errno, "%s", what);
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int rtnl_dump(struct rtnl *nl, int type, int family, size_t hdr_len, mnl_cb_t cb, void *data,
	      const char *what, novm_error_t *err)
{
	char buf[RTNL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned char *hdr;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++nl->seq;
	hdr = mnl_nlmsg_put_extra_header(nlh, hdr_len);
	hdr[0] = (unsigned char)family;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return novm_error(err, errno, "%s", what);
	return receive(nl, nlh->nlmsg_seq, cb, data, what, err);
}

int rtnl_talk(struct rtnl *nl, struct nlmsghdr *nlh, const char *what, novm_error_t *err)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return novm_error(err, errno, "%s", what);
	return receive(nl, nlh->nlmsg_seq, NULL, NULL, what, err);
}
