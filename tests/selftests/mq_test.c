// SPDX-License-Identifier: GPL-2.0
/*
 * The message queue device /dev/kipc/mqN: write(2)/read(2), the ioctls
 * that mirror msgsnd()/msgrcv(), limits, blocking and wake-ups, signals,
 * poll/epoll/SIGIO, batches, persistence and concurrency.
 *
 * Every test starts from an empty mq0 with the default limits.  Children
 * die with their test (PR_SET_PDEATHSIG), so none is left holding the
 * device open.  Synchronisation with a blocked child is by looking at it
 * (/proc/PID/syscall names the syscall only once the task is off the
 * CPU), never by sleeping a guessed time.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_caps.h"
#include "kipc_nl.h"
#include "kipc_proc.h"
#include "kipc_mq.h"

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * GCC's -Wclobbered (from -Wextra) flags it though it is never changed
 * after the setjmp().
 */
#pragma GCC diagnostic ignored "-Wclobbered"

/* An address no process maps; volatile hides it from the compiler. */
static void *volatile bad_ptr = (void *)8;

#define MQ0 KIPC_DEV_DIR "/mq0"
#define MQ1 KIPC_DEV_DIR "/mq1"

/* A check in a child: report and exit 1. */
#define CHK(cond) do {							\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: %s (errno %d)\n",	\
			getpid(), __FILE__, __LINE__, #cond, errno);	\
		_exit(1);						\
	}								\
} while (0)

static int mq_open(const char *path, int flags)
{
	return open(path, flags | O_CLOEXEC);
}

/*
 * Receive with selector @sel into buf/len.  Returns what the ioctl
 * returns; on success *type is the message's type, and the struct's len
 * must equal the return value (else -2).
 */
static int mrcv(int fd, long long sel, void *buf, unsigned int len,
		unsigned int flags, long long *type)
{
	struct kipc_mq_msg m = {
		.type = sel,
		.buf = (uintptr_t)buf,
		.len = len,
		.flags = flags,
	};
	int ret = ioctl(fd, KIPC_MQ_RECV, &m);

	if (ret < 0)
		return ret;
	if (type)
		*type = m.type;
	if (m.len != (unsigned int)ret)
		return -2;
	return ret;
}

static int mlimits(int fd, unsigned int bytes, unsigned int msg_size,
		   unsigned int msgs)
{
	struct kipc_mq_limits l = {
		.max_bytes = bytes,
		.max_msg_size = msg_size,
		.max_msgs = msgs,
	};

	return ioctl(fd, KIPC_MQ_SET_LIMITS, &l);
}

static int mopts(int fd, long long send_type, long long recv_type,
		 unsigned int recv_flags)
{
	struct kipc_mq_fileopts o = {
		.send_type = send_type,
		.recv_type = recv_type,
		.recv_flags = recv_flags,
	};

	return ioctl(fd, KIPC_MQ_SET_FILEOPTS, &o);
}

static unsigned int nmsgs(int fd)
{
	return mstat(fd).msgs;
}

static int mq_reset(int fd)
{
	if (mlimits(fd, KIPC_MQ_DEF_BYTES, KIPC_MQ_DEF_MSG_SIZE,
		    KIPC_MQ_DEF_MSGS))
		return -1;
	return ioctl(fd, KIPC_MQ_FLUSH) < 0 ? -1 : 0;
}

static long vol_switches(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + strlen("\nvoluntary_ctxt_switches:"), NULL, 10) : -1;
}

static unsigned long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static unsigned long read_param(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/kipc/parameters/%s", name);
	if (read_file(path, buf, sizeof(buf)))
		return (unsigned long)-1;
	return strtoul(buf, NULL, 0);
}

FIXTURE(mq) {
	int fd;
};

FIXTURE_SETUP(mq)
{
	self->fd = mq_open(MQ0, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MQ0, strerror(errno));
	ASSERT_EQ(0, mq_reset(self->fd));
}

FIXTURE_TEARDOWN(mq)
{
	mq_reset(self->fd);
	close(self->fd);
}

/* --- defaults, the file interface ------------------------------------- */

TEST_F(mq, defaults_are_sysv_defaults)
{
	struct kipc_mq_fileopts o;
	struct kipc_mq_stat s = mstat(self->fd);

	EXPECT_EQ(0U, s.msgs);
	EXPECT_EQ(0U, s.bytes);
	EXPECT_EQ(16384U, s.max_bytes);
	EXPECT_EQ(8192U, s.max_msg_size);
	EXPECT_EQ(1024U, s.max_msgs);
	EXPECT_EQ(0U, s.__reserved);
	EXPECT_EQ(1048576UL, read_param("mq_max_bytes"));
	EXPECT_EQ(65536UL, read_param("mq_max_msg_size"));
	EXPECT_EQ(65536UL, read_param("mq_max_msgs"));

	memset(&o, 0xff, sizeof(o));
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_GET_FILEOPTS, &o));
	EXPECT_EQ(1, o.send_type);
	EXPECT_EQ(0, o.recv_type);
	EXPECT_EQ(0U, o.recv_flags);
	EXPECT_EQ(0U, o.__reserved);
}

TEST_F(mq, write_sends_one_message_read_receives_it)
{
	char buf[8192];
	long long type = 0;

	ASSERT_EQ(6, write(self->fd, "hello\n", 6));
	ASSERT_EQ(3, write(self->fd, "abc", 3));
	EXPECT_EQ(2U, nmsgs(self->fd));
	EXPECT_EQ(9U, mstat(self->fd).bytes);

	/* One whole message per read, whatever the buffer size. */
	ASSERT_EQ(6, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello\n", 6));
	ASSERT_EQ(3, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(1, type);	/* write(2) sends type 1 */
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, fileopts_send_and_recv_type)
{
	char buf[64];
	long long type = 0;
	struct kipc_mq_fileopts o;

	ASSERT_EQ(0, mopts(self->fd, 7, 0, 0));
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_GET_FILEOPTS, &o));
	EXPECT_EQ(7, o.send_type);
	ASSERT_EQ(2, write(self->fd, "s7", 2));
	ASSERT_EQ(0, mopts(self->fd, 3, 0, 0));
	ASSERT_EQ(2, write(self->fd, "s3", 2));
	ASSERT_EQ(2, write(self->fd, "t3", 2));
	ASSERT_EQ(0, mopts(self->fd, 1, 0, 0));
	ASSERT_EQ(2, write(self->fd, "s1", 2));

	/* read(2) with a type selector, then EXCEPT, then "lowest <= 3". */
	ASSERT_EQ(0, mopts(self->fd, 1, 3, 0));
	ASSERT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "s3", 2));
	ASSERT_EQ(0, mopts(self->fd, 1, 3, KIPC_MQ_EXCEPT));
	ASSERT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "s7", 2));
	ASSERT_EQ(0, mopts(self->fd, 1, -3, 0));
	ASSERT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "s1", 2));
	ASSERT_EQ(0, mopts(self->fd, 1, 5, 0));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(2, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(3, type);
	EXPECT_EQ(0, memcmp(buf, "t3", 2));
}

TEST_F(mq, fileopts_are_per_file)
{
	int fd2 = mq_open(MQ0, O_RDWR);
	long long type = 0;
	char buf[8];

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, mopts(self->fd, 9, 0, 0));
	ASSERT_EQ(1, write(fd2, "x", 1));
	ASSERT_EQ(1, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(1, type);
	close(fd2);
}

TEST_F(mq, fileopts_validation)
{
	struct kipc_mq_fileopts o = { .send_type = 1 };

	EXPECT_EQ(-1, mopts(self->fd, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mopts(self->fd, -1, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mopts(self->fd, 1, 0, KIPC_MQ_PEEK));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mopts(self->fd, 1, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mopts(self->fd, 1, 0, 0x100));
	EXPECT_EQ(EINVAL, errno);
	o.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SET_FILEOPTS, &o));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SET_FILEOPTS, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_GET_FILEOPTS, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing changed. */
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_GET_FILEOPTS, &o));
	EXPECT_EQ(1, o.send_type);
	EXPECT_EQ(0U, o.recv_flags);
	EXPECT_EQ(0, mopts(self->fd, 1, -5, KIPC_MQ_NOERROR | KIPC_MQ_EXCEPT));
}

TEST_F(mq, read_buffer_too_small_emsgsize_keeps_message)
{
	char buf[16];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	ASSERT_EQ(-1, read(self->fd, buf, 9));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1U, nmsgs(self->fd));
	EXPECT_EQ(10U, mstat(self->fd).bytes);
	ASSERT_EQ(10, read(self->fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST_F(mq, read_noerror_truncates)
{
	char buf[16];

	ASSERT_EQ(0, mopts(self->fd, 1, 0, KIPC_MQ_NOERROR));
	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	ASSERT_EQ(10, write(self->fd, "abcdefghij", 10));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(4, read(self->fd, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "0123\0", 5));
	EXPECT_EQ(1U, nmsgs(self->fd));
	/* The rest of the first message is gone, not read next. */
	ASSERT_EQ(10, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abcdefghij", 10));
}

TEST_F(mq, zero_length_messages)
{
	char buf[8];
	long long type = 0;

	ASSERT_EQ(0, write(self->fd, buf, 0));
	ASSERT_EQ(0, msnd(self->fd, 4, NULL, 0, 0));
	EXPECT_EQ(2U, nmsgs(self->fd));
	EXPECT_EQ(0U, mstat(self->fd).bytes);
	ASSERT_EQ(0, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(0, mrcv(self->fd, 0, NULL, 0, 0, &type));
	EXPECT_EQ(4, type);
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, write_over_max_size_einval)
{
	static char big[8193];

	ASSERT_EQ(-1, write(self->fd, big, 8193));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(8192, write(self->fd, big, 8192));
	ASSERT_EQ(0, mlimits(self->fd, 16384, 100, 1024));
	ASSERT_EQ(-1, write(self->fd, big, 101));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(100, write(self->fd, big, 100));
	EXPECT_EQ(2U, nmsgs(self->fd));
}

TEST_F(mq, nonblocking_file_eagain_both_ways)
{
	static char big[8192];
	int fd = mq_open(MQ0, O_RDWR | O_NONBLOCK);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, read(fd, big, sizeof(big)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(8192, write(fd, big, 8192));
	ASSERT_EQ(8192, write(fd, big, 8192));
	ASSERT_EQ(-1, write(fd, big, 1));
	EXPECT_EQ(EAGAIN, errno);
	/* O_NONBLOCK also applies to the ioctls. */
	ASSERT_EQ(-1, msnd(fd, 1, big, 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, mrcv(fd, 5, big, sizeof(big), 0, NULL));
	EXPECT_EQ(ENOMSG, errno);
	/* A zero-length message still fits: bytes == max_bytes. */
	ASSERT_EQ(0, write(fd, big, 0));
	EXPECT_EQ(3U, nmsgs(fd));
	close(fd);
}

TEST_F(mq, wrong_open_mode_ebadf)
{
	int rd = mq_open(MQ0, O_RDONLY);
	int wr = mq_open(MQ0, O_WRONLY);
	struct kipc_mq_batch b = { 0 };
	char buf[4];

	ASSERT_LE(0, rd);
	ASSERT_LE(0, wr);
	EXPECT_EQ(-1, msnd(rd, 1, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(rd, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, write(rd, "x", 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(rd, KIPC_MQ_FLUSH));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mlimits(rd, 100, 100, 100));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, msnd(wr, 1, "x", 1, 0));
	EXPECT_EQ(-1, mrcv(wr, 0, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(wr, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, read(wr, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(1, mrcv(rd, 0, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(16384U, mstat(rd).max_bytes);
	close(rd);
	close(wr);
}

TEST_F(mq, lseek_espipe)
{
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, pread(self->fd, &self->fd, 1, 0));
	EXPECT_EQ(ESPIPE, errno);
}

TEST_F(mq, unknown_ioctl_enotty)
{
	unsigned int v = 0;

	EXPECT_EQ(-1, ioctl(self->fd, _IO(KIPC_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_PIPE_GET_SIZE, &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, FIONREAD, &v));
	EXPECT_EQ(ENOTTY, errno);
}

/* --- msgsnd/msgrcv twins ------------------------------------------------ */

TEST_F(mq, send_errors)
{
	static char big[8193];

	EXPECT_EQ(-1, msnd(self->fd, 0, "x", 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, -1, "x", 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, LLONG_MIN, "x", 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, 1, "x", 1, KIPC_MQ_NOERROR));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, 1, "x", 1, KIPC_MQ_PEEK));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, 1, "x", 1, 0x100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, 1, big, 8193, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msnd(self->fd, 1, bad_ptr, 10, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0U, nmsgs(self->fd));
	EXPECT_EQ(0, msnd(self->fd, LLONG_MAX, big, 8192, 0));
	EXPECT_EQ(0, msnd(self->fd, 1, big, 8192, KIPC_MQ_NOWAIT));
	EXPECT_EQ(-1, msnd(self->fd, 1, big, 1, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(2U, nmsgs(self->fd));
}

/* Queue: 5 e1, 3 c1, 5 e2, 1 a1, 2 b1, 3 c2, 4 d1. */
static void queue_script(struct __test_metadata *_metadata, int fd)
{
	static const struct { long long type; const char *s; } q[] = {
		{ 5, "e1" }, { 3, "c1" }, { 5, "e2" }, { 1, "a1" },
		{ 2, "b1" }, { 3, "c2" }, { 4, "d1" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		ASSERT_EQ(0, msnd(fd, q[i].type, q[i].s, 2, 0));
}

#define EXPECT_RECV(fd, sel, flags, want_type, want) do {		\
	char _b[64] = { 0 };						\
	long long _t = 0;						\
	ASSERT_EQ(2, mrcv(fd, sel, _b, sizeof(_b), flags, &_t));	\
	EXPECT_EQ(want_type, _t);					\
	EXPECT_STREQ(want, _b);						\
} while (0)

TEST_F(mq, recv_selectors)
{
	char b[8];

	queue_script(_metadata, self->fd);
	EXPECT_RECV(self->fd, 3, 0, 3, "c1");
	EXPECT_RECV(self->fd, 3, KIPC_MQ_EXCEPT, 5, "e1");
	EXPECT_RECV(self->fd, -3, 0, 1, "a1");
	EXPECT_RECV(self->fd, -3, 0, 2, "b1");
	EXPECT_RECV(self->fd, -3, 0, 3, "c2");
	EXPECT_EQ(-1, mrcv(self->fd, -3, b, sizeof(b), KIPC_MQ_NOWAIT, NULL));
	EXPECT_EQ(ENOMSG, errno);
	/* EXCEPT means nothing with selector 0 or < 0, as in msgrcv(). */
	EXPECT_RECV(self->fd, -5, KIPC_MQ_EXCEPT, 4, "d1");
	EXPECT_RECV(self->fd, 0, KIPC_MQ_EXCEPT, 5, "e2");
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, recv_type_extremes)
{
	EXPECT_EQ(0, msnd(self->fd, LLONG_MAX, "zz", 2, 0));
	EXPECT_EQ(0, msnd(self->fd, 9, "nn", 2, 0));
	EXPECT_EQ(0, msnd(self->fd, 2, "tt", 2, 0));
	/* -LLONG_MIN does not exist: taken as "lowest of any type". */
	EXPECT_RECV(self->fd, LLONG_MIN, 0, 2, "tt");
	EXPECT_RECV(self->fd, -LLONG_MAX, 0, 9, "nn");
	EXPECT_RECV(self->fd, LLONG_MAX, 0, LLONG_MAX, "zz");
}

TEST_F(mq, recv_e2big_noerror_nomsg_flags)
{
	char buf[16] = { 0 };
	long long type = 0;

	ASSERT_EQ(0, msnd(self->fd, 6, "0123456789", 10, 0));
	EXPECT_EQ(-1, mrcv(self->fd, 0, buf, 9, 0, NULL));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, mrcv(self->fd, 6, buf, 0, KIPC_MQ_NOWAIT, NULL));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(1U, nmsgs(self->fd));
	EXPECT_EQ(-1, mrcv(self->fd, 0, buf, sizeof(buf), 0x10, NULL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mrcv(self->fd, 7, buf, sizeof(buf), KIPC_MQ_NOWAIT, NULL));
	EXPECT_EQ(ENOMSG, errno);
	ASSERT_EQ(3, mrcv(self->fd, 0, buf, 3, KIPC_MQ_NOERROR, &type));
	EXPECT_EQ(6, type);
	EXPECT_STREQ("012", buf);
	EXPECT_EQ(0U, nmsgs(self->fd));
	EXPECT_EQ(-1, mrcv(self->fd, 0, buf, sizeof(buf), KIPC_MQ_NOWAIT, NULL));
	EXPECT_EQ(ENOMSG, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(mq, recv_efault_keeps_message_and_order)
{
	char buf[16] = { 0 };
	long long type = 0;

	ASSERT_EQ(0, msnd(self->fd, 1, "A", 1, 0));
	ASSERT_EQ(0, msnd(self->fd, 2, "B", 1, 0));
	ASSERT_EQ(0, msnd(self->fd, 1, "C", 1, 0));
	/* B is taken from the middle, the copy faults, B goes back there. */
	EXPECT_EQ(-1, mrcv(self->fd, 2, bad_ptr, 16, 0, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, read(self->fd, bad_ptr, 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(3U, nmsgs(self->fd));
	EXPECT_EQ(3U, mstat(self->fd).bytes);
	ASSERT_EQ(1, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(1, type);
	EXPECT_STREQ("A", buf);
	ASSERT_EQ(1, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(2, type);
	EXPECT_STREQ("B", buf);
	ASSERT_EQ(1, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(1, type);
	EXPECT_STREQ("C", buf);
}

/* A read-only copy of @len bytes of @src (unmapped with the process). */
static void *ro_copy(const void *src, size_t len)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, 4096, PROT_READ))
		return NULL;
	return p;
}

/*
 * A payload copy that faults part way, into a buffer whose end runs into
 * an unmapped page, or at once, at an address outside user space: every
 * receive path fails with EFAULT and the message stays, whole, in its
 * place.  100 bytes is a small message (copied in a user access window),
 * 1000 a large one (copy_to_user()).
 */
TEST_F(mq, recv_payload_fault_keeps_message)
{
	static const unsigned int sizes[] = { 100, 1000 };
	void *kernel_ptr = (void *)~(uintptr_t)0xfff;
	long page = sysconf(_SC_PAGESIZE);
	char msg[1000], got[1000];
	uint8_t *map;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	for (unsigned int i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i * 7 + 1);

	for (unsigned int k = 0; k < 2; k++) {
		unsigned int len = sizes[k];
		/* The first half of the payload fits, the rest faults. */
		uint8_t *partial = map + page - len / 2;
		void *const bufs[] = { partial, kernel_ptr };

		ASSERT_EQ(0, msnd(self->fd, 1, "first", 5, 0));
		ASSERT_EQ(0, msnd(self->fd, 4, msg, len, 0));
		ASSERT_EQ(5, mrcv(self->fd, 1, got, sizeof(got), 0, NULL));
		for (unsigned int j = 0; j < 2; j++) {
			struct kipc_mq_msg d = {
				.buf = (uintptr_t)bufs[j], .len = len,
			};
			struct kipc_mq_batch b = {
				.msgs = (uintptr_t)&d, .count = 1, .done = 7,
			};

			EXPECT_EQ(-1, mrcv(self->fd, 0, bufs[j], len, 0, NULL));
			EXPECT_EQ(EFAULT, errno);
			EXPECT_EQ(-1, read(self->fd, bufs[j], len));
			EXPECT_EQ(EFAULT, errno);
			EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &b));
			EXPECT_EQ(EFAULT, errno);
			EXPECT_EQ(0U, b.done);
			EXPECT_EQ(1U, nmsgs(self->fd));
			EXPECT_EQ(len, mstat(self->fd).bytes);
		}
		memset(got, 0, sizeof(got));
		EXPECT_EQ((int)len, read(self->fd, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(msg, got, len));
		EXPECT_EQ(0U, nmsgs(self->fd));
	}
	munmap(map, 2 * page);
}

/*
 * The send side: a payload that faults part way (8-byte words, then the
 * odd bytes, then the unmapped page) or at once queues nothing, through
 * every send path, and leaves the buffer pool able to send the next one.
 */
TEST_F(mq, send_payload_fault_queues_nothing)
{
	static const unsigned int sizes[] = { 13, 100, 1000 };
	void *kernel_ptr = (void *)~(uintptr_t)0xfff;
	long page = sysconf(_SC_PAGESIZE);
	char got[1000];
	uint8_t *map;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + page, page, PROT_NONE));
	memset(map, 'x', page);

	for (unsigned int k = 0; k < 3; k++) {
		unsigned int len = sizes[k];
		void *const bufs[] = { map + page - len / 2, map + page - 1,
				       kernel_ptr };

		for (unsigned int j = 0; j < 3; j++) {
			struct kipc_mq_msg d = {
				.type = 1, .buf = (uintptr_t)bufs[j], .len = len,
			};
			struct kipc_mq_batch b = {
				.msgs = (uintptr_t)&d, .count = 1, .done = 7,
			};

			EXPECT_EQ(-1, msnd(self->fd, 1, bufs[j], len, 0));
			EXPECT_EQ(EFAULT, errno);
			EXPECT_EQ(-1, write(self->fd, bufs[j], len));
			EXPECT_EQ(EFAULT, errno);
			EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &b));
			EXPECT_EQ(EFAULT, errno);
			EXPECT_EQ(0U, b.done);
			EXPECT_EQ(0U, nmsgs(self->fd));
			EXPECT_EQ(0U, mstat(self->fd).bytes);
		}
		/* The whole payload right before the unmapped page is fine. */
		EXPECT_EQ((ssize_t)len, write(self->fd, map + page - len, len));
		memset(got, 0, sizeof(got));
		EXPECT_EQ((int)len, read(self->fd, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(map, got, len));
	}
	munmap(map, 2 * page);
}

/*
 * Payloads in pages the process has not touched yet.  A small send copies
 * in under the queue's lock with page faults disabled, so it cannot fault
 * such a page in: it must take the long way, not fail or lose the
 * message.  Receives into pages not yet mapped, likewise.
 */
TEST_F(mq, payload_in_pages_not_yet_mapped)
{
	static const unsigned int sizes[] = { 1, 64, 200, 1000 };
	long page = sysconf(_SC_PAGESIZE);
	int mfd = syscall(SYS_memfd_create, "kipc-mq-test", 0);
	uint8_t *pattern = malloc(page);

	ASSERT_LE(0, mfd);
	ASSERT_NE(NULL, pattern);
	for (long i = 0; i < page; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ(page, write(mfd, pattern, page));

	for (unsigned int k = 0; k < 4; k++) {
		for (int ioctls = 0; ioctls < 2; ioctls++) {
			unsigned int len = sizes[k];
			long off = page - len;
			uint8_t *src, *dst;
			long long type = 0;

			/* Fresh mappings: nothing of them is in the page table. */
			src = mmap(NULL, page, PROT_READ, MAP_SHARED, mfd, 0);
			ASSERT_NE(MAP_FAILED, src);
			dst = mmap(NULL, page, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			ASSERT_NE(MAP_FAILED, dst);
			if (ioctls) {
				EXPECT_EQ(0, msnd(self->fd, 5, src + off, len, 0));
			} else {
				EXPECT_EQ((ssize_t)len,
					  write(self->fd, src + off, len));
			}
			EXPECT_EQ(1U, nmsgs(self->fd));
			if (ioctls) {
				EXPECT_EQ((int)len, mrcv(self->fd, 0, dst + off,
							 len, 0, &type));
				EXPECT_EQ(5, type);
			} else {
				EXPECT_EQ((ssize_t)len,
					  read(self->fd, dst + off, len));
			}
			EXPECT_EQ(0, memcmp(dst + off, pattern + off, len));
			EXPECT_EQ(0U, nmsgs(self->fd));
			munmap(src, page);
			munmap(dst, page);
		}
	}
	free(pattern);
	close(mfd);
}

TEST_F(mq, recv_descriptor_write_back_fault_keeps_message)
{
	char buf[16] = { 0 };
	struct kipc_mq_msg m = {
		.buf = (uintptr_t)buf, .len = sizeof(buf),
	};
	struct kipc_mq_batch b = { .count = 1 };
	long long type = 0;
	void *ro;

	ASSERT_EQ(0, msnd(self->fd, 3, "kept", 4, 0));
	/* The payload arrives but type and len cannot be written back. */
	ro = ro_copy(&m, sizeof(m));
	ASSERT_NE(NULL, ro);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1U, nmsgs(self->fd));
	/* Likewise for a batch whose vector is read-only. */
	b.msgs = (uintptr_t)ro;
	b.done = 7;
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0U, b.done);
	EXPECT_EQ(1U, nmsgs(self->fd));
	ASSERT_EQ(4, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(3, type);
	EXPECT_STREQ("kept", buf);
}

TEST_F(mq, peek_leaves_message)
{
	char buf[16] = { 0 };
	long long type = 0;

	EXPECT_EQ(-1, mrcv(self->fd, 0, buf, sizeof(buf),
			   KIPC_MQ_PEEK | KIPC_MQ_NOWAIT, NULL));
	EXPECT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, msnd(self->fd, 1, "first", 5, 0));
	ASSERT_EQ(0, msnd(self->fd, 2, "second", 6, 0));
	ASSERT_EQ(5, mrcv(self->fd, 0, buf, sizeof(buf), KIPC_MQ_PEEK, &type));
	EXPECT_EQ(1, type);
	EXPECT_STREQ("first", buf);
	ASSERT_EQ(6, mrcv(self->fd, 2, buf, sizeof(buf), KIPC_MQ_PEEK, &type));
	EXPECT_EQ(2, type);
	EXPECT_STREQ("second", buf);
	EXPECT_EQ(-1, mrcv(self->fd, 2, buf, 3, KIPC_MQ_PEEK, NULL));
	EXPECT_EQ(E2BIG, errno);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, mrcv(self->fd, 2, buf, 3, KIPC_MQ_PEEK | KIPC_MQ_NOERROR,
			  &type));
	EXPECT_STREQ("sec", buf);
	EXPECT_EQ(-1, mrcv(self->fd, 2, bad_ptr, 16, KIPC_MQ_PEEK, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(2U, nmsgs(self->fd));
	EXPECT_EQ(11U, mstat(self->fd).bytes);
	/* A peek is not a receive (earlier tests received from mq0). */
	EXPECT_NE(getpid(), mstat(self->fd).last_recv_pid);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_STREQ("first", buf);
}

TEST_F(mq, stat_fields)
{
	unsigned long long t0, t1, t2;
	struct kipc_mq_stat s;
	char buf[16];
	pid_t pid;

	unsigned long long rtime;
	int fd1 = mq_open(MQ1, O_RDONLY);

	/* 0 means never; mq1 is only used by the last test here. */
	ASSERT_LE(0, fd1);
	s = mstat(fd1);
	EXPECT_EQ(s.last_send_time == 0, s.last_send_pid == 0);
	EXPECT_EQ(s.last_recv_time == 0, s.last_recv_pid == 0);
	close(fd1);

	rtime = mstat(self->fd).last_recv_time;
	/* The clock is the coarse one: bound it by the coarse clock. */
	t0 = now_ns(CLOCK_REALTIME_COARSE);
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = mq_open(MQ0, O_WRONLY);

		CHK(fd >= 0);
		CHK(msnd(fd, 3, "abcd", 4, 0) == 0);
		CHK(write(fd, "efg", 3) == 3);
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
	t1 = now_ns(CLOCK_REALTIME);
	s = mstat(self->fd);
	EXPECT_EQ(2U, s.msgs);
	EXPECT_EQ(7U, s.bytes);
	EXPECT_EQ(pid, s.last_send_pid);
	EXPECT_LE(t0, s.last_send_time);
	EXPECT_GE(t1, s.last_send_time);
	EXPECT_EQ(rtime, s.last_recv_time);

	ASSERT_EQ(4, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	t2 = now_ns(CLOCK_REALTIME);
	s = mstat(self->fd);
	EXPECT_EQ(1U, s.msgs);
	EXPECT_EQ(3U, s.bytes);
	EXPECT_EQ(getpid(), s.last_recv_pid);
	EXPECT_EQ(pid, s.last_send_pid);
	EXPECT_LE(t0, s.last_recv_time);
	EXPECT_GE(t2, s.last_recv_time);
	EXPECT_EQ(16384U, s.max_bytes);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_STAT, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(mq, flush)
{
	int i;

	EXPECT_EQ(0, ioctl(self->fd, KIPC_MQ_FLUSH));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, msnd(self->fd, i + 1, "xyz", 3, 0));
	EXPECT_EQ(5, ioctl(self->fd, KIPC_MQ_FLUSH));
	EXPECT_EQ(0U, nmsgs(self->fd));
	EXPECT_EQ(0U, mstat(self->fd).bytes);
	EXPECT_EQ(-1, mrcv(self->fd, 0, &i, sizeof(i), KIPC_MQ_NOWAIT, NULL));
	EXPECT_EQ(ENOMSG, errno);
}

/* --- limits ------------------------------------------------------------- */

TEST_F(mq, limits_set_and_enforced)
{
	static char buf[128];
	struct kipc_mq_stat s;

	ASSERT_EQ(0, mlimits(self->fd, 100, 50, 3));
	s = mstat(self->fd);
	EXPECT_EQ(100U, s.max_bytes);
	EXPECT_EQ(50U, s.max_msg_size);
	EXPECT_EQ(3U, s.max_msgs);
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 51, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, msnd(self->fd, 1, buf, 50, KIPC_MQ_NOWAIT));
	EXPECT_EQ(0, msnd(self->fd, 1, buf, 40, KIPC_MQ_NOWAIT));
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 11, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, msnd(self->fd, 1, buf, 10, KIPC_MQ_NOWAIT));
	/* 100 bytes, 3 messages: full both ways. */
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(10, mrcv(self->fd, 0, buf, 10, KIPC_MQ_NOERROR, NULL));
	EXPECT_EQ(0, msnd(self->fd, 1, buf, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(mq, limits_below_what_is_queued)
{
	char buf[64];
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, msnd(self->fd, 1, buf, 20, 0));
	/* As msgctl(IPC_SET): allowed, nothing is dropped. */
	ASSERT_EQ(0, mlimits(self->fd, 30, 10, 2));
	EXPECT_EQ(4U, nmsgs(self->fd));
	EXPECT_EQ(80U, mstat(self->fd).bytes);
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	/* Queued messages larger than the new size limit still arrive. */
	ASSERT_EQ(20, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(20, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(20, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 11, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, msnd(self->fd, 1, buf, 10, KIPC_MQ_NOWAIT));
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(mq, limits_validation)
{
	struct kipc_mq_limits l = { 100, 100, 100, 1 };

	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SET_LIMITS, &l));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mlimits(self->fd, 100, 100, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mlimits(self->fd, 0x80000000U, 100, 100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mlimits(self->fd, 100, 0xffffffffU, 100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SET_LIMITS, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(16384U, mstat(self->fd).max_bytes);
	/* Zero bytes and zero size are allowed: empty messages only. */
	EXPECT_EQ(0, mlimits(self->fd, 0, 0, 1));
	EXPECT_EQ(0, msnd(self->fd, 1, NULL, 0, KIPC_MQ_NOWAIT));
	EXPECT_EQ(-1, msnd(self->fd, 1, "x", 1, KIPC_MQ_NOWAIT));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(mq, limits_above_module_maxima_need_cap_sys_resource)
{
	unsigned int mb = read_param("mq_max_bytes");
	unsigned int ms = read_param("mq_max_msg_size");
	unsigned int mm = read_param("mq_max_msgs");
	pid_t pid;

	ASSERT_EQ(1048576U, mb);
	/* Root has CAP_SYS_RESOURCE. */
	ASSERT_EQ(0, mlimits(self->fd, mb + 1, ms + 1, mm + 1));
	EXPECT_EQ(mb + 1, mstat(self->fd).max_bytes);
	ASSERT_EQ(0, mq_reset(self->fd));

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = mq_open(MQ0, O_RDWR);
		struct kipc_mq_stat s;

		CHK(fd >= 0);
		CHK(drop_sys_resource() == 0);
		CHK(mlimits(fd, mb + 1, 8192, 1024) == -1 && errno == EPERM);
		CHK(mlimits(fd, 16384, ms + 1, 1024) == -1 && errno == EPERM);
		CHK(mlimits(fd, 16384, 8192, mm + 1) == -1 && errno == EPERM);
		/* EINVAL is checked first. */
		CHK(mlimits(fd, mb + 1, 8192, 0) == -1 && errno == EINVAL);
		s = mstat(fd);
		CHK(s.max_bytes == 16384 && s.max_msg_size == 8192 &&
		    s.max_msgs == 1024);
		/* Up to the maxima needs no privilege. */
		CHK(mlimits(fd, mb, ms, mm) == 0);
		s = mstat(fd);
		CHK(s.max_bytes == mb && s.max_msg_size == ms &&
		    s.max_msgs == mm);
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
}

TEST_F(mq, big_messages_up_to_raised_limit)
{
	unsigned int size = 65536;
	unsigned char *a = malloc(size), *b = malloc(size);
	long long type = 0;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	fill_pattern(a, size, 5);
	ASSERT_EQ(0, mlimits(self->fd, 1048576, size, 1024));
	ASSERT_EQ(0, msnd(self->fd, 8, a, size, 0));
	ASSERT_EQ(0, msnd(self->fd, 9, a + 1, 217, 0));
	ASSERT_EQ(0, msnd(self->fd, 10, a + 2, 216, 0));
	ASSERT_EQ((int)size, mrcv(self->fd, 0, b, size, 0, &type));
	EXPECT_EQ(8, type);
	EXPECT_EQ(0, memcmp(a, b, size));
	ASSERT_EQ(217, mrcv(self->fd, 0, b, size, 0, &type));
	EXPECT_EQ(0, memcmp(a + 1, b, 217));
	ASSERT_EQ(216, mrcv(self->fd, 0, b, size, 0, &type));
	EXPECT_EQ(0, memcmp(a + 2, b, 216));
	free(a);
	free(b);
}

/* --- persistence -------------------------------------------------------- */

TEST_F(mq, messages_outlive_their_sender)
{
	unsigned char want[300], got[300];
	pid_t pid;

	fill_pattern(want, sizeof(want), 42);
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = mq_open(MQ0, O_WRONLY);

		CHK(fd >= 0);
		CHK(msnd(fd, 42, want, sizeof(want), 0) == 0);
		CHK(write(fd, "tail", 4) == 4);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
	/* The sender is gone and its file closed; so is ours now. */
	close(self->fd);
	self->fd = -1;

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = mq_open(MQ0, O_RDONLY);
		long long type = 0;

		CHK(fd >= 0);
		CHK(mstat(fd).msgs == 2);
		CHK(mrcv(fd, 0, got, sizeof(got), 0, &type) == sizeof(got));
		CHK(type == 42);
		CHK(memcmp(want, got, sizeof(want)) == 0);
		CHK(read(fd, got, sizeof(got)) == 4);
		CHK(memcmp(got, "tail", 4) == 0);
		CHK(mstat(fd).msgs == 0);
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
	self->fd = mq_open(MQ0, O_RDWR);
	ASSERT_LE(0, self->fd);
}

/* --- blocking ----------------------------------------------------------- */

TEST_F(mq, blocked_receiver_woken_only_by_its_type)
{
	long before, after;
	char buf[16];
	pid_t pid;
	int i;

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long long type = 0;

		memset(buf, 0, sizeof(buf));
		CHK(mrcv(self->fd, 5, buf, sizeof(buf), 0, &type) == 4);
		CHK(type == 5);
		CHK(memcmp(buf, "five", 4) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	before = vol_switches(pid);
	ASSERT_LE(0, before);
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, msnd(self->fd, 3, "three", 5, KIPC_MQ_NOWAIT));
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	after = vol_switches(pid);
	/* Not one needless wake-up. */
	EXPECT_EQ(before, after);
	ASSERT_EQ(0, msnd(self->fd, 5, "five", 4, 0));
	ASSERT_EQ(0, reap(pid));
	/* Handed over directly: the type 3 messages are all still there. */
	EXPECT_EQ(50U, nmsgs(self->fd));
	EXPECT_EQ(getpid(), mstat(self->fd).last_send_pid);
	EXPECT_EQ(pid, mstat(self->fd).last_recv_pid);
}

TEST_F(mq, blocked_receivers_each_get_their_type)
{
	pid_t pids[3];
	long long sel[3] = { 7, -2, 0 };
	int i;

	/* 7 waits for 7, -2 for 1 or 2, 0 for anything: in that order. */
	for (i = 0; i < 3; i++) {
		pids[i] = spawn();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			long long type = 0;
			char buf[8];

			CHK(mrcv(self->fd, sel[i], buf, sizeof(buf), 0, &type) == 1);
			_exit(type);
		}
		ASSERT_EQ(0, wait_sleeping(pids[i], SYS_ioctl));
	}
	ASSERT_EQ(0, msnd(self->fd, 9, "9", 1, 0));	/* to the "any" one */
	ASSERT_EQ(9, reap(pids[2]));
	ASSERT_EQ(0, msnd(self->fd, 2, "2", 1, 0));
	ASSERT_EQ(2, reap(pids[1]));
	ASSERT_EQ(0, msnd(self->fd, 7, "7", 1, 0));
	ASSERT_EQ(7, reap(pids[0]));
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, blocked_receiver_with_small_buffer_gets_e2big)
{
	pid_t pid, pid2;

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[4];

		CHK(mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL) == -1);
		CHK(errno == E2BIG);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	pid2 = spawn();
	ASSERT_LE(0, pid2);
	if (pid2 == 0) {
		int fd = mq_open(MQ0, O_RDONLY);
		char buf[4];

		CHK(fd >= 0);
		CHK(read(fd, buf, sizeof(buf)) == -1 && errno == EMSGSIZE);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid2, SYS_read));
	ASSERT_EQ(0, msnd(self->fd, 1, "0123456789", 10, 0));
	ASSERT_EQ(0, reap(pid));
	ASSERT_EQ(0, reap(pid2));
	/* The message stays for someone with a big enough buffer. */
	EXPECT_EQ(1U, nmsgs(self->fd));
}

TEST_F(mq, blocked_peek_sees_message_and_leaves_it)
{
	pid_t pid;

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16] = { 0 };
		long long type = 0;

		CHK(mrcv(self->fd, 4, buf, sizeof(buf), KIPC_MQ_PEEK, &type) == 4);
		CHK(type == 4 && memcmp(buf, "peek", 4) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(0, msnd(self->fd, 4, "peek", 4, 0));
	ASSERT_EQ(0, reap(pid));
	EXPECT_EQ(1U, nmsgs(self->fd));
}

TEST_F(mq, blocked_sender_woken_by_receive)
{
	char buf[16];
	long long type = 0;
	pid_t pid;

	ASSERT_EQ(0, mlimits(self->fd, 10, 10, 10));
	ASSERT_EQ(0, msnd(self->fd, 1, "0123456789", 10, 0));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHK(msnd(self->fd, 2, "abcde", 5, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	EXPECT_EQ(1U, nmsgs(self->fd));
	ASSERT_EQ(10, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	ASSERT_EQ(0, reap(pid));
	ASSERT_EQ(5, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(2, type);
	EXPECT_EQ(0, memcmp(buf, "abcde", 5));
}

TEST_F(mq, blocked_sender_woken_by_flush_and_limits)
{
	pid_t pid;

	ASSERT_EQ(0, mlimits(self->fd, 10, 10, 1));
	ASSERT_EQ(0, msnd(self->fd, 1, "x", 1, 0));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHK(msnd(self->fd, 2, "y", 1, 0) == 0);
		CHK(msnd(self->fd, 3, "z", 1, 0) == 0);
		CHK(msnd(self->fd, 4, "0123456789", 10, 0) == -1);
		CHK(errno == EINVAL);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(1, ioctl(self->fd, KIPC_MQ_FLUSH));
	/* y went in; z waits for room: raising the count lets it in. */
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(1U, nmsgs(self->fd));
	ASSERT_EQ(0, mlimits(self->fd, 10, 10, 2));
	/* The 10-byte message waits for bytes; lowering the size ends it. */
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(2U, nmsgs(self->fd));
	ASSERT_EQ(0, mlimits(self->fd, 10, 5, 2));
	ASSERT_EQ(0, reap(pid));
	EXPECT_EQ(2U, nmsgs(self->fd));
}

TEST_F(mq, senders_keep_their_order_when_blocked)
{
	pid_t pid;
	int i;

	ASSERT_EQ(0, mlimits(self->fd, 16384, 8192, 2));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < 200; i++)
			CHK(msnd(self->fd, 1 + i % 3, &i, sizeof(i), 0) == 0);
		_exit(0);
	}
	for (i = 0; i < 200; i++) {
		long long type = 0;
		int v = -1;

		ASSERT_EQ((int)sizeof(v), mrcv(self->fd, 0, &v, sizeof(v), 0, &type));
		ASSERT_EQ(i, v);
		ASSERT_EQ(1 + i % 3, type);
	}
	ASSERT_EQ(0, reap(pid));
}

/* --- signals ------------------------------------------------------------ */

static int sig_pipe[2];

static void on_usr1(int sig)
{
	char c = 's';

	(void)sig;
	if (write(sig_pipe[1], &c, 1) != 1)
		_exit(99);
}

static void handle_usr1(int restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
}

TEST_F(mq, signal_interrupts_blocked_calls)
{
	static char big[8192];
	static const long nrs[3] = { SYS_ioctl, SYS_read, SYS_ioctl };
	int step;

	ASSERT_EQ(0, pipe(sig_pipe));
	/* A blocked receive, a blocked read(2), a blocked send. */
	for (step = 0; step < 3; step++) {
		pid_t pid;
		char c;

		if (step == 2) {
			ASSERT_EQ(0, msnd(self->fd, 1, big, 8192, 0));
			ASSERT_EQ(0, msnd(self->fd, 1, big, 8192, 0));
		}
		pid = spawn();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			handle_usr1(0);
			if (step == 0)
				CHK(mrcv(self->fd, 0, big, sizeof(big), 0, NULL) == -1);
			else if (step == 1)
				CHK(read(self->fd, big, sizeof(big)) == -1);
			else
				CHK(msnd(self->fd, 1, big, 8192, 0) == -1);
			CHK(errno == EINTR);
			_exit(0);
		}
		ASSERT_EQ(0, wait_sleeping(pid, nrs[step]));
		ASSERT_EQ(0, kill(pid, SIGUSR1));
		ASSERT_EQ(1, read(sig_pipe[0], &c, 1));
		ASSERT_EQ(0, reap(pid));
	}
	/* Nothing was sent or lost. */
	EXPECT_EQ(2U, nmsgs(self->fd));
}

/*
 * Under SA_RESTART a blocked read(2) is restarted, as on a FIFO, while a
 * blocked KIPC_MQ_RECV fails with EINTR, as msgrcv() does (signal(7)).
 */
TEST_F(mq, signal_with_sa_restart_restarts_read_not_ioctl)
{
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sig_pipe));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long long type = 0;
		char buf[8] = { 0 };

		handle_usr1(1);
		CHK(mrcv(self->fd, 3, buf, sizeof(buf), 0, &type) == -1);
		CHK(errno == EINTR);
		CHK(read(self->fd, buf, sizeof(buf)) == 3);
		CHK(memcmp(buf, "abc", 3) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(1, read(sig_pipe[0], &c, 1));
	ASSERT_EQ(0, wait_sleeping(pid, SYS_read));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(1, read(sig_pipe[0], &c, 1));
	/* Back asleep in the restarted read(2). */
	ASSERT_EQ(0, wait_sleeping(pid, SYS_read));
	ASSERT_EQ(0, msnd(self->fd, 3, "abc", 3, 0));
	ASSERT_EQ(0, reap(pid));
	EXPECT_EQ(0U, nmsgs(self->fd));
}

/*
 * A send refused for want of room wakes no blocked receiver: one whose
 * buffer is too small for it is not told E2BIG for a message that was
 * never sent, and still gets the next one it can take, handed over
 * although the queue is full.
 */
TEST_F(mq, refused_send_wakes_no_receiver)
{
	static char big[20];
	pid_t pid;

	ASSERT_EQ(0, mlimits(self->fd, 64, 64, 1));
	ASSERT_EQ(0, msnd(self->fd, 1, "full", 4, 0));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long long type = 0;
		char buf[8] = { 0 };

		CHK(mrcv(self->fd, 5, buf, sizeof(buf), 0, &type) == 3);
		CHK(type == 5 && memcmp(buf, "abc", 3) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	EXPECT_EQ(-1, msnd(self->fd, 5, big, sizeof(big), KIPC_MQ_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, msnd(self->fd, 5, "abc", 3, KIPC_MQ_NOWAIT));
	ASSERT_EQ(0, reap(pid));
	EXPECT_EQ(1U, nmsgs(self->fd));
}

/* --- poll, epoll, SIGIO --------------------------------------------------- */

static short poll_mask(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT |
			    POLLRDNORM | POLLWRNORM };

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

TEST_F(mq, poll_masks)
{
	int rd = mq_open(MQ0, O_RDONLY), wr = mq_open(MQ0, O_WRONLY);
	char buf[16];

	ASSERT_LE(0, rd);
	ASSERT_LE(0, wr);
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(self->fd));
	EXPECT_EQ(0, poll_mask(rd));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(wr));
	ASSERT_EQ(0, msnd(self->fd, 1, "0123456789", 10, 0));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
		  poll_mask(self->fd));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(rd));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(wr));
	/*
	 * Full by bytes.  POLLOUT means room for a message of the file's
	 * last send: 10 bytes on self->fd, 1 byte on wr (no send yet).
	 */
	ASSERT_EQ(0, mlimits(self->fd, 10, 10, 2));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(self->fd));
	EXPECT_EQ(0, poll_mask(wr));
	/* A 0-byte message still fits; then the queue is full by count. */
	ASSERT_EQ(0, msnd(self->fd, 1, "", 0, 0));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(self->fd));
	EXPECT_EQ(0, poll_mask(wr));
	ASSERT_EQ(10, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	/* Room for this file's 0 bytes, and for wr's 1. */
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
		  poll_mask(self->fd));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(wr));
	ASSERT_EQ(0, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(self->fd));
	close(rd);
	close(wr);
}

TEST_F(mq, epoll_woken_by_send_and_by_receive)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	pid_t pid, parent = getpid();
	char buf[8];

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHK(wait_sleeping(parent, SYS_epoll_wait) == 0);
		CHK(msnd(self->fd, 1, "a", 1, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 60000));
	EXPECT_EQ((unsigned int)(EPOLLIN), ev.events);
	ASSERT_EQ(0, reap(pid));
	/* Edge-triggered: a second message is a new edge. */
	ASSERT_EQ(0, msnd(self->fd, 1, "b", 1, 0));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));

	/* Full by count; wait for room. */
	ASSERT_EQ(0, mlimits(self->fd, 100, 100, 2));
	ev.events = EPOLLOUT | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHK(wait_sleeping(parent, SYS_epoll_wait) == 0);
		CHK(mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL) == 1);
		_exit(0);
	}
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 60000));
	EXPECT_EQ((unsigned int)(EPOLLOUT), ev.events);
	ASSERT_EQ(0, reap(pid));
	close(ep);
}

TEST_F(mq, sigio_on_send_and_receive)
{
	int sig = SIGRTMIN + 1;
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;
	char buf[8];

	sigemptyset(&set);
	sigaddset(&set, sig);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, sig));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_ASYNC));

	ASSERT_EQ(0, msnd(self->fd, 1, "x", 1, 0));
	ASSERT_EQ(sig, sigtimedwait(&set, &si, &zero));
	EXPECT_EQ(POLL_IN, si.si_code);
	EXPECT_EQ(self->fd, si.si_fd);
	EXPECT_EQ(POLLIN | POLLRDNORM, si.si_band);
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &zero));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(1, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(sig, sigtimedwait(&set, &si, &zero));
	EXPECT_EQ(POLL_OUT, si.si_code);
	EXPECT_EQ(self->fd, si.si_fd);
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &zero));
	EXPECT_EQ(EAGAIN, errno);

	/* Off again: no more signals. */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, 0));
	ASSERT_EQ(0, msnd(self->fd, 1, "x", 1, 0));
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &zero));
	EXPECT_EQ(EAGAIN, errno);
}

/* --- batches ------------------------------------------------------------ */

#define NB 40

struct batch {
	struct kipc_mq_msg m[NB];
	char data[NB][32];
	struct kipc_mq_batch b;
};

static void batch_init(struct batch *bt, unsigned int count, int send)
{
	unsigned int i;

	memset(bt, 0, sizeof(*bt));
	for (i = 0; i < NB; i++) {
		if (send)
			snprintf(bt->data[i], sizeof(bt->data[i]), "msg-%02u", i);
		bt->m[i].type = send ? 1 + i % 4 : 0;
		bt->m[i].buf = (uintptr_t)bt->data[i];
		bt->m[i].len = send ? 6 : sizeof(bt->data[i]);
	}
	bt->b.msgs = (uintptr_t)bt->m;
	bt->b.count = count;
	bt->b.done = 0xdead;
}

TEST_F(mq, batch_send_and_receive)
{
	static struct batch s, r;
	unsigned int i;

	batch_init(&s, NB, 1);
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ((unsigned int)(NB), s.b.done);
	EXPECT_EQ((unsigned int)(NB), nmsgs(self->fd));
	EXPECT_EQ((unsigned int)(NB * 6), mstat(self->fd).bytes);

	/* Selectors per message: first type 3, then any. */
	batch_init(&r, NB, 0);
	r.m[0].type = 3;
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ((unsigned int)(NB), r.b.done);
	EXPECT_EQ(3, r.m[0].type);
	EXPECT_EQ(6U, r.m[0].len);
	EXPECT_STREQ("msg-02", r.data[0]);
	for (i = 1; i < NB; i++) {
		unsigned int want = i <= 2 ? i - 1 : i;

		EXPECT_EQ(1 + want % 4, r.m[i].type);
		EXPECT_EQ(6U, r.m[i].len);
		EXPECT_EQ(0, memcmp(r.data[i], s.data[want], 7));
	}
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, batch_count_limits)
{
	static struct batch s;
	struct kipc_mq_batch b = { .msgs = 8, .count = KIPC_MQ_BATCH_MAX + 1 };

	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = 0;
	b.done = 77;
	EXPECT_EQ(0, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(0U, b.done);
	b.done = 77;
	EXPECT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(0U, b.done);
	b.count = 1;
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, bad_ptr));
	EXPECT_EQ(EFAULT, errno);
	/* A payload that cannot be read fails the one-message batch. */
	batch_init(&s, 1, 1);
	s.m[0].buf = 8;
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0U, s.b.done);
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, batch_send_partial)
{
	static struct batch s;

	/* The third is invalid: two sent, success, done says 2. */
	batch_init(&s, 5, 1);
	s.m[2].type = 0;
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(2U, s.b.done);
	EXPECT_EQ(2U, nmsgs(self->fd));

	/* The first is invalid: fails, done is 0. */
	batch_init(&s, 5, 1);
	s.m[0].flags = KIPC_MQ_PEEK;
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0U, s.b.done);

	batch_init(&s, 5, 1);
	s.m[1].buf = 8;
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(1U, s.b.done);
	s.m[0].len = 8193;
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(3U, nmsgs(self->fd));

	/* Room for 2 more: NOWAIT stops there. */
	ASSERT_EQ(0, mlimits(self->fd, 16384, 8192, 5));
	batch_init(&s, NB, 1);
	s.m[2].flags = KIPC_MQ_NOWAIT;
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(2U, s.b.done);
	s.m[0].flags = KIPC_MQ_NOWAIT;
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0U, s.b.done);
	EXPECT_EQ(5U, nmsgs(self->fd));
}

TEST_F(mq, batch_receive_partial)
{
	static struct batch s, r;
	char small[2];

	batch_init(&s, 6, 1);
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b));
	ASSERT_EQ(6U, s.b.done);

	/* Asking for more than there is returns what there is, no wait. */
	batch_init(&r, 4, 0);
	r.m[3].type = 99;
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(3U, r.b.done);
	EXPECT_STREQ("msg-02", r.data[2]);
	EXPECT_EQ(32U, r.m[3].len);	/* untouched */

	/* A buffer too small stops the batch; that message stays. */
	batch_init(&r, 3, 0);
	r.m[1].buf = (uintptr_t)small;
	r.m[1].len = sizeof(small);
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(1U, r.b.done);
	EXPECT_STREQ("msg-03", r.data[0]);
	batch_init(&r, 3, 0);
	r.m[0].buf = (uintptr_t)small;
	r.m[0].len = sizeof(small);
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(0U, r.b.done);
	EXPECT_EQ(E2BIG, errno);

	/* A bad buffer: that one and the rest go back, in order. */
	batch_init(&r, 3, 0);
	r.m[1].buf = 8;
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(1U, r.b.done);
	EXPECT_STREQ("msg-04", r.data[0]);
	EXPECT_EQ(1U, nmsgs(self->fd));

	/* PEEK and unknown flags are refused. */
	batch_init(&r, 3, 0);
	r.m[0].flags = KIPC_MQ_PEEK;
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(EINVAL, errno);
	r.m[0].flags = 0x40;
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(EINVAL, errno);

	batch_init(&r, 3, 0);
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(1U, r.b.done);
	EXPECT_STREQ("msg-05", r.data[0]);
	batch_init(&r, 3, 0);
	r.m[0].flags = KIPC_MQ_NOWAIT;
	ASSERT_EQ(-1, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
	EXPECT_EQ(ENOMSG, errno);
}

TEST_F(mq, batch_receive_blocks_for_the_first_only)
{
	static struct batch r;
	pid_t pid;

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		batch_init(&r, 5, 0);
		r.m[0].type = 2;
		CHK(ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b) == 0);
		/* Then whatever is there, without waiting for 5. */
		CHK(r.b.done == 2);
		CHK(r.m[0].type == 2 && memcmp(r.data[0], "two", 4) == 0);
		CHK(r.m[1].type == 1 && memcmp(r.data[1], "one", 4) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(0, msnd(self->fd, 1, "one", 3, 0));
	ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
	ASSERT_EQ(0, msnd(self->fd, 2, "two", 3, 0));
	ASSERT_EQ(0, reap(pid));
	EXPECT_EQ(0U, nmsgs(self->fd));
}

TEST_F(mq, batch_send_blocks_until_all_sent)
{
	static struct batch s, r;
	pid_t pid;
	int got = 0;

	ASSERT_EQ(0, mlimits(self->fd, 16384, 8192, 3));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		batch_init(&s, NB, 1);
		CHK(ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b) == 0);
		CHK(s.b.done == NB);
		_exit(0);
	}
	while (got < NB) {
		unsigned int i;

		batch_init(&r, NB, 0);
		ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_RECV_BATCH, &r.b));
		/* One handed to us while we waited, then what is queued. */
		ASSERT_LE(1U, r.b.done);
		ASSERT_GE(4U, r.b.done);
		for (i = 0; i < r.b.done; i++, got++) {
			char want[16];

			snprintf(want, sizeof(want), "msg-%02u", got);
			ASSERT_STREQ(want, r.data[i]);
		}
	}
	ASSERT_EQ(0, reap(pid));
}

TEST_F(mq, signal_stops_a_batch_with_what_was_done)
{
	static struct batch s;
	int step;
	char c;

	ASSERT_EQ(0, pipe(sig_pipe));
	ASSERT_EQ(0, mlimits(self->fd, 16384, 8192, 2));
	/* Room for 2 of 5: done 2 and success; then none: EINTR. */
	for (step = 0; step < 2; step++) {
		pid_t pid = spawn();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			handle_usr1(0);
			batch_init(&s, 5, 1);
			if (step == 0) {
				CHK(ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b) == 0);
				CHK(s.b.done == 2);
			} else {
				CHK(ioctl(self->fd, KIPC_MQ_SEND_BATCH, &s.b) == -1);
				CHK(errno == EINTR && s.b.done == 0);
			}
			_exit(0);
		}
		ASSERT_EQ(0, wait_sleeping(pid, SYS_ioctl));
		ASSERT_EQ(0, kill(pid, SIGUSR1));
		ASSERT_EQ(1, read(sig_pipe[0], &c, 1));
		ASSERT_EQ(0, reap(pid));
		EXPECT_EQ(2U, nmsgs(self->fd));
	}
}

/* --- traffic ------------------------------------------------------------ */

#define CLIENTS 4
#define REQUESTS 1000

struct req {
	int pid;
	int seq;
};

TEST_F_TIMEOUT(mq, two_way_traffic, 300)
{
	pid_t server, clients[CLIENTS];
	int i;

	server = spawn();
	ASSERT_LE(0, server);
	if (server == 0) {
		for (i = 0; i < CLIENTS * REQUESTS; i++) {
			struct req r;
			long long type = 0;

			CHK(mrcv(self->fd, 1, &r, sizeof(r), 0, &type) == sizeof(r));
			CHK(type == 1);
			r.seq = -r.seq;
			CHK(msnd(self->fd, r.pid, &r, sizeof(r), 0) == 0);
		}
		_exit(0);
	}
	for (i = 0; i < CLIENTS; i++) {
		clients[i] = spawn();
		ASSERT_LE(0, clients[i]);
		if (clients[i] == 0) {
			int me = getpid(), n;

			for (n = 1; n <= REQUESTS; n++) {
				struct req r = { me, n };
				long long type = 0;

				CHK(msnd(self->fd, 1, &r, sizeof(r), 0) == 0);
				CHK(mrcv(self->fd, me, &r, sizeof(r), 0, &type) ==
				    sizeof(r));
				CHK(type == me && r.pid == me && r.seq == -n);
			}
			_exit(0);
		}
	}
	for (i = 0; i < CLIENTS; i++)
		EXPECT_EQ(0, reap(clients[i]));
	EXPECT_EQ(0, reap(server));
	EXPECT_EQ(0U, nmsgs(self->fd));
}

#define PRODUCERS 4
#define CONSUMERS 4
#define PER_PRODUCER 1500
#define RB 8		/* batch size of the batching consumers */
#define SB 16		/* and producers */

struct cmsg {
	unsigned int prod;
	unsigned int seq;
	unsigned int len;
	unsigned int sum;
	unsigned char data[400];
};

struct shared {
	unsigned int seen[PRODUCERS][PER_PRODUCER];
	unsigned int received;
};

static unsigned int fnv(const unsigned char *p, unsigned int len)
{
	unsigned int h = 2166136261U;

	while (len--)
		h = (h ^ *p++) * 16777619U;
	return h;
}

/* Lengths cross the small-buffer boundary of the module (216 bytes). */
static unsigned int cmsg_make(struct cmsg *m, unsigned int prod,
			      unsigned int seq)
{
	m->prod = prod;
	m->seq = seq;
	m->len = 1 + (seq * 37 + prod * 11) % 380;
	fill_pattern(m->data, m->len, seq ^ (prod << 16));
	m->sum = fnv(m->data, m->len);
	return offsetof(struct cmsg, data) + m->len;
}

static void producer(int fd, unsigned int prod)
{
	static struct cmsg ms[SB];
	struct kipc_mq_msg d[SB];
	unsigned int seq = 0, i;

	while (seq < PER_PRODUCER) {
		if (prod % 2 == 0) {
			unsigned int len = cmsg_make(&ms[0], prod, seq);

			CHK(msnd(fd, 1 + prod, &ms[0], len, 0) == 0);
			seq++;
			continue;
		}
		struct kipc_mq_batch b = { .msgs = (uintptr_t)d };

		for (i = 0; i < SB && seq + i < PER_PRODUCER; i++) {
			d[i].type = 1 + prod;
			d[i].len = cmsg_make(&ms[i], prod, seq + i);
			d[i].buf = (uintptr_t)&ms[i];
			d[i].flags = 0;
		}
		b.count = i;
		CHK(ioctl(fd, KIPC_MQ_SEND_BATCH, &b) == 0);
		CHK(b.done == i);
		seq += i;
	}
}

/* Returns 1 when it was a stop message. */
static int consume(struct shared *sh, int *last, const struct cmsg *m,
		   unsigned int len, long long type)
{
	if (type == 100)
		return 1;
	CHK(len >= offsetof(struct cmsg, data));
	CHK(m->prod < PRODUCERS && m->seq < PER_PRODUCER);
	CHK(type == 1 + m->prod);
	CHK(len == offsetof(struct cmsg, data) + m->len);
	CHK(m->sum == fnv(m->data, m->len));
	/* Each consumer sees each producer's messages in order. */
	CHK((int)m->seq > last[m->prod]);
	last[m->prod] = m->seq;
	__atomic_fetch_add(&sh->seen[m->prod][m->seq], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->received, 1, __ATOMIC_RELAXED);
	return 0;
}

static void consumer(int fd, struct shared *sh, unsigned int id)
{
	static struct cmsg ms[RB];
	struct kipc_mq_msg d[RB];
	int last[PRODUCERS] = { -1, -1, -1, -1 };
	unsigned int i, stops;

	for (;;) {
		if (id % 2 == 0) {
			long long type = 0;
			int n = mrcv(fd, 0, &ms[0], sizeof(ms[0]), 0, &type);

			CHK(n >= 0);
			if (consume(sh, last, &ms[0], n, type))
				return;
			continue;
		}
		struct kipc_mq_batch b = { .msgs = (uintptr_t)d, .count = RB };

		for (i = 0; i < RB; i++) {
			d[i].type = 0;
			d[i].buf = (uintptr_t)&ms[i];
			d[i].len = sizeof(ms[i]);
			d[i].flags = 0;
		}
		CHK(ioctl(fd, KIPC_MQ_RECV_BATCH, &b) == 0);
		CHK(b.done >= 1 && b.done <= RB);
		stops = 0;
		for (i = 0; i < b.done; i++)
			stops += consume(sh, last, &ms[i], d[i].len, d[i].type);
		if (stops) {
			/* Stops come last; give back the ones for others. */
			while (--stops)
				CHK(msnd(fd, 100, "", 0, 0) == 0);
			return;
		}
	}
}

TEST_F_TIMEOUT(mq, concurrency_4_producers_4_consumers, 300)
{
	pid_t prods[PRODUCERS], cons[CONSUMERS];
	struct shared *sh;
	unsigned int p, s;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	for (p = 0; p < CONSUMERS; p++) {
		cons[p] = spawn();
		ASSERT_LE(0, cons[p]);
		if (cons[p] == 0) {
			consumer(self->fd, sh, p);
			_exit(0);
		}
	}
	for (p = 0; p < PRODUCERS; p++) {
		prods[p] = spawn();
		ASSERT_LE(0, prods[p]);
		if (prods[p] == 0) {
			producer(self->fd, p);
			_exit(0);
		}
	}
	for (p = 0; p < PRODUCERS; p++)
		ASSERT_EQ(0, reap(prods[p]));
	/* All data is queued before the stops, so stops come last. */
	for (p = 0; p < CONSUMERS; p++)
		ASSERT_EQ(0, msnd(self->fd, 100, "", 0, 0));
	for (p = 0; p < CONSUMERS; p++)
		EXPECT_EQ(0, reap(cons[p]));
	EXPECT_EQ((unsigned int)(PRODUCERS * PER_PRODUCER), sh->received);
	for (p = 0; p < PRODUCERS; p++)
		for (s = 0; s < PER_PRODUCER; s++)
			ASSERT_EQ(1U, sh->seen[p][s]) TH_LOG("producer %u seq %u", p, s);
	EXPECT_EQ(0U, nmsgs(self->fd));
	munmap(sh, sizeof(*sh));
}

/* --- netlink: fill(), set() and events of a queue ----------------------- */

/* What a GET_DEV/SET_DEV reply or an event says. */
struct nlmsg {
	uint8_t cmd;
	bool has[KIPC_A_MAX + 1];
	uint64_t v[KIPC_A_MAX + 1];
	char name[32];
	bool has_st[KIPC_STAT_MAX + 1];
	uint64_t st[KIPC_STAT_MAX + 1];
};

static int nl_stat_cb(const struct nlattr *a, void *data)
{
	struct nlmsg *m = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= KIPC_STAT_MAX && !mnl_attr_validate(a, MNL_TYPE_U64)) {
		m->has_st[t] = true;
		m->st[t] = mnl_attr_get_u64(a);
	}
	return MNL_CB_OK;
}

static int nl_attr_cb(const struct nlattr *a, void *data)
{
	struct nlmsg *m = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t > KIPC_A_MAX)
		return MNL_CB_OK;
	m->has[t] = true;
	if (t == KIPC_A_STATS)
		mnl_attr_parse_nested(a, nl_stat_cb, m);
	else if (t == KIPC_A_NAME)
		snprintf(m->name, sizeof(m->name), "%s", mnl_attr_get_str(a));
	else if (mnl_attr_get_payload_len(a) == 8)
		m->v[t] = mnl_attr_get_u64(a);
	else if (mnl_attr_get_payload_len(a) == 4)
		m->v[t] = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int nl_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlmsg *m = data;

	memset(m, 0, sizeof(*m));
	m->cmd = ((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd;
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), nl_attr_cb, m);
	return MNL_CB_OK;
}

static int nl_get(struct kipc_nl *nl, unsigned int index, struct nlmsg *m)
{
	struct nlmsghdr *nlh = kipc_nl_req(nl, nl->family, KIPC_CMD_GET_DEV,
					   NLM_F_ACK);

	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_MQ);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	return kipc_nl_rpc(nl, nlh, nl_msg_cb, m);
}

/* SET_DEV on mqN: up to 3 attributes (len 8, 4, or 0 for a flag). */
struct nlset {
	int attr;
	int len;
	uint64_t value;
};

static int nl_set(struct kipc_nl *nl, unsigned int index,
		  const struct nlset *a, int n, struct nlmsg *reply)
{
	struct nlmsghdr *nlh = kipc_nl_req(nl, nl->family, KIPC_CMD_SET_DEV,
					   NLM_F_ACK);
	struct nlmsg ignored;
	int i;

	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_MQ);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	for (i = 0; i < n; i++) {
		uint32_t v32 = a[i].value;

		mnl_attr_put(nlh, a[i].attr, a[i].len,
			     a[i].len == 4 ? (void *)&v32 : (void *)&a[i].value);
	}
	return kipc_nl_rpc(nl, nlh, nl_msg_cb, reply ? reply : &ignored);
}

#define NLSET1(nl, attr, len, v, reply) \
	nl_set(nl, 0, (struct nlset[]){ { attr, len, v } }, 1, reply)

struct events {
	int n;
	uint32_t event[64];
	uint64_t fill[64];
};

static int nl_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct events *e = data;
	struct nlmsg m;

	nl_msg_cb(nlh, &m);
	if (m.cmd != KIPC_CMD_EVENT || e->n >= 64)
		return MNL_CB_ERROR;
	if (!strcmp(m.name, "mq0")) {
		e->event[e->n] = m.v[KIPC_A_EVENT];
		e->fill[e->n] = m.v[KIPC_A_FILL];
		e->n++;
	}
	return MNL_CB_OK;
}

TEST_F(mq, nl_fill_reports_limits_fill_waiters_and_counters)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct nlmsg m;
	char buf[64];
	pid_t rpid, spid;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_RESET_STATS, 0, 0, &m)) TH_LOG("%s", nl->msg);
	ASSERT_EQ(0, msnd(self->fd, 1, buf, 10, 0));
	ASSERT_EQ(0, msnd(self->fd, 2, buf, 20, 0));
	ASSERT_EQ(0, msnd(self->fd, 3, buf, 0, 0));
	ASSERT_EQ(0, nl_get(nl, 0, &m));
	EXPECT_EQ(KIPC_CMD_GET_DEV, m.cmd);
	EXPECT_STREQ("mq0", m.name);
	EXPECT_EQ(16384U, m.v[KIPC_A_CAPACITY]);
	EXPECT_EQ(30U, m.v[KIPC_A_FILL]);
	EXPECT_EQ(3U, m.v[KIPC_A_MQ_MSGS]);
	EXPECT_EQ(8192U, m.v[KIPC_A_MQ_MAX_MSG_SIZE]);
	EXPECT_EQ(1024U, m.v[KIPC_A_MQ_MAX_MSGS]);
	EXPECT_TRUE(m.has[KIPC_A_HIGH_WATER]);
	EXPECT_EQ(0U, m.v[KIPC_A_HIGH_WATER]);
	EXPECT_TRUE(m.has[KIPC_A_READERS_WAITING]);
	EXPECT_EQ(0U, m.v[KIPC_A_READERS_WAITING]);
	EXPECT_TRUE(m.has[KIPC_A_WRITERS_WAITING]);
	EXPECT_EQ(0U, m.v[KIPC_A_WRITERS_WAITING]);
	EXPECT_EQ(30U, m.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(3U, m.st[KIPC_STAT_WRITES]);
	EXPECT_TRUE(m.has_st[KIPC_STAT_READS]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_READS]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_BYTES_OUT]);
	EXPECT_EQ(30U, m.st[KIPC_STAT_PEAK_FILL]);
	EXPECT_EQ(3U, m.st[KIPC_STAT_PEAK_MSGS]);
	EXPECT_TRUE(m.has_st[KIPC_STAT_WRITE_WAITS]);
	EXPECT_TRUE(m.has_st[KIPC_STAT_READ_WAITS]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_WRITE_WAITS]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_READ_WAITS]);

	/* A failed receive and a peek count for nothing. */
	ASSERT_EQ(-1, mrcv(self->fd, 0, bad_ptr, 64, 0, NULL));
	ASSERT_EQ(0, mrcv(self->fd, 0, buf, 0, KIPC_MQ_PEEK | KIPC_MQ_NOERROR,
			  NULL));
	ASSERT_EQ(10, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(20, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, nl_get(nl, 0, &m));
	EXPECT_EQ(2U, m.st[KIPC_STAT_READS]);
	EXPECT_EQ(30U, m.st[KIPC_STAT_BYTES_OUT]);
	EXPECT_EQ(0U, m.v[KIPC_A_FILL]);
	EXPECT_EQ(1U, m.v[KIPC_A_MQ_MSGS]);
	EXPECT_EQ(30U, m.st[KIPC_STAT_PEAK_FILL]);
	EXPECT_EQ(3U, m.st[KIPC_STAT_PEAK_MSGS]);

	/* One blocked receiver, one blocked sender (the queue is full). */
	ASSERT_EQ(0, mlimits(self->fd, 16384, 8192, 1));
	rpid = spawn();
	ASSERT_LE(0, rpid);
	if (rpid == 0) {
		CHK(mrcv(self->fd, 9, buf, sizeof(buf), 0, NULL) == 1);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(rpid, SYS_ioctl));
	spid = spawn();
	ASSERT_LE(0, spid);
	if (spid == 0) {
		CHK(msnd(self->fd, 5, buf, 5, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_sleeping(spid, SYS_ioctl));
	ASSERT_EQ(0, nl_get(nl, 0, &m));
	EXPECT_EQ(1U, m.v[KIPC_A_READERS_WAITING]);
	EXPECT_EQ(1U, m.v[KIPC_A_WRITERS_WAITING]);
	EXPECT_EQ(1U, m.st[KIPC_STAT_READ_WAITS]);
	EXPECT_EQ(1U, m.st[KIPC_STAT_WRITE_WAITS]);
	/* Full, but the waiting receiver takes it straight away. */
	ASSERT_EQ(0, msnd(self->fd, 9, "9", 1, KIPC_MQ_NOWAIT));
	ASSERT_EQ(0, reap(rpid));
	ASSERT_EQ(0, mrcv(self->fd, 3, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, reap(spid));
	ASSERT_EQ(0, nl_get(nl, 0, &m));
	EXPECT_EQ(0U, m.v[KIPC_A_READERS_WAITING]);
	EXPECT_EQ(0U, m.v[KIPC_A_WRITERS_WAITING]);
	EXPECT_EQ(5U, m.st[KIPC_STAT_WRITES]);
	EXPECT_EQ(4U, m.st[KIPC_STAT_READS]);
	EXPECT_EQ(36U, m.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(31U, m.st[KIPC_STAT_BYTES_OUT]);
	EXPECT_EQ(5U, m.v[KIPC_A_FILL]);
	kipc_nl_close(nl);
}

TEST_F(mq, nl_set_limits_flush_reset_high_water)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct kipc_mq_stat s;
	struct nlmsg m;
	char buf[64];

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, nl_set(nl, 0, (struct nlset[]){
				{ KIPC_A_CAPACITY, 8, 1000 },
				{ KIPC_A_MQ_MAX_MSG_SIZE, 4, 100 },
				{ KIPC_A_MQ_MAX_MSGS, 4, 5 } }, 3, &m))
		TH_LOG("%s", nl->msg);
	/* The reply is the new state; the device agrees. */
	EXPECT_EQ(KIPC_CMD_SET_DEV, m.cmd);
	EXPECT_EQ(1000U, m.v[KIPC_A_CAPACITY]);
	EXPECT_EQ(100U, m.v[KIPC_A_MQ_MAX_MSG_SIZE]);
	EXPECT_EQ(5U, m.v[KIPC_A_MQ_MAX_MSGS]);
	s = mstat(self->fd);
	EXPECT_EQ(1000U, s.max_bytes);
	EXPECT_EQ(100U, s.max_msg_size);
	EXPECT_EQ(5U, s.max_msgs);
	EXPECT_EQ(-1, msnd(self->fd, 1, buf, 101, 0));
	EXPECT_EQ(EINVAL, errno);

	/* All or nothing: a bad attribute leaves the good one unapplied. */
	ASSERT_EQ(-EINVAL, nl_set(nl, 0, (struct nlset[]){
				{ KIPC_A_CAPACITY, 8, 2000 },
				{ KIPC_A_MQ_MAX_MSG_SIZE, 4, 0x80000000U } }, 2, NULL));
	EXPECT_STREQ("limit out of range", nl->msg);
	EXPECT_EQ(1000U, mstat(self->fd).max_bytes);
	ASSERT_EQ(-EINVAL, NLSET1(nl, KIPC_A_CAPACITY, 8, 1ULL << 32, NULL));
	/* The family's policy refuses 0 before the queue sees it. */
	ASSERT_EQ(-ERANGE, NLSET1(nl, KIPC_A_MQ_MAX_MSGS, 4, 0, NULL));
	ASSERT_EQ(-EINVAL, NLSET1(nl, KIPC_A_FILL, 8, 5, NULL));

	ASSERT_EQ(0, NLSET1(nl, KIPC_A_HIGH_WATER, 8, 500, &m));
	EXPECT_EQ(500U, m.v[KIPC_A_HIGH_WATER]);
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_HIGH_WATER, 8, 0, &m));
	EXPECT_EQ(0U, m.v[KIPC_A_HIGH_WATER]);

	ASSERT_EQ(0, msnd(self->fd, 1, buf, 40, 0));
	ASSERT_EQ(0, msnd(self->fd, 1, buf, 30, 0));
	ASSERT_EQ(40, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_RESET_STATS, 0, 0, &m));
	EXPECT_EQ(0U, m.st[KIPC_STAT_WRITES]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_READS]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(0U, m.st[KIPC_STAT_BYTES_OUT]);
	/* Peaks restart from what is queued now. */
	EXPECT_EQ(30U, m.st[KIPC_STAT_PEAK_FILL]);
	EXPECT_EQ(1U, m.st[KIPC_STAT_PEAK_MSGS]);
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_FLUSH, 0, 0, &m));
	EXPECT_EQ(0U, m.v[KIPC_A_MQ_MSGS]);
	EXPECT_EQ(0U, m.v[KIPC_A_FILL]);
	EXPECT_EQ(0U, nmsgs(self->fd));
	kipc_nl_close(nl);
}

TEST_F(mq, nl_set_above_module_maxima_needs_cap_sys_resource)
{
	unsigned long mb = read_param("mq_max_bytes");
	unsigned long mm = read_param("mq_max_msgs");
	struct kipc_nl *nl = kipc_nl_open(false);
	struct nlmsg m;
	pid_t pid;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_CAPACITY, 8, mb + 1, &m)) TH_LOG("%s", nl->msg);
	EXPECT_EQ(mb + 1, m.v[KIPC_A_CAPACITY]);
	kipc_nl_close(nl);
	ASSERT_EQ(0, mq_reset(self->fd));

	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHK(drop_sys_resource() == 0);
		nl = kipc_nl_open(false);
		CHK(nl);
		CHK(NLSET1(nl, KIPC_A_CAPACITY, 8, mb + 1, NULL) == -EPERM);
		CHK(!strcmp(nl->msg,
			    "CAP_SYS_RESOURCE needed above module maximum"));
		CHK(NLSET1(nl, KIPC_A_MQ_MAX_MSGS, 4, mm + 1, NULL) == -EPERM);
		CHK(mstat(self->fd).max_bytes == 16384);
		CHK(NLSET1(nl, KIPC_A_CAPACITY, 8, mb, &m) == 0);
		CHK(m.v[KIPC_A_CAPACITY] == mb);
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
}

TEST_F(mq, nl_events_on_state_changes_only)
{
	static const uint32_t want[] = {
		KIPC_EVENT_RESIZED, KIPC_EVENT_HIGH_WATER, KIPC_EVENT_FULL,
		KIPC_EVENT_EMPTY, KIPC_EVENT_FLUSHED,
	};
	static const uint64_t want_fill[] = { 0, 120, 120, 0, 0 };
	struct kipc_nl *mon = kipc_nl_open(true), *nl = kipc_nl_open(false);
	struct events e = { 0 };
	char buf[64];
	int i;

	ASSERT_NE(NULL, mon);
	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, mlimits(self->fd, 1000, 100, 3));
	ASSERT_EQ(0, mlimits(self->fd, 1000, 100, 3));	/* no change */
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_HIGH_WATER, 8, 100, NULL));
	ASSERT_EQ(0, msnd(self->fd, 1, buf, 60, 0));
	ASSERT_EQ(0, msnd(self->fd, 1, buf, 60, 0));	/* 120: high water */
	ASSERT_EQ(0, msnd(self->fd, 1, buf, 0, 0));	/* 3 of 3: full */
	ASSERT_EQ(60, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(60, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));	/* empty */
	ASSERT_EQ(0, msnd(self->fd, 1, buf, 10, 0));
	ASSERT_EQ(1, ioctl(self->fd, KIPC_MQ_FLUSH));		/* flushed */
	ASSERT_EQ(0, ioctl(self->fd, KIPC_MQ_FLUSH));		/* nothing */
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_FLUSH, 0, 0, NULL));	/* nothing */
	ASSERT_EQ(0, NLSET1(nl, KIPC_A_HIGH_WATER, 8, 0, NULL));
	ASSERT_EQ(0, kipc_nl_drain(mon, nl_event_cb, &e));
	for (i = 0; i < e.n; i++)
		TH_LOG("event %d: %u fill %llu", i, e.event[i],
		       (unsigned long long)e.fill[i]);
	ASSERT_EQ(5, e.n);
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(want[i], e.event[i]);
		EXPECT_EQ(want_fill[i], e.fill[i]);
	}
	kipc_nl_close(nl);
	kipc_nl_close(mon);
}

/* --- last: leave messages behind for rmmod to free ------------------------ */

/* --- readv, writev, RWF_NOWAIT ------------------------------------------- */

TEST_F(mq, writev_is_one_message_of_the_file_type)
{
	static char big[8193];
	struct iovec iov[3] = {
		{ "ab", 2 }, { "cd", 2 }, { "ef", 2 },
	};
	long long type = 0;
	char buf[16] = { 0 };

	ASSERT_EQ(0, mopts(self->fd, 7, 0, 0));
	ASSERT_EQ(6, writev(self->fd, iov, 3));
	EXPECT_EQ(1U, nmsgs(self->fd));
	EXPECT_EQ(6U, mstat(self->fd).bytes);
	ASSERT_EQ(6, mrcv(self->fd, 0, buf, sizeof(buf), 0, &type));
	EXPECT_EQ(7, type);
	EXPECT_EQ(0, memcmp(buf, "abcdef", 6));

	/* Over max_msg_size in total, though each iovec fits: EINVAL. */
	iov[0] = (struct iovec){ big, 4096 };
	iov[1] = (struct iovec){ big, 4097 };
	ASSERT_EQ(-1, writev(self->fd, iov, 2));
	EXPECT_EQ(EINVAL, errno);
	iov[1].iov_len = 4096;
	ASSERT_EQ(8192, writev(self->fd, iov, 2));
	EXPECT_EQ(1U, nmsgs(self->fd));

	/* A bad address in any iovec: EFAULT, nothing sent. */
	iov[0] = (struct iovec){ "ab", 2 };
	iov[1] = (struct iovec){ bad_ptr, 2 };
	iov[2] = (struct iovec){ "ef", 2 };
	ASSERT_EQ(-1, writev(self->fd, iov, 3));
	EXPECT_EQ(EFAULT, errno);
	iov[1] = (struct iovec){ "cd", 2 };
	iov[2] = (struct iovec){ bad_ptr, 2 };
	ASSERT_EQ(-1, writev(self->fd, iov, 3));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1U, nmsgs(self->fd));
	EXPECT_EQ(8192U, mstat(self->fd).bytes);
}

TEST_F(mq, readv_is_one_message_scattered)
{
	char a[8], b[8], c[16];
	struct iovec iov[3] = { { a, 3 }, { b, 3 }, { c, 10 } };
	long long type = 0;

	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	memset(c, 'C', sizeof(c));
	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	ASSERT_EQ(2, write(self->fd, "zz", 2));
	ASSERT_EQ(10, readv(self->fd, iov, 3));
	EXPECT_EQ(0, memcmp(a, "012A", 4));
	EXPECT_EQ(0, memcmp(b, "345B", 4));
	EXPECT_EQ(0, memcmp(c, "6789CCCCCC", 10));
	EXPECT_EQ(1U, nmsgs(self->fd));
	ASSERT_EQ(2, readv(self->fd, iov, 3));
	EXPECT_EQ(0, memcmp(a, "zz2", 3));

	/* Longer than all the iovecs: EMSGSIZE, it stays queued. */
	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	iov[2].iov_len = 3;
	ASSERT_EQ(-1, readv(self->fd, iov, 3));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1U, nmsgs(self->fd));
	EXPECT_EQ(10U, mstat(self->fd).bytes);

	/* A bad address the message reaches: EFAULT, it stays queued. */
	iov[1] = (struct iovec){ bad_ptr, 8 };
	ASSERT_EQ(-1, readv(self->fd, iov, 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1U, nmsgs(self->fd));
	EXPECT_EQ(10U, mstat(self->fd).bytes);

	/* NOERROR: truncated to the iovecs, the rest dropped. */
	ASSERT_EQ(0, mopts(self->fd, 1, 0, KIPC_MQ_NOERROR));
	iov[1] = (struct iovec){ b, 3 };
	memset(c, 'C', sizeof(c));
	ASSERT_EQ(9, readv(self->fd, iov, 3));
	EXPECT_EQ(0, memcmp(c, "678C", 4));
	EXPECT_EQ(0U, nmsgs(self->fd));
	EXPECT_EQ(0U, mstat(self->fd).bytes);

	/* The file's selector applies. */
	ASSERT_EQ(0, mopts(self->fd, 1, 3, 0));
	ASSERT_EQ(0, msnd(self->fd, 2, "two", 3, 0));
	ASSERT_EQ(0, msnd(self->fd, 3, "three", 5, 0));
	iov[0].iov_len = 2;
	ASSERT_EQ(5, readv(self->fd, iov, 2));
	EXPECT_EQ(0, memcmp(a, "th", 2));
	EXPECT_EQ(0, memcmp(b, "ree", 3));
	ASSERT_EQ(3, mrcv(self->fd, 0, c, sizeof(c), 0, &type));
	EXPECT_EQ(2, type);
}

TEST_F(mq, rwf_nowait_on_a_blocking_file)
{
	static char big[8192];
	struct iovec iov = { big, sizeof(big) };

	/* Empty: EAGAIN at once, where read(2) would sleep. */
	ASSERT_EQ(-1, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	/* Nothing of the file's type: the same. */
	ASSERT_EQ(0, mopts(self->fd, 1, 5, 0));
	ASSERT_EQ(0, msnd(self->fd, 4, "four", 4, 0));
	ASSERT_EQ(-1, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, mopts(self->fd, 1, 0, 0));
	ASSERT_EQ(4, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(0, memcmp(big, "four", 4));

	/* Full: EAGAIN at once, nothing queued; room: sent. */
	ASSERT_EQ(8192, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(8192, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(-1, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(2U, nmsgs(self->fd));
	EXPECT_EQ(16384U, mstat(self->fd).bytes);
	ASSERT_EQ(8192, read(self->fd, big, sizeof(big)));
	ASSERT_EQ(8192, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(2U, nmsgs(self->fd));
	/* The file stays blocking: no flag left behind. */
	EXPECT_EQ(O_RDWR, fcntl(self->fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
}

/* --- poll agrees with a sleeping sender ---------------------------------- */

/*
 * EPOLLOUT means: a message of the size this file sent last (1 byte
 * before its first send) fits now, the predicate a blocked sender of that
 * size sleeps on.  1 KiB messages on a queue of 16000 bytes: 100 + 15 KiB
 * queued leaves 540 bytes, no room for 1 KiB.
 */
TEST_F(mq, pollout_needs_room_for_the_size_last_sent)
{
	static char kb[1024];
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET };
	int wr = mq_open(MQ0, O_WRONLY | O_NONBLOCK);
	int fresh = mq_open(MQ0, O_RDWR);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	char buf[2048];
	int n;

	ASSERT_LE(0, wr);
	ASSERT_LE(0, fresh);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, mlimits(self->fd, 16000, 8192, 1024));
	ASSERT_EQ(0, msnd(self->fd, 2, kb, 100, 0));
	for (n = 0; n < 100; n++)
		if (write(wr, kb, sizeof(kb)) != sizeof(kb))
			break;
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(15, n);
	EXPECT_EQ(15460U, mstat(self->fd).bytes);

	/* Not writable for 1 KiB; a file that never sent: 1 byte fits. */
	EXPECT_EQ(0, poll_mask(wr));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, poll_mask(fresh));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, wr, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	/* A receive that makes 640 bytes of room: still no. */
	ASSERT_EQ(100, mrcv(self->fd, 2, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(0, poll_mask(wr));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(-1, write(wr, kb, sizeof(kb)));
	EXPECT_EQ(EAGAIN, errno);

	/* Room for one 1 KiB message: one edge, and the write succeeds. */
	ASSERT_EQ(1024, mrcv(self->fd, 0, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(wr));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	EXPECT_EQ((unsigned int)EPOLLOUT, ev.events);
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(1024, write(wr, kb, sizeof(kb)));
	EXPECT_EQ(0, poll_mask(wr));

	/* The count limit: not even 1 byte. */
	ASSERT_EQ(0, mlimits(self->fd, 16000, 8192, nmsgs(self->fd)));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(fresh));
	close(ep);
	close(wr);
	close(fresh);
}

TEST_F(mq, pollout_before_the_first_send_is_for_one_byte)
{
	int f2 = mq_open(MQ0, O_RDWR), f3 = mq_open(MQ0, O_WRONLY);

	ASSERT_LE(0, f2);
	ASSERT_LE(0, f3);
	ASSERT_EQ(0, mlimits(self->fd, 10, 10, 10));
	ASSERT_EQ(10, write(f2, "0123456789", 10));
	/* bytes == max_bytes: not even one byte fits. */
	EXPECT_EQ(0, poll_mask(f3));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(f2));
	ASSERT_EQ(0, mlimits(self->fd, 11, 10, 10));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(f3));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(f2));
	/* What a file sent last, not what the queue holds, decides. */
	ASSERT_EQ(1, write(f3, "x", 1));
	EXPECT_EQ(0, poll_mask(f3));
	ASSERT_EQ(0, mlimits(self->fd, 12, 10, 10));
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_mask(f3));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_mask(f2));
	close(f2);
	close(f3);
}

/*
 * An event-driven sender: poll for POLLOUT, then write 1 KiB without
 * blocking, while another process receives.  Writable must mean the
 * write succeeds: not one EAGAIN (the old mask spun on EAGAIN).
 */
TEST_F(mq, level_triggered_sender_never_fails_a_write)
{
	static char kb[1024];
	int wr = mq_open(MQ0, O_WRONLY | O_NONBLOCK);
	int sent = 0, failed = 0, polls = 0, n;
	pid_t pid;

	ASSERT_LE(0, wr);
	for (n = 0; n < 100; n++)
		if (write(wr, kb, sizeof(kb)) != sizeof(kb))
			break;
	ASSERT_EQ(16, n);
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int rd = mq_open(MQ0, O_RDONLY), i;
		char buf[1024];

		CHK(rd >= 0);
		for (i = 0; i < 200; i++)
			CHK(read(rd, buf, sizeof(buf)) == sizeof(buf));
		_exit(0);
	}
	while (sent < 200 && failed < 1000) {
		struct pollfd p = { .fd = wr, .events = POLLOUT };

		ASSERT_EQ(1, poll(&p, 1, 60000));
		polls++;
		if (write(wr, kb, sizeof(kb)) == sizeof(kb))
			sent++;
		else if (errno == EAGAIN)
			failed++;
		else
			ASSERT_TRUE(0) TH_LOG("write: %s", strerror(errno));
	}
	if (sent < 200)
		kill(pid, SIGKILL);
	EXPECT_EQ(0, failed) TH_LOG("%d writes of %d failed", failed, polls);
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(16U, nmsgs(self->fd));
	close(wr);
}

TEST(zz_leave_messages_for_module_unload)
{
	static char big[4096];
	int fd = mq_open(MQ1, O_RDWR);
	int i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mq_reset(fd));
	/* Small and large buffers, for destroy() to free. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, msnd(fd, 1, "left", 4, 0));
		ASSERT_EQ(0, msnd(fd, 2, big, sizeof(big), 0));
	}
	EXPECT_EQ(6U, nmsgs(fd));
	close(fd);
}

TEST_HARNESS_MAIN
