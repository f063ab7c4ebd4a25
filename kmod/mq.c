// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the mq device is being written. */
#include <linux/module.h>
#include <linux/fs.h>

#include "kipc.h"

static int kipc_mq_create(unsigned int count)
{
	return 0;
}

static void kipc_mq_destroy(void)
{
}

static unsigned int kipc_mq_count(void)
{
	return 0;
}

static struct kipc_devbase *kipc_mq_get(unsigned int index)
{
	return NULL;
}

static int kipc_mq_fill(struct sk_buff *skb, unsigned int index)
{
	return 0;
}

static int kipc_mq_set(unsigned int index, struct nlattr **attrs,
			 struct netlink_ext_ack *extack)
{
	return -EOPNOTSUPP;
}

const struct kipc_kind_ops kipc_mq_ops = {
	.name = "mq",
	.create = kipc_mq_create,
	.destroy = kipc_mq_destroy,
	.count = kipc_mq_count,
	.get = kipc_mq_get,
	.fill = kipc_mq_fill,
	.set = kipc_mq_set,
};

unsigned int kipc_mq_max_bytes_limit = 1048576;
