// SPDX-License-Identifier: GPL-2.0
/*
 * The message queue driven from io_uring (liburing): IORING_OP_READ and
 * IORING_OP_WRITE (one message each, as read(2)/write(2)), linked and
 * batched; IORING_OP_URING_CMD with cmd_op KIPC_MQ_SEND, KIPC_MQ_RECV
 * and the batch commands, whose CQE res is what the ioctl returns;
 * blocked requests completed by a later send, and cancelled by
 * io_uring_prep_cancel(), by closing the ring and by the process exiting:
 * the request ends -ECANCELED or -EINTR (either is accepted: which one
 * depends on whether io_uring had started it in a worker), nothing hangs,
 * and no message sent afterwards is swallowed by the dead request (the
 * queue's counters stay exact).  SQPOLL where the kernel allows it.
 *
 * Blocking is observed through the queue's waiter count (netlink
 * KIPC_A_READERS_WAITING), never by sleeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <liburing.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_nl.h"
#include "kipc_proc.h"
#include "kipc_mq.h"

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define MQ0 KIPC_DEV_DIR "/mq0"

/* An address no process maps; volatile hides it from the compiler. */
static void *volatile bad_ptr = (void *)8;

/* A check in a child: report and exit 1. */
#define CHK(cond) do {							\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: %s (errno %d)\n",	\
			getpid(), __FILE__, __LINE__, #cond, errno);	\
		_exit(1);						\
	}								\
} while (0)

static int mq_reset(int fd)
{
	struct kipc_mq_limits l = {
		KIPC_MQ_DEF_BYTES, KIPC_MQ_DEF_MSG_SIZE, KIPC_MQ_DEF_MSGS, 0
	};
	struct kipc_mq_fileopts o = { .send_type = 1 };

	if (ioctl(fd, KIPC_MQ_SET_LIMITS, &l) ||
	    ioctl(fd, KIPC_MQ_SET_FILEOPTS, &o))
		return -1;
	return ioctl(fd, KIPC_MQ_FLUSH) < 0 ? -1 : 0;
}

/* --- the queue's figures from netlink ------------------------------------ */

struct figures {
	uint32_t readers, writers, msgs;
	uint64_t reads, writes;
};

static int fig_stat_cb(const struct nlattr *a, void *data)
{
	struct figures *f = data;

	if (mnl_attr_validate(a, MNL_TYPE_U64))
		return MNL_CB_OK;
	if (mnl_attr_get_type(a) == KIPC_STAT_READS)
		f->reads = mnl_attr_get_u64(a);
	if (mnl_attr_get_type(a) == KIPC_STAT_WRITES)
		f->writes = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

static int fig_attr_cb(const struct nlattr *a, void *data)
{
	struct figures *f = data;

	switch (mnl_attr_get_type(a)) {
	case KIPC_A_READERS_WAITING:
		f->readers = mnl_attr_get_u32(a);
		break;
	case KIPC_A_WRITERS_WAITING:
		f->writers = mnl_attr_get_u32(a);
		break;
	case KIPC_A_MQ_MSGS:
		f->msgs = mnl_attr_get_u32(a);
		break;
	case KIPC_A_STATS:
		mnl_attr_parse_nested(a, fig_stat_cb, f);
		break;
	}
	return MNL_CB_OK;
}

static int fig_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), fig_attr_cb,
			      data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int figures(struct kipc_nl *nl, struct figures *f)
{
	struct nlmsghdr *nlh = kipc_nl_req(nl, nl->family, KIPC_CMD_GET_DEV,
					   NLM_F_ACK);

	memset(f, 0xff, sizeof(*f));
	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_MQ);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
	return kipc_nl_rpc(nl, nlh, fig_msg_cb, f);
}

/*
 * Wait until mq0 has @n blocked receivers, or until @ring (if given) has a
 * completion (the request did not block: the caller's checks then say
 * why).  0 when reached, 1 for a completion, -1 after 60 s.
 */
static int wait_readers(struct kipc_nl *nl, struct io_uring *ring,
			uint32_t n)
{
	struct io_uring_cqe *cqe;
	struct figures f;
	int i;

	for (i = 0; i < 120000; i++) {
		if (!figures(nl, &f) && f.readers == n)
			return 0;
		if (ring && !io_uring_peek_cqe(ring, &cqe))
			return 1;
		usleep(500);
	}
	return -1;
}

/* The same, but a byte readable on @fd means the request completed. */
static int wait_readers_fd(struct kipc_nl *nl, int fd, uint32_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct figures f;
	int i;

	for (i = 0; i < 120000; i++) {
		if (!figures(nl, &f) && f.readers == n)
			return 0;
		if (poll(&p, 1, 0) == 1)
			return 1;
		usleep(500);
	}
	return -1;
}

/* --- io_uring ------------------------------------------------------------ */

static void prep_cmd(struct io_uring_sqe *sqe, int fd, __u32 op,
		     const void *arg, __u64 reserved)
{
	struct kipc_mq_uring_cmd c = {
		.arg = (uintptr_t)arg, .__reserved = reserved,
	};

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &c, sizeof(c));
}

/* The next completion, within 60 s: its res, its user_data in *ud. */
static int next_cqe(struct io_uring *ring, __u64 *ud)
{
	struct __kernel_timespec ts = { .tv_sec = 60 };
	struct io_uring_cqe *cqe;
	int res, ret;

	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return -10000 + ret;	/* no completion: a distinct value */
	res = cqe->res;
	if (ud)
		*ud = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* Submit one command and return its CQE res. */
static int run_cmd(struct io_uring *ring, int fd, __u32 op, const void *arg,
		   __u64 reserved)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -20000;
	prep_cmd(sqe, fd, op, arg, reserved);
	if (io_uring_submit(ring) != 1)
		return -20001;
	return next_cqe(ring, NULL);
}

static int run_rw(struct io_uring *ring, int fd, bool write, void *buf,
		  unsigned int len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -20000;
	if (write)
		io_uring_prep_write(sqe, fd, buf, len, 0);
	else
		io_uring_prep_read(sqe, fd, buf, len, 0);
	if (io_uring_submit(ring) != 1)
		return -20001;
	return next_cqe(ring, NULL);
}

FIXTURE(ur) {
	int fd;
	struct io_uring ring;
	bool ring_up;
	struct kipc_nl *nl;
};

FIXTURE_SETUP(ur)
{
	int ret;

	self->fd = open(MQ0, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MQ0, strerror(errno));
	ASSERT_EQ(0, mq_reset(self->fd));
	self->nl = kipc_nl_open(false);
	ASSERT_NE(NULL, self->nl);
	ret = io_uring_queue_init(64, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring is not available: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->ring_up = true;
}

FIXTURE_TEARDOWN(ur)
{
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	kipc_nl_close(self->nl);
	mq_reset(self->fd);
	close(self->fd);
}

/* --- read and write ------------------------------------------------------ */

TEST_F(ur, read_write_one_message_each)
{
	static char big[8193];
	char buf[64] = { 0 };
	struct kipc_mq_msg m = { .buf = (uintptr_t)buf, .len = sizeof(buf) };

	ASSERT_EQ(5, run_rw(&self->ring, self->fd, true, "hello", 5));
	ASSERT_EQ(3, run_rw(&self->ring, self->fd, true, "abc", 3));
	EXPECT_EQ(2U, mstat(self->fd).msgs);
	EXPECT_EQ(8U, mstat(self->fd).bytes);
	/* One whole message per read, whatever the buffer size. */
	ASSERT_EQ(5, run_rw(&self->ring, self->fd, false, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	/* Too small: EMSGSIZE, it stays; then a receive gets it, type 1. */
	ASSERT_EQ(-EMSGSIZE, run_rw(&self->ring, self->fd, false, buf, 2));
	EXPECT_EQ(1U, mstat(self->fd).msgs);
	ASSERT_EQ(3, ioctl(self->fd, KIPC_MQ_RECV, &m));
	EXPECT_EQ(1, m.type);
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	/* Over max_msg_size: EINVAL, as write(2). */
	ASSERT_EQ(-EINVAL, run_rw(&self->ring, self->fd, true, big,
				  sizeof(big)));
	/* A bad buffer: EFAULT, nothing sent, nothing consumed. */
	ASSERT_EQ(-EFAULT, run_rw(&self->ring, self->fd, true, bad_ptr, 4));
	EXPECT_EQ(0U, mstat(self->fd).msgs);
	ASSERT_EQ(2, write(self->fd, "zz", 2));
	ASSERT_EQ(-EFAULT, run_rw(&self->ring, self->fd, false, bad_ptr, 8));
	EXPECT_EQ(1U, mstat(self->fd).msgs);
}

/*
 * One chain of four writes and four reads.  io_uring fails a link on a
 * short read, so with IOSQE_IO_LINK each read asks for exactly its
 * message's length; with IOSQE_IO_HARDLINK the buffers may be larger.
 */
static void linked(struct __test_metadata *_metadata, struct io_uring *ring,
		   int fd, unsigned int link)
{
	static const char *const words[4] = { "one", "two!", "three", "4" };
	char out[4][16];
	struct io_uring_sqe *sqe;
	int i;

	memset(out, 0, sizeof(out));
	for (i = 0; i < 4; i++) {
		sqe = io_uring_get_sqe(ring);
		ASSERT_NE(NULL, sqe);
		io_uring_prep_write(sqe, fd, words[i], strlen(words[i]), 0);
		io_uring_sqe_set_data64(sqe, i);
		sqe->flags |= link;
	}
	for (i = 0; i < 4; i++) {
		sqe = io_uring_get_sqe(ring);
		ASSERT_NE(NULL, sqe);
		io_uring_prep_read(sqe, fd, out[i], link == IOSQE_IO_LINK ?
				   strlen(words[i]) : sizeof(out[i]), 0);
		io_uring_sqe_set_data64(sqe, 4 + i);
		if (i < 3)
			sqe->flags |= link;
	}
	ASSERT_EQ(8, io_uring_submit(ring));
	for (i = 0; i < 8; i++) {
		__u64 ud = ~0ULL;
		int res = next_cqe(ring, &ud);

		/* A chain completes in order. */
		ASSERT_EQ((__u64)i, ud);
		EXPECT_EQ((int)strlen(words[i % 4]), res) TH_LOG("sqe %d", i);
	}
	for (i = 0; i < 4; i++)
		EXPECT_STREQ(words[i], out[i]);
	EXPECT_EQ(0U, mstat(fd).msgs);
}

TEST_F(ur, linked_writes_and_reads_in_order)
{
	linked(_metadata, &self->ring, self->fd, IOSQE_IO_LINK);
}

TEST_F(ur, hardlinked_writes_and_reads_in_order)
{
	linked(_metadata, &self->ring, self->fd, IOSQE_IO_HARDLINK);
}

#define MANY 48

TEST_F(ur, many_sqes_one_submit)
{
	char out[MANY][16];
	unsigned int got[MANY] = { 0 };
	struct io_uring_sqe *sqe;
	char in[MANY][16];
	int i, n;

	for (i = 0; i < MANY; i++) {
		snprintf(in[i], sizeof(in[i]), "msg-%02d", i);
		sqe = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe);
		io_uring_prep_write(sqe, self->fd, in[i], 6, 0);
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(MANY, io_uring_submit(&self->ring));
	for (i = 0; i < MANY; i++)
		EXPECT_EQ(6, next_cqe(&self->ring, NULL));
	EXPECT_EQ((unsigned int)MANY, mstat(self->fd).msgs);
	EXPECT_EQ(MANY * 6U, mstat(self->fd).bytes);

	memset(out, 0, sizeof(out));
	for (i = 0; i < MANY; i++) {
		sqe = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe);
		io_uring_prep_read(sqe, self->fd, out[i], sizeof(out[i]), 0);
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(MANY, io_uring_submit(&self->ring));
	for (i = 0; i < MANY; i++) {
		__u64 ud = ~0ULL;

		ASSERT_EQ(6, next_cqe(&self->ring, &ud));
		ASSERT_GT((__u64)MANY, ud);
		/* Each message exactly once (order across SQEs is free). */
		ASSERT_EQ(1, sscanf(out[ud], "msg-%d", &n));
		ASSERT_LE(0, n);
		ASSERT_GT(MANY, n);
		got[n]++;
	}
	for (i = 0; i < MANY; i++)
		EXPECT_EQ(1U, got[i]) TH_LOG("msg-%02d", i);
	EXPECT_EQ(0U, mstat(self->fd).msgs);
}

TEST_F(ur, blocked_read_completed_by_a_later_write)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	char buf[32] = { 0 };
	pid_t pid;

	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_read(sqe, self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* The queue is empty: it cannot have completed. */
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(MQ0, O_WRONLY | O_CLOEXEC);

		CHK(fd >= 0);
		CHK(write(fd, "late", 4) == 4);
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
	ASSERT_EQ(4, next_cqe(&self->ring, NULL));
	EXPECT_EQ(0, memcmp(buf, "late", 4));
	EXPECT_EQ(0U, mstat(self->fd).msgs);
}

TEST_F(ur, blocked_write_completed_by_a_later_read)
{
	static char big[8192];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	pid_t pid;

	ASSERT_EQ(8192, write(self->fd, big, sizeof(big)));
	ASSERT_EQ(8192, write(self->fd, big, sizeof(big)));
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_write(sqe, self->fd, "room?", 5, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	EXPECT_EQ(2U, mstat(self->fd).msgs);
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(MQ0, O_RDONLY | O_CLOEXEC);

		CHK(fd >= 0);
		CHK(read(fd, big, sizeof(big)) == sizeof(big));
		_exit(0);
	}
	ASSERT_EQ(0, reap(pid));
	ASSERT_EQ(5, next_cqe(&self->ring, NULL));
	EXPECT_EQ(2U, mstat(self->fd).msgs);
	EXPECT_EQ(8197U, mstat(self->fd).bytes);
}

/* --- uring_cmd ----------------------------------------------------------- */

TEST_F(ur, cmd_send_and_recv_as_the_ioctl)
{
	char buf[64] = { 0 };
	struct kipc_mq_msg s = { .type = 7, .buf = (uintptr_t)"seven",
				 .len = 5 };
	struct kipc_mq_msg r = { .type = 0, .buf = (uintptr_t)buf,
				 .len = sizeof(buf) };

	ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &s, 0));
	EXPECT_EQ(1U, mstat(self->fd).msgs);
	EXPECT_EQ(getpid(), mstat(self->fd).last_send_pid);
	ASSERT_EQ(5, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &r, 0));
	/* type and len are written back, as by the ioctl. */
	EXPECT_EQ(7, r.type);
	EXPECT_EQ(5U, r.len);
	EXPECT_EQ(0, memcmp(buf, "seven", 5));
	EXPECT_EQ(0U, mstat(self->fd).msgs);

	/* A message sent by uring_cmd reads back through read(2), and back. */
	s.type = 3;
	ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &s, 0));
	ASSERT_EQ(5, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(2, write(self->fd, "wr", 2));
	r = (struct kipc_mq_msg){ .buf = (uintptr_t)buf, .len = sizeof(buf) };
	ASSERT_EQ(2, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &r, 0));
	EXPECT_EQ(1, r.type);
	EXPECT_EQ(0, memcmp(buf, "wr", 2));

	/* A zero-length message. */
	s.len = 0;
	ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &s, 0));
	r = (struct kipc_mq_msg){ .buf = (uintptr_t)buf, .len = sizeof(buf) };
	ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &r, 0));
	EXPECT_EQ(3, r.type);
	EXPECT_EQ(0U, r.len);
}

TEST_F(ur, cmd_errors_as_the_ioctl)
{
	char buf[16];
	struct kipc_mq_msg m = { .type = 1, .buf = (uintptr_t)buf, .len = 4 };
	int ro;

	/* __reserved must be 0. */
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &m, 1));
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &m,
				   1ULL << 63));
	EXPECT_EQ(0U, mstat(self->fd).msgs);
	/* Commands the queue does not take over io_uring. */
	EXPECT_EQ(-ENOTTY, run_cmd(&self->ring, self->fd,
				   _IO(KIPC_IOC_MAGIC, 0x7f), &m, 0));
	EXPECT_EQ(-ENOTTY, run_cmd(&self->ring, self->fd, KIPC_PIPE_GET_SIZE,
				   &m, 0));
	EXPECT_EQ(-ENOTTY, run_cmd(&self->ring, self->fd, 0, &m, 0));
	/* Nothing matches and NOWAIT: the ioctl's ENOMSG. */
	m = (struct kipc_mq_msg){ .buf = (uintptr_t)buf, .len = sizeof(buf),
				  .flags = KIPC_MQ_NOWAIT };
	EXPECT_EQ(-ENOMSG, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &m, 0));
	/* Bad pointers: EFAULT. */
	EXPECT_EQ(-EFAULT, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND,
				   bad_ptr, 0));
	EXPECT_EQ(-EFAULT, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV,
				   bad_ptr, 0));
	m = (struct kipc_mq_msg){ .type = 1, .buf = (uintptr_t)bad_ptr,
				  .len = 4 };
	EXPECT_EQ(-EFAULT, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &m, 0));
	EXPECT_EQ(0U, mstat(self->fd).msgs);
	/* Bad values: EINVAL; too small a buffer: E2BIG, kept. */
	m = (struct kipc_mq_msg){ .type = 0, .buf = (uintptr_t)buf, .len = 4 };
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &m, 0));
	m = (struct kipc_mq_msg){ .type = 1, .buf = (uintptr_t)buf, .len = 4,
				  .flags = KIPC_MQ_PEEK };
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &m, 0));
	m = (struct kipc_mq_msg){ .type = 1, .buf = (uintptr_t)buf, .len = 8193 };
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &m, 0));
	m = (struct kipc_mq_msg){ .buf = (uintptr_t)buf, .len = 4,
				  .flags = 0x80 };
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &m, 0));
	ASSERT_EQ(0, msnd(self->fd, 1, "0123456789", 10, 0));
	m = (struct kipc_mq_msg){ .buf = (uintptr_t)buf, .len = 4 };
	EXPECT_EQ(-E2BIG, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &m, 0));
	EXPECT_EQ(1U, mstat(self->fd).msgs);
	/* The open mode: EBADF, as the ioctl. */
	ro = open(MQ0, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	m = (struct kipc_mq_msg){ .type = 1, .buf = (uintptr_t)buf, .len = 4 };
	EXPECT_EQ(-EBADF, run_cmd(&self->ring, ro, KIPC_MQ_SEND, &m, 0));
	close(ro);
	EXPECT_EQ(1U, mstat(self->fd).msgs);
}

TEST_F(ur, cmd_typed_selection_as_the_ioctl)
{
	static const long long types[] = { 5, 3, 5, 1, 2, 3, 4 };
	static const struct {
		long long sel;
		unsigned int flags;
		long long type;
		char c;
	} want[] = {
		{ 3, 0, 3, 'b' },
		{ 3, KIPC_MQ_EXCEPT, 5, 'a' },
		{ -3, 0, 1, 'd' },
		{ -3, 0, 2, 'e' },
		{ -3, 0, 3, 'f' },
		{ 0, KIPC_MQ_PEEK, 5, 'c' },
		{ 4, 0, 4, 'g' },
		{ 0, 0, 5, 'c' },
	};
	struct kipc_mq_msg nomsg = { .type = 9, .len = 8,
				     .flags = KIPC_MQ_NOWAIT };
	char buf[8];
	unsigned int i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char c = 'a' + i;
		struct kipc_mq_msg m = { .type = types[i],
					 .buf = (uintptr_t)&c, .len = 1 };

		ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND, &m,
				     0));
	}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct kipc_mq_msg m = { .type = want[i].sel,
					 .buf = (uintptr_t)buf,
					 .len = sizeof(buf),
					 .flags = want[i].flags };

		ASSERT_EQ(1, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &m,
				     0)) TH_LOG("step %u", i);
		EXPECT_EQ(want[i].type, m.type) TH_LOG("step %u", i);
		EXPECT_EQ(want[i].c, buf[0]) TH_LOG("step %u", i);
	}
	EXPECT_EQ(0U, mstat(self->fd).msgs);
	nomsg.buf = (uintptr_t)buf;
	EXPECT_EQ(-ENOMSG, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV, &nomsg,
				   0));
}

TEST_F(ur, cmd_batches_as_the_ioctl)
{
	struct kipc_mq_msg s[6], r[8];
	char in[6][8], out[8][8];
	struct kipc_mq_batch b;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(in[i], sizeof(in[i]), "b%d", i);
		s[i] = (struct kipc_mq_msg){ .type = 1 + i % 2,
			.buf = (uintptr_t)in[i], .len = 2 };
	}
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)s, .count = 6 };
	ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND_BATCH, &b, 0));
	EXPECT_EQ(6U, b.done);
	EXPECT_EQ(6U, mstat(self->fd).msgs);

	/* The receive takes what is there: 6 of 8, done says so. */
	memset(out, 0, sizeof(out));
	for (i = 0; i < 8; i++)
		r[i] = (struct kipc_mq_msg){ .buf = (uintptr_t)out[i],
			.len = sizeof(out[i]) };
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)r, .count = 8 };
	ASSERT_EQ(0, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV_BATCH, &b, 0));
	EXPECT_EQ(6U, b.done);
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(1 + i % 2, r[i].type);
		EXPECT_EQ(2U, r[i].len);
		EXPECT_STREQ(in[i], out[i]);
	}
	EXPECT_EQ(0U, mstat(self->fd).msgs);

	/* Nothing done: the first message's error. */
	r[0].flags = KIPC_MQ_NOWAIT;
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)r, .count = 2 };
	EXPECT_EQ(-ENOMSG, run_cmd(&self->ring, self->fd, KIPC_MQ_RECV_BATCH,
				   &b, 0));
	EXPECT_EQ(0U, b.done);
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)r,
				    .count = KIPC_MQ_BATCH_MAX + 1 };
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND_BATCH,
				   &b, 0));
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)s, .count = 1 };
	EXPECT_EQ(-EINVAL, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND_BATCH,
				   &b, 2));
	EXPECT_EQ(-EFAULT, run_cmd(&self->ring, self->fd, KIPC_MQ_SEND_BATCH,
				   bad_ptr, 0));
	EXPECT_EQ(0U, mstat(self->fd).msgs);
}

/*
 * uring_cmds in an IOSQE_IO_LINK chain with reads and writes: a receive
 * that succeeds (res > 0) must not break the chain.
 */
TEST_F(ur, cmd_linked_with_reads_and_writes)
{
	static const int want[5] = { 0, 5, 5, 5, 0 };
	char b1[8] = { 0 }, b2[8] = { 0 };
	struct kipc_mq_msg s = { .type = 3, .buf = (uintptr_t)"first",
				 .len = 5 };
	struct kipc_mq_msg r = { .type = 3, .buf = (uintptr_t)b1, .len = 5 };
	struct kipc_mq_msg s2 = { .type = 4, .buf = (uintptr_t)"last",
				  .len = 0 };
	struct io_uring_sqe *sqe[5];
	int i;

	for (i = 0; i < 5; i++) {
		sqe[i] = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe[i]);
	}
	prep_cmd(sqe[0], self->fd, KIPC_MQ_SEND, &s, 0);
	prep_cmd(sqe[1], self->fd, KIPC_MQ_RECV, &r, 0);
	io_uring_prep_write(sqe[2], self->fd, "again", 5, 0);
	io_uring_prep_read(sqe[3], self->fd, b2, 5, 0);
	prep_cmd(sqe[4], self->fd, KIPC_MQ_SEND, &s2, 0);
	for (i = 0; i < 5; i++) {
		io_uring_sqe_set_data64(sqe[i], i);
		if (i < 4)
			sqe[i]->flags |= IOSQE_IO_LINK;
	}
	ASSERT_EQ(5, io_uring_submit(&self->ring));
	for (i = 0; i < 5; i++) {
		__u64 ud = ~0ULL;
		int res = next_cqe(&self->ring, &ud);

		ASSERT_EQ((__u64)i, ud);
		EXPECT_EQ(want[i], res) TH_LOG("sqe %d", i);
	}
	EXPECT_EQ(0, memcmp(b1, "first", 5));
	EXPECT_EQ(0, memcmp(b2, "again", 5));
	EXPECT_EQ(1U, mstat(self->fd).msgs);
}

struct late_send {
	int fd;
	long long type;
	struct kipc_nl *nl;
	int ret;
	volatile bool stop;	/* the receive completed without blocking */
};

/* From another thread: wait until the receiver blocks, then send. */
static void *late_sender(void *arg)
{
	struct late_send *ls = arg;
	struct figures f;
	int i;

	ls->ret = -1;
	for (i = 0; i < 120000 && !ls->stop; i++) {
		if (!figures(ls->nl, &f) && f.readers == 1)
			break;
		usleep(500);
	}
	if (i == 120000 || ls->stop)
		return NULL;
	if (msnd(ls->fd, ls->type + 1, "other", 5, 0))
		return NULL;
	ls->ret = msnd(ls->fd, ls->type, "mine", 4, 0);
	return NULL;
}

TEST_F(ur, cmd_blocked_typed_recv_completed_by_a_later_send)
{
	char buf[16] = { 0 };
	struct kipc_mq_msg r = { .type = 6, .buf = (uintptr_t)buf,
				 .len = sizeof(buf) };
	struct late_send ls = { .fd = self->fd, .type = 6 };
	struct io_uring_sqe *sqe;
	pthread_t t;
	int res;

	/* The thread's own netlink socket: one request at a time each. */
	ls.nl = kipc_nl_open(false);
	ASSERT_NE(NULL, ls.nl);
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	prep_cmd(sqe, self->fd, KIPC_MQ_RECV, &r, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pthread_create(&t, NULL, late_sender, &ls));
	res = next_cqe(&self->ring, NULL);
	ls.stop = true;
	pthread_join(t, NULL);
	ASSERT_EQ(4, res);
	EXPECT_EQ(0, ls.ret);
	EXPECT_EQ(6, r.type);
	EXPECT_EQ(4U, r.len);
	EXPECT_EQ(0, memcmp(buf, "mine", 4));
	/* The other type is still queued. */
	EXPECT_EQ(1U, mstat(self->fd).msgs);
	kipc_nl_close(ls.nl);
}

TEST_F(ur, cmd_many_in_one_submit)
{
	struct kipc_mq_msg s[MANY], r[MANY];
	unsigned int got[MANY] = { 0 };
	char in[MANY][8], out[MANY][8];
	struct io_uring_sqe *sqe;
	int i;

	for (i = 0; i < MANY; i++) {
		snprintf(in[i], sizeof(in[i]), "c%02d", i);
		s[i] = (struct kipc_mq_msg){ .type = 1 + i % 3,
			.buf = (uintptr_t)in[i], .len = 3 };
		sqe = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe);
		prep_cmd(sqe, self->fd, KIPC_MQ_SEND, &s[i], 0);
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(MANY, io_uring_submit(&self->ring));
	for (i = 0; i < MANY; i++)
		EXPECT_EQ(0, next_cqe(&self->ring, NULL));
	EXPECT_EQ((unsigned int)MANY, mstat(self->fd).msgs);

	memset(out, 0, sizeof(out));
	for (i = 0; i < MANY; i++) {
		r[i] = (struct kipc_mq_msg){ .buf = (uintptr_t)out[i],
			.len = sizeof(out[i]), .flags = KIPC_MQ_NOWAIT };
		sqe = io_uring_get_sqe(&self->ring);
		ASSERT_NE(NULL, sqe);
		prep_cmd(sqe, self->fd, KIPC_MQ_RECV, &r[i], 0);
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(MANY, io_uring_submit(&self->ring));
	for (i = 0; i < MANY; i++) {
		__u64 ud = ~0ULL;
		int n = -1;

		ASSERT_EQ(3, next_cqe(&self->ring, &ud));
		ASSERT_GT((__u64)MANY, ud);
		ASSERT_EQ(1, sscanf(out[ud], "c%d", &n));
		ASSERT_LE(0, n);
		ASSERT_GT(MANY, n);
		EXPECT_EQ(1 + n % 3, r[ud].type);
		EXPECT_EQ(3U, r[ud].len);
		got[n]++;
	}
	for (i = 0; i < MANY; i++)
		EXPECT_EQ(1U, got[i]) TH_LOG("c%02d", i);
	EXPECT_EQ(0U, mstat(self->fd).msgs);
}

TEST_F(ur, cmd_blocked_send_completed_by_a_receive)
{
	static char big[8192];
	struct kipc_mq_msg s = { .type = 2, .buf = (uintptr_t)"wait",
				 .len = 4 };
	struct io_uring_sqe *sqe;
	struct figures f;
	int i;

	ASSERT_EQ(8192, write(self->fd, big, sizeof(big)));
	ASSERT_EQ(8192, write(self->fd, big, sizeof(big)));
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	prep_cmd(sqe, self->fd, KIPC_MQ_SEND, &s, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* It sleeps in a worker as a blocked sender. */
	for (i = 0; i < 120000; i++) {
		struct io_uring_cqe *cqe;

		ASSERT_EQ(0, figures(self->nl, &f));
		if (f.writers == 1)
			break;
		ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe))
			TH_LOG("completed without blocking: %d", cqe->res);
		usleep(500);
	}
	ASSERT_EQ(1U, f.writers);
	EXPECT_EQ(2U, mstat(self->fd).msgs);
	ASSERT_EQ(8192, read(self->fd, big, sizeof(big)));
	ASSERT_EQ(0, next_cqe(&self->ring, NULL));
	EXPECT_EQ(2U, mstat(self->fd).msgs);
	EXPECT_EQ(8196U, mstat(self->fd).bytes);
	ASSERT_EQ(0, figures(self->nl, &f));
	EXPECT_EQ(0U, f.writers);
}

/* --- cancellation -------------------------------------------------------- */

/*
 * After a blocked receive was cancelled: nobody waits, and a message sent
 * now is queued, not handed to the dead request; a plain read gets it;
 * the receive counter moved by exactly that one read.
 */
static void after_cancel(struct __test_metadata *_metadata,
			 struct kipc_nl *nl, int fd)
{
	struct figures before, after;
	char buf[16] = { 0 };

	ASSERT_EQ(0, wait_readers(nl, NULL, 0)) TH_LOG("a receiver stays blocked");
	ASSERT_EQ(0, figures(nl, &before));
	EXPECT_EQ(0U, before.writers);
	EXPECT_EQ(0U, before.msgs);
	ASSERT_EQ(0, msnd(fd, 6, "after", 5, 0));
	EXPECT_EQ(1U, mstat(fd).msgs);
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	ASSERT_EQ(0, figures(nl, &after));
	EXPECT_EQ(0U, after.msgs);
	EXPECT_EQ(0U, after.readers);
	EXPECT_EQ(before.reads + 1, after.reads);
	EXPECT_EQ(before.writes + 1, after.writes);
	EXPECT_EQ(0U, mstat(fd).bytes);
}

/* -ECANCELED: cancelled before it ran; -EINTR: its wait was interrupted. */
static bool cancelled(int res)
{
	return res == -ECANCELED || res == -EINTR;
}

static void prep_blocking(struct io_uring_sqe *sqe, int fd, bool cmd,
			  struct kipc_mq_msg *m, char *buf, unsigned int len)
{
	if (cmd) {
		*m = (struct kipc_mq_msg){ .type = 6, .buf = (uintptr_t)buf,
					   .len = len };
		prep_cmd(sqe, fd, KIPC_MQ_RECV, m, 0);
	} else {
		io_uring_prep_read(sqe, fd, buf, len, 0);
	}
	io_uring_sqe_set_data64(sqe, 42);
}

static void cancel_by_prep_cancel(struct __test_metadata *_metadata,
				  FIXTURE_DATA(ur) *self, bool cmd)
{
	struct kipc_mq_msg m;
	struct io_uring_sqe *sqe;
	char buf[16];
	int i, res[2] = { 1, 1 };

	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	prep_blocking(sqe, self->fd, cmd, &m, buf, sizeof(buf));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* A typed receive blocks in a worker, as a waiting receiver. */
	if (cmd) {
		ASSERT_EQ(0, wait_readers(self->nl, &self->ring, 1));
	}
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_cancel64(sqe, 42, 0);
	io_uring_sqe_set_data64(sqe, 43);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		__u64 ud = 0;
		int r = next_cqe(&self->ring, &ud);

		ASSERT_TRUE(ud == 42 || ud == 43) TH_LOG("user_data %llu",
							 (unsigned long long)ud);
		res[ud - 42] = r;
	}
	EXPECT_TRUE(cancelled(res[0])) TH_LOG("the request ended %d", res[0]);
	/* Found and cancelled (0), or found running and interrupted. */
	EXPECT_TRUE(res[1] == 0 || res[1] == -EALREADY)
		TH_LOG("the cancel ended %d", res[1]);
	TH_LOG("request %s, cancel %s", res[0] == -EINTR ? "-EINTR" :
	       "-ECANCELED", res[1] ? "-EALREADY" : "0");
	after_cancel(_metadata, self->nl, self->fd);
}

TEST_F(ur, cancel_a_blocked_read)
{
	cancel_by_prep_cancel(_metadata, self, false);
}

TEST_F(ur, cancel_a_blocked_typed_recv)
{
	cancel_by_prep_cancel(_metadata, self, true);
}

static void cancel_by_ring_close(struct __test_metadata *_metadata,
				 FIXTURE_DATA(ur) *self, bool cmd)
{
	struct kipc_mq_msg m;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	char buf[16];

	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	prep_blocking(sqe, self->fd, cmd, &m, buf, sizeof(buf));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	if (cmd) {
		ASSERT_EQ(0, wait_readers(self->nl, &self->ring, 1));
	} else {
		ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	}
	io_uring_queue_exit(&self->ring);
	self->ring_up = false;
	after_cancel(_metadata, self->nl, self->fd);
}

TEST_F(ur, ring_close_cancels_a_blocked_read)
{
	cancel_by_ring_close(_metadata, self, false);
}

TEST_F(ur, ring_close_cancels_a_blocked_typed_recv)
{
	cancel_by_ring_close(_metadata, self, true);
}

static void cancel_by_exit(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ur) *self, bool cmd)
{
	int sync[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sync));
	pid = spawn();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_mq_msg m;
		struct io_uring ring;
		struct io_uring_sqe *sqe;
		struct io_uring_cqe *cqe;
		char buf[16];

		CHK(io_uring_queue_init(8, &ring, 0) == 0);
		sqe = io_uring_get_sqe(&ring);
		CHK(sqe);
		prep_blocking(sqe, self->fd, cmd, &m, buf, sizeof(buf));
		CHK(io_uring_submit(&ring) == 1);
		CHK(write(sync[1], "s", 1) == 1);
		/* It should block until killed; if it ends, say so. */
		if (!io_uring_wait_cqe(&ring, &cqe))
			fprintf(stderr, "# child: completed: %d\n", cqe->res);
		CHK(write(sync[1], "c", 1) == 1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(sync[0], &c, 1));
	if (cmd) {
		ASSERT_EQ(0, wait_readers_fd(self->nl, sync[0], 1));
	}
	ASSERT_EQ(0, kill(pid, SIGKILL));
	/* The exit does not hang on the blocked request. */
	ASSERT_EQ(128 + SIGKILL, reap(pid));
	close(sync[0]);
	close(sync[1]);
	after_cancel(_metadata, self->nl, self->fd);
}

TEST_F(ur, exit_cancels_a_blocked_read)
{
	cancel_by_exit(_metadata, self, false);
}

TEST_F(ur, exit_cancels_a_blocked_typed_recv)
{
	cancel_by_exit(_metadata, self, true);
}

/* --- SQPOLL -------------------------------------------------------------- */

TEST_F(ur, sqpoll_read_write_and_cmd)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQPOLL,
				     .sq_thread_idle = 1000 };
	struct io_uring sq;
	char buf[16] = { 0 };
	struct kipc_mq_msg s = { .type = 4, .buf = (uintptr_t)"four",
				 .len = 4 };
	struct kipc_mq_msg r = { .buf = (uintptr_t)buf, .len = sizeof(buf) };
	int ret;

	ret = io_uring_queue_init_params(8, &sq, &p);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOMEM)
		SKIP(return, "SQPOLL refused here: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	EXPECT_EQ(3, run_rw(&sq, self->fd, true, "sqp", 3));
	EXPECT_EQ(0, run_cmd(&sq, self->fd, KIPC_MQ_SEND, &s, 0));
	EXPECT_EQ(3, run_rw(&sq, self->fd, false, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "sqp", 3));
	EXPECT_EQ(4, run_cmd(&sq, self->fd, KIPC_MQ_RECV, &r, 0));
	EXPECT_EQ(4, r.type);
	EXPECT_EQ(0, memcmp(buf, "four", 4));
	EXPECT_EQ(0U, mstat(self->fd).msgs);
	io_uring_queue_exit(&sq);
}

TEST_HARNESS_MAIN
