/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small generic netlink client for the "kipc" family, spoken directly
 * with libmnl, for the selftests that check its requests, replies, extack
 * messages and events.  Everything is static inline: a test that leaves a
 * function unused still builds with -Werror.
 *
 * Each test keeps its own callbacks to parse replies and events; this
 * header only opens the socket, resolves the family, builds and runs
 * requests, and drains the events group.
 */
#ifndef KIPC_NL_H
#define KIPC_NL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <linux/kipc.h>

/* The wire type of each attribute, as the UAPI header documents it. */
static const enum mnl_attr_data_type kipc_nl_attr_type[KIPC_A_MAX + 1]
	__attribute__((unused)) = {
	[KIPC_A_KIND] = MNL_TYPE_U32,
	[KIPC_A_INDEX] = MNL_TYPE_U32,
	[KIPC_A_NAME] = MNL_TYPE_NUL_STRING,
	[KIPC_A_CAPACITY] = MNL_TYPE_U64,
	[KIPC_A_FILL] = MNL_TYPE_U64,
	[KIPC_A_OPEN_FILES] = MNL_TYPE_U32,
	[KIPC_A_READERS_WAITING] = MNL_TYPE_U32,
	[KIPC_A_WRITERS_WAITING] = MNL_TYPE_U32,
	[KIPC_A_MQ_MAX_MSG_SIZE] = MNL_TYPE_U32,
	[KIPC_A_MQ_MAX_MSGS] = MNL_TYPE_U32,
	[KIPC_A_MQ_MSGS] = MNL_TYPE_U32,
	[KIPC_A_HIGH_WATER] = MNL_TYPE_U64,
	[KIPC_A_STATS] = MNL_TYPE_NESTED,
	[KIPC_A_EVENT] = MNL_TYPE_U32,
	[KIPC_A_VERSION] = MNL_TYPE_NUL_STRING,
	[KIPC_A_NPIPES] = MNL_TYPE_U32,
	[KIPC_A_NMQS] = MNL_TYPE_U32,
	[KIPC_A_NSHMS] = MNL_TYPE_U32,
	[KIPC_A_PIPE_MAX_SIZE] = MNL_TYPE_U32,
	[KIPC_A_MQ_MAX_BYTES_LIMIT] = MNL_TYPE_U32,
	[KIPC_A_SHM_MAX_SIZE] = MNL_TYPE_U64,
	[KIPC_A_DEV_MODE] = MNL_TYPE_U32,
};

/*
 * One attribute of a device message as a client sees it: 0 to skip
 * (padding), 1 if it is well formed (a known type of the right size), -1
 * if it is not.  kipc_nl_stat_check() is the same for the KIPC_A_STATS
 * nest, whose counters are all u64.
 */
static inline int kipc_nl_attr_check(const struct nlattr *a)
{
	uint16_t t = mnl_attr_get_type(a);

	if (t == KIPC_A_PAD)
		return 0;
	if (t == KIPC_A_UNSPEC || t > KIPC_A_MAX || !kipc_nl_attr_type[t] ||
	    mnl_attr_validate(a, kipc_nl_attr_type[t]))
		return -1;
	return 1;
}

static inline int kipc_nl_stat_check(const struct nlattr *a)
{
	uint16_t t = mnl_attr_get_type(a);

	if (t == KIPC_STAT_PAD)
		return 0;
	if (t == KIPC_STAT_UNSPEC || t > KIPC_STAT_MAX ||
	    mnl_attr_validate(a, MNL_TYPE_U64))
		return -1;
	return 1;
}

struct kipc_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;	/* of the last request */
	uint16_t family;	/* id of the "kipc" family */
	uint32_t events;	/* id of its "events" multicast group */
	char msg[256];		/* extack message of the last request, or "" */
	int miss_type;		/* its NLMSGERR_ATTR_MISS_TYPE, or -1 */
	size_t buf_size;	/* MNL_SOCKET_BUFFER_SIZE: not a constant */
	char buf[];		/* requests are built, replies received here */
};

/* mnl_cb_run2() hands one pointer to the data and control callbacks. */
struct kipc_nl_call {
	struct kipc_nl *nl;
	mnl_cb_t cb;
	void *data;
};

/* The extack attributes from @off on in an NLMSG_ERROR or NLMSG_DONE. */
static inline void kipc_nl_parse_extack(struct kipc_nl *nl,
					const struct nlmsghdr *nlh, size_t off)
{
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(nl->msg, sizeof(nl->msg), "%s",
				 mnl_attr_get_str(a));
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MISS_TYPE &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			nl->miss_type = mnl_attr_get_u32(a);
	}
}

/* The ack, or the error, ending a request. */
static inline int kipc_nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kipc_nl_call *c = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/* Without NETLINK_CAP_ACK, the request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	kipc_nl_parse_extack(c->nl, nlh, off);
	if (!e->error)
		return MNL_CB_STOP;
	errno = -e->error;
	return MNL_CB_ERROR;
}

/* The end of a dump: it carries the error of a dump that failed midway. */
static inline int kipc_nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kipc_nl_call *c = data;
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	kipc_nl_parse_extack(c->nl, nlh, sizeof(int));
	if (!err)
		return MNL_CB_STOP;
	errno = -err;
	return MNL_CB_ERROR;
}

static inline int kipc_nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct kipc_nl_call *c = data;

	return c->cb ? c->cb(nlh, c->data) : MNL_CB_OK;
}

/*
 * A request in nl->buf, to be completed with attributes and run with
 * kipc_nl_rpc().  @flags go with NLM_F_REQUEST: NLM_F_ACK for a doit
 * (its ack carries the extack), NLM_F_DUMP for a dump.
 */
static inline struct nlmsghdr *kipc_nl_req(struct kipc_nl *nl, uint16_t type,
					   uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = KIPC_GENL_VERSION;
	return nlh;
}

/*
 * Sends @req and hands each reply to @cb (may be NULL) with @data, until
 * the ack or the end of the dump.  0, or -errno; either way nl->msg and
 * nl->miss_type hold what the extack said.
 */
static inline int kipc_nl_rpc(struct kipc_nl *nl, struct nlmsghdr *req,
			      mnl_cb_t cb, void *data)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = kipc_nl_error_cb,
		[NLMSG_DONE] = kipc_nl_done_cb,
	};
	struct kipc_nl_call c = { .nl = nl, .cb = cb, .data = data };
	/* The replies overwrite the request in nl->buf. */
	unsigned int seq = req->nlmsg_seq;
	int ret;

	nl->msg[0] = '\0';
	nl->miss_type = -1;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf,
						nl->buf_size);

		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(nl->buf, n, seq, nl->portid,
				  kipc_nl_data_cb, &c, ctl, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

/* The family id and the "events" group id from CTRL_CMD_GETFAMILY. */
static inline int kipc_nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *g, *x;
	struct kipc_nl *nl = data;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			nl->family = mnl_attr_get_u16(a);
		if (mnl_attr_get_type(a) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		mnl_attr_for_each_nested(g, a) {
			const char *name = NULL;
			uint32_t id = 0;

			mnl_attr_for_each_nested(x, g) {
				if (mnl_attr_get_type(x) ==
				    CTRL_ATTR_MCAST_GRP_NAME)
					name = mnl_attr_get_str(x);
				if (mnl_attr_get_type(x) ==
				    CTRL_ATTR_MCAST_GRP_ID)
					id = mnl_attr_get_u32(x);
			}
			if (name && !strcmp(name, KIPC_GENL_MCGRP_EVENTS))
				nl->events = id;
		}
	}
	return MNL_CB_OK;
}

static inline void kipc_nl_close(struct kipc_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

/*
 * A client of the "kipc" family, or NULL; with @join_events, also a
 * member of its "events" group.  Extended acks carry the kernel's
 * message; capped acks leave the request out of them.
 */
static inline struct kipc_nl *kipc_nl_open(bool join_events)
{
	size_t buf_size = MNL_SOCKET_BUFFER_SIZE;
	struct kipc_nl *nl = calloc(1, sizeof(*nl) + buf_size);
	struct nlmsghdr *nlh;
	int one = 1;

	if (!nl)
		return NULL;
	nl->buf_size = buf_size;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one,
				  sizeof(one)) ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one,
				  sizeof(one)))
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	nlh = kipc_nl_req(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KIPC_GENL_NAME);
	if (kipc_nl_rpc(nl, nlh, kipc_nl_family_cb, nl) || !nl->family ||
	    !nl->events)
		goto fail;
	if (join_events &&
	    mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP,
				  &nl->events, sizeof(nl->events)))
		goto fail;
	return nl;
fail:
	kipc_nl_close(nl);
	return NULL;
}

/*
 * Hands every message queued on @nl to @cb with @data, without waiting:
 * the module multicasts an event during the system call that causes it,
 * so the events of a call are queued once it returns.  0 when the queue
 * is empty; -errno if receiving fails (-ENOBUFS: the queue overflowed and
 * events were lost); -EBADMSG if @cb refused a message.
 */
static inline int kipc_nl_drain(struct kipc_nl *nl, mnl_cb_t cb, void *data)
{
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nl->sock), nl->buf,
				 nl->buf_size, MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (mnl_cb_run(nl->buf, n, 0, 0, cb, data) < 0)
			return -EBADMSG;
	}
}

#endif /* KIPC_NL_H */
