/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipcctl's generic netlink plumbing on libmnl: one socket, the "kipc"
 * family resolved by name, requests that collect the kernel's extended
 * ack (its error text) when they fail.
 */
#ifndef KIPCCTL_NL_H
#define KIPCCTL_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

/* Large enough for any dump skb the kernel builds (it caps them at 32K). */
#define KNL_BUFSIZE 32768

struct knl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	uint32_t events_group;	/* 0: the family has no "events" group */
	char errmsg[256];	/* the kernel's extack text, or "" */
	int miss_type;		/* a missing attribute it named, or -1 */
	char buf[KNL_BUFSIZE];
};

/*
 * Opens the socket and resolves the family.  Returns 0, or -errno:
 * -ENOENT means the family (so the module) is not there.
 */
int knl_open(struct knl *nl);
void knl_close(struct knl *nl);

/* Starts a request for cmd in nl->buf (flags: NLM_F_DUMP or 0). */
struct nlmsghdr *knl_request(struct knl *nl, uint8_t cmd, uint16_t flags);

/*
 * Sends the request and runs cb on every reply until the ack (or the
 * end of the dump).  Returns 0 or -errno; on a kernel error, errmsg and
 * miss_type say what the kernel said.
 */
int knl_run(struct knl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);

/* Joins the events group; then knl_recv_events() for each batch. */
int knl_join_events(struct knl *nl);
/*
 * Receives one datagram of events and runs cb on each.  Returns 0 or
 * -errno (-EAGAIN: nowait and nothing queued; -ENOBUFS: events were lost
 * to a full socket buffer).
 */
int knl_recv_events(struct knl *nl, mnl_cb_t cb, void *data, bool nowait);

#endif
