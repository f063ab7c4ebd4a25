// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the shm device is being written. */
#include <linux/module.h>
#include <linux/fs.h>

#include "kipc.h"

static int kipc_shm_create(unsigned int count)
{
	return 0;
}

static void kipc_shm_destroy(void)
{
}

static unsigned int kipc_shm_count(void)
{
	return 0;
}

static struct kipc_devbase *kipc_shm_get(unsigned int index)
{
	return NULL;
}

static int kipc_shm_fill(struct sk_buff *skb, unsigned int index)
{
	return 0;
}

static int kipc_shm_set(unsigned int index, struct nlattr **attrs,
			 struct netlink_ext_ack *extack)
{
	return -EOPNOTSUPP;
}

const struct kipc_kind_ops kipc_shm_ops = {
	.name = "shm",
	.create = kipc_shm_create,
	.destroy = kipc_shm_destroy,
	.count = kipc_shm_count,
	.get = kipc_shm_get,
	.fill = kipc_shm_fill,
	.set = kipc_shm_set,
};

unsigned long kipc_shm_max_size = 64UL << 20;
