// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring on /dev/kipc/pipe0 (liburing): reads and writes, linked and
 * batched; a read that has to wait, completed by a later write; the
 * cancellation of such a read by IORING_OP_ASYNC_CANCEL, by closing the
 * ring and by the exit (and the kill) of the process that submitted it,
 * after which the device works as before and has lost no byte; SQPOLL
 * where the kernel allows it.
 *
 * The device sets FMODE_NOWAIT and honours IOCB_NOWAIT, so io_uring first
 * tries each request inline without sleeping and, when it would have to
 * wait, arms a poll on the device instead of handing it to a worker
 * thread: after a read that had to wait there is no iou-wrk thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <liburing.h>

#include <linux/kipc.h>

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"

#define DEV KIPC_DEV_DIR "/pipe0"

/* A reader and a writer, both blocking (the reader opened first). */
static int open_pair(const char *path, int *r, int *w)
{
	*r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*r < 0)
		return -1;
	*w = open(path, O_WRONLY | O_CLOEXEC);
	if (*w < 0)
		return -1;
	return fcntl(*r, F_SETFL, 0);
}

static int nread(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/* Threads of this process whose name starts with "iou-wrk". */
static int io_workers(void)
{
	char path[300], comm[64];
	struct dirent *d;
	int n = 0, fd;
	DIR *dir = opendir("/proc/self/task");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		ssize_t len;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len > 0 && !strncmp(comm, "iou-wrk", 7))
			n++;
	}
	closedir(dir);
	return n;
}

/* One completion: its result, and its user_data in *ud. */
static int wait_one(struct io_uring *ring, uint64_t *ud)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_wait_cqe(ring, &cqe);

	if (ret)
		return ret - 100000;
	ret = cqe->res;
	if (ud)
		*ud = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static struct io_uring_sqe *sqe_of(struct io_uring *ring, uint64_t ud)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (sqe)
		io_uring_sqe_set_data64(sqe, ud);
	return sqe;
}

FIXTURE(uring) {
	int r, w;
	bool ring_up;
	struct io_uring ring;
};

FIXTURE_SETUP(uring)
{
	int ret;

	self->ring_up = false;
	ASSERT_EQ(0, open_pair(DEV, &self->r, &self->w))
	TH_LOG("%s: %s", DEV, strerror(errno));
	ASSERT_EQ(0, nread(self->r)) TH_LOG("a previous test left data");
	ret = io_uring_queue_init(64, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->ring_up = true;
}

FIXTURE_TEARDOWN(uring)
{
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	close(self->r);
	close(self->w);
}

TEST_F(uring, write_then_read)
{
	struct io_uring_sqe *sqe;
	char buf[64] = { 0 };
	struct iovec iov[2] = { { buf, 10 }, { buf + 10, 10 } };

	sqe = sqe_of(&self->ring, 1);
	io_uring_prep_write(sqe, self->w, "hello", 5, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(5, wait_one(&self->ring, NULL));
	ASSERT_EQ(5, nread(self->r));
	sqe = sqe_of(&self->ring, 2);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(5, wait_one(&self->ring, NULL));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));

	/* READV of 2 x 10 with 10 buffered: 10, without waiting. */
	ASSERT_EQ(10, write(self->w, "0123456789", 10));
	sqe = sqe_of(&self->ring, 3);
	io_uring_prep_readv(sqe, self->r, iov, 2, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(10, wait_one(&self->ring, NULL));
	ASSERT_EQ(0, memcmp(buf, "0123456789", 10));
	ASSERT_EQ(0, io_workers());
}

/* A write linked to a read: they run in order, the read sees the bytes. */
TEST_F(uring, linked_write_read)
{
	struct io_uring_sqe *sqe;
	char buf[64] = { 0 };
	uint64_t ud;

	sqe = sqe_of(&self->ring, 1);
	io_uring_prep_write(sqe, self->w, "linked", 6, 0);
	sqe->flags |= IOSQE_IO_LINK;
	sqe = sqe_of(&self->ring, 2);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_EQ(6, wait_one(&self->ring, &ud));
	ASSERT_EQ(1U, ud);
	ASSERT_EQ(6, wait_one(&self->ring, &ud));
	ASSERT_EQ(2U, ud);
	ASSERT_EQ(0, memcmp(buf, "linked", 6));
}

/*
 * 32 writes of 64 bytes in one submission, then 32 reads of 64: every
 * record whole and each exactly once (atomic writes; the order of
 * unlinked requests is not promised).
 */
TEST_F(uring, batched)
{
	static unsigned char out[32][64], in[32][64];
	bool seen[32] = { false };
	struct io_uring_sqe *sqe;
	int i, j;

	for (i = 0; i < 32; i++) {
		memset(out[i], i, 64);
		sqe = sqe_of(&self->ring, i);
		io_uring_prep_write(sqe, self->w, out[i], 64, 0);
	}
	ASSERT_EQ(32, io_uring_submit(&self->ring));
	for (i = 0; i < 32; i++)
		ASSERT_EQ(64, wait_one(&self->ring, NULL));
	ASSERT_EQ(32 * 64, nread(self->r));
	for (i = 0; i < 32; i++) {
		sqe = sqe_of(&self->ring, 100 + i);
		io_uring_prep_read(sqe, self->r, in[i], 64, 0);
	}
	ASSERT_EQ(32, io_uring_submit(&self->ring));
	for (i = 0; i < 32; i++)
		ASSERT_EQ(64, wait_one(&self->ring, NULL));
	for (i = 0; i < 32; i++) {
		for (j = 1; j < 64; j++)
			ASSERT_EQ(in[i][0], in[i][j]);
		ASSERT_GT(32, in[i][0]);
		ASSERT_FALSE(seen[in[i][0]]);
		seen[in[i][0]] = true;
	}
	ASSERT_EQ(0, nread(self->r));
}

/*
 * A read of the empty device does not complete; a later write completes
 * it.  It waited on a poll, not in a worker thread.
 */
TEST_F(uring, blocked_read_completed_by_write)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	char buf[64] = { 0 };

	sqe = sqe_of(&self->ring, 7);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	ASSERT_EQ(4, write(self->w, "late", 4));
	ASSERT_EQ(4, wait_one(&self->ring, NULL));
	ASSERT_EQ(0, memcmp(buf, "late", 4));
	ASSERT_EQ(0, io_workers());
	ASSERT_EQ(0, nread(self->r));
}

/* IORING_OP_ASYNC_CANCEL of the waiting read: ECANCELED, nothing taken. */
TEST_F(uring, cancel_blocked_read)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	char buf[64] = { 0 };
	uint64_t ud;
	int i, res;

	sqe = sqe_of(&self->ring, 7);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	sqe = sqe_of(&self->ring, 8);
	io_uring_prep_cancel64(sqe, 7, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		res = wait_one(&self->ring, &ud);
		if (ud == 7) {
			ASSERT_EQ(-ECANCELED, res);
		} else {
			ASSERT_EQ(0, res);
		}
	}
	ASSERT_EQ(3, write(self->w, "abc", 3));
	ASSERT_EQ(3, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "abc", 3));
}

/* Closing the ring cancels the waiting read; the device is intact. */
TEST_F(uring, ring_close_cancels_blocked_read)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	static char buf[64];

	sqe = sqe_of(&self->ring, 7);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	io_uring_queue_exit(&self->ring);
	self->ring_up = false;
	ASSERT_EQ(3, write(self->w, "xyz", 3));
	ASSERT_EQ(3, nread(self->r));
	ASSERT_EQ(3, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "xyz", 3));
}

/*
 * A child with a read waiting on its own ring exits (or is killed while
 * it waits for the completion): it is reaped, and the device keeps every
 * byte written afterwards.
 */
static void exit_with_blocked_read(struct __test_metadata *_metadata,
				   FIXTURE_DATA(uring) *self, bool kill_it)
{
	int note[2], st;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe2(note, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static char buf[64];
		struct io_uring ring;
		struct io_uring_cqe *cqe;
		struct io_uring_sqe *sqe;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (io_uring_queue_init(8, &ring, 0))
			_exit(2);
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
		if (io_uring_submit(&ring) != 1 ||
		    io_uring_peek_cqe(&ring, &cqe) != -EAGAIN)
			_exit(3);
		if (write(note[1], "s", 1) != 1)
			_exit(4);
		if (kill_it)
			io_uring_wait_cqe(&ring, &cqe);
		_exit(0);
	}
	close(note[1]);
	ASSERT_EQ(1, read(note[0], &c, 1));
	close(note[0]);
	if (kill_it)
		ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	if (kill_it) {
		ASSERT_TRUE(WIFSIGNALED(st));
	} else {
		ASSERT_TRUE(WIFEXITED(st));
		ASSERT_EQ(0, WEXITSTATUS(st));
	}
	ASSERT_EQ(4, write(self->w, "kept", 4));
	ASSERT_EQ(4, nread(self->r));
}

TEST_F(uring, exit_cancels_blocked_read)
{
	exit_with_blocked_read(_metadata, self, false);
}

TEST_F(uring, kill_cancels_blocked_read)
{
	exit_with_blocked_read(_metadata, self, true);
}

/* SQPOLL: the kernel thread submits; needs privilege before 5.11. */
TEST_F(uring, sqpoll)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQPOLL,
				     .sq_thread_idle = 100 };
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	char buf[64] = { 0 };
	int ret;

	ret = io_uring_queue_init_params(8, &ring, &p);
	if (ret)
		SKIP(return, "SQPOLL refused: %s", strerror(-ret));
	sqe = sqe_of(&ring, 1);
	io_uring_prep_write(sqe, self->w, "sqpoll", 6, 0);
	sqe->flags |= IOSQE_IO_LINK;
	sqe = sqe_of(&ring, 2);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(2, io_uring_submit(&ring));
	ASSERT_EQ(6, wait_one(&ring, NULL));
	ASSERT_EQ(6, wait_one(&ring, NULL));
	ASSERT_EQ(0, memcmp(buf, "sqpoll", 6));
	/* A read that waits, then a write from this thread completes it. */
	sqe = sqe_of(&ring, 3);
	io_uring_prep_read(sqe, self->r, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(2, write(self->w, "sq", 2));
	ASSERT_EQ(2, wait_one(&ring, NULL));
	ASSERT_EQ(0, memcmp(buf, "sq", 2));
	io_uring_queue_exit(&ring);
}

/*
 * The same waiting read on a FIFO, for comparison: it completes the same
 * way (the FIFO has no FMODE_NOWAIT, so io_uring cannot try it inline
 * without sleeping and hands it to a worker).
 */
TEST_F(uring, fifo_comparison)
{
	char path[64], buf[64] = { 0 };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int r, w;

	snprintf(path, sizeof(path), "/tmp/kipc_uring_fifo.%d", getpid());
	unlink(path);
	ASSERT_EQ(0, mkfifo(path, 0600));
	ASSERT_EQ(0, open_pair(path, &r, &w));
	unlink(path);
	sqe = sqe_of(&self->ring, 1);
	io_uring_prep_read(sqe, r, buf, sizeof(buf), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	ASSERT_EQ(4, write(w, "fifo", 4));
	ASSERT_EQ(4, wait_one(&self->ring, NULL));
	ASSERT_EQ(0, memcmp(buf, "fifo", 4));
	close(r);
	close(w);
}

TEST_HARNESS_MAIN
