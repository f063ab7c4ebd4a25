// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the generic netlink family is being written. */
#include <linux/module.h>

#include "kipc.h"

int kipc_nl_init(void)
{
	return 0;
}

void kipc_nl_exit(void)
{
}

void kipc_nl_notify(struct kipc_devbase *base, enum kipc_event event, u64 fill)
{
}

int kipc_nl_put_stat(struct sk_buff *skb, int attr, u64 value)
{
	return 0;
}
