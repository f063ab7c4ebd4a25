// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the pipe device is being written. */
#include <linux/module.h>
#include <linux/fs.h>

#include "kipc.h"

static int kipc_pipe_create(unsigned int count)
{
	return 0;
}

static void kipc_pipe_destroy(void)
{
}

static unsigned int kipc_pipe_count(void)
{
	return 0;
}

static struct kipc_devbase *kipc_pipe_get(unsigned int index)
{
	return NULL;
}

static int kipc_pipe_fill(struct sk_buff *skb, unsigned int index)
{
	return 0;
}

static int kipc_pipe_set(unsigned int index, struct nlattr **attrs,
			 struct netlink_ext_ack *extack)
{
	return -EOPNOTSUPP;
}

const struct kipc_kind_ops kipc_pipe_ops = {
	.name = "pipe",
	.create = kipc_pipe_create,
	.destroy = kipc_pipe_destroy,
	.count = kipc_pipe_count,
	.get = kipc_pipe_get,
	.fill = kipc_pipe_fill,
	.set = kipc_pipe_set,
};

unsigned int kipc_pipe_max_size = 1048576;
