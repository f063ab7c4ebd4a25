// SPDX-License-Identifier: GPL-2.0
/*
 * kipc message queues, the netlink part: a queue's attributes for GET_DEV
 * and the dump, and SET_DEV.  netlink.c's policy has already checked each
 * attribute's type, length and minimum, and that only a queue is given
 * message limits; what is left here is the range of a limit and the
 * privilege above a module maximum, the same checks as the ioctl's.
 *
 * A fill takes q->lock only to copy the figures: the lock is never held
 * across a user copy or a sleep (mq.h), so a request never waits behind
 * a sender or receiver that faults.
 */
#include <net/netlink.h>

#include "mq.h"

int kipc_mq_fill(struct sk_buff *skb, unsigned int index)
{
	struct kipc_nl_stat peak_msgs = { .attr = KIPC_STAT_PEAK_MSGS };
	u32 max_msg_size, max_msgs, nmsgs, nr_receivers, nr_senders;
	u64 max_bytes, bytes, high_water;
	struct kipc_io_stats io;
	struct kipc_mq *q;

	if (index >= kipc_mq_n)
		return -ENODEV;
	q = &kipc_mqs[index];

	spin_lock(&q->lock);
	io = q->io;
	peak_msgs.value = q->peak_msgs;
	max_bytes = q->max_bytes;
	bytes = q->bytes;
	max_msg_size = q->max_msg_size;
	max_msgs = q->max_msgs;
	nmsgs = q->nmsgs;
	nr_receivers = q->nr_receivers;
	nr_senders = q->nr_senders;
	high_water = q->high_water;
	spin_unlock(&q->lock);

	if (nla_put_u64_64bit(skb, KIPC_A_CAPACITY, max_bytes, KIPC_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_A_FILL, bytes, KIPC_A_PAD) ||
	    nla_put_u32(skb, KIPC_A_MQ_MAX_MSG_SIZE, max_msg_size) ||
	    nla_put_u32(skb, KIPC_A_MQ_MAX_MSGS, max_msgs) ||
	    nla_put_u32(skb, KIPC_A_MQ_MSGS, nmsgs) ||
	    nla_put_u32(skb, KIPC_A_READERS_WAITING, nr_receivers) ||
	    nla_put_u32(skb, KIPC_A_WRITERS_WAITING, nr_senders) ||
	    nla_put_u64_64bit(skb, KIPC_A_HIGH_WATER, high_water, KIPC_A_PAD))
		return -EMSGSIZE;

	return kipc_nl_put_stats(skb, &q->base, &io, &peak_msgs, 1);
}

/* The attribute of each limit (KIPC_A_CAPACITY is a u64, the others u32). */
static const int kipc_mq_limit_attr[KIPC_MQ_NR_LIMITS] = {
	[KIPC_MQ_LIMIT_BYTES] = KIPC_A_CAPACITY,
	[KIPC_MQ_LIMIT_MSG_SIZE] = KIPC_A_MQ_MAX_MSG_SIZE,
	[KIPC_MQ_LIMIT_MSGS] = KIPC_A_MQ_MAX_MSGS,
};

int kipc_mq_set(unsigned int index, struct nlattr **attrs,
		struct netlink_ext_ack *extack)
{
	struct kipc_mq_new_limits nl = {};
	struct nlattr *attr;
	struct kipc_mq *q;
	unsigned int i, bad;
	int ret;

	if (index >= kipc_mq_n) {
		NL_SET_ERR_MSG(extack, "no such message queue");
		return -ENODEV;
	}
	q = &kipc_mqs[index];

	for (i = 0; i < KIPC_MQ_NR_LIMITS; i++) {
		attr = attrs[kipc_mq_limit_attr[i]];
		if (!attr)
			continue;
		nl.val[i] = i == KIPC_MQ_LIMIT_BYTES ? nla_get_u64(attr) :
						       nla_get_u32(attr);
		nl.mask |= BIT(i);
	}
	ret = kipc_mq_check_limits(&nl, &bad);
	attr = attrs[kipc_mq_limit_attr[bad]];
	if (ret == -EPERM)
		NL_SET_ERR_MSG_ATTR(
			extack, attr,
			"CAP_SYS_RESOURCE needed above module maximum");
	else if (ret)
		NL_SET_ERR_MSG_ATTR(extack, attr, "limit out of range");
	if (ret)
		return ret;

	if (nl.mask)
		kipc_mq_set_limits(q, &nl);
	if (attrs[KIPC_A_FLUSH])
		kipc_mq_flush(q);
	if (attrs[KIPC_A_RESET_STATS])
		kipc_mq_reset_stats(q);
	if (attrs[KIPC_A_HIGH_WATER])
		kipc_mq_set_high_water(q,
				       nla_get_u64(attrs[KIPC_A_HIGH_WATER]));
	return 0;
}
