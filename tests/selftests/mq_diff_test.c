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
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"

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

TEST_HARNESS_MAIN
