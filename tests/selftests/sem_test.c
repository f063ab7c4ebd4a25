// SPDX-License-Identifier: GPL-2.0
/*
 * The semaphores of /dev/kipc/shmN: INIT, P, V, GET with their errors,
 * timeouts and signals, FIFO hand-off, UNDO when a holder dies, poll and
 * SIGIO, and a producer/consumer ring in the shared region.
 * Documentation/shm.md states the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/kipc.h>

/*
 * gcc inlines small TEST_F bodies into the harness wrapper, which calls
 * setjmp(), and then warns about the wrapper's own locals.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"

#define SHM0 KIPC_DEV_DIR "/shm0"
#define MS 1000000LL

static int sem_call(int fd, unsigned long cmd, uint32_t index, uint32_t flags,
		    uint32_t value, int64_t timeout_ns)
{
	struct kipc_sem_op op = {
		.index = index,
		.flags = flags,
		.value = value,
		.timeout_ns = timeout_ns,
	};

	return ioctl(fd, cmd, &op) ? -errno : 0;
}

static int sem_init(int fd, uint32_t index, uint32_t value)
{
	return sem_call(fd, KIPC_SEM_INIT, index, 0, value, 0);
}

static int sem_p(int fd, uint32_t index, uint32_t flags, int64_t timeout_ns)
{
	return sem_call(fd, KIPC_SEM_P, index, flags, 0, timeout_ns);
}

static int sem_v(int fd, uint32_t index, uint32_t n, uint32_t flags)
{
	return sem_call(fd, KIPC_SEM_V, index, flags, n, 0);
}

/* Value of sems[index], or -errno. */
static int sem_value(int fd, uint32_t index)
{
	struct kipc_sem_info info = { .index = index };

	return ioctl(fd, KIPC_SEM_GET, &info) ? -errno : (int)info.value;
}

static int sem_waiters(int fd, uint32_t index)
{
	struct kipc_sem_info info = { .index = index };

	return ioctl(fd, KIPC_SEM_GET, &info) ? -errno : (int)info.waiters;
}

/*
 * Waits (polling GET, at most 20 s) until exactly n tasks sleep in P on
 * sems[index]: how a test knows a child is blocked.  0 or -1.
 */
static int wait_waiters(int fd, uint32_t index, int n)
{
	int i;

	for (i = 0; i < 20000; i++) {
		if (sem_waiters(fd, index) == n)
			return 0;
		usleep(1000);
	}
	return -1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Exit status of a child, or -1 when it did not exit normally. */
static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int sig_pipe = -1;

static void note_signal(int sig)
{
	char c = (char)sig;

	if (write(sig_pipe, &c, 1) != 1)
		_exit(90);
}

static void set_handler(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = note_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

FIXTURE(sem) {
	int fd;
};

FIXTURE_SETUP(sem)
{
	int i;

	self->fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SHM0, strerror(errno));
	for (i = 0; i < KIPC_SEM_NSEMS; i++)
		ASSERT_EQ(0, sem_init(self->fd, i, 0));
}

FIXTURE_TEARDOWN(sem)
{
	close(self->fd);
}

TEST_F(sem, init_get)
{
	struct kipc_sem_info info = { .index = 3 };

	ASSERT_EQ(0, sem_init(self->fd, 3, 5));
	ASSERT_EQ(0, ioctl(self->fd, KIPC_SEM_GET, &info));
	EXPECT_EQ(3U, info.index);
	EXPECT_EQ(5U, info.value);
	EXPECT_EQ(0U, info.waiters);
	EXPECT_EQ(0U, info.__reserved);
	EXPECT_EQ(0, sem_value(self->fd, 4));
	ASSERT_EQ(0, sem_init(self->fd, KIPC_SEM_NSEMS - 1,
			      KIPC_SEM_VALUE_MAX));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX,
		  sem_value(self->fd, KIPC_SEM_NSEMS - 1));
	ASSERT_EQ(0, sem_init(self->fd, 3, 0));
	EXPECT_EQ(0, sem_value(self->fd, 3));
}

TEST_F(sem, init_invalid)
{
	struct kipc_sem_info info = { .index = 0, .__reserved = 1 };
	struct kipc_sem_op op = { .index = 1, .value = 1, .__reserved = 1 };

	ASSERT_EQ(0, sem_init(self->fd, 1, 7));
	EXPECT_EQ(-EINVAL, sem_init(self->fd, KIPC_SEM_NSEMS, 1));
	EXPECT_EQ(-EINVAL, sem_init(self->fd, UINT32_MAX, 1));
	EXPECT_EQ(-EINVAL, sem_init(self->fd, 1, KIPC_SEM_VALUE_MAX + 1));
	EXPECT_EQ(-EINVAL, sem_call(self->fd, KIPC_SEM_INIT, 1,
				    KIPC_SEM_NOWAIT, 1, 0));
	EXPECT_EQ(-EINVAL, sem_call(self->fd, KIPC_SEM_INIT, 1, 0, 1, MS));
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_INIT, &op));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(7, sem_value(self->fd, 1));

	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_GET, &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, sem_value(self->fd, KIPC_SEM_NSEMS));
}

TEST_F(sem, p_nowait)
{
	ASSERT_EQ(0, sem_init(self->fd, 2, 2));
	EXPECT_EQ(0, sem_p(self->fd, 2, KIPC_SEM_NOWAIT, 0));
	EXPECT_EQ(0, sem_p(self->fd, 2, KIPC_SEM_NOWAIT, 0));
	EXPECT_EQ(-EAGAIN, sem_p(self->fd, 2, KIPC_SEM_NOWAIT, 0));
	EXPECT_EQ(-EAGAIN, sem_p(self->fd, 2, KIPC_SEM_NOWAIT, 100 * MS));
	EXPECT_EQ(0, sem_value(self->fd, 2));
	EXPECT_EQ(0, sem_waiters(self->fd, 2));
	/* Available: a timed P takes it at once. */
	ASSERT_EQ(0, sem_v(self->fd, 2, 1, 0));
	EXPECT_EQ(0, sem_p(self->fd, 2, 0, 100 * MS));
	EXPECT_EQ(0, sem_value(self->fd, 2));
}

TEST_F(sem, p_invalid)
{
	struct kipc_sem_op op = { .index = 2, .__reserved = 1 };

	ASSERT_EQ(0, sem_init(self->fd, 2, 3));
	EXPECT_EQ(-EINVAL, sem_p(self->fd, KIPC_SEM_NSEMS, 0, 0));
	EXPECT_EQ(-EINVAL, sem_p(self->fd, 2, 0x4, 0));
	EXPECT_EQ(-EINVAL, sem_p(self->fd, 2, 0, -1));
	EXPECT_EQ(-EINVAL, sem_call(self->fd, KIPC_SEM_P, 2, 0, 2, 0));
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_P, &op));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(3, sem_value(self->fd, 2));
	/* value 1 means the same as 0: take one. */
	EXPECT_EQ(0, sem_call(self->fd, KIPC_SEM_P, 2, 0, 1, 0));
	EXPECT_EQ(2, sem_value(self->fd, 2));
}

TEST_F(sem, p_timeout)
{
	int64_t t0, t1;

	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, sem_p(self->fd, 5, 0, 30 * MS));
	t1 = now_ns();
	/* Never early; no upper bound, the guest may be slow. */
	EXPECT_LE(30 * MS, t1 - t0);
	EXPECT_EQ(0, sem_waiters(self->fd, 5));
	EXPECT_EQ(0, sem_value(self->fd, 5));
	/* The longest timeout is accepted (and NOWAIT answers first). */
	EXPECT_EQ(-EAGAIN, sem_p(self->fd, 5, KIPC_SEM_NOWAIT, INT64_MAX));
}

TEST_F(sem, v_range)
{
	struct kipc_sem_op op = { .index = 6, .value = 1, .__reserved = 1 };

	ASSERT_EQ(0, sem_init(self->fd, 6, KIPC_SEM_VALUE_MAX - 7));
	EXPECT_EQ(-ERANGE, sem_v(self->fd, 6, 8, 0));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX - 7, sem_value(self->fd, 6));
	EXPECT_EQ(0, sem_v(self->fd, 6, 7, 0));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, sem_value(self->fd, 6));
	EXPECT_EQ(-ERANGE, sem_v(self->fd, 6, 1, 0));
	EXPECT_EQ(-ERANGE, sem_v(self->fd, 6, UINT32_MAX, 0));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, sem_value(self->fd, 6));

	ASSERT_EQ(0, sem_init(self->fd, 6, 0));
	EXPECT_EQ(-ERANGE, sem_v(self->fd, 6, KIPC_SEM_VALUE_MAX + 1, 0));
	EXPECT_EQ(-EINVAL, sem_v(self->fd, 6, 0, 0));
	EXPECT_EQ(-EINVAL, sem_v(self->fd, KIPC_SEM_NSEMS, 1, 0));
	EXPECT_EQ(-EINVAL, sem_v(self->fd, 6, 1, 0x8));
	EXPECT_EQ(-EINVAL, sem_call(self->fd, KIPC_SEM_V, 6, 0, 1, MS));
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_V, &op));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, sem_value(self->fd, 6));
	/* V never waits: NOWAIT is accepted and changes nothing. */
	EXPECT_EQ(0, sem_v(self->fd, 6, 2, KIPC_SEM_NOWAIT));
	EXPECT_EQ(2, sem_value(self->fd, 6));
}

/* Children that block in P on sems[index] and report their id when done. */
static pid_t start_waiter(int fd, uint32_t index, int id, int report,
			  int64_t timeout_ns)
{
	pid_t pid = fork();

	if (pid == 0) {
		char c = (char)id;
		int ret = sem_p(fd, index, 0, timeout_ns);

		if (ret)
			_exit(100 - ret);
		_exit(write(report, &c, 1) == 1 ? 0 : 99);
	}
	return pid;
}

TEST_F(sem, v_wakes_n)
{
	int report[2];
	pid_t pids[3];
	char c;
	int i;

	ASSERT_EQ(0, pipe(report));
	for (i = 0; i < 3; i++) {
		pids[i] = start_waiter(self->fd, 1, i, report[1], 0);
		ASSERT_LT(0, pids[i]);
	}
	ASSERT_EQ(0, wait_waiters(self->fd, 1, 3));

	ASSERT_EQ(0, sem_v(self->fd, 1, 2, 0));
	ASSERT_EQ(1, read(report[0], &c, 1));
	ASSERT_EQ(1, read(report[0], &c, 1));
	/* Both units went to waiters: none is left, one task still waits. */
	EXPECT_EQ(0, sem_value(self->fd, 1));
	EXPECT_EQ(1, sem_waiters(self->fd, 1));

	/* More units than waiters: the rest stays in the value. */
	ASSERT_EQ(0, sem_v(self->fd, 1, 5, 0));
	ASSERT_EQ(1, read(report[0], &c, 1));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, reap(pids[i]));
	EXPECT_EQ(4, sem_value(self->fd, 1));
	EXPECT_EQ(0, sem_waiters(self->fd, 1));
}

/* Units go to waiters in the order they started waiting. */
TEST_F(sem, fifo_hand_off)
{
	int report[2];
	pid_t pids[4];
	char c;
	int i;

	ASSERT_EQ(0, pipe(report));
	for (i = 0; i < 4; i++) {
		pids[i] = start_waiter(self->fd, 9, i, report[1], 0);
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(0, wait_waiters(self->fd, 9, i + 1));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, sem_v(self->fd, 9, 1, 0));
		ASSERT_EQ(1, read(report[0], &c, 1));
		EXPECT_EQ(i, c);
		/* One unit, one waiter woken: the others still wait. */
		EXPECT_EQ(3 - i, sem_waiters(self->fd, 9));
		EXPECT_EQ(0, sem_value(self->fd, 9));
	}
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, reap(pids[i]));
}

/* Timed waiters are counted and woken like the others. */
TEST_F(sem, timed_waiters)
{
	int report[2];
	pid_t a, b;
	char c;

	ASSERT_EQ(0, pipe(report));
	a = start_waiter(self->fd, 11, 1, report[1], 60000 * MS);
	ASSERT_LT(0, a);
	b = start_waiter(self->fd, 11, 2, report[1], 60000 * MS);
	ASSERT_LT(0, b);
	ASSERT_EQ(0, wait_waiters(self->fd, 11, 2));
	ASSERT_EQ(0, sem_v(self->fd, 11, 2, 0));
	ASSERT_EQ(1, read(report[0], &c, 1));
	ASSERT_EQ(1, read(report[0], &c, 1));
	EXPECT_EQ(0, reap(a));
	EXPECT_EQ(0, reap(b));
	EXPECT_EQ(0, sem_value(self->fd, 11));
}

/*
 * A child waiting in P takes a signal.  Exit status: 0 when P returned
 * want_ret and the handler ran once.
 */
static pid_t start_signalled(int fd, int sig_write, int sa_flags,
			     int64_t timeout_ns, int want_ret)
{
	pid_t pid = fork();

	if (pid == 0) {
		int ret;

		sig_pipe = sig_write;
		set_handler(SIGUSR1, sa_flags);
		ret = sem_p(fd, 12, 0, timeout_ns);
		_exit(ret == want_ret ? 0 : 50);
	}
	return pid;
}

/* Untimed P with SA_RESTART: the handler runs, then P waits again. */
TEST_F(sem, signal_restarts_untimed)
{
	int sigs[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sigs));
	pid = start_signalled(self->fd, sigs[1], SA_RESTART, 0, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_waiters(self->fd, 12, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(1, read(sigs[0], &c, 1));
	EXPECT_EQ(SIGUSR1, c);
	/* Back in P after the restart. */
	ASSERT_EQ(0, wait_waiters(self->fd, 12, 1));
	ASSERT_EQ(0, sem_v(self->fd, 12, 1, 0));
	EXPECT_EQ(0, reap(pid));
	EXPECT_EQ(0, sem_value(self->fd, 12));
}

/* Without SA_RESTART an untimed P fails with EINTR. */
TEST_F(sem, signal_interrupts_untimed)
{
	int sigs[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sigs));
	pid = start_signalled(self->fd, sigs[1], 0, 0, -EINTR);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_waiters(self->fd, 12, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(1, read(sigs[0], &c, 1));
	EXPECT_EQ(0, sem_waiters(self->fd, 12));
	EXPECT_EQ(0, sem_value(self->fd, 12));
}

/* A timed P is never restarted, as semtimedop(2): EINTR even so. */
TEST_F(sem, signal_interrupts_timed)
{
	int sigs[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sigs));
	pid = start_signalled(self->fd, sigs[1], SA_RESTART, 60000 * MS,
			      -EINTR);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_waiters(self->fd, 12, 1));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, reap(pid));
	ASSERT_EQ(1, read(sigs[0], &c, 1));
	EXPECT_EQ(0, sem_waiters(self->fd, 12));
}

/* A waiter killed in P leaves the queue; the next V is not lost to it. */
TEST_F(sem, killed_waiter)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(sem_p(self->fd, 13, 0, 0) ? 1 : 0);
	ASSERT_EQ(0, wait_waiters(self->fd, 13, 1));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, sem_waiters(self->fd, 13));
	ASSERT_EQ(0, sem_v(self->fd, 13, 1, 0));
	EXPECT_EQ(1, sem_value(self->fd, 13));
}

/*
 * The holder of a mutex semaphore taken with UNDO dies by SIGKILL: its
 * file's release gives the unit back, straight to the task waiting.
 */
TEST_F(sem, undo_killed_holder)
{
	int held[2], report[2];
	pid_t holder, waiter;
	int status;
	char c;

	ASSERT_EQ(0, sem_init(self->fd, 4, 1));
	ASSERT_EQ(0, pipe(held));
	ASSERT_EQ(0, pipe(report));
	holder = fork();
	ASSERT_LE(0, holder);
	if (holder == 0) {
		int fd = open(SHM0, O_RDWR);

		if (fd < 0 || sem_p(fd, 4, KIPC_SEM_UNDO, 0))
			_exit(1);
		if (write(held[1], "h", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(held[0], &c, 1));
	EXPECT_EQ(0, sem_value(self->fd, 4));

	waiter = start_waiter(self->fd, 4, 7, report[1], 0);
	ASSERT_LT(0, waiter);
	ASSERT_EQ(0, wait_waiters(self->fd, 4, 1));

	ASSERT_EQ(0, kill(holder, SIGKILL));
	ASSERT_EQ(holder, waitpid(holder, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(1, read(report[0], &c, 1));
	EXPECT_EQ(7, c);
	EXPECT_EQ(0, reap(waiter));
	/* The waiter holds it now (without UNDO): still taken. */
	EXPECT_EQ(0, sem_value(self->fd, 4));
	EXPECT_EQ(0, sem_waiters(self->fd, 4));
}

/* The record per open file: P adds, V subtracts, release gives back. */
TEST_F(sem, undo_on_close)
{
	int fd;

	ASSERT_EQ(0, sem_init(self->fd, 4, 3));
	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_p(fd, 4, KIPC_SEM_UNDO, 0));
	ASSERT_EQ(0, sem_p(fd, 4, KIPC_SEM_UNDO | KIPC_SEM_NOWAIT, 0));
	ASSERT_EQ(0, sem_p(fd, 4, 0, 0));	/* not recorded */
	EXPECT_EQ(0, sem_value(self->fd, 4));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(2, sem_value(self->fd, 4));

	/* V with UNDO is taken back at close. */
	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_v(fd, 4, 3, KIPC_SEM_UNDO));
	EXPECT_EQ(5, sem_value(self->fd, 4));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(2, sem_value(self->fd, 4));

	/* P and V with UNDO cancel out. */
	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_p(fd, 4, KIPC_SEM_UNDO, 0));
	ASSERT_EQ(0, sem_v(fd, 4, 1, KIPC_SEM_UNDO));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(2, sem_value(self->fd, 4));
}

/* Taking back at close stops at 0; INIT voids every record, as SETVAL. */
TEST_F(sem, undo_clamped_and_voided)
{
	int fd;

	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_v(fd, 4, 2, KIPC_SEM_UNDO));
	ASSERT_EQ(0, sem_p(self->fd, 4, 0, 0));
	EXPECT_EQ(1, sem_value(self->fd, 4));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(0, sem_value(self->fd, 4));

	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_init(self->fd, 4, 1));
	ASSERT_EQ(0, sem_p(fd, 4, KIPC_SEM_UNDO, 0));
	ASSERT_EQ(0, sem_init(self->fd, 4, 5));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(5, sem_value(self->fd, 4));

	/* Giving back stops at the maximum. */
	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_p(fd, 4, KIPC_SEM_UNDO, 0));
	ASSERT_EQ(0, sem_p(fd, 4, KIPC_SEM_UNDO, 0));
	ASSERT_EQ(0, sem_v(self->fd, 4, KIPC_SEM_VALUE_MAX - 4, 0));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, sem_value(self->fd, 4));
}

/*
 * The UNDO bound is checked when the unit is taken, not before the P
 * sleeps: two users of one file, both asleep with its record one below
 * the maximum, cannot both take a unit.  The one refused passes its
 * wake-up on to the next waiter, so the unit it leaves is not lost.
 */
TEST_F_TIMEOUT(sem, undo_bound_when_taken, 120)
{
	const uint32_t idx = 7;
	pid_t a1, a2, b;
	int fd, i, ret;

	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sem_init(self->fd, idx, KIPC_SEM_VALUE_MAX - 1));
	for (i = 0; i < KIPC_SEM_VALUE_MAX - 1; i++)
		ASSERT_EQ(0, sem_p(fd, idx, KIPC_SEM_UNDO | KIPC_SEM_NOWAIT, 0));
	ASSERT_EQ(0, sem_value(self->fd, idx));

	/* a1 and a2 share fd, whose record is at 32766; b has its own. */
	a1 = fork();
	if (a1 == 0)
		_exit(100 + sem_p(fd, idx, KIPC_SEM_UNDO, 0));
	ASSERT_LT(0, a1);
	ASSERT_EQ(0, wait_waiters(self->fd, idx, 1));
	a2 = fork();
	if (a2 == 0)
		_exit(100 + sem_p(fd, idx, KIPC_SEM_UNDO, 0));
	ASSERT_LT(0, a2);
	ASSERT_EQ(0, wait_waiters(self->fd, idx, 2));
	b = fork();
	if (b == 0)
		_exit(100 + sem_p(self->fd, idx, 0, 0));
	ASSERT_LT(0, b);
	ASSERT_EQ(0, wait_waiters(self->fd, idx, 3));

	/* The oldest waiter takes it: the record is now at the maximum. */
	ASSERT_EQ(0, sem_v(self->fd, idx, 1, 0));
	EXPECT_EQ(100, reap(a1));
	ASSERT_EQ(0, wait_waiters(self->fd, idx, 2));

	/* a2 may not take this one; b, behind it, does. */
	ASSERT_EQ(0, sem_v(self->fd, idx, 1, 0));
	EXPECT_EQ(100 - ERANGE, reap(a2));
	ret = wait_waiters(self->fd, idx, 0);
	if (ret)
		kill(b, SIGKILL);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(100, reap(b));
	EXPECT_EQ(0, sem_value(self->fd, idx));

	/* Release gives back the record, at the maximum, not above it. */
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, sem_value(self->fd, idx));
}

static short poll_now(int fd)
{
	struct pollfd pfd = {
		.fd = fd,
		.events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
	};

	if (poll(&pfd, 1, 0) < 0)
		return -1;
	return pfd.revents;
}

TEST_F(sem, poll)
{
	uint32_t index = 2;
	short out = POLLOUT | POLLWRNORM, in = POLLIN | POLLRDNORM;

	/* Semaphore 0 by default. */
	EXPECT_EQ(out, poll_now(self->fd));
	ASSERT_EQ(0, sem_v(self->fd, 0, 1, 0));
	EXPECT_EQ(in | out, poll_now(self->fd));

	ASSERT_EQ(0, ioctl(self->fd, KIPC_SEM_SET_POLL, &index));
	EXPECT_EQ(out, poll_now(self->fd));
	ASSERT_EQ(0, sem_v(self->fd, 2, 2, 0));
	EXPECT_EQ(in | out, poll_now(self->fd));
	ASSERT_EQ(0, sem_p(self->fd, 2, 0, 0));
	EXPECT_EQ(in | out, poll_now(self->fd));
	ASSERT_EQ(0, sem_p(self->fd, 2, 0, 0));
	EXPECT_EQ(out, poll_now(self->fd));

	index = KIPC_SEM_NSEMS;
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_SET_POLL, &index));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(out, poll_now(self->fd));
}

/* A poll() asleep on the semaphore is woken by a V from another task. */
/*
 * A file opened read-only changes nothing: INIT, P and V (with or without
 * UNDO) are EBADF, as write(2) on it would be; GET and the file's own poll
 * choice work.  A write-only file may do everything.
 */
TEST_F(sem, readonly_file)
{
	struct kipc_sem_op op = { .index = 5, .value = 1 };
	uint32_t idx = 5;
	int ro, wo;

	ASSERT_EQ(0, sem_init(self->fd, 5, 3));
	ro = open(SHM0, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, sem_init(ro, 5, 7));
	EXPECT_EQ(-EBADF, sem_p(ro, 5, KIPC_SEM_NOWAIT, 0));
	EXPECT_EQ(-EBADF, sem_p(ro, 5, KIPC_SEM_NOWAIT | KIPC_SEM_UNDO, 0));
	EXPECT_EQ(-EBADF, sem_v(ro, 5, 1, 0));
	EXPECT_EQ(-EBADF, sem_v(ro, 5, 1, KIPC_SEM_UNDO));
	/* The open mode is checked first, before the argument is read. */
	EXPECT_EQ(-1, ioctl(ro, KIPC_SEM_V, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(3, sem_value(ro, 5));
	EXPECT_EQ(0, sem_waiters(ro, 5));
	EXPECT_EQ(0, ioctl(ro, KIPC_SEM_SET_POLL, &idx));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(ro) & (POLLIN | POLLRDNORM));
	ASSERT_EQ(0, close(ro));
	/* Nothing was given back at release: nothing was recorded. */
	EXPECT_EQ(3, sem_value(self->fd, 5));

	wo = open(SHM0, O_WRONLY);
	ASSERT_LE(0, wo);
	EXPECT_EQ(0, ioctl(wo, KIPC_SEM_V, &op));
	EXPECT_EQ(0, sem_p(wo, 5, KIPC_SEM_NOWAIT, 0));
	EXPECT_EQ(0, sem_init(wo, 5, 2));
	EXPECT_EQ(2, sem_value(wo, 5));
	ASSERT_EQ(0, close(wo));
}

TEST_F(sem, poll_wakes)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	int go[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(sem_v(self->fd, 0, 1, 0) ? 2 : 0);
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, poll(&pfd, 1, -1));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_EQ(0, reap(pid));
}

/* epoll keeps working when SET_POLL picks another semaphore later. */
TEST_F(sem, epoll)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	uint32_t index = 5;
	int ep;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	ASSERT_EQ(0, ioctl(self->fd, KIPC_SEM_SET_POLL, &index));
	ASSERT_EQ(0, sem_v(self->fd, 5, 1, 0));
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 10000));
	EXPECT_EQ((uint32_t)EPOLLIN, got.events);
	ASSERT_EQ(0, sem_p(self->fd, 5, 0, 0));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	close(ep);
}

/* O_ASYNC: every V sends the owner SIGIO (here F_SETSIG's signal). */
TEST_F(sem, sigio)
{
	int sig = SIGRTMIN + 1;
	struct timespec ts = { .tv_sec = 10 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, sig));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL,
			   fcntl(self->fd, F_GETFL) | O_ASYNC));

	ASSERT_EQ(0, sem_v(self->fd, 7, 1, 0));
	ASSERT_EQ(sig, sigtimedwait(&set, &si, &ts));
	EXPECT_EQ(POLL_IN, si.si_code);
	EXPECT_EQ(self->fd, si.si_fd);
	EXPECT_EQ(POLLIN | POLLRDNORM, si.si_band);
	/* P sends nothing: nothing is pending afterwards. */
	ASSERT_EQ(0, sem_p(self->fd, 7, 0, 0));
	ts.tv_sec = 0;
	EXPECT_EQ(-1, sigtimedwait(&set, &si, &ts));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL,
			   fcntl(self->fd, F_GETFL) & ~O_ASYNC));
	ASSERT_EQ(0, sem_v(self->fd, 7, 1, 0));
	EXPECT_EQ(-1, sigtimedwait(&set, &si, &ts));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * No unit is lost and no wake-up either, while timeouts and signals race
 * with V: timed consumers keep timing out, untimed ones keep taking
 * SIGUSR1 (SA_RESTART), and V hands units out one by one.  Every unit is
 * taken exactly once; a lost wake-up would leave an untimed consumer
 * asleep beside a positive value, and the test would time out.
 */
#define STRESS_SEM 14
#define STRESS_UNITS 20000
#define STRESS_CONSUMERS 4

static void quiet(int sig)
{
}

static int stress_consumer(int fd, uint64_t *taken, int timed)
{
	int ret;

	for (;;) {
		ret = sem_p(fd, STRESS_SEM, 0, timed ? 200000 : 0);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return 1;
		/* One stop unit per consumer follows the real ones. */
		if (__atomic_add_fetch(taken, 1, __ATOMIC_RELAXED) >
		    STRESS_UNITS)
			return 0;
	}
}

TEST_F_TIMEOUT(sem, stress_no_lost_wakeup, 300)
{
	struct sigaction sa = { .sa_handler = quiet, .sa_flags = SA_RESTART };
	pid_t cons[STRESS_CONSUMERS], prod;
	uint64_t *taken;
	int i, status;

	/*
	 * Installed before fork(): a SIGUSR1 that reached a consumer before
	 * its own sigaction() would kill it (the default action).
	 */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	taken = mmap(NULL, sizeof(*taken), PROT_READ | PROT_WRITE, MAP_SHARED,
		     self->fd, 0);
	ASSERT_NE(MAP_FAILED, taken);
	*taken = 0;
	for (i = 0; i < STRESS_CONSUMERS; i++) {
		cons[i] = fork();
		ASSERT_LE(0, cons[i]);
		if (cons[i] == 0)
			_exit(stress_consumer(self->fd, taken, i & 1));
	}
	prod = fork();
	ASSERT_LE(0, prod);
	if (prod == 0) {
		for (i = 0; i < STRESS_UNITS; i++)
			if (sem_v(self->fd, STRESS_SEM, 1, 0))
				_exit(1);
		_exit(0);
	}
	/* Signals for the untimed consumers while units flow. */
	while (waitpid(prod, &status, WNOHANG) == 0) {
		for (i = 0; i < STRESS_CONSUMERS; i += 2)
			kill(cons[i], SIGUSR1);
		usleep(200);
	}
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, sem_v(self->fd, STRESS_SEM, STRESS_CONSUMERS, 0));
	for (i = 0; i < STRESS_CONSUMERS; i++)
		EXPECT_EQ(0, reap(cons[i])) TH_LOG("consumer %d", i);
	EXPECT_EQ((uint64_t)STRESS_UNITS + STRESS_CONSUMERS, *taken);
	EXPECT_EQ(0, sem_value(self->fd, STRESS_SEM));
	EXPECT_EQ(0, sem_waiters(self->fd, STRESS_SEM));
	munmap(taken, sizeof(*taken));
}

/* --- producer/consumer ring -------------------------------------------- */

#define NPROD 2
#define NCONS 2
#define PER_PRODUCER 50000
#define NSLOTS 1024
#define SEM_EMPTY 8
#define SEM_FULL 9
#define SEM_MUTEX 10
#define POISON UINT32_MAX

struct rec {
	uint32_t producer;
	uint32_t seq;
	uint64_t payload[4];
	uint64_t sum;
};

struct ring {
	uint64_t head, tail;	/* under SEM_MUTEX */
	struct rec slots[NSLOTS];
	uint8_t seen[NPROD * PER_PRODUCER];
};

static uint64_t rec_sum(const struct rec *r)
{
	uint64_t s = (uint64_t)r->producer << 32 | r->seq;
	int i;

	for (i = 0; i < 4; i++)
		s = s * 0x9e3779b97f4a7c15ULL + r->payload[i];
	return s;
}

static int put(int fd, struct ring *ring, const struct rec *r)
{
	if (sem_p(fd, SEM_EMPTY, 0, 0) || sem_p(fd, SEM_MUTEX, 0, 0))
		return -1;
	ring->slots[ring->head++ % NSLOTS] = *r;
	if (sem_v(fd, SEM_MUTEX, 1, 0) || sem_v(fd, SEM_FULL, 1, 0))
		return -1;
	return 0;
}

static int get(int fd, struct ring *ring, struct rec *r)
{
	if (sem_p(fd, SEM_FULL, 0, 0) || sem_p(fd, SEM_MUTEX, 0, 0))
		return -1;
	*r = ring->slots[ring->tail++ % NSLOTS];
	if (sem_v(fd, SEM_MUTEX, 1, 0) || sem_v(fd, SEM_EMPTY, 1, 0))
		return -1;
	return 0;
}

static int producer(int fd, struct ring *ring, uint32_t id)
{
	struct rec r = { .producer = id };
	uint64_t x = id + 1;
	uint32_t seq;
	int i;

	for (seq = 0; seq < PER_PRODUCER; seq++) {
		r.seq = seq;
		for (i = 0; i < 4; i++) {
			/* xorshift64: cheap, and every record differs */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r.payload[i] = x;
		}
		r.sum = rec_sum(&r);
		if (put(fd, ring, &r))
			return 1;
	}
	/* One end marker per producer; each consumer stops at its first. */
	r.producer = POISON;
	return put(fd, ring, &r) ? 2 : 0;
}

static int consumer(int fd, struct ring *ring)
{
	int64_t last[NPROD] = { -1, -1 };
	struct rec r;

	for (;;) {
		if (get(fd, ring, &r))
			return 1;
		if (r.producer == POISON)
			return 0;
		if (r.producer >= NPROD || r.seq >= PER_PRODUCER)
			return 2;
		if (r.sum != rec_sum(&r))
			return 3;
		/* The ring is FIFO: one producer's records come in order. */
		if ((int64_t)r.seq <= last[r.producer])
			return 4;
		last[r.producer] = r.seq;
		__atomic_fetch_add(&ring->seen[r.producer * PER_PRODUCER +
					       r.seq], 1, __ATOMIC_RELAXED);
	}
}

TEST_F_TIMEOUT(sem, producer_consumer, 300)
{
	pid_t pids[NPROD + NCONS];
	uint64_t size = KIPC_SHM_DEF_SIZE;
	int64_t t0 = now_ns();
	struct ring *ring;
	size_t i, bad = 0;
	int n;

	ASSERT_GE((size_t)KIPC_SHM_DEF_SIZE, sizeof(*ring));
	/* Whatever ran before may have left another size. */
	ASSERT_EQ(0, ioctl(self->fd, KIPC_SHM_SET_SIZE, &size));
	ring = mmap(NULL, sizeof(*ring), PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, ring);
	memset(ring, 0, sizeof(*ring));
	ASSERT_EQ(0, sem_init(self->fd, SEM_EMPTY, NSLOTS));
	ASSERT_EQ(0, sem_init(self->fd, SEM_FULL, 0));
	ASSERT_EQ(0, sem_init(self->fd, SEM_MUTEX, 1));

	for (n = 0; n < NPROD + NCONS; n++) {
		pids[n] = fork();
		ASSERT_LE(0, pids[n]);
		if (pids[n] == 0) {
			_exit(n < NPROD ? producer(self->fd, ring, n) :
			      consumer(self->fd, ring));
		}
	}
	for (n = 0; n < NPROD + NCONS; n++)
		EXPECT_EQ(0, reap(pids[n])) TH_LOG("child %d", n);

	TH_LOG("%d records in %.1f s", NPROD * PER_PRODUCER,
	       (now_ns() - t0) / 1e9);
	for (i = 0; i < NPROD * PER_PRODUCER; i++)
		bad += ring->seen[i] != 1;
	EXPECT_EQ(0UL, bad);
	EXPECT_EQ((uint64_t)NPROD * PER_PRODUCER + NPROD, ring->head);
	EXPECT_EQ(ring->head, ring->tail);
	EXPECT_EQ(NSLOTS, sem_value(self->fd, SEM_EMPTY));
	EXPECT_EQ(0, sem_value(self->fd, SEM_FULL));
	EXPECT_EQ(1, sem_value(self->fd, SEM_MUTEX));
	munmap(ring, sizeof(*ring));
}

TEST_HARNESS_MAIN
