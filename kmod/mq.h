/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc message queues, shared by the three files of the device:
 *
 *   mq.c       the queue: messages, counts, limits, waiters and wake-ups,
 *              the one way in (kipc_mq_send()) and the one way out
 *              (kipc_mq_recv()); the only file that changes the queue.
 *   mq_file.c  the file interface: read_iter/write_iter, ioctls, batches,
 *              io_uring commands, poll and SIGIO.  It copies to and from
 *              user space, never under q->lock.
 *   mq_nl.c    the netlink part: a snapshot of a queue for GET_DEV and the
 *              dump (taken under q->lock), SET_DEV (through mq.c).
 *
 * Locking: q->lock, a spinlock, guards everything in struct kipc_mq but
 * the device base, pollwq and fasync (locked by their own helpers).  It
 * is never held across a user copy, an allocation or a sleep, so netlink
 * and poll, which take it or read without it, never wait behind one.
 */
#ifndef _KIPC_MQ_H
#define _KIPC_MQ_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "kipc.h"

/* One queued message; data[] holds len bytes. */
struct kipc_mq_kmsg {
	struct list_head link; /* on q->msgs, or the owner's */
	u64 seq; /* order of arrival, to put a message back in place */
	s64 type;
	u32 len;
	u32 flags; /* the sender's KIPC_MQ_NOWAIT, until it is queued */
	char data[];
};

struct kipc_mq {
	struct kipc_devbase base;
	spinlock_t lock;

	struct list_head msgs; /* in arrival order */
	u32 nmsgs;
	u64 bytes;
	u64 next_seq;

	u32 max_bytes;
	u32 max_msg_size;
	u32 max_msgs;
	u64 high_water; /* KIPC_EVENT_HIGH_WATER threshold, 0 = off */

	/* Blocked tasks, struct kipc_mq_waiter, first come first served. */
	struct list_head receivers;
	struct list_head senders;
	u32 nr_receivers;
	u32 nr_senders;

	struct kipc_io_stats io;
	u64 peak_msgs;
	u64 send_time; /* CLOCK_REALTIME ns of the last send, 0 = never */
	u64 recv_time;
	struct pid *send_pid;
	struct pid *recv_pid;

	wait_queue_head_t pollwq;
	struct fasync_struct *fasync;
};

/* Module maxima of the limits (module parameters), and the hard cap. */
extern unsigned int kipc_mq_max_msg_size_limit;
extern unsigned int kipc_mq_max_msgs_limit;
#define KIPC_MQ_HARD_LIMIT INT_MAX

/* What a receive asks for. */
enum kipc_mq_mode {
	KIPC_MQ_ANY,
	KIPC_MQ_EQUAL,
	KIPC_MQ_NOTEQUAL,
	KIPC_MQ_LESSEQUAL,
};

struct kipc_mq_sel {
	s64 type;
	enum kipc_mq_mode mode;
	u32 maxsize; /* largest message accepted: bufsize, or any (NOERROR) */
	bool peek; /* a copy, the message stays queued */
	bool nowait; /* KIPC_MQ_NOWAIT */
};

void kipc_mq_sel_init(struct kipc_mq_sel *sel, s64 type, u32 flags,
		      u32 bufsize);

/*
 * How a caller reaches the queue, for kipc_mq_send() and kipc_mq_recv().
 * NONBLOCK: the file is O_NONBLOCK or the call asked not to wait.
 * NOSLEEP: io_uring's inline attempt: return -EAGAIN where the call would
 * sleep, and io_uring retries it from a context that may.
 * FILE: read(2)/write(2) errors (EAGAIN, EMSGSIZE) and restart after a
 * signal handler, as a FIFO; otherwise msgop(2)'s (ENOMSG, E2BIG), and no
 * restart after a handler, as msgsnd()/msgrcv().
 */
#define KIPC_MQ_IO_NONBLOCK 0x1
#define KIPC_MQ_IO_NOSLEEP 0x2
#define KIPC_MQ_IO_FILE 0x4

struct kipc_mq_kmsg *kipc_mq_alloc(u32 len);
void kipc_mq_free(struct kipc_mq_kmsg *m);

unsigned int kipc_mq_send(struct kipc_mq *q, struct kipc_mq_kmsg **msgs,
			  unsigned int n, unsigned int io, int *err);
unsigned int kipc_mq_recv(struct kipc_mq *q, const struct kipc_mq_sel *sels,
			  struct kipc_mq_kmsg **msgs, unsigned int n,
			  unsigned int io, int *err);
void kipc_mq_requeue(struct kipc_mq *q, struct kipc_mq_kmsg **msgs,
		     unsigned int n);

/*
 * The predicates the sleepers wait for and poll reports: room for a
 * message of @len bytes; a message @sel would take (or find too big).
 */
bool kipc_mq_room(const struct kipc_mq *q, u32 len);
bool kipc_mq_readable(struct kipc_mq *q, const struct kipc_mq_sel *sel);

/*
 * New limits, from the ioctl or netlink: val[] by KIPC_MQ_LIMIT_*, and
 * which of them are set (BIT(KIPC_MQ_LIMIT_*)).  Check them all, then
 * apply: nothing is applied unless everything is right.
 */
enum {
	KIPC_MQ_LIMIT_BYTES,
	KIPC_MQ_LIMIT_MSG_SIZE,
	KIPC_MQ_LIMIT_MSGS,
	KIPC_MQ_NR_LIMITS
};

struct kipc_mq_new_limits {
	u64 val[KIPC_MQ_NR_LIMITS];
	unsigned int mask;
};

int kipc_mq_check_limits(const struct kipc_mq_new_limits *nl,
			 unsigned int *bad);
void kipc_mq_set_limits(struct kipc_mq *q, const struct kipc_mq_new_limits *nl);
u32 kipc_mq_flush(struct kipc_mq *q);
void kipc_mq_reset_stats(struct kipc_mq *q);
void kipc_mq_set_high_water(struct kipc_mq *q, u64 high_water);
void kipc_mq_stat(struct kipc_mq *q, struct kipc_mq_stat *st);

/* mq.c: the queues; mq_file.c: their file operations. */
extern struct kipc_mq *kipc_mqs;
extern unsigned int kipc_mq_n;
extern const struct file_operations kipc_mq_fops;

/* mq_nl.c */
int kipc_mq_fill(struct sk_buff *skb, unsigned int index);
int kipc_mq_set(unsigned int index, struct nlattr **attrs,
		struct netlink_ext_ack *extack);

#endif /* _KIPC_MQ_H */
