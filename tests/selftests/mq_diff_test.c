// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test: one scripted scenario run step by step on a SysV
 * message queue (msgget/msgsnd/msgrcv/msgctl) and on /dev/kipc/mq0, each
 * behind a small adapter.  After every step both must give the same
 * return value, errno, type and bytes, and hold the same number of
 * messages and bytes; each step also states the result it expects.
 *
 * Intended differences, kept out of the scenario or bridged by the
 * adapters (Documentation/mq.md lists them too):
 *  1. SysV caps the number of queued messages by msg_qbytes as well; kipc
 *     has its own max_msgs (default 1024).  The kipc adapter's "qbytes"
 *     sets both, to mirror SysV.
 *  2. Unknown flag bits: msgrcv()/msgsnd() ignore them, kipc fails EINVAL.
 *  3. A receive whose copy to the user faults: SysV has already removed
 *     the message (EFAULT, it is gone); kipc puts it back in its place.
 *  4. MSG_COPY peeks by position and needs IPC_NOWAIT; KIPC_MQ_PEEK uses
 *     the type selector and may block.
 *  5. Limits: SysV takes msgmax/msgmnb from sysctls and needs
 *     CAP_SYS_RESOURCE above msgmnb; kipc has per-queue limits with
 *     module-parameter maxima.  Times are ns (coarse clock), not seconds.
 *  6. Access: SysV checks ipc_perm (EACCES); kipc checks the open mode of
 *     the file (EBADF) after the device node's mode.  No IPC_RMID: a kipc
 *     queue lives until the module is unloaded (KIPC_MQ_FLUSH empties it).
 *
 * The file interface is compared with a unix datagram socketpair
 * (SOCK_SEQPACKET and SOCK_DGRAM), where the rule is the same "one call,
 * one message": writev/readv/pwritev2/preadv2 step by step, with these
 * intended differences, each named at its step (D1-D3 below):
 *  D1. A message longer than the iovecs: the socket truncates it silently
 *      and drops the rest; kipc fails EMSGSIZE and keeps it queued, unless
 *      the file's recv_flags hold KIPC_MQ_NOERROR (then as the socket).
 *  D2. A readv whose copy faults: both fail EFAULT, but the socket has
 *      consumed the datagram; kipc leaves the message queued.
 *  D3. Over the size limit: kipc fails EINVAL above max_msg_size (as
 *      msgsnd); the socket takes a datagram up to its send buffer.
 *  D4. RWF_NOWAIT: kipc honours it on every kernel; unix sockets refuse
 *      it (EOPNOTSUPP) on kernels whose sockets lack FMODE_NOWAIT, such
 *      as 6.1.  There the socket side sends and receives with
 *      MSG_DONTWAIT instead, which is what IOCB_NOWAIT means to a socket.
 *
 * Signals are compared with msgsnd/msgrcv and with a FIFO: the ioctls
 * fail EINTR after a handler even with SA_RESTART, as msgsnd/msgrcv do
 * (signal(7)); read(2)/write(2) are restarted under SA_RESTART, as on a
 * FIFO, and fail EINTR without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_proc.h"

#define MAXLEN 8192

struct adapter {
	const char *name;
	int (*open)(void);
	void (*close)(void);
	/* flags are KIPC_MQ_*; 0 or -1 with errno */
	int (*snd)(long type, const void *buf, size_t len, unsigned int flags);
	/* bytes or -1 with errno; *type is the message's type */
	ssize_t (*rcv)(long sel, void *buf, size_t len, unsigned int flags,
		       long *type);
	int (*qbytes)(unsigned int bytes);
	int (*state)(unsigned long *msgs, unsigned long *bytes);
};

/* --- SysV ------------------------------------------------------------- */

static int sysv_id = -1;
static struct { long mtype; char mtext[MAXLEN + 16]; } sysv_buf;

static int sysv_open(void)
{
	sysv_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	return sysv_id < 0 ? -1 : 0;
}

static void sysv_close(void)
{
	msgctl(sysv_id, IPC_RMID, NULL);
}

static int sysv_flags(unsigned int flags)
{
	return (flags & KIPC_MQ_NOWAIT ? IPC_NOWAIT : 0) |
	       (flags & KIPC_MQ_NOERROR ? MSG_NOERROR : 0) |
	       (flags & KIPC_MQ_EXCEPT ? MSG_EXCEPT : 0);
}

static int sysv_snd(long type, const void *buf, size_t len, unsigned int flags)
{
	sysv_buf.mtype = type;
	memcpy(sysv_buf.mtext, buf, len < sizeof(sysv_buf.mtext) ?
	       len : sizeof(sysv_buf.mtext));
	return msgsnd(sysv_id, &sysv_buf, len, sysv_flags(flags));
}

static ssize_t sysv_rcv(long sel, void *buf, size_t len, unsigned int flags,
			long *type)
{
	ssize_t n = msgrcv(sysv_id, &sysv_buf, len, sel, sysv_flags(flags));

	if (n >= 0) {
		*type = sysv_buf.mtype;
		memcpy(buf, sysv_buf.mtext, n);
	}
	return n;
}

static int sysv_qbytes(unsigned int bytes)
{
	struct msqid_ds ds;

	if (msgctl(sysv_id, IPC_STAT, &ds))
		return -1;
	ds.msg_qbytes = bytes;
	return msgctl(sysv_id, IPC_SET, &ds);
}

static int sysv_state(unsigned long *msgs, unsigned long *bytes)
{
	struct msqid_ds ds;

	if (msgctl(sysv_id, IPC_STAT, &ds))
		return -1;
	*msgs = ds.msg_qnum;
	*bytes = ds.__msg_cbytes;
	return 0;
}

static const struct adapter sysv = {
	"sysv", sysv_open, sysv_close, sysv_snd, sysv_rcv, sysv_qbytes,
	sysv_state,
};

/* --- kipc ------------------------------------------------------------- */

static int kipc_fd = -1;

static int kipc_reset(void)
{
	struct kipc_mq_limits l = {
		KIPC_MQ_DEF_BYTES, KIPC_MQ_DEF_MSG_SIZE, KIPC_MQ_DEF_MSGS, 0
	};

	if (ioctl(kipc_fd, KIPC_MQ_SET_LIMITS, &l))
		return -1;
	return ioctl(kipc_fd, KIPC_MQ_FLUSH) < 0 ? -1 : 0;
}

static int kipc_open(void)
{
	kipc_fd = open(KIPC_DEV_DIR "/mq0", O_RDWR | O_CLOEXEC);
	if (kipc_fd < 0)
		return -1;
	/* Difference 1: SysV caps the count by qbytes (16384). */
	return kipc_reset() ?: kipc_fd >= 0 ? 0 : -1;
}

static void kipc_close(void)
{
	kipc_reset();
	close(kipc_fd);
}

static int kipc_snd(long type, const void *buf, size_t len, unsigned int flags)
{
	struct kipc_mq_msg m = {
		.type = type, .buf = (uintptr_t)buf, .len = len, .flags = flags,
	};

	return ioctl(kipc_fd, KIPC_MQ_SEND, &m);
}

static ssize_t kipc_rcv(long sel, void *buf, size_t len, unsigned int flags,
			long *type)
{
	struct kipc_mq_msg m = {
		.type = sel, .buf = (uintptr_t)buf, .len = len, .flags = flags,
	};
	int n = ioctl(kipc_fd, KIPC_MQ_RECV, &m);

	if (n >= 0)
		*type = m.type;
	return n;
}

static int kipc_qbytes(unsigned int bytes)
{
	/* Difference 1, bridged: the count limit follows qbytes. */
	struct kipc_mq_limits l = { bytes, KIPC_MQ_DEF_MSG_SIZE, bytes, 0 };

	return ioctl(kipc_fd, KIPC_MQ_SET_LIMITS, &l);
}

static int kipc_state(unsigned long *msgs, unsigned long *bytes)
{
	struct kipc_mq_stat s;

	if (ioctl(kipc_fd, KIPC_MQ_STAT, &s))
		return -1;
	*msgs = s.msgs;
	*bytes = s.bytes;
	return 0;
}

static const struct adapter kipc = {
	"kipc", kipc_open, kipc_close, kipc_snd, kipc_rcv, kipc_qbytes,
	kipc_state,
};

/* --- the scenario -------------------------------------------------------- */

enum op { SND, RCV, QBYTES };

#define NOWAIT KIPC_MQ_NOWAIT
#define NOERROR KIPC_MQ_NOERROR
#define EXCEPT KIPC_MQ_EXCEPT

struct step {
	enum op op;
	long type;		/* SND: type; RCV: selector */
	unsigned int len;	/* SND: payload length; RCV: buffer size */
	unsigned int flags;
	const char *data;	/* SND: payload (else a pattern) */
	long ret;		/* expected */
	int err;
	long rtype;		/* RCV: expected type */
	const char *rdata;	/* RCV: expected bytes, if given */
};

#define S(t, d, r, e)	{ SND, t, sizeof(d) - 1, 0, d, r, e, 0, NULL }
#define SN(t, d, f, r, e) { SND, t, sizeof(d) - 1, f, d, r, e, 0, NULL }
#define SL(t, n, f, r, e) { SND, t, n, f, NULL, r, e, 0, NULL }
#define R(s, n, f, r, e, rt, rd) { RCV, s, n, f, NULL, r, e, rt, rd }
#define Q(b)		{ QBYTES, 0, b, 0, NULL, 0, 0, 0, NULL }

static const struct step script[] = {
	R(0, 64, NOWAIT, -1, ENOMSG, 0, NULL),
	S(0, "x", -1, EINVAL),
	S(-5, "x", -1, EINVAL),
	S(LONG_MIN, "x", -1, EINVAL),
	S(5, "e1", 0, 0), S(3, "c1", 0, 0), S(5, "e2", 0, 0),
	S(1, "a1", 0, 0), S(2, "b1", 0, 0), S(3, "c2", 0, 0), S(4, "d1", 0, 0),
	/* selectors */
	R(3, 64, 0, 2, 0, 3, "c1"),
	R(3, 64, EXCEPT, 2, 0, 5, "e1"),
	R(-3, 64, 0, 2, 0, 1, "a1"),
	R(-3, 64, 0, 2, 0, 2, "b1"),
	R(-3, 64, 0, 2, 0, 3, "c2"),
	R(-3, 64, NOWAIT, -1, ENOMSG, 0, NULL),
	R(7, 64, NOWAIT, -1, ENOMSG, 0, NULL),
	R(7, 64, NOWAIT | EXCEPT, 2, 0, 5, "e2"),
	R(-5, 64, EXCEPT, 2, 0, 4, "d1"),	/* EXCEPT ignored for < 0 */
	S(2, "f1", 0, 0), S(6, "g1", 0, 0),
	R(0, 64, EXCEPT, 2, 0, 2, "f1"),	/* and for 0 */
	R(-1, 64, NOWAIT, -1, ENOMSG, 0, NULL),
	R(6, 2, 0, 2, 0, 6, "g1"),		/* exact fit */
	/* sizes */
	S(9, "0123456789", 0, 0),
	R(0, 4, 0, -1, E2BIG, 0, NULL),
	R(9, 4, NOWAIT, -1, E2BIG, 0, NULL),
	R(0, 0, 0, -1, E2BIG, 0, NULL),
	R(9, 4, NOERROR, 4, 0, 9, "0123"),
	SL(1, MAXLEN + 1, 0, -1, EINVAL),
	SL(1, MAXLEN + 1, NOWAIT, -1, EINVAL),
	SL(8, MAXLEN, 0, 0, 0),
	R(8, MAXLEN, 0, MAXLEN, 0, 8, NULL),
	SL(4, 0, 0, 0, 0),
	R(0, 0, 0, 0, 0, 4, NULL),
	/* extreme types */
	S(LONG_MAX, "zz", 0, 0), S(7, "aa", 0, 0),
	R(LONG_MIN, 64, 0, 2, 0, 7, "aa"),
	R(-LONG_MAX, 64, 0, 2, 0, LONG_MAX, "zz"),
	/* room */
	Q(100),
	SL(1, 60, 0, 0, 0),
	SL(1, 50, NOWAIT, -1, EAGAIN),
	SL(2, 40, NOWAIT, 0, 0),
	SL(3, 0, NOWAIT, 0, 0),			/* 100 of 100 bytes: fits */
	SL(3, 1, NOWAIT, -1, EAGAIN),
	SL(3, 101, NOWAIT, -1, EAGAIN),		/* can never fit: still EAGAIN */
	Q(16),					/* below what is queued */
	SL(3, 0, NOWAIT, -1, EAGAIN),
	R(0, 32, NOWAIT, -1, E2BIG, 0, NULL),	/* 60 bytes, no NOERROR */
	R(1, 60, 0, 60, 0, 1, NULL),
	R(0, 64, 0, 40, 0, 2, NULL),
	R(0, 64, 0, 0, 0, 3, NULL),
	/* the count limit: 16 empty messages, not 17 */
	SL(1, 0, NOWAIT, 0, 0), SL(2, 0, NOWAIT, 0, 0), SL(3, 0, NOWAIT, 0, 0),
	SL(1, 0, NOWAIT, 0, 0), SL(2, 0, NOWAIT, 0, 0), SL(3, 0, NOWAIT, 0, 0),
	SL(1, 0, NOWAIT, 0, 0), SL(2, 0, NOWAIT, 0, 0), SL(3, 0, NOWAIT, 0, 0),
	SL(1, 0, NOWAIT, 0, 0), SL(2, 0, NOWAIT, 0, 0), SL(3, 0, NOWAIT, 0, 0),
	SL(1, 0, NOWAIT, 0, 0), SL(2, 0, NOWAIT, 0, 0), SL(3, 0, NOWAIT, 0, 0),
	SL(1, 0, NOWAIT, 0, 0),
	SL(1, 0, NOWAIT, -1, EAGAIN),
	Q(16384),
	/* order within a type and across: 16 messages typed 1,2,3,1,... */
	R(3, 64, 0, 0, 0, 3, NULL), R(3, 64, 0, 0, 0, 3, NULL),
	R(-2, 64, 0, 0, 0, 1, NULL), R(2, 64, 0, 0, 0, 2, NULL),
	R(0, 64, 0, 0, 0, 1, NULL), R(0, 64, 0, 0, 0, 2, NULL),
	R(0, 64, 0, 0, 0, 1, NULL), R(2, 64, EXCEPT, 0, 0, 3, NULL),
	R(-9, 64, 0, 0, 0, 1, NULL), R(-9, 64, 0, 0, 0, 1, NULL),
	R(-9, 64, 0, 0, 0, 1, NULL), R(-9, 64, 0, 0, 0, 2, NULL),
	R(0, 64, 0, 0, 0, 2, NULL), R(3, 64, 0, 0, 0, 3, NULL),
	R(0, 64, 0, 0, 0, 2, NULL), R(0, 64, 0, 0, 0, 3, NULL),
	R(0, 64, NOWAIT, -1, ENOMSG, 0, NULL),
	S(2, "p1", 0, 0), S(2, "p2", 0, 0), S(1, "p3", 0, 0), S(2, "p4", 0, 0),
	R(2, 64, 0, 2, 0, 2, "p1"), R(2, 64, EXCEPT, 2, 0, 1, "p3"),
	R(0, 64, 0, 2, 0, 2, "p2"), R(0, 64, 0, 2, 0, 2, "p4"),
};

struct result {
	long ret;
	int err;
	long type;
	unsigned long msgs, bytes;
	unsigned char data[MAXLEN + 1];
};

static void payload(unsigned char *buf, const struct step *s, unsigned int i)
{
	unsigned int k;

	if (s->data) {
		memcpy(buf, s->data, s->len);
		return;
	}
	for (k = 0; k < s->len; k++)
		buf[k] = (unsigned char)(i * 31 + k * 7);
}

static void run_step(const struct adapter *a, const struct step *s,
		     unsigned int i, struct result *r)
{
	static unsigned char buf[MAXLEN + 1];

	memset(r, 0, sizeof(*r));
	errno = 0;
	switch (s->op) {
	case SND:
		payload(buf, s, i);
		r->ret = a->snd(s->type, buf, s->len, s->flags);
		break;
	case RCV:
		r->ret = a->rcv(s->type, r->data, s->len, s->flags, &r->type);
		break;
	case QBYTES:
		r->ret = a->qbytes(s->len);
		break;
	}
	r->err = r->ret < 0 ? errno : 0;
	if (r->ret < 0)
		r->type = 0;
	if (a->state(&r->msgs, &r->bytes))
		r->msgs = r->bytes = ~0UL;
}

static int sysv_defaults_ok(void)
{
	FILE *f;
	long max = 0, mnb = 0;

	f = fopen("/proc/sys/kernel/msgmax", "r");
	if (!f || fscanf(f, "%ld", &max) != 1)
		max = 0;
	if (f)
		fclose(f);
	f = fopen("/proc/sys/kernel/msgmnb", "r");
	if (!f || fscanf(f, "%ld", &mnb) != 1)
		mnb = 0;
	if (f)
		fclose(f);
	return max == MAXLEN && mnb == KIPC_MQ_DEF_BYTES;
}

TEST(sysv_and_kipc_agree_step_by_step)
{
	static struct result rs, rk;
	unsigned int i;

	if (!sysv_defaults_ok())
		SKIP(return, "SysV msgmax/msgmnb are not the defaults");
	ASSERT_EQ(0, sysv.open()) TH_LOG("msgget: %s", strerror(errno));
	ASSERT_EQ(0, kipc.open()) TH_LOG("mq0: %s", strerror(errno));

	for (i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct step *s = &script[i];

		run_step(&sysv, s, i, &rs);
		run_step(&kipc, s, i, &rk);
		/* Both agree... */
		EXPECT_EQ(rs.ret, rk.ret) TH_LOG("step %u", i);
		EXPECT_EQ(rs.err, rk.err) TH_LOG("step %u", i);
		EXPECT_EQ(rs.type, rk.type) TH_LOG("step %u", i);
		EXPECT_EQ(rs.msgs, rk.msgs) TH_LOG("step %u", i);
		EXPECT_EQ(rs.bytes, rk.bytes) TH_LOG("step %u", i);
		if (rs.ret > 0 && rs.ret == rk.ret)
			EXPECT_EQ(0, memcmp(rs.data, rk.data, rs.ret))
				TH_LOG("step %u", i);
		/* ...with the script. */
		EXPECT_EQ(s->ret, rk.ret) TH_LOG("step %u", i);
		EXPECT_EQ(s->err, rk.err) TH_LOG("step %u", i);
		if (s->op == RCV) {
			EXPECT_EQ(s->rtype, rk.type) TH_LOG("step %u", i);
			if (s->rdata && rk.ret > 0)
				EXPECT_EQ(0, memcmp(s->rdata, rk.data, rk.ret))
					TH_LOG("step %u", i);
		}
		if (_metadata->exit_code)
			break;
	}
	/* The script ends empty on both. */
	EXPECT_EQ(0UL, rs.msgs);
	EXPECT_EQ(0UL, rk.msgs);
	sysv.close();
	kipc.close();
}

/* --- the file interface against a unix datagram socketpair --------------- */

/* An address no process maps; volatile hides it from the compiler. */
static void *volatile bad_ptr = (void *)8;

#define VSEG	4
#define VREGION	8448	/* room per read segment, with a guard after it */

enum vop {
	V_WRITEV,	/* writev() of the data over the segments */
	V_READV,	/* readv() into the segments */
	V_PWRITEV2,	/* pwritev2(), offset -1 (or 0 with .off0), .rwf */
	V_PREADV2,	/* preadv2(), the same */
	V_WRITE,	/* write(2) of the data (one segment) */
	V_NOERROR,	/* kipc: recv_flags = .rwf; the socket: nothing */
	V_FILL,		/* pwritev2(RWF_NOWAIT) of 1 KiB until it fails */
	V_DRAIN,	/* preadv2(RWF_NOWAIT) of 8 KiB until it fails */
};

struct vstep {
	enum vop op;
	int nseg;
	int seg[VSEG];		/* segment lengths */
	int bad;		/* 1 + index of a segment at a bad address */
	int rwf;
	int off0;		/* offset 0 instead of -1: ESPIPE */
	const char *data;	/* payload / expected bytes; NULL: pattern */
	long ret;		/* expected of both, or of kipc with .diff */
	int err;
	int diff;		/* an intended difference, D1-D3 */
	int end_diff;		/* the queues agree again after this step */
	long sret;		/* with .diff: the socket's */
	int serr;
};

#define SEGS(...) .nseg = sizeof((int[]){ __VA_ARGS__ }) / sizeof(int), \
		  .seg = { __VA_ARGS__ }

static const struct vstep vscript[] = {
	/* Nothing queued: RWF_NOWAIT fails at once on a blocking file. */
	{ V_PREADV2, SEGS(64), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	/* One writev is one message, gathered; one readv takes it, scattered. */
	{ V_WRITEV, SEGS(3, 3, 4), .data = "headerbody", .ret = 10 },
	{ V_READV, SEGS(4, 4, 8), .data = "headerbody", .ret = 10 },
	{ V_WRITEV, SEGS(2, 0, 2), .data = "abcd", .ret = 4 },
	{ V_READV, SEGS(1, 0, 10), .data = "abcd", .ret = 4 },
	/* An empty vector never reaches either (the VFS returns 0)... */
	{ V_WRITEV, SEGS(0, 0), .data = "", .ret = 0 },
	{ V_PREADV2, SEGS(8), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	/* ...but write(2) of 0 bytes sends an empty message. */
	{ V_WRITE, SEGS(0), .data = "", .ret = 0 },
	{ V_PREADV2, SEGS(8), .rwf = RWF_NOWAIT, .data = "", .ret = 0 },
	{ V_PREADV2, SEGS(8), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	/* pwritev2/preadv2 at the current position, without and with flags. */
	{ V_PWRITEV2, SEGS(2, 3), .data = "hello", .ret = 5 },
	{ V_PREADV2, SEGS(5), .data = "hello", .ret = 5 },
	{ V_PWRITEV2, SEGS(2, 3), .rwf = RWF_NOWAIT, .data = "hello", .ret = 5 },
	{ V_PREADV2, SEGS(3, 3), .rwf = RWF_NOWAIT, .data = "hello", .ret = 5 },
	{ V_PWRITEV2, SEGS(1), .off0 = 1, .data = "x", .ret = -1, .err = ESPIPE },
	{ V_PREADV2, SEGS(1), .off0 = 1, .ret = -1, .err = ESPIPE },
	/* A bad address in any iovec: EFAULT, nothing sent. */
	{ V_WRITEV, SEGS(3, 3, 3), .bad = 2, .data = "abcdefghi", .ret = -1,
	  .err = EFAULT },
	{ V_WRITEV, SEGS(3, 3, 3), .bad = 3, .data = "abcdefghi", .ret = -1,
	  .err = EFAULT },
	{ V_PREADV2, SEGS(64), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	/* A bad iovec the message does not reach is never touched. */
	{ V_WRITEV, SEGS(1), .data = "x", .ret = 1 },
	{ V_READV, SEGS(1, 8), .bad = 2, .data = "x", .ret = 1 },
	/* D1: longer than the iovecs. */
	{ V_WRITEV, SEGS(10), .data = "0123456789", .ret = 10 },
	{ V_READV, SEGS(4, 2), .data = "012345", .ret = -1, .err = EMSGSIZE,
	  .diff = 1, .sret = 6 },
	{ V_PREADV2, SEGS(16), .rwf = RWF_NOWAIT, .data = "0123456789",
	  .ret = 10, .diff = 1, .end_diff = 1, .sret = -1, .serr = EAGAIN },
	/* D1 with KIPC_MQ_NOERROR: as the socket, truncated, rest dropped. */
	{ V_NOERROR, .rwf = KIPC_MQ_NOERROR },
	{ V_WRITEV, SEGS(10), .data = "0123456789", .ret = 10 },
	{ V_READV, SEGS(4, 2), .data = "012345", .ret = 6 },
	{ V_PREADV2, SEGS(64), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	{ V_NOERROR, .rwf = 0 },
	/* D2: a readv that faults. */
	{ V_WRITEV, SEGS(3), .data = "xyz", .ret = 3 },
	{ V_READV, SEGS(1, 8), .bad = 2, .ret = -1, .err = EFAULT, .diff = 2,
	  .sret = -1, .serr = EFAULT },
	{ V_PREADV2, SEGS(8), .rwf = RWF_NOWAIT, .data = "xyz", .ret = 3,
	  .diff = 2, .end_diff = 1, .sret = -1, .serr = EAGAIN },
	/* The size limit: 8192 fits; D3 above it. */
	{ V_WRITEV, SEGS(4096, 4000, 96), .ret = 8192 },
	{ V_READV, SEGS(4096, 4096), .ret = 8192 },
	{ V_WRITEV, SEGS(4096, 4096, 1), .ret = -1, .err = EINVAL, .diff = 3,
	  .sret = 8193 },
	{ V_PREADV2, SEGS(8200), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN,
	  .diff = 3, .end_diff = 1, .sret = 8193 },
	/* Full: RWF_NOWAIT fails at once; one receive makes room for one. */
	{ V_FILL, .ret = -1, .err = EAGAIN },
	{ V_PWRITEV2, SEGS(1024), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	{ V_READV, SEGS(1000, 24), .ret = 1024 },
	{ V_PWRITEV2, SEGS(512, 512), .rwf = RWF_NOWAIT, .ret = 1024 },
	{ V_PWRITEV2, SEGS(1024), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
	{ V_DRAIN, .ret = -1, .err = EAGAIN },
	{ V_PREADV2, SEGS(8), .rwf = RWF_NOWAIT, .ret = -1, .err = EAGAIN },
};

struct vend {
	const char *name;
	int wr, rd;
	bool kipc;
	bool no_rwf_nowait;	/* D4: MSG_DONTWAIT instead */
};

/* pwritev2/preadv2 at the current position, or their D4 stand-in. */
static long vprw(const struct vend *v, bool wr, struct iovec *iov, int n,
		 off_t off, int rwf)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };

	if (v->no_rwf_nowait && off == -1 && rwf == RWF_NOWAIT)
		return wr ? sendmsg(v->wr, &mh, MSG_DONTWAIT) :
			    recvmsg(v->rd, &mh, MSG_DONTWAIT);
	return wr ? pwritev2(v->wr, iov, n, off, rwf) :
		    preadv2(v->rd, iov, n, off, rwf);
}

static unsigned char vpattern(size_t k)
{
	return (unsigned char)(k * 7 + 3 + (k >> 8));
}

static unsigned char vsrc[4 * VREGION];
static unsigned char vdst[VSEG][VREGION];

static long vfill(const struct vend *v)
{
	struct iovec iov = { vsrc, 1024 };
	long n, i;

	for (i = 0; i < 1000000; i++) {
		n = vprw(v, true, &iov, 1, -1, RWF_NOWAIT);
		if (n != 1024)
			return i ? n : -2;	/* not even one: wrong */
	}
	return -3;
}

static long vdrain(const struct vend *v)
{
	struct iovec iov = { vdst[0], VREGION };
	long n, i;

	for (i = 0; i < 1000000; i++) {
		n = vprw(v, false, &iov, 1, -1, RWF_NOWAIT);
		if (n < 0)
			return n;
	}
	return -3;
}

/* One step on one end; reads land in vdst[], segment i in vdst[i]. */
static long vrun(const struct vend *v, const struct vstep *s)
{
	struct iovec iov[VSEG];
	size_t off = 0, k;
	int i;

	for (k = 0; k < sizeof(vsrc); k++)
		vsrc[k] = vpattern(k);
	if (s->data)
		memcpy(vsrc, s->data, strlen(s->data));
	memset(vdst, 0xaa, sizeof(vdst));
	for (i = 0; i < s->nseg; i++) {
		bool rd = s->op == V_READV || s->op == V_PREADV2;

		iov[i].iov_base = rd ? (void *)vdst[i] : (void *)(vsrc + off);
		iov[i].iov_len = s->seg[i];
		if (s->bad == i + 1)
			iov[i].iov_base = bad_ptr;
		off += s->seg[i];
	}
	errno = 0;
	switch (s->op) {
	case V_WRITEV:
		return writev(v->wr, iov, s->nseg);
	case V_READV:
		return readv(v->rd, iov, s->nseg);
	case V_PWRITEV2:
		return vprw(v, true, iov, s->nseg, s->off0 ? 0 : -1, s->rwf);
	case V_PREADV2:
		return vprw(v, false, iov, s->nseg, s->off0 ? 0 : -1, s->rwf);
	case V_WRITE:
		return write(v->wr, vsrc, s->seg[0]);
	case V_NOERROR:
		if (v->kipc) {
			struct kipc_mq_fileopts o = {
				.send_type = 1, .recv_flags = s->rwf,
			};

			return ioctl(v->wr, KIPC_MQ_SET_FILEOPTS, &o);
		}
		return 0;
	case V_FILL:
		return vfill(v);
	case V_DRAIN:
		return vdrain(v);
	}
	return -4;
}

/* The bytes read match @want (NULL: the pattern), segment by segment. */
static int vcheck_data(const struct vstep *s, long n, const char *want)
{
	size_t done = 0;
	int i;

	for (i = 0; i < s->nseg && n >= 0; i++) {
		size_t take = (size_t)n - done < (size_t)s->seg[i] ?
			(size_t)n - done : (size_t)s->seg[i];
		size_t k;

		if (s->bad == i + 1)
			return take ? -1 : 0;
		for (k = 0; k < take; k++) {
			unsigned char c = want ? (unsigned char)want[done + k] :
					  vpattern(done + k);

			if (vdst[i][k] != c)
				return -1;
		}
		/* Nothing beyond what this segment was given. */
		if (take < VREGION && vdst[i][take] != 0xaa)
			return -1;
		done += take;
	}
	return 0;
}

static long vqueued(const struct vend *v)
{
	struct kipc_mq_stat st;
	int n;

	if (v->kipc)
		return ioctl(v->rd, KIPC_MQ_STAT, &st) ? -1 : (long)st.bytes;
	/* SIOCINQ: every byte queued on a SEQPACKET socket. */
	return ioctl(v->rd, FIONREAD, &n) ? -1 : n;
}

static void vdiff(struct __test_metadata *_metadata, int type)
{
	struct vend k = { "kipc", -1, -1, true, false };
	struct vend so = { "socket", -1, -1, false, false };
	struct iovec probe = { vdst[0], 1 };
	bool diverged = false;
	int sv[2], fd;
	unsigned int i;

	fd = open(KIPC_DEV_DIR "/mq0", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("mq0: %s", strerror(errno));
	kipc_fd = fd;
	ASSERT_EQ(0, kipc_reset());
	k.wr = k.rd = fd;
	ASSERT_EQ(0, socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv));
	so.wr = sv[0];
	so.rd = sv[1];
	if (preadv2(so.rd, &probe, 1, -1, RWF_NOWAIT) < 0 &&
	    errno == EOPNOTSUPP) {
		so.no_rwf_nowait = true;
		TH_LOG("D4: sockets refuse RWF_NOWAIT here: MSG_DONTWAIT");
	}

	for (i = 0; i < sizeof(vscript) / sizeof(vscript[0]); i++) {
		const struct vstep *s = &vscript[i];
		long rk, rs, want_s = s->diff ? s->sret : s->ret;
		int ek, es, want_es = s->diff ? s->serr : s->err;
		bool rd = s->op == V_READV || s->op == V_PREADV2;

		rs = vrun(&so, s);
		es = rs < 0 ? errno : 0;
		if (rd && rs > 0)
			EXPECT_EQ(0, vcheck_data(s, rs, s->data))
				TH_LOG("step %u: socket data", i);
		rk = vrun(&k, s);
		ek = rk < 0 ? errno : 0;
		if (rd && rk > 0)
			EXPECT_EQ(0, vcheck_data(s, rk, s->data))
				TH_LOG("step %u: kipc data", i);
		if (s->diff) {
			TH_LOG("step %u: intended difference D%d", i, s->diff);
			diverged = !s->end_diff;
		} else {
			/* Both agree... */
			EXPECT_EQ(rs, rk) TH_LOG("step %u", i);
			EXPECT_EQ(es, ek) TH_LOG("step %u", i);
		}
		/* ...with the script. */
		EXPECT_EQ(s->ret, rk) TH_LOG("step %u: kipc", i);
		EXPECT_EQ(s->err, ek) TH_LOG("step %u: kipc", i);
		EXPECT_EQ(want_s, rs) TH_LOG("step %u: socket", i);
		EXPECT_EQ(want_es, es) TH_LOG("step %u: socket", i);
		if (s->op == V_FILL)
			diverged = true;
		if (s->op == V_DRAIN)
			diverged = false;
		/* A SEQPACKET socket counts all bytes queued, as kipc does. */
		if (type == SOCK_SEQPACKET && !diverged)
			EXPECT_EQ(vqueued(&so), vqueued(&k))
				TH_LOG("step %u: bytes queued", i);
		if (_metadata->exit_code)
			break;
	}
	EXPECT_EQ(0, vqueued(&k));
	kipc_close();
	close(sv[0]);
	close(sv[1]);
}

TEST(readv_writev_like_a_seqpacket_socket)
{
	vdiff(_metadata, SOCK_SEQPACKET);
}

TEST(readv_writev_like_a_dgram_socket)
{
	vdiff(_metadata, SOCK_DGRAM);
}

/* --- signals: msgsnd/msgrcv, a FIFO, and the kipc twins ----------------- */

static int sig_pipe[2];

static void on_usr1(int sig)
{
	char c = 's';

	(void)sig;
	if (write(sig_pipe[1], &c, 1) != 1)
		_exit(99);
}

enum sig_case {
	SC_MSGRCV, SC_KIPC_RECV, SC_KIPC_RECV_BATCH,
	SC_MSGSND, SC_KIPC_SEND, SC_KIPC_SEND_BATCH,
	SC_FIFO_READ, SC_KIPC_READ,
	SC_FIFO_WRITE, SC_KIPC_WRITE,
	SC_NR
};

static const struct {
	const char *name;
	long nr;		/* the syscall it sleeps in */
	bool restarts;		/* under SA_RESTART */
	int twin;		/* the standard call it mirrors */
} sig_cases[SC_NR] = {
	[SC_MSGRCV] = { "msgrcv", SYS_msgrcv, false, SC_MSGRCV },
	[SC_KIPC_RECV] = { "KIPC_MQ_RECV", SYS_ioctl, false, SC_MSGRCV },
	[SC_KIPC_RECV_BATCH] = { "KIPC_MQ_RECV_BATCH", SYS_ioctl, false,
				 SC_MSGRCV },
	[SC_MSGSND] = { "msgsnd", SYS_msgsnd, false, SC_MSGSND },
	[SC_KIPC_SEND] = { "KIPC_MQ_SEND", SYS_ioctl, false, SC_MSGSND },
	[SC_KIPC_SEND_BATCH] = { "KIPC_MQ_SEND_BATCH", SYS_ioctl, false,
				 SC_MSGSND },
	[SC_FIFO_READ] = { "FIFO read", SYS_read, true, SC_FIFO_READ },
	[SC_KIPC_READ] = { "mq read", SYS_read, true, SC_FIFO_READ },
	[SC_FIFO_WRITE] = { "FIFO write", SYS_write, true, SC_FIFO_WRITE },
	[SC_KIPC_WRITE] = { "mq write", SYS_write, true, SC_FIFO_WRITE },
};

struct sig_env {
	int msqid;
	int mq;
	int fifo;		/* O_RDWR: never blocks in open */
	int fifo_nb;		/* O_RDWR | O_NONBLOCK, to fill and drain */
};

static char sig_big[8192];

/* Make the call of @c block: empty for a receive, full for a send. */
static int sig_prepare(struct sig_env *e, enum sig_case c)
{
	struct kipc_mq_msg m = { .type = 1, .buf = (uintptr_t)sig_big,
				 .len = sizeof(sig_big) };
	int i;

	switch (c) {
	case SC_MSGSND:
		for (i = 0; i < 2; i++) {
			sysv_buf.mtype = 1;
			if (msgsnd(e->msqid, &sysv_buf, 8192, IPC_NOWAIT))
				return -1;
		}
		return 0;
	case SC_KIPC_SEND:
	case SC_KIPC_SEND_BATCH:
	case SC_KIPC_WRITE:
		for (i = 0; i < 2; i++)
			if (ioctl(e->mq, KIPC_MQ_SEND, &m))
				return -1;
		return 0;
	case SC_FIFO_WRITE:
		for (i = 0; i < 10000; i++)
			if (write(e->fifo_nb, sig_big, 4096) != 4096)
				return errno == EAGAIN ? 0 : -1;
		return -1;
	default:
		return 0;
	}
}

/* The call itself, in the child: 0 done, 1 EINTR, 2 anything else. */
static int sig_call(struct sig_env *e, enum sig_case c)
{
	struct kipc_mq_msg m = { .type = 1, .buf = (uintptr_t)sig_big,
				 .len = sizeof(sig_big) };
	struct kipc_mq_batch b = { .msgs = (uintptr_t)&m, .count = 1 };
	long r;

	switch (c) {
	case SC_MSGRCV:
		r = msgrcv(e->msqid, &sysv_buf, MAXLEN, 0, 0);
		break;
	case SC_KIPC_RECV:
		m.type = 0;
		r = ioctl(e->mq, KIPC_MQ_RECV, &m);
		break;
	case SC_KIPC_RECV_BATCH:
		m.type = 0;
		r = ioctl(e->mq, KIPC_MQ_RECV_BATCH, &b);
		if (!r && b.done != 1)
			return 2;
		break;
	case SC_MSGSND:
		sysv_buf.mtype = 1;
		r = msgsnd(e->msqid, &sysv_buf, 8192, 0);
		break;
	case SC_KIPC_SEND:
		r = ioctl(e->mq, KIPC_MQ_SEND, &m);
		break;
	case SC_KIPC_SEND_BATCH:
		r = ioctl(e->mq, KIPC_MQ_SEND_BATCH, &b);
		if (!r && b.done != 1)
			return 2;
		break;
	case SC_FIFO_READ:
		r = read(e->fifo, sig_big, 64);
		break;
	case SC_KIPC_READ:
		r = read(e->mq, sig_big, sizeof(sig_big));
		break;
	case SC_FIFO_WRITE:
		r = write(e->fifo, sig_big, 4096);
		break;
	case SC_KIPC_WRITE:
		r = write(e->mq, sig_big, sizeof(sig_big));
		break;
	default:
		return 2;
	}
	if (r >= 0)
		return 0;
	return errno == EINTR ? 1 : 2;
}

/* What lets the blocked call of @c complete: a message, or room. */
static int sig_unblock(struct sig_env *e, enum sig_case c)
{
	struct kipc_mq_msg m = { .type = 1, .buf = (uintptr_t)sig_big,
				 .len = sizeof(sig_big) };
	static char drain[65536];

	switch (c) {
	case SC_MSGRCV:
		sysv_buf.mtype = 1;
		return msgsnd(e->msqid, &sysv_buf, 1, IPC_NOWAIT);
	case SC_KIPC_RECV:
	case SC_KIPC_RECV_BATCH:
	case SC_KIPC_READ:
		m.len = 1;
		return ioctl(e->mq, KIPC_MQ_SEND, &m);
	case SC_MSGSND:
		return msgrcv(e->msqid, &sysv_buf, MAXLEN, 0, IPC_NOWAIT) < 0;
	case SC_KIPC_SEND:
	case SC_KIPC_SEND_BATCH:
	case SC_KIPC_WRITE:
		m.type = 0;
		return ioctl(e->mq, KIPC_MQ_RECV, &m) < 0;
	case SC_FIFO_READ:
		return write(e->fifo_nb, "x", 1) != 1;
	case SC_FIFO_WRITE:
		return read(e->fifo_nb, drain, sizeof(drain)) <= 0;
	default:
		return -1;
	}
}

static void sig_cleanup(struct sig_env *e)
{
	static char drain[65536];

	while (msgrcv(e->msqid, &sysv_buf, MAXLEN, 0,
		      IPC_NOWAIT | MSG_NOERROR) >= 0)
		;
	ioctl(e->mq, KIPC_MQ_FLUSH);
	while (read(e->fifo_nb, drain, sizeof(drain)) > 0)
		;
}

/*
 * Run @c with a SIGUSR1 handler (SA_RESTART or not) that arrives while
 * the call sleeps; then make the call possible.  0: the call completed
 * (it was restarted), 1: it failed EINTR, 2: something else, -1: the
 * harness failed.
 */
static int sig_run(struct sig_env *e, enum sig_case c, int restart)
{
	pid_t pid;
	int status;
	char ch;

	if (sig_prepare(e, c))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction sa;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGUSR1, &sa, NULL);
		_exit(sig_call(e, c));
	}
	if (wait_sleeping(pid, sig_cases[c].nr) || kill(pid, SIGUSR1) ||
	    read(sig_pipe[0], &ch, 1) != 1 || sig_unblock(e, c)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	sig_cleanup(e);
	return WEXITSTATUS(status);
}

TEST(signals_like_msgsnd_msgrcv_and_a_fifo)
{
	static const char *const what[] = { "completed", "EINTR", "other" };
	char fifo_path[64];
	struct sig_env e;
	int c, restart, got[SC_NR][2];

	if (!sysv_defaults_ok())
		SKIP(return, "SysV msgmax/msgmnb are not the defaults");
	ASSERT_EQ(0, pipe(sig_pipe));
	e.msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	ASSERT_LE(0, e.msqid);
	e.mq = open(KIPC_DEV_DIR "/mq0", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, e.mq);
	kipc_fd = e.mq;
	ASSERT_EQ(0, kipc_reset());
	snprintf(fifo_path, sizeof(fifo_path), "/tmp/kipc-mqdiff-fifo.%d",
		 getpid());
	unlink(fifo_path);
	ASSERT_EQ(0, mkfifo(fifo_path, 0600));
	e.fifo = open(fifo_path, O_RDWR | O_CLOEXEC);
	e.fifo_nb = open(fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	unlink(fifo_path);
	ASSERT_LE(0, e.fifo);
	ASSERT_LE(0, e.fifo_nb);

	for (c = 0; c < SC_NR; c++) {
		for (restart = 0; restart < 2; restart++) {
			int want = restart && sig_cases[c].restarts ? 0 : 1;
			int r = sig_run(&e, c, restart);

			got[c][restart] = r;
			ASSERT_LE(0, r) TH_LOG("%s: the harness failed",
					       sig_cases[c].name);
			TH_LOG("%-20s %s: %s", sig_cases[c].name,
			       restart ? "SA_RESTART   " : "no SA_RESTART",
			       what[r > 2 ? 2 : r]);
			/* The twin was run first: both give the same. */
			EXPECT_EQ(got[sig_cases[c].twin][restart], r)
				TH_LOG("%s against %s, SA_RESTART %d",
				       sig_cases[c].name,
				       sig_cases[sig_cases[c].twin].name,
				       restart);
			EXPECT_EQ(want, r) TH_LOG("%s, SA_RESTART %d",
						  sig_cases[c].name, restart);
		}
	}
	/* Nothing was left behind. */
	{
		unsigned long msgs = 1, bytes = 1;

		EXPECT_EQ(0, kipc_state(&msgs, &bytes));
		EXPECT_EQ(0UL, msgs);
	}
	msgctl(e.msqid, IPC_RMID, NULL);
	kipc_close();
	close(e.fifo);
	close(e.fifo_nb);
}

TEST_HARNESS_MAIN
