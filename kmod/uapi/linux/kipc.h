/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kipc: a Linux IPC lab.  The one header shared by the module and userspace.
 *
 * Devices (devtmpfs nodes, mode set by the "mode" module parameter):
 *   /dev/kipc/pipeN  byte stream with the semantics of a FIFO (fifo(7))
 *   /dev/kipc/mqN    typed, bounded messages (SysV msgsnd/msgrcv, msgop(2))
 *   /dev/kipc/shmN   mmap()able region plus a set of counting semaphores
 *
 * Control, statistics and events: the generic netlink family "kipc".
 */
#ifndef _UAPI_LINUX_KIPC_H
#define _UAPI_LINUX_KIPC_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KIPC_VERSION_STRING	"0.1.0"
#define KIPC_DEV_DIR		"/dev/kipc"

enum kipc_kind {
	KIPC_KIND_PIPE = 1,
	KIPC_KIND_MQ,
	KIPC_KIND_SHM,

	__KIPC_KIND_MAX,
	KIPC_KIND_MAX = __KIPC_KIND_MAX - 1
};

#define KIPC_IOC_MAGIC		0xB7

/* --- pipe --------------------------------------------------------------- */

/* Atomic write size, as PIPE_BUF. */
#define KIPC_PIPE_BUF		4096
#define KIPC_PIPE_DEF_SIZE	65536

/*
 * The twins of F_GETPIPE_SZ and F_SETPIPE_SZ.  SET takes the wanted size
 * and writes back the size granted (rounded up to whole pages).
 * FIONREAD (bytes buffered) is supported as on a FIFO.
 */
#define KIPC_PIPE_GET_SIZE	_IOR(KIPC_IOC_MAGIC, 0x01, __u32)
#define KIPC_PIPE_SET_SIZE	_IOWR(KIPC_IOC_MAGIC, 0x02, __u32)

/* --- message queue ------------------------------------------------------ */

/* Defaults equal Linux's SysV defaults (MSGMAX, MSGMNB). */
#define KIPC_MQ_DEF_MSG_SIZE	8192
#define KIPC_MQ_DEF_BYTES	16384
#define KIPC_MQ_DEF_MSGS	1024

/* kipc_mq_msg.flags */
#define KIPC_MQ_NOWAIT		0x01	/* IPC_NOWAIT */
#define KIPC_MQ_NOERROR		0x02	/* MSG_NOERROR: truncate, do not fail */
#define KIPC_MQ_EXCEPT		0x04	/* MSG_EXCEPT: first of type != type */
#define KIPC_MQ_PEEK		0x08	/* copy out, leave queued (MSG_COPY) */
#define KIPC_MQ_FLAGS_ALL	0x0f

/*
 * One message, for KIPC_MQ_SEND and KIPC_MQ_RECV.
 *
 * send: type > 0; buf/len is the payload; flags: NOWAIT.
 * recv: type is the selector (0: first, > 0: first of that type, or with
 *       EXCEPT the first of any other type, < 0: first of the lowest type
 *       <= |type|); len is the buffer size.  On return type and len hold
 *       the message's type and the bytes copied.
 */
struct kipc_mq_msg {
	__s64 type;
	__u64 buf;		/* user pointer */
	__u32 len;
	__u32 flags;
};

/*
 * A vector of messages.  The call stops at the first failure: done says
 * how many were sent or received; the call fails only when done is 0.
 */
struct kipc_mq_batch {
	__u64 msgs;		/* user pointer to struct kipc_mq_msg[count] */
	__u32 count;		/* at most KIPC_MQ_BATCH_MAX */
	__u32 done;		/* out */
};

#define KIPC_MQ_BATCH_MAX	1024

/* The twin of IPC_STAT. Times are CLOCK_REALTIME nanoseconds, 0 = never. */
struct kipc_mq_stat {
	__u32 msgs;		/* messages queued */
	__u32 bytes;		/* payload bytes queued */
	__u32 max_bytes;	/* msg_qbytes */
	__u32 max_msg_size;	/* MSGMAX */
	__u32 max_msgs;
	__s32 last_send_pid;	/* msg_lspid */
	__s32 last_recv_pid;	/* msg_lrpid */
	__u32 __reserved;
	__u64 last_send_time;	/* msg_stime */
	__u64 last_recv_time;	/* msg_rtime */
};

struct kipc_mq_limits {
	__u32 max_bytes;
	__u32 max_msg_size;
	__u32 max_msgs;
	__u32 __reserved;	/* must be 0 */
};

/*
 * Per open file: the type write(2) sends (> 0, default 1), the selector
 * and flags read(2) receives with (default 0 and none; only NOERROR and
 * EXCEPT are accepted here).
 */
struct kipc_mq_fileopts {
	__s64 send_type;
	__s64 recv_type;
	__u32 recv_flags;
	__u32 __reserved;	/* must be 0 */
};

#define KIPC_MQ_SEND		_IOW(KIPC_IOC_MAGIC, 0x10, struct kipc_mq_msg)
#define KIPC_MQ_RECV		_IOWR(KIPC_IOC_MAGIC, 0x11, struct kipc_mq_msg)
#define KIPC_MQ_SEND_BATCH	_IOWR(KIPC_IOC_MAGIC, 0x12, struct kipc_mq_batch)
#define KIPC_MQ_RECV_BATCH	_IOWR(KIPC_IOC_MAGIC, 0x13, struct kipc_mq_batch)
#define KIPC_MQ_STAT		_IOR(KIPC_IOC_MAGIC, 0x14, struct kipc_mq_stat)
#define KIPC_MQ_SET_LIMITS	_IOW(KIPC_IOC_MAGIC, 0x15, struct kipc_mq_limits)
#define KIPC_MQ_FLUSH		_IO(KIPC_IOC_MAGIC, 0x16)
#define KIPC_MQ_GET_FILEOPTS	_IOR(KIPC_IOC_MAGIC, 0x17, struct kipc_mq_fileopts)
#define KIPC_MQ_SET_FILEOPTS	_IOW(KIPC_IOC_MAGIC, 0x18, struct kipc_mq_fileopts)

/*
 * io_uring: IORING_OP_URING_CMD on an mq file.  cmd_op is KIPC_MQ_SEND,
 * KIPC_MQ_RECV, KIPC_MQ_SEND_BATCH or KIPC_MQ_RECV_BATCH; the command area
 * of the SQE (16 bytes, so plain 64-byte SQEs do) holds this struct.  The
 * CQE's res is what the ioctl would return, or -errno.  A call that would
 * block completes later, from io_uring's worker, and can be cancelled.
 */
struct kipc_mq_uring_cmd {
	__u64 arg;		/* user pointer: kipc_mq_msg or kipc_mq_batch */
	__u64 __reserved;	/* must be 0 */
};

/* --- shared memory and semaphores --------------------------------------- */

#define KIPC_SHM_DEF_SIZE	(1024 * 1024)
#define KIPC_SEM_NSEMS		16
#define KIPC_SEM_VALUE_MAX	32767	/* SEMVMX */

/* kipc_sem_op.flags */
#define KIPC_SEM_NOWAIT		0x01	/* IPC_NOWAIT */
#define KIPC_SEM_UNDO		0x02	/* SEM_UNDO: given back on release */
#define KIPC_SEM_FLAGS_ALL	0x03

/*
 * INIT: set sems[index] to value.  P: take one, waiting at most
 * timeout_ns (0: no limit).  V: give back value (>= 1) and wake as many
 * waiters.  GET: value and waiters of sems[index].
 */
struct kipc_sem_op {
	__u32 index;
	__u32 flags;
	__u32 value;
	__u32 __reserved;	/* must be 0 */
	__s64 timeout_ns;
};

struct kipc_sem_info {
	__u32 index;		/* in */
	__u32 value;		/* out */
	__u32 waiters;		/* out */
	__u32 __reserved;
};

#define KIPC_SEM_INIT		_IOW(KIPC_IOC_MAGIC, 0x20, struct kipc_sem_op)
#define KIPC_SEM_P		_IOW(KIPC_IOC_MAGIC, 0x21, struct kipc_sem_op)
#define KIPC_SEM_V		_IOW(KIPC_IOC_MAGIC, 0x22, struct kipc_sem_op)
#define KIPC_SEM_GET		_IOWR(KIPC_IOC_MAGIC, 0x23, struct kipc_sem_info)
/* poll() reports EPOLLIN while this file's chosen semaphore is above 0. */
#define KIPC_SEM_SET_POLL	_IOW(KIPC_IOC_MAGIC, 0x24, __u32)
#define KIPC_SHM_GET_SIZE	_IOR(KIPC_IOC_MAGIC, 0x28, __u64)
#define KIPC_SHM_SET_SIZE	_IOW(KIPC_IOC_MAGIC, 0x29, __u64)

/* --- generic netlink ---------------------------------------------------- */

#define KIPC_GENL_NAME		"kipc"
#define KIPC_GENL_VERSION	1
#define KIPC_GENL_MCGRP_EVENTS	"events"

enum kipc_cmd {
	KIPC_CMD_UNSPEC,
	KIPC_CMD_GET_DEV,	/* doit by kind+index, or dumpit */
	KIPC_CMD_SET_DEV,	/* CAP_NET_ADMIN */
	KIPC_CMD_GET_INFO,
	KIPC_CMD_EVENT,		/* multicast to "events" */

	__KIPC_CMD_MAX,
	KIPC_CMD_MAX = __KIPC_CMD_MAX - 1
};

enum kipc_attr {
	KIPC_A_UNSPEC,
	KIPC_A_KIND,		/* u32, enum kipc_kind */
	KIPC_A_INDEX,		/* u32 */
	KIPC_A_NAME,		/* string, "pipe0" */
	KIPC_A_CAPACITY,	/* u64: pipe ring / mq max bytes / shm size */
	KIPC_A_FILL,		/* u64: bytes buffered / queued / mapped */
	KIPC_A_OPEN_FILES,	/* u32 */
	KIPC_A_READERS_WAITING,	/* u32: blocked readers / receivers / P */
	KIPC_A_WRITERS_WAITING,	/* u32: blocked writers / senders */
	KIPC_A_MQ_MAX_MSG_SIZE,	/* u32 */
	KIPC_A_MQ_MAX_MSGS,	/* u32 */
	KIPC_A_MQ_MSGS,		/* u32: messages queued */
	KIPC_A_HIGH_WATER,	/* u64: event threshold on fill, 0 = off */
	KIPC_A_FLUSH,		/* flag, set */
	KIPC_A_RESET_STATS,	/* flag, set */
	KIPC_A_STATS,		/* nest of KIPC_STAT_* u64 */
	KIPC_A_EVENT,		/* u32, enum kipc_event_type */
	KIPC_A_VERSION,		/* string */
	KIPC_A_NPIPES,		/* u32 */
	KIPC_A_NMQS,		/* u32 */
	KIPC_A_NSHMS,		/* u32 */
	KIPC_A_PIPE_MAX_SIZE,	/* u32 module maximum */
	KIPC_A_MQ_MAX_BYTES_LIMIT, /* u32 module maximum */
	KIPC_A_SHM_MAX_SIZE,	/* u64 module maximum */
	KIPC_A_DEV_MODE,	/* u32 node mode */
	KIPC_A_PAD,

	__KIPC_A_MAX,
	KIPC_A_MAX = __KIPC_A_MAX - 1
};

/* Counters; a device reports those of its kind.  All u64. */
enum kipc_stat {
	KIPC_STAT_UNSPEC,
	KIPC_STAT_BYTES_IN,
	KIPC_STAT_BYTES_OUT,
	KIPC_STAT_WRITES,	/* pipe writes, mq sends */
	KIPC_STAT_READS,	/* pipe reads, mq receives */
	KIPC_STAT_WRITE_WAITS,	/* times a writer or sender had to wait */
	KIPC_STAT_READ_WAITS,	/* times a reader or receiver had to wait */
	KIPC_STAT_PEAK_FILL,	/* high-water mark of bytes buffered */
	KIPC_STAT_PEAK_MSGS,	/* mq: peak depth */
	KIPC_STAT_SEM_P,
	KIPC_STAT_SEM_V,
	KIPC_STAT_SEM_WAITS,
	KIPC_STAT_SEM_TIMEOUTS,
	KIPC_STAT_MAPS,		/* shm: mmap() calls */
	KIPC_STAT_EVENTS_DROPPED, /* events lost to rate limiting */
	KIPC_STAT_PAD,		/* alignment padding, never a counter */

	__KIPC_STAT_MAX,
	KIPC_STAT_MAX = __KIPC_STAT_MAX - 1
};

enum kipc_event_type {
	KIPC_EVENT_UNSPEC,
	KIPC_EVENT_FULL,	/* a pipe or queue became full */
	KIPC_EVENT_EMPTY,	/* drained to empty */
	KIPC_EVENT_HIGH_WATER,	/* fill rose to the high-water mark */
	KIPC_EVENT_FLUSHED,
	KIPC_EVENT_RESIZED,

	__KIPC_EVENT_MAX,
	KIPC_EVENT_MAX = __KIPC_EVENT_MAX - 1
};

#endif /* _UAPI_LINUX_KIPC_H */
