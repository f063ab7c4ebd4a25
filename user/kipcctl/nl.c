// SPDX-License-Identifier: GPL-2.0
/* kipcctl: generic netlink plumbing, see nl.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <linux/kipc.h>

#include "nl.h"

struct knl_run_ctx {
	struct knl *nl;
	mnl_cb_t cb;
	void *data;
};

/* The extack TLVs that follow a struct nlmsgerr or a dump's error code. */
static void knl_parse_extack(struct knl *nl, const struct nlmsghdr *nlh,
			     size_t offset)
{
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(attr, nlh, offset) {
		switch (mnl_attr_get_type(attr)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
				snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
					 mnl_attr_get_str(attr));
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				nl->miss_type = mnl_attr_get_u32(attr);
			break;
		}
	}
}

static int knl_cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct knl_run_ctx *ctx = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*err);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/* Without NETLINK_CAP_ACK (or if it was refused) the request follows. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	knl_parse_extack(ctx->nl, nlh, offset);
	if (err->error == 0)
		return MNL_CB_STOP;
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

/* A dump ends with NLMSG_DONE; a dump that failed carries the error. */
static int knl_cb_done(const struct nlmsghdr *nlh, void *data)
{
	struct knl_run_ctx *ctx = data;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return MNL_CB_STOP;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	knl_parse_extack(ctx->nl, nlh, sizeof(int));
	if (error == 0)
		return MNL_CB_STOP;
	errno = error < 0 ? -error : error;
	return MNL_CB_ERROR;
}

static int knl_cb_noop(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int knl_cb_overrun(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

static int knl_cb_data(const struct nlmsghdr *nlh, void *data)
{
	struct knl_run_ctx *ctx = data;

	if (nlh->nlmsg_type != ctx->nl->family && ctx->nl->family) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

static mnl_cb_t knl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP] = knl_cb_noop,
	[NLMSG_ERROR] = knl_cb_error,
	[NLMSG_DONE] = knl_cb_done,
	[NLMSG_OVERRUN] = knl_cb_overrun,
};

struct nlmsghdr *knl_request(struct knl *nl, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = nl->family;
	/* A doit is acked, so the reply loop always has an end. */
	nlh->nlmsg_flags = NLM_F_REQUEST | (flags ? flags : NLM_F_ACK);
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = KIPC_GENL_VERSION;
	return nlh;
}

int knl_run(struct knl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	struct knl_run_ctx ctx = { .nl = nl, .cb = cb, .data = data };
	unsigned int seq = req->nlmsg_seq;
	ssize_t n;
	int ret;

	nl->errmsg[0] = '\0';
	nl->miss_type = -1;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(nl->buf, n, seq, nl->portid, knl_cb_data,
				  &ctx, knl_ctl_cbs, NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

struct knl_family {
	uint16_t id;
	uint32_t events;
};

static int knl_mcgrp_cb(const struct nlattr *grp, struct knl_family *fam)
{
	const struct nlattr *attr;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(attr, grp) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
				return MNL_CB_ERROR;
			name = mnl_attr_get_str(attr);
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				return MNL_CB_ERROR;
			id = mnl_attr_get_u32(attr);
			break;
		}
	}
	if (name && id && !strcmp(name, KIPC_GENL_MCGRP_EVENTS))
		fam->events = id;
	return MNL_CB_OK;
}

static int knl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr, *grp;
	struct knl_family *fam = data;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
				return MNL_CB_ERROR;
			fam->id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
				return MNL_CB_ERROR;
			mnl_attr_for_each_nested(grp, attr) {
				if (knl_mcgrp_cb(grp, fam) < 0)
					return MNL_CB_ERROR;
			}
			break;
		}
	}
	return MNL_CB_OK;
}

int knl_open(struct knl *nl)
{
	struct knl_family fam = { 0 };
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;
	int one = 1, ret;

	memset(nl, 0, offsetof(struct knl, buf));
	nl->miss_type = -1;
	nl->seq = (unsigned int)time(NULL);
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* Error text from the kernel, without an echo of the request. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));

	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KIPC_GENL_NAME);
	ret = knl_run(nl, nlh, knl_family_cb, &fam);
	if (ret < 0) {
		knl_close(nl);
		return ret;
	}
	if (!fam.id) {
		knl_close(nl);
		return -EPROTO;
	}
	nl->family = fam.id;
	nl->events_group = fam.events;
	return 0;

fail:
	ret = -errno;
	knl_close(nl);
	return ret;
}

void knl_close(struct knl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

int knl_join_events(struct knl *nl)
{
	int grp = nl->events_group;

	if (!grp)
		return -ENOENT;
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	return 0;
}

int knl_recv_events(struct knl *nl, mnl_cb_t cb, void *data, bool nowait)
{
	struct knl_run_ctx ctx = { .nl = nl, .cb = cb, .data = data };
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = nl->buf, .iov_len = sizeof(nl->buf) };
	struct msghdr msg = {
		.msg_name = &addr,
		.msg_namelen = sizeof(addr),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	n = recvmsg(mnl_socket_get_fd(nl->sock), &msg,
		    nowait ? MSG_DONTWAIT : 0);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -ENOSPC;
	/* Only the kernel (port 0) multicasts these. */
	if (addr.nl_pid != 0)
		return 0;
	/* Notifications carry seq 0 and port 0: nothing to match. */
	if (mnl_cb_run2(nl->buf, n, 0, 0, knl_cb_data, &ctx, knl_ctl_cbs,
			NLMSG_MIN_TYPE) < 0)
		return -errno;
	return 0;
}
