/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc internals shared by the device files (pipe.c, the queue's mq*.c
 * with mq.h, shm.c), the core (core.c) and the netlink family (netlink.c).
 *
 * Lifetime: every device exists from module load to unload.  Open files
 * pin the module (fops.owner), so no file outlives its device, and the
 * netlink family is unregistered before the devices are torn down.
 */
#ifndef _KIPC_H
#define _KIPC_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/ratelimit.h>
#include <linux/atomic.h>
#include <linux/uaccess.h>
#include <net/genetlink.h>

#include "uapi/linux/kipc.h"

/* What every device has, whatever its kind. */
struct kipc_devbase {
	enum kipc_kind kind;
	unsigned int index;
	struct cdev cdev;
	struct device *dev;
	atomic_t open_files;
	/* Bounds the events one busy device can multicast. */
	struct ratelimit_state event_rs;
	atomic64_t events_dropped;
};

/*
 * One per kind, implemented by the kind's file.  create() makes count
 * devices (count may be 0); destroy() undoes it and must cope with a
 * create() that failed half way (it is not called then: create() cleans
 * up after itself).  fill() puts the device's attributes into a netlink
 * message (KIPC_A_CAPACITY, KIPC_A_FILL, KIPC_A_READERS_WAITING,
 * KIPC_A_WRITERS_WAITING, KIPC_A_STATS, kind-specific ones); set()
 * applies a KIPC_CMD_SET_DEV request, with an extack message on failure.
 */
struct kipc_kind_ops {
	const char *name;
	int (*create)(unsigned int count);
	void (*destroy)(void);
	unsigned int (*count)(void);
	struct kipc_devbase *(*get)(unsigned int index);
	int (*fill)(struct sk_buff *skb, unsigned int index);
	int (*set)(unsigned int index, struct nlattr **attrs,
		   struct netlink_ext_ack *extack);
};

extern const struct kipc_kind_ops kipc_pipe_ops;
extern const struct kipc_kind_ops kipc_mq_ops;
extern const struct kipc_kind_ops kipc_shm_ops;

/* core.c */
extern unsigned int kipc_npipes;
extern unsigned int kipc_nmqs;
extern unsigned int kipc_nshms;
extern unsigned short kipc_dev_mode;

const struct kipc_kind_ops *kipc_kind_ops(enum kipc_kind kind);
int kipc_devbase_add(struct kipc_devbase *base, enum kipc_kind kind,
		     unsigned int index, const struct file_operations *fops);
void kipc_devbase_del(struct kipc_devbase *base);
/* Call from open() and release() of every device. */
void kipc_devbase_opened(struct kipc_devbase *base);
void kipc_devbase_closed(struct kipc_devbase *base);

/* Events a device may send per second (see kipc_devbase_add()). */
#define KIPC_EVENT_BURST 100

/* netlink.c */
int kipc_nl_init(void);
void kipc_nl_exit(void);
/*
 * Multicast an event to the "events" group.  Process context, no locks
 * held (it allocates with GFP_KERNEL); cheap when nobody listens.
 */
void kipc_nl_notify(struct kipc_devbase *base, enum kipc_event_type event,
		    u64 fill);
/* The counters of a device that moves data (pipe, mq). */
struct kipc_io_stats {
	u64 bytes_in;
	u64 bytes_out;
	u64 writes;
	u64 reads;
	u64 write_waits;
	u64 read_waits;
	u64 peak_fill;
};

/* A counter of a kind's own, for kipc_nl_put_stats(). */
struct kipc_nl_stat {
	int attr;
	u64 value;
};

/*
 * The KIPC_A_STATS nest of a device: @io's counters if given, then
 * @more[0..n), then the core's EVENTS_DROPPED.
 */
int kipc_nl_put_stats(struct sk_buff *skb, struct kipc_devbase *base,
		      const struct kipc_io_stats *io,
		      const struct kipc_nl_stat *more, unsigned int n);

/* Module maxima, from the kinds' module parameters, for KIPC_CMD_GET_INFO. */
extern unsigned int kipc_pipe_max_size;
extern unsigned int kipc_mq_max_bytes_limit;
extern unsigned long kipc_shm_max_size;

#endif /* _KIPC_H */
