/* SPDX-License-Identifier: GPL-2.0 */
/* The queue's send and stat ioctls, for the selftests that use the queue. */
#ifndef KIPC_MQ_H
#define KIPC_MQ_H

#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kipc.h>

/* KIPC_MQ_SEND of @len bytes at @buf: what the ioctl returns. */
static inline int msnd(int fd, long long type, const void *buf,
		       unsigned int len, unsigned int flags)
{
	struct kipc_mq_msg m = {
		.type = type,
		.buf = (uintptr_t)buf,
		.len = len,
		.flags = flags,
	};

	return ioctl(fd, KIPC_MQ_SEND, &m);
}

/* KIPC_MQ_STAT; every byte 0xee if the ioctl failed. */
static inline struct kipc_mq_stat mstat(int fd)
{
	struct kipc_mq_stat s;

	memset(&s, 0xff, sizeof(s));
	if (ioctl(fd, KIPC_MQ_STAT, &s))
		memset(&s, 0xee, sizeof(s));
	return s;
}

#endif /* KIPC_MQ_H */
