// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kipc/pipe0: every documented rule of the pipe device, with exact
 * return values, errnos, data and poll masks.  See Documentation/pipe.md.
 *
 * Blocking is observed, never timed: a child or thread is known to sleep
 * in the device once /proc/<tid>/wchan names one of its functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/userfaultfd.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <linux/kipc.h>

/*
 * gcc inlines TEST_F bodies into the harness wrapper, which calls
 * setjmp(), and then warns about the wrapper's own locals.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_caps.h"
#include "kipc_nl.h"

#define DEV	KIPC_DEV_DIR "/pipe0"
#define SZ	KIPC_PIPE_DEF_SIZE
#define PBUF	KIPC_PIPE_BUF

/* --- helpers ------------------------------------------------------------ */

static unsigned char pat(uint64_t off)
{
	return (unsigned char)(off * 131 + (off >> 9) + 7);
}

static void fill_pat(unsigned char *buf, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = pat(off + i);
}

/* Index of the first byte that is not the pattern, or n. */
static ssize_t bad_pat(const unsigned char *buf, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] != pat(off + i))
			return i;
	return n;
}

/* One write(2) of n pattern bytes starting at stream offset off. */
static ssize_t write_pat(int fd, uint64_t off, size_t n)
{
	unsigned char *buf = malloc(n ? n : 1);
	ssize_t ret;
	int err;

	fill_pat(buf, off, n);
	ret = write(fd, buf, n);
	err = errno;
	free(buf);
	errno = err;
	return ret;
}

/* A reader and a blocking writer, the reader blocking too. */
static int open_pair(int *r, int *w)
{
	*r = open(DEV, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*r < 0)
		return -1;
	*w = open(DEV, O_WRONLY | O_CLOEXEC);
	if (*w < 0)
		return -1;
	return fcntl(*r, F_SETFL, 0);
}

static int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int nread(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

static short poll1(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	if (poll(&pfd, 1, 0) < 0)
		return -1;
	return pfd.revents;
}

/* Does wchan start with one of the '|'-separated prefixes in fns? */
static bool wchan_is(const char *wchan, const char *fns)
{
	size_t len;

	for (;;) {
		len = strcspn(fns, "|");
		if (len && !strncmp(wchan, fns, len))
			return true;
		if (!fns[len])
			return false;
		fns += len + 1;
	}
}

/*
 * Waits until task tid sleeps in a function whose name starts with fn
 * (/proc/<tid>/wchan; fn may list several, separated by '|').  Polls, but never asserts on time: 20 s is only
 * a bound against a hang.
 */
static int wait_blocked(pid_t tid, const char *fn)
{
	char path[64], buf[128];
	int i, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/wchan", tid);
	for (i = 0; i < 40000; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (wchan_is(buf, fn))
				return 0;
		}
		usleep(500);
	}
	return -1;
}

/* fork() for a helper that must die with the test. */
static pid_t fork_child(void)
{
	pid_t pid = fork();

	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

/* What a child reports back over a pipe. */
struct res {
	ssize_t ret;
	int err;
	int sigs;
	unsigned char data[64];
};

static void report(int fd, ssize_t ret, int err, int sigs, const void *data,
		   size_t n)
{
	struct res r = { .ret = ret, .err = err, .sigs = sigs };

	if (data)
		memcpy(r.data, data, n < sizeof(r.data) ? n : sizeof(r.data));
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(99);
}

/* The call runs before errno is read: argument order is unspecified. */
#define REPORT(fd, call, sigs, data, n) do {				\
	ssize_t __ret = (call);						\
	int __err = errno;						\
									\
	report(fd, __ret, __err, sigs, data, n);			\
} while (0)

static int get_res(int fd, struct res *r)
{
	return read(fd, r, sizeof(*r)) == sizeof(*r) ? 0 : -1;
}

static int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static volatile sig_atomic_t sig_count;
static int sig_note_fd = -1;

static void on_signal(int sig)
{
	sig_count++;
	if (sig_note_fd >= 0 && write(sig_note_fd, "s", 1) != 1)
		_exit(98);
}

static void catch_signal(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int set_pipe_size(int fd, unsigned int want, long *got)
{
	__u32 v = want;
	int ret = ioctl(fd, KIPC_PIPE_SET_SIZE, &v);

	if (got)
		*got = v;
	return ret;
}

static long get_pipe_size(int fd)
{
	__u32 v = 0;

	if (ioctl(fd, KIPC_PIPE_GET_SIZE, &v))
		return 0;
	return v;
}

/* The pipe_max_size parameter (rounded to pages), and a size above it. */
static long max_size(void)
{
	char buf[32] = "";
	FILE *f = fopen("/sys/module/kipc/parameters/pipe_max_size", "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return (strtol(buf, NULL, 10) + 4095) / 4096 * 4096;
}

#define MAXSZ	max_size()
#define ABOVE	(max_size() + 4096)

/* Every test starts from an unopened device of the default size. */
FIXTURE(pipe) {
	int r, w;
};

FIXTURE_SETUP(pipe)
{
	int fd = open(DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", DEV, strerror(errno));
	ASSERT_EQ(0, nread(fd)) TH_LOG("a previous test left data behind");
	ASSERT_EQ(0, set_pipe_size(fd, SZ, NULL));
	close(fd);
	self->r = -1;
	self->w = -1;
}

FIXTURE_TEARDOWN(pipe)
{
}

/* --- opening like a FIFO ------------------------------------------------- */

TEST_F(pipe, open_wronly_nonblock_no_reader_enxio)
{
	ASSERT_EQ(-1, open(DEV, O_WRONLY | O_NONBLOCK));
	ASSERT_EQ(ENXIO, errno);
}

TEST_F(pipe, open_rdonly_nonblock_no_writer)
{
	char c;

	self->r = open(DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->r);
	/* No writer: EOF at once, and no hang-up before a writer was seen. */
	ASSERT_EQ(0, read(self->r, &c, 1));
	ASSERT_EQ(0, poll1(self->r, POLLIN | POLLOUT));
	/* A reader exists now: a non-blocking writer may open. */
	self->w = open(DEV, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, self->w);
}

TEST_F(pipe, open_accmode_3_einval)
{
	ASSERT_EQ(-1, open(DEV, O_ACCMODE));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(pipe, open_rdwr_never_blocks)
{
	char buf[8];

	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(3, write(self->r, "abc", 3));
	ASSERT_EQ(3, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "abc", 3));
	/* With O_NONBLOCK too. */
	self->w = open(DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->w);
}

TEST_F(pipe, open_rdonly_blocks_until_writer)
{
	int rp[2];
	struct res r;
	pid_t pid;

	ASSERT_EQ(0, pipe(rp));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(DEV, O_RDONLY);
		char buf[8] = "";
		ssize_t n;

		if (fd < 0) {
			report(rp[1], -1, errno, 0, NULL, 0);
			_exit(1);
		}
		n = read(fd, buf, sizeof(buf));
		report(rp[1], n, errno, 0, buf, sizeof(buf));
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_"));
	/* The blocked reader counts: a non-blocking writer opens. */
	self->w = open(DEV, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, self->w);
	ASSERT_EQ(2, write(self->w, "hi", 2));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(2, r.ret);
	ASSERT_EQ(0, memcmp(r.data, "hi", 2));
	ASSERT_EQ(0, wait_exit(pid));
}

TEST_F(pipe, open_wronly_blocks_until_reader)
{
	int rp[2];
	struct res r;
	char buf[8];
	pid_t pid;

	ASSERT_EQ(0, pipe(rp));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(DEV, O_WRONLY);

		if (fd < 0) {
			report(rp[1], -1, errno, 0, NULL, 0);
			_exit(1);
		}
		REPORT(rp[1], write(fd, "yo", 2), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_"));
	self->r = open(DEV, O_RDONLY);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(2, r.ret);
	ASSERT_EQ(2, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "yo", 2));
	ASSERT_EQ(0, wait_exit(pid));
}

/*
 * fifo_open's counter trick: a reader that opens and closes again before
 * the blocked writer runs still completes the writer's open.
 */
TEST_F(pipe, open_quick_partner_still_wakes_opener)
{
	int rp[2], go[2];
	struct res r;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(0, pipe(go));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		signal(SIGPIPE, SIG_IGN);
		fd = open(DEV, O_WRONLY);
		report(rp[1], fd, errno, 0, NULL, 0);
		if (fd < 0)
			_exit(1);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		REPORT(rp[1], write(fd, "x", 1), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_"));
	self->r = open(DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(0, close(self->r));
	/* The writer's open returned although no reader is left. */
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_LE(0, r.ret);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(-1, r.ret);
	ASSERT_EQ(EPIPE, r.err);
	ASSERT_EQ(0, wait_exit(pid));
}

static void open_interrupted(struct __test_metadata *_metadata, int flags)
{
	int rp[2], note[2];
	struct res r;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(0, pipe(note));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		sig_note_fd = note[1];
		catch_signal(SIGALRM, flags);
		fd = open(DEV, O_RDONLY);
		report(rp[1], fd, errno, sig_count, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_"));
	ASSERT_EQ(0, kill(pid, SIGALRM));
	ASSERT_EQ(1, read(note[0], &c, 1));
	if (flags & SA_RESTART) {
		/* Restarted: it sleeps again until a writer comes. */
		int w;

		ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_"));
		w = open(DEV, O_WRONLY | O_NONBLOCK);
		ASSERT_LE(0, w);
		ASSERT_EQ(0, get_res(rp[0], &r));
		ASSERT_LE(0, r.ret);
		ASSERT_EQ(1, r.sigs);
		close(w);
	} else {
		ASSERT_EQ(0, get_res(rp[0], &r));
		ASSERT_EQ(-1, r.ret);
		ASSERT_EQ(EINTR, r.err);
		ASSERT_EQ(1, r.sigs);
		/* The interrupted reader is gone: no reader is left. */
		ASSERT_EQ(-1, open(DEV, O_WRONLY | O_NONBLOCK));
		ASSERT_EQ(ENXIO, errno);
	}
	ASSERT_EQ(0, wait_exit(pid));
}

TEST_F(pipe, open_interrupted_eintr)
{
	open_interrupted(_metadata, 0);
}

TEST_F(pipe, open_interrupted_restarts)
{
	open_interrupted(_metadata, SA_RESTART);
}

TEST_F(pipe, data_dropped_on_last_close)
{
	char c;

	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(100, write_pat(self->r, 0, 100));
	ASSERT_EQ(100, nread(self->r));
	ASSERT_EQ(0, close(self->r));
	self->r = open(DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(0, nread(self->r));
	ASSERT_EQ(-1, read(self->r, &c, 1));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(pipe, data_kept_while_a_file_is_open)
{
	unsigned char buf[100];

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(100, write_pat(self->w, 0, 100));
	ASSERT_EQ(0, close(self->w));
	self->w = open(DEV, O_WRONLY);
	ASSERT_LE(0, self->w);
	ASSERT_EQ(100, nread(self->r));
	ASSERT_EQ(100, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(100, bad_pat(buf, 0, 100));
}

/* --- reading -------------------------------------------------------------- */

TEST_F(pipe, read_short_and_eof)
{
	char buf[100];

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(5, write(self->w, "hello", 5));
	ASSERT_EQ(3, read(self->r, buf, 3));
	ASSERT_EQ(0, memcmp(buf, "hel", 3));
	ASSERT_EQ(2, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "lo", 2));
	ASSERT_EQ(4, write(self->w, "tail", 4));
	ASSERT_EQ(0, close(self->w));
	/* The data outlives the writer; then EOF, again and again. */
	ASSERT_EQ(4, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "tail", 4));
	ASSERT_EQ(0, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, read(self->r, buf, sizeof(buf)));
}

TEST_F(pipe, read_nonblock_eagain)
{
	char c;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, set_nonblock(self->r, 1));
	ASSERT_EQ(-1, read(self->r, &c, 1));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(pipe, read_and_write_of_zero_bytes)
{
	char c;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, write(self->w, &c, 0));
	ASSERT_EQ(0, read(self->r, &c, 0));	/* does not block */
	ASSERT_EQ(0, nread(self->r));
}

TEST_F(pipe, read_blocks_until_data)
{
	int rp[2];
	struct res r;
	pid_t pid;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[64];
		ssize_t n = read(self->r, buf, sizeof(buf));

		report(rp[1], n, errno, 0, buf, sizeof(buf));
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_read"));
	ASSERT_EQ(3, write(self->w, "abc", 3));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(3, r.ret);
	ASSERT_EQ(0, memcmp(r.data, "abc", 3));
	ASSERT_EQ(0, wait_exit(pid));
}

TEST_F(pipe, eof_wakes_every_blocked_reader)
{
	int rp[2], i, zero = 0;
	pid_t pid[3];
	struct res r;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	for (i = 0; i < 3; i++) {
		pid[i] = fork_child();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			char c;

			close(self->w);
			REPORT(rp[1], read(self->r, &c, 1), 0, NULL, 0);
			_exit(0);
		}
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, wait_blocked(pid[i], "kipc_pipe_read"));
	ASSERT_EQ(0, close(self->w));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, get_res(rp[0], &r));
		if (r.ret == 0)
			zero++;
	}
	ASSERT_EQ(3, zero);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, wait_exit(pid[i]));
}

/* One write wakes one reader; a reader leaving data wakes the next. */
TEST_F(pipe, readers_pass_the_wakeup_on)
{
	int rp[2], i, seen = 0;
	pid_t pid[4];
	struct res r;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	for (i = 0; i < 4; i++) {
		pid[i] = fork_child();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			char c = 0;
			ssize_t n = read(self->r, &c, 1);

			report(rp[1], n, errno, 0, &c, 1);
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, wait_blocked(pid[i], "kipc_pipe_read"));
	ASSERT_EQ(4, write(self->w, "ABCD", 4));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, get_res(rp[0], &r));
		ASSERT_EQ(1, r.ret);
		ASSERT_TRUE(r.data[0] >= 'A' && r.data[0] <= 'D');
		seen |= 1 << (r.data[0] - 'A');
	}
	ASSERT_EQ(0xf, seen);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, wait_exit(pid[i]));
}

/* --- writing -------------------------------------------------------------- */

TEST_F(pipe, write_atomic_up_to_pipe_buf)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, set_nonblock(self->w, 1));
	/* Leave PIPE_BUF - 1 bytes free. */
	ASSERT_EQ(SZ - PBUF + 1, write_pat(self->w, 0, SZ - PBUF + 1));
	/* PIPE_BUF bytes do not fit whole: nothing is written. */
	ASSERT_EQ(-1, write_pat(self->w, SZ - PBUF + 1, PBUF));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(SZ - PBUF + 1, nread(self->r));
	/* Exactly what is free fits. */
	ASSERT_EQ(PBUF - 1, write_pat(self->w, SZ - PBUF + 1, PBUF - 1));
	ASSERT_EQ(SZ, nread(self->r));
	ASSERT_EQ(-1, write_pat(self->w, SZ, 1));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(pipe, write_large_nonblock_partial)
{
	unsigned char *buf = malloc(SZ);

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, set_nonblock(self->w, 1));
	ASSERT_EQ(SZ - 100, write_pat(self->w, 0, SZ - 100));
	/* Over PIPE_BUF: as much as fits, then a short count. */
	ASSERT_EQ(100, write_pat(self->w, SZ - 100, PBUF + 1));
	ASSERT_EQ(SZ, nread(self->r));
	ASSERT_EQ(-1, write_pat(self->w, SZ, 2 * PBUF));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(SZ, read(self->r, buf, SZ));
	ASSERT_EQ(SZ, bad_pat(buf, 0, SZ));
	free(buf);
}

TEST_F(pipe, write_blocks_until_room)
{
	unsigned char buf[PBUF];
	int rp[2];
	struct res r;
	pid_t pid;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		REPORT(rp[1], write_pat(self->w, SZ, 10), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	/* Less than PIPE_BUF freed: a writer stays asleep. */
	ASSERT_EQ(100, read(self->r, buf, 100));
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	ASSERT_EQ(PBUF - 100, read(self->r, buf + 100, PBUF - 100));
	ASSERT_EQ(PBUF, bad_pat(buf, 0, PBUF));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(10, r.ret);
	ASSERT_EQ(SZ - PBUF + 10, nread(self->r));
	ASSERT_EQ(0, wait_exit(pid));
}

/* Over PIPE_BUF, a write fills what it can, sleeps, and goes on. */
TEST_F(pipe, write_large_blocks_part_way)
{
	size_t total = 2 * SZ + 12345, got = 0;
	unsigned char *buf = malloc(SZ);
	int rp[2];
	struct res r;
	pid_t pid;
	ssize_t n;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		REPORT(rp[1], write_pat(self->w, 0, total), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	ASSERT_EQ(SZ, nread(self->r));
	close(self->w);
	while (got < total) {
		n = read(self->r, buf, SZ);
		ASSERT_LT(0, n);
		ASSERT_EQ(n, bad_pat(buf, got, n));
		got += n;
	}
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ((ssize_t)total, r.ret);
	ASSERT_EQ(0, read(self->r, buf, 1));
	ASSERT_EQ(0, wait_exit(pid));
	free(buf);
}

/* Woken writers pass the wake-up on while room is left. */
TEST_F(pipe, writers_pass_the_wakeup_on)
{
	unsigned char *buf = malloc(SZ);
	int rp[2], i, ok = 0;
	ssize_t got = 0;
	pid_t pid[4];
	struct res r;
	ssize_t n;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	for (i = 0; i < 4; i++) {
		pid[i] = fork_child();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			REPORT(rp[1], write_pat(self->w, 0, PBUF), 0,
			       NULL, 0);
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, wait_blocked(pid[i], "kipc_pipe_write"));
	/* One read frees room for all four. */
	ASSERT_EQ(SZ, read(self->r, buf, SZ));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, get_res(rp[0], &r));
		if (r.ret == PBUF)
			ok++;
	}
	ASSERT_EQ(4, ok);
	ASSERT_EQ(4 * PBUF, nread(self->r));
	while (got < 4 * PBUF) {
		n = read(self->r, buf, SZ);
		ASSERT_LT(0, n);
		got += n;
	}
	ASSERT_EQ(4 * PBUF, got);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, wait_exit(pid[i]));
	free(buf);
}

TEST_F(pipe, epipe_sigpipe_kills_by_default)
{
	pid_t pid;

	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	self->w = open(DEV, O_WRONLY);
	ASSERT_LE(0, self->w);
	ASSERT_EQ(0, close(self->r));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (write(self->w, "x", 1) < 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(128 + SIGPIPE, wait_exit(pid));
}

TEST_F(pipe, epipe_with_sigpipe_blocked)
{
	sigset_t set, pend;
	siginfo_t si;
	struct timespec ts = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, close(self->r));
	ASSERT_EQ(-1, write(self->w, "x", 1));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, sigpending(&pend));
	ASSERT_EQ(1, sigismember(&pend, SIGPIPE));
	ASSERT_EQ(SIGPIPE, sigtimedwait(&set, &si, &ts));
	/* Also for a write over PIPE_BUF, once per call. */
	ASSERT_EQ(-1, write_pat(self->w, 0, 3 * PBUF));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(SIGPIPE, sigtimedwait(&set, &si, &ts));
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &ts));
	ASSERT_EQ(EAGAIN, errno);
}

/* A writer sleeping part way through gets its count when readers go. */
TEST_F(pipe, epipe_part_way_returns_count)
{
	int rp[2];
	struct res r;
	pid_t pid;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sigset_t set, pend;
		ssize_t n;

		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigprocmask(SIG_BLOCK, &set, NULL);
		close(self->r);
		n = write_pat(self->w, 0, 2 * SZ);
		sigpending(&pend);
		report(rp[1], n, errno, sigismember(&pend, SIGPIPE), NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	ASSERT_EQ(0, close(self->r));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(SZ, r.ret);
	ASSERT_EQ(1, r.sigs);
	ASSERT_EQ(0, wait_exit(pid));
}

TEST_F(pipe, espipe)
{
	char c = 0;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(-1, lseek(self->r, 0, SEEK_SET));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, lseek(self->w, 0, SEEK_CUR));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, pwrite(self->w, &c, 1, 0));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(1, write(self->w, &c, 1));
	ASSERT_EQ(-1, pread(self->r, &c, 1, 0));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(1, nread(self->r));
}

/*
 * readv and writev are one read and one write each (read_iter and
 * write_iter): a readv returns what is there without waiting to fill its
 * later iovecs, and a writev of up to PIPE_BUF bytes in all is atomic.
 */
TEST_F(pipe, readv_writev)
{
	char a[2], b[10], c[10], d[10];
	struct iovec wv[2] = { { "abc", 3 }, { "defg", 4 } };
	struct iovec rv[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec rv2[2] = { { c, sizeof(c) }, { d, sizeof(d) } };

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(7, writev(self->w, wv, 2));
	ASSERT_EQ(7, readv(self->r, rv, 2));
	ASSERT_EQ(0, memcmp(a, "ab", 2));
	ASSERT_EQ(0, memcmp(b, "cdefg", 5));

	/* 10 buffered, 2 x 10 asked for: 10, at once (it blocked before). */
	ASSERT_EQ(10, write(self->w, "0123456789", 10));
	ASSERT_EQ(10, readv(self->r, rv2, 2));
	ASSERT_EQ(0, memcmp(c, "0123456789", 10));
}

/* A writev of PIPE_BUF bytes in many iovecs goes in whole or not at all. */
TEST_F(pipe, writev_atomic)
{
	unsigned char *buf = malloc(SZ);
	struct iovec iov[4];
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, set_nonblock(self->w, 1));
	ASSERT_EQ(SZ - PBUF + 1, write_pat(self->w, 0, SZ - PBUF + 1));
	fill_pat(buf, 0, PBUF);
	for (i = 0; i < 4; i++)
		iov[i] = (struct iovec){ buf + i * (PBUF / 4), PBUF / 4 };
	/* One byte too few free: nothing (one iovec at a time wrote 3 KiB). */
	ASSERT_EQ(-1, writev(self->w, iov, 4));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(SZ - PBUF + 1, nread(self->r));
	ASSERT_EQ(1, read(self->r, buf + PBUF, 1));
	ASSERT_EQ(PBUF, writev(self->w, iov, 4));
	ASSERT_EQ(SZ, nread(self->r));
	free(buf);
}

/*
 * A writev with a bad address in its middle, as on a FIFO: EFAULT, and
 * nothing written (one iovec at a time wrote the first 10 bytes and
 * returned 10).
 */
TEST_F(pipe, writev_bad_address_writes_nothing)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	struct iovec iov[3] = { { "0123456789", 10 }, { bad, 10 },
				{ "abcdefghij", 10 } };

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(-1, writev(self->w, iov, 3));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, nread(self->r));
	munmap(bad, 4096);
}

/*
 * RWF_NOWAIT (FMODE_NOWAIT set at open): EAGAIN instead of a sleep, on a
 * blocking file, and the calls work when they need not wait.
 */
TEST_F(pipe, rwf_nowait)
{
	unsigned char *buf = malloc(SZ);
	struct iovec iov = { buf, 16 };

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(-1, preadv2(self->r, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(EAGAIN, errno);
	iov = (struct iovec){ "nowait", 6 };
	ASSERT_EQ(6, pwritev2(self->w, &iov, 1, -1, RWF_NOWAIT));
	iov = (struct iovec){ buf, 16 };
	ASSERT_EQ(6, preadv2(self->r, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(0, memcmp(buf, "nowait", 6));
	/* Full: a write that would wait is EAGAIN, a large one partial. */
	ASSERT_EQ(SZ - 100, write_pat(self->w, 0, SZ - 100));
	iov = (struct iovec){ buf, 200 };
	ASSERT_EQ(-1, pwritev2(self->w, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(EAGAIN, errno);
	iov = (struct iovec){ buf, PBUF + 1 };
	ASSERT_EQ(100, pwritev2(self->w, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(SZ, nread(self->r));
	free(buf);
}

/*
 * splice(2) both ways, sendfile(2) both ways, tee(2) on a pipe(2) in
 * between: the bytes pass through the ring.  tee and vmsplice on the node
 * itself are refused by the VFS (not a pipe).
 */
TEST_F(pipe, splice_sendfile_tee)
{
	char tmpl[] = "/tmp/kipc_splice.XXXXXX";
	char buf[64];
	struct iovec iov = { "vms", 3 };
	int p[2], q[2], f;
	off_t off = 0;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(q));
	ASSERT_EQ(3, write(p[1], "spl", 3));
	ASSERT_EQ(3, splice(p[0], NULL, self->w, NULL, 3, 0));
	ASSERT_EQ(3, nread(self->r));
	ASSERT_EQ(3, splice(self->r, NULL, p[1], NULL, 64, 0));
	ASSERT_EQ(0, nread(self->r));
	/* tee between two pipe(2)s, then back into the device. */
	ASSERT_EQ(3, tee(p[0], q[1], 64, 0));
	ASSERT_EQ(3, splice(q[0], NULL, self->w, NULL, 64, 0));
	ASSERT_EQ(3, read(p[0], buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "spl", 3));
	ASSERT_EQ(3, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "spl", 3));
	/* vmsplice into a pipe(2), then spliced into the device. */
	ASSERT_EQ(3, vmsplice(p[1], &iov, 1, 0));
	ASSERT_EQ(3, splice(p[0], NULL, self->w, NULL, 64, 0));
	ASSERT_EQ(3, read(self->r, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "vms", 3));
	/* Empty, SPLICE_F_NONBLOCK: EAGAIN, as from an empty FIFO. */
	ASSERT_EQ(-1, splice(self->r, NULL, p[1], NULL, 64,
			     SPLICE_F_NONBLOCK));
	ASSERT_EQ(EAGAIN, errno);
	/* Not a pipe: tee EINVAL, vmsplice EBADF. */
	ASSERT_EQ(-1, tee(self->r, q[1], 64, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, vmsplice(self->w, &iov, 1, 0));
	ASSERT_EQ(EBADF, errno);
	/* sendfile from a file into the device, and out of it to a file. */
	f = mkstemp(tmpl);
	ASSERT_LE(0, f);
	unlink(tmpl);
	ASSERT_EQ(5, write(f, "sendf", 5));
	ASSERT_EQ(5, sendfile(self->w, f, &off, 5));
	ASSERT_EQ(5, nread(self->r));
	/*
	 * Out of the device only into a pipe: sendfile to a file wants a
	 * regular input (splice_direct_to_actor), as from a FIFO.
	 */
	ASSERT_EQ(-1, sendfile(f, self->r, NULL, 5));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(5, sendfile(p[1], self->r, NULL, 5));
	ASSERT_EQ(0, nread(self->r));
	ASSERT_EQ(5, read(p[0], buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "sendf", 5));
	/* copy_file_range wants regular files, as on a FIFO. */
	ASSERT_EQ(-1, copy_file_range(f, NULL, self->w, NULL, 5, 0));
	ASSERT_EQ(EINVAL, errno);
	close(f);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* --- poll, select, epoll -------------------------------------------------- */

TEST_F(pipe, poll_masks)
{
	const short all = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
	unsigned char *buf = malloc(SZ);
	int rw;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, poll1(self->r, all));
	ASSERT_EQ(POLLOUT | POLLWRNORM, poll1(self->w, all));
	ASSERT_EQ(1, write(self->w, "x", 1));
	ASSERT_EQ(POLLIN | POLLRDNORM, poll1(self->r, all));
	ASSERT_EQ(POLLOUT | POLLWRNORM, poll1(self->w, all));
	/* POLLOUT needs PIPE_BUF bytes free. */
	ASSERT_EQ(SZ - PBUF - 1, write_pat(self->w, 0, SZ - PBUF - 1));
	ASSERT_EQ(POLLOUT | POLLWRNORM, poll1(self->w, all));
	ASSERT_EQ(1, write(self->w, "y", 1));
	ASSERT_EQ(0, poll1(self->w, all));
	ASSERT_EQ(1, read(self->r, buf, 1));
	ASSERT_EQ(POLLOUT | POLLWRNORM, poll1(self->w, all));
	ASSERT_EQ(PBUF, write_pat(self->w, 0, PBUF));
	ASSERT_EQ(0, poll1(self->w, all));
	/* Only the events asked for, plus POLLHUP and POLLERR always. */
	ASSERT_EQ(POLLIN, poll1(self->r, POLLIN));
	ASSERT_EQ(0, poll1(self->r, POLLOUT));
	/* O_RDWR sees both sides. */
	rw = open(DEV, O_RDWR);
	ASSERT_LE(0, rw);
	ASSERT_EQ(POLLIN | POLLRDNORM, poll1(rw, all));
	ASSERT_EQ(SZ, read(self->r, buf, SZ));
	ASSERT_EQ(POLLOUT | POLLWRNORM, poll1(rw, all));
	close(rw);
	free(buf);
}

TEST_F(pipe, poll_hup_and_err)
{
	const short all = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(2, write(self->w, "zz", 2));
	ASSERT_EQ(0, close(self->w));
	/* Data and hang-up together, then hang-up alone. */
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLHUP, poll1(self->r, all));
	ASSERT_EQ(POLLHUP, poll1(self->r, 0));
	ASSERT_EQ(2, nread(self->r));
	ASSERT_EQ(0, close(self->r));

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, close(self->r));
	ASSERT_EQ(POLLOUT | POLLWRNORM | POLLERR, poll1(self->w, all));
	ASSERT_EQ(POLLERR, poll1(self->w, 0));
}

/*
 * A reader opened with O_NONBLOCK before any writer sees no POLLHUP until
 * a writer has come and gone (fifo's w_counter rule).
 */
TEST_F(pipe, poll_hup_only_after_a_writer)
{
	self->r = open(DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(0, poll1(self->r, POLLIN));
	self->w = open(DEV, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, self->w);
	ASSERT_EQ(0, poll1(self->r, POLLIN));
	ASSERT_EQ(0, close(self->w));
	ASSERT_EQ(POLLHUP, poll1(self->r, POLLIN));
	/* A second reader opened now, with no writer, sees none either. */
	self->w = open(DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, self->w);
	ASSERT_EQ(0, poll1(self->w, POLLIN));
	ASSERT_EQ(POLLHUP, poll1(self->r, POLLIN));
}

TEST_F(pipe, select_sets)
{
	struct timeval tv = { 0, 0 };
	fd_set rd, wr;
	int maxfd;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	maxfd = (self->r > self->w ? self->r : self->w) + 1;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(self->r, &rd);
	FD_SET(self->w, &wr);
	ASSERT_EQ(1, select(maxfd, &rd, &wr, NULL, &tv));
	ASSERT_FALSE(FD_ISSET(self->r, &rd));
	ASSERT_TRUE(FD_ISSET(self->w, &wr));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(self->r, &rd);
	FD_SET(self->w, &wr);
	ASSERT_EQ(1, select(maxfd, &rd, &wr, NULL, &tv));
	ASSERT_TRUE(FD_ISSET(self->r, &rd));
	ASSERT_FALSE(FD_ISSET(self->w, &wr));
}

static int ep_wait1(int ep, int timeout, int *events)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, timeout);

	if (n == 1)
		*events = (int)ev.events;
	return n;
}

TEST_F(pipe, epoll_level_triggered)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int got = 0;
	char c;
	int ep;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->r, &ev));
	ASSERT_EQ(0, ep_wait1(ep, 0, &got));
	ASSERT_EQ(1, write(self->w, "a", 1));
	ASSERT_EQ(1, ep_wait1(ep, 0, &got));
	ASSERT_EQ(EPOLLIN, got);
	/* Level: reported again while data is there. */
	ASSERT_EQ(1, ep_wait1(ep, 0, &got));
	ASSERT_EQ(1, read(self->r, &c, 1));
	ASSERT_EQ(0, ep_wait1(ep, 0, &got));
	ASSERT_EQ(0, close(self->w));
	ASSERT_EQ(1, ep_wait1(ep, 0, &got));
	ASSERT_EQ(EPOLLHUP, got);
	close(ep);
}

TEST_F(pipe, epoll_edge_triggered)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct epoll_event evw = { .events = EPOLLOUT | EPOLLET };
	unsigned char *buf = malloc(SZ);
	int got = 0;
	int ep, epw;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ep = epoll_create1(EPOLL_CLOEXEC);
	epw = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_LE(0, epw);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->r, &ev));
	ASSERT_EQ(0, epoll_ctl(epw, EPOLL_CTL_ADD, self->w, &evw));
	ASSERT_EQ(1, ep_wait1(epw, 0, &got));
	ASSERT_EQ(EPOLLOUT, got);
	ASSERT_EQ(0, ep_wait1(epw, 0, &got));

	ASSERT_EQ(1, write(self->w, "a", 1));
	ASSERT_EQ(1, ep_wait1(ep, 0, &got));
	ASSERT_EQ(EPOLLIN, got);
	/* Edge: not again without new data ... */
	ASSERT_EQ(0, ep_wait1(ep, 0, &got));
	/* ... but every write is an edge, as on a pipe. */
	ASSERT_EQ(1, write(self->w, "b", 1));
	ASSERT_EQ(1, ep_wait1(ep, 0, &got));
	ASSERT_EQ(EPOLLIN, got);
	ASSERT_EQ(0, ep_wait1(ep, 0, &got));

	/* Writer side: full, then room again is an edge. */
	ASSERT_EQ(SZ - 2, write_pat(self->w, 0, SZ - 2));
	ASSERT_EQ(0, ep_wait1(epw, 0, &got));
	ASSERT_EQ(SZ, read(self->r, buf, SZ));
	ASSERT_EQ(1, ep_wait1(epw, 0, &got));
	ASSERT_EQ(EPOLLOUT, got);
	ASSERT_EQ(0, ep_wait1(epw, 0, &got));
	close(ep);
	close(epw);
	free(buf);
}

struct delayed_write {
	int fd;
	pid_t waiter;
};

static void *delayed_writer(void *arg)
{
	struct delayed_write *dw = arg;

	if (wait_blocked(dw->waiter, "ep_poll|do_epoll_wait") ||
	    write(dw->fd, "w", 1) != 1)
		return (void *)1;
	return NULL;
}

TEST_F(pipe, epoll_wait_is_woken)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct delayed_write dw;
	int got = 0;
	pthread_t th;
	void *tret;
	int ep;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->r, &ev));
	dw.fd = self->w;
	dw.waiter = syscall(SYS_gettid);
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_writer, &dw));
	ASSERT_EQ(1, ep_wait1(ep, 20000, &got));
	ASSERT_EQ(EPOLLIN, got);
	ASSERT_EQ(0, pthread_join(th, &tret));
	ASSERT_EQ(NULL, tret);
	close(ep);
}

/* --- fasync --------------------------------------------------------------- */

static int setup_async(int fd, int sig)
{
	if (fcntl(fd, F_SETOWN, getpid()) || fcntl(fd, F_SETSIG, sig))
		return -1;
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
}

TEST_F(pipe, fasync_setsig_band_and_fd)
{
	int sig_in = SIGRTMIN + 1, sig_out = SIGRTMIN + 2;
	struct timespec ts0 = { 0, 0 }, ts = { 20, 0 };
	unsigned char *buf = malloc(SZ);
	sigset_t set, one;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, sig_in);
	sigaddset(&set, sig_out);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, setup_async(self->r, sig_in));
	ASSERT_EQ(0, setup_async(self->w, sig_out));

	/* Data arrives: the reader's signal, POLL_IN. */
	ASSERT_EQ(3, write(self->w, "sig", 3));
	sigemptyset(&one);
	sigaddset(&one, sig_in);
	ASSERT_EQ(sig_in, sigtimedwait(&one, &si, &ts));
	ASSERT_EQ(POLL_IN, si.si_code);
	ASSERT_EQ(POLLIN | POLLRDNORM, si.si_band);
	ASSERT_EQ(self->r, si.si_fd);
	/* The writer is not told about its own data. */
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &ts0));
	ASSERT_EQ(EAGAIN, errno);

	/* Space frees: the writer's signal, POLL_OUT. */
	ASSERT_EQ(3, read(self->r, buf, 10));
	sigemptyset(&one);
	sigaddset(&one, sig_out);
	ASSERT_EQ(sig_out, sigtimedwait(&one, &si, &ts));
	ASSERT_EQ(POLL_OUT, si.si_code);
	ASSERT_EQ(POLLOUT | POLLWRNORM | POLLWRBAND, si.si_band);
	ASSERT_EQ(self->w, si.si_fd);
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &ts0));
	ASSERT_EQ(EAGAIN, errno);

	/* Turned off: no more signals. */
	ASSERT_EQ(0, fcntl(self->r, F_SETFL, 0));
	ASSERT_EQ(1, write(self->w, "x", 1));
	ASSERT_EQ(-1, sigtimedwait(&set, &si, &ts0));
	ASSERT_EQ(EAGAIN, errno);
	free(buf);
}

TEST_F(pipe, fasync_plain_sigio)
{
	struct timespec ts = { 20, 0 };
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, fcntl(self->r, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->r, F_SETFL, O_ASYNC));
	ASSERT_EQ(1, write(self->w, "x", 1));
	ASSERT_EQ(SIGIO, sigtimedwait(&set, &si, &ts));
}

/* --- signals -------------------------------------------------------------- */

/* Child blocked in read (or write into a full pipe) gets SIGALRM. */
static void interrupted_io(struct __test_metadata *_metadata, int r, int w,
			   bool do_write, size_t len, int flags,
			   ssize_t want_ret, int want_err)
{
	int rp[2], note[2];
	struct res res;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(0, pipe(note));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char *buf = calloc(1, len);
		ssize_t n;

		sig_note_fd = note[1];
		catch_signal(SIGALRM, flags);
		if (do_write)
			n = write_pat(w, 0, len);
		else
			n = read(r, buf, len);
		report(rp[1], n, errno, sig_count, buf, len);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, do_write ? "kipc_pipe_write" :
						  "kipc_pipe_read"));
	ASSERT_EQ(0, kill(pid, SIGALRM));
	ASSERT_EQ(1, read(note[0], &c, 1));
	if (flags & SA_RESTART) {
		unsigned char *buf = malloc(SZ);

		/* Restarted: back to sleep; then let it finish. */
		ASSERT_EQ(0, wait_blocked(pid, do_write ? "kipc_pipe_write" :
							  "kipc_pipe_read"));
		if (do_write) {
			ASSERT_EQ(SZ, read(r, buf, SZ));
		} else {
			ASSERT_EQ(2, write(w, "ok", 2));
		}
		free(buf);
	}
	ASSERT_EQ(0, get_res(rp[0], &res));
	ASSERT_EQ(want_ret, res.ret);
	if (want_ret < 0)
		ASSERT_EQ(want_err, res.err);
	ASSERT_EQ(1, res.sigs);
	if (!do_write && want_ret > 0)
		ASSERT_EQ(0, memcmp(res.data, "ok", 2));
	ASSERT_EQ(0, wait_exit(pid));
}

TEST_F(pipe, signal_read_eintr)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	interrupted_io(_metadata, self->r, self->w, false, 10, 0, -1, EINTR);
	ASSERT_EQ(0, nread(self->r));
}

TEST_F(pipe, signal_read_restarts)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	interrupted_io(_metadata, self->r, self->w, false, 10, SA_RESTART, 2,
		       0);
}

TEST_F(pipe, signal_write_eintr_nothing_moved)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	interrupted_io(_metadata, self->r, self->w, true, 100, 0, -1, EINTR);
	ASSERT_EQ(SZ, nread(self->r));
}

TEST_F(pipe, signal_write_restarts)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	interrupted_io(_metadata, self->r, self->w, true, 100, SA_RESTART,
		       100, 0);
	ASSERT_EQ(100, nread(self->r));
}

TEST_F(pipe, signal_write_part_way_returns_count)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	/* Fills the empty pipe, sleeps for the rest, is interrupted. */
	interrupted_io(_metadata, self->r, self->w, true, SZ + 3 * PBUF, 0,
		       SZ, 0);
	ASSERT_EQ(SZ, nread(self->r));
}

/* --- faults --------------------------------------------------------------- */

/* Two pages, the second PROT_NONE. */
static unsigned char *fault_buf(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + pg, pg, PROT_NONE))
		return NULL;
	return p;
}

TEST_F(pipe, fault_write_part_way)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = fault_buf();
	unsigned char *buf = malloc(SZ);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(PBUF, pg);
	fill_pat(p, 0, pg);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	/* Nothing readable: EFAULT, nothing written. */
	ASSERT_EQ(-1, write(self->w, p + pg, 10));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, write(self->w, p + pg, 3 * pg));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, nread(self->r));
	/* Over PIPE_BUF: the bytes before the fault are written. */
	ASSERT_EQ(pg, write(self->w, p, 2 * pg));
	ASSERT_EQ(pg, nread(self->r));
	ASSERT_EQ(pg - 100, write(self->w, p + 100, pg + 1000));
	ASSERT_EQ(2 * pg - 100, nread(self->r));
	/* Up to PIPE_BUF: atomic, all or nothing. */
	ASSERT_EQ(-1, write(self->w, p + pg - 96, 200));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(2 * pg - 100, nread(self->r));
	ASSERT_EQ(2 * pg - 100, read(self->r, buf, SZ));
	ASSERT_EQ(pg, bad_pat(buf, 0, pg));
	ASSERT_EQ(pg - 100, bad_pat(buf + pg, 100, pg - 100));
	free(buf);
}

TEST_F(pipe, fault_read_part_way)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = fault_buf();
	unsigned char *buf = malloc(SZ);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(3 * pg, write_pat(self->w, 0, 3 * pg));
	/* Nothing copied: EFAULT, nothing consumed. */
	ASSERT_EQ(-1, read(self->r, p + pg, 10));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(3 * pg, nread(self->r));
	/* Part way: the bytes copied are consumed and counted. */
	ASSERT_EQ(pg, read(self->r, p, 2 * pg));
	ASSERT_EQ(pg, bad_pat(p, 0, pg));
	ASSERT_EQ(2 * pg, nread(self->r));
	ASSERT_EQ(96, read(self->r, p + pg - 96, 200));
	ASSERT_EQ(96, bad_pat(p + pg - 96, pg, 96));
	ASSERT_EQ(2 * pg - 96, read(self->r, buf, SZ));
	ASSERT_EQ(2 * pg - 96, bad_pat(buf, pg + 96, 2 * pg - 96));
	free(buf);
}

/* The ring wraps: a fault in the second part of the copy. */
TEST_F(pipe, fault_across_the_wrap)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *p = fault_buf();
	unsigned char *buf = malloc(SZ);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(SZ - 1000, write_pat(self->w, 0, SZ - 1000));
	ASSERT_EQ(SZ - 3000, read(self->r, buf, SZ - 3000));
	/* 2000 bytes at the end of the ring, room wraps to the start. */
	fill_pat(p, SZ - 1000, pg);
	ASSERT_EQ(pg, write(self->w, p, pg + 500));
	ASSERT_EQ(2000 + pg, nread(self->r));
	ASSERT_EQ(2000 + pg, read(self->r, buf, SZ));
	ASSERT_EQ(2000 + pg, bad_pat(buf, SZ - 3000, 2000 + pg));
	free(buf);
}

/* --- ioctls --------------------------------------------------------------- */

TEST_F(pipe, fionread_on_both_ends)
{
	unsigned char buf[10];

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, nread(self->r));
	ASSERT_EQ(1234, write_pat(self->w, 0, 1234));
	ASSERT_EQ(1234, nread(self->r));
	ASSERT_EQ(1234, nread(self->w));
	ASSERT_EQ(10, read(self->r, buf, 10));
	ASSERT_EQ(1224, nread(self->r));
	ASSERT_EQ(-1, ioctl(self->r, FIONREAD, (void *)8));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(pipe, size_get_set_rounding)
{
	long got = 0;

	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(SZ, get_pipe_size(self->r));
	ASSERT_EQ(0, set_pipe_size(self->r, 1, &got));
	ASSERT_EQ(4096, got);
	ASSERT_EQ(4096, get_pipe_size(self->r));
	ASSERT_EQ(0, set_pipe_size(self->r, 4097, &got));
	ASSERT_EQ(8192, got);
	ASSERT_EQ(0, set_pipe_size(self->r, 3 * 4096 - 5, &got));
	ASSERT_EQ(3 * 4096, got);
	ASSERT_EQ(3 * 4096, get_pipe_size(self->r));
	ASSERT_EQ(-1, set_pipe_size(self->r, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_pipe_size(self->r, 0x80000001u, NULL));
	ASSERT_EQ(EINVAL, errno);
	/*
	 * The largest ring is what kvmalloc() can give, INT_MAX rounded
	 * down to pages: 2 GiB (ENOMEM at every open before) and the sizes
	 * that would round up past INT_MAX are out of range.
	 */
	ASSERT_EQ(-1, set_pipe_size(self->r, 0x80000000u, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_pipe_size(self->r, 0x7ffff001u, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_pipe_size(self->r, 0xffffffffu, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(3 * 4096, get_pipe_size(self->r));
	ASSERT_EQ(-1, ioctl(self->r, KIPC_PIPE_GET_SIZE, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->r, KIPC_PIPE_SET_SIZE, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	/* The new size holds: 3 pages and not a byte more. */
	ASSERT_EQ(0, set_nonblock(self->r, 1));
	ASSERT_EQ(3 * 4096, write_pat(self->r, 0, 4 * 4096));
	ASSERT_EQ(0, set_pipe_size(self->r, SZ, NULL));
}

TEST_F(pipe, size_ebusy_when_data_would_not_fit)
{
	long got = 0;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(8193, write_pat(self->w, 0, 8193));
	ASSERT_EQ(-1, set_pipe_size(self->w, 8192, NULL));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(SZ, get_pipe_size(self->r));
	ASSERT_EQ(0, set_pipe_size(self->w, 8193, &got));
	ASSERT_EQ(3 * 4096, got);
	ASSERT_EQ(8193, nread(self->r));
}

TEST_F(pipe, size_keeps_wrapped_data)
{
	unsigned char *buf = malloc(4 * SZ);

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	/* Data wraps around the end of the ring. */
	ASSERT_EQ(SZ - 10, write_pat(self->w, 0, SZ - 10));
	ASSERT_EQ(SZ - 5000, read(self->r, buf, SZ - 5000));
	ASSERT_EQ(7000, write_pat(self->w, SZ - 10, 7000));
	ASSERT_EQ(11990, nread(self->r));
	ASSERT_EQ(0, set_pipe_size(self->r, 4 * SZ, NULL));
	ASSERT_EQ(11990, nread(self->r));
	ASSERT_EQ(2 * SZ, write_pat(self->w, SZ + 6990, 2 * SZ));
	ASSERT_EQ(0, set_pipe_size(self->w, 2 * SZ + 11990, NULL));
	ASSERT_EQ(2 * SZ + 11990, nread(self->r));
	ASSERT_EQ(2 * SZ + 11990, read(self->r, buf, 4 * SZ));
	ASSERT_EQ(2 * SZ + 11990, bad_pat(buf, SZ - 5000, 2 * SZ + 11990));
	free(buf);
}

TEST_F(pipe, size_above_max_needs_cap_sys_resource)
{
	long got = 0;
	int rp[2];
	struct res r;
	pid_t pid;

	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_LT(0, max_size());
	/* Root (the test) may go above pipe_max_size (default 1 MiB). */
	ASSERT_EQ(0, set_pipe_size(self->r, ABOVE, &got));
	ASSERT_EQ(ABOVE, got);
	ASSERT_EQ(0, set_pipe_size(self->r, SZ, NULL));

	ASSERT_EQ(0, pipe(rp));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u32 v;

		if (drop_sys_resource())
			_exit(2);
		v = ABOVE;
		REPORT(rp[1], ioctl(self->r, KIPC_PIPE_SET_SIZE, &v),
		       0, NULL, 0);
		/* Up to the maximum is fine without the capability. */
		v = MAXSZ;
		REPORT(rp[1], ioctl(self->r, KIPC_PIPE_SET_SIZE, &v),
		       v, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(-1, r.ret);
	ASSERT_EQ(EPERM, r.err);
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(0, r.ret);
	ASSERT_EQ(MAXSZ, r.sigs);
	ASSERT_EQ(0, wait_exit(pid));
	ASSERT_EQ(MAXSZ, get_pipe_size(self->r));
}

TEST_F(pipe, size_grow_wakes_writer)
{
	int rp[2];
	struct res r;
	pid_t pid;

	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		REPORT(rp[1], write_pat(self->w, SZ, PBUF), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	ASSERT_EQ(0, set_pipe_size(self->r, 2 * SZ, NULL));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(PBUF, r.ret);
	ASSERT_EQ(SZ + PBUF, nread(self->r));
	ASSERT_EQ(0, wait_exit(pid));
}

/* The size is the device's: it outlives the files (unlike a FIFO's). */
TEST_F(pipe, size_survives_close)
{
	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(0, set_pipe_size(self->r, 8192, NULL));
	ASSERT_EQ(0, close(self->r));
	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(8192, get_pipe_size(self->r));
}

TEST_F(pipe, unknown_ioctls_enotty)
{
	struct kipc_mq_stat st;
	int v = 0;

	self->r = open(DEV, O_RDWR);
	ASSERT_LE(0, self->r);
	ASSERT_EQ(-1, ioctl(self->r, _IO('x', 1), 0));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->r, KIPC_MQ_STAT, &st));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->r, _IOR(KIPC_IOC_MAGIC, 0x03, int), &v));
	ASSERT_EQ(ENOTTY, errno);
	/* fcntl's pipe calls are for real pipes only. */
	ASSERT_EQ(-1, fcntl(self->r, F_GETPIPE_SZ));
	ASSERT_EQ(EBADF, errno);
}

/* --- netlink: the pipe's attributes, counters, SET_DEV and events ------- */

/* Signed, to compare with plain constants. */
struct pinfo {
	int64_t cap, fill, hw;
	int32_t rd_waiting, wr_waiting;
	int64_t st[KIPC_STAT_MAX + 1];
};

static int stats_cb(const struct nlattr *a, void *data)
{
	struct pinfo *pi = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= KIPC_STAT_MAX && !mnl_attr_validate(a, MNL_TYPE_U64))
		pi->st[t] = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

static int pinfo_attr_cb(const struct nlattr *a, void *data)
{
	struct pinfo *pi = data;

	switch (mnl_attr_get_type(a)) {
	case KIPC_A_CAPACITY:
		pi->cap = mnl_attr_get_u64(a);
		break;
	case KIPC_A_FILL:
		pi->fill = mnl_attr_get_u64(a);
		break;
	case KIPC_A_HIGH_WATER:
		pi->hw = mnl_attr_get_u64(a);
		break;
	case KIPC_A_READERS_WAITING:
		pi->rd_waiting = mnl_attr_get_u32(a);
		break;
	case KIPC_A_WRITERS_WAITING:
		pi->wr_waiting = mnl_attr_get_u32(a);
		break;
	case KIPC_A_STATS:
		mnl_attr_parse_nested(a, stats_cb, pi);
		break;
	}
	return MNL_CB_OK;
}

static int pinfo_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pinfo *pi = data;

	/* Unset attributes read as 0x5a..: a missing one cannot pass. */
	memset(pi, 0x5a, sizeof(*pi));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), pinfo_attr_cb, pi);
	return MNL_CB_OK;
}

static int get_pipe0(struct kipc_nl *k, struct pinfo *pi)
{
	struct nlmsghdr *nlh = kipc_nl_req(k, k->family, KIPC_CMD_GET_DEV,
					   NLM_F_ACK);

	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
	return kipc_nl_rpc(k, nlh, pinfo_cb, pi);
}

/* SET_DEV on pipe0; a flag is given with value FLAG. */
#define FLAG UINT64_MAX
struct kv {
	int attr;
	uint64_t v;
};

static int set_pipe0(struct kipc_nl *k, const struct kv *kv, int n)
{
	struct nlmsghdr *nlh = kipc_nl_req(k, k->family, KIPC_CMD_SET_DEV,
					   NLM_F_ACK);
	int i;

	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
	for (i = 0; i < n; i++) {
		if (kv[i].v == FLAG)
			mnl_attr_put(nlh, kv[i].attr, 0, NULL);
		else
			mnl_attr_put_u64(nlh, kv[i].attr, kv[i].v);
	}
	return kipc_nl_rpc(k, nlh, NULL, NULL);
}

#define SET(k, ...) ({							\
	const struct kv __kv[] = { __VA_ARGS__ };			\
									\
	set_pipe0(k, __kv, sizeof(__kv) / sizeof(__kv[0]));		\
})

struct events {
	int n;
	uint32_t ev[64];
	uint64_t fill[64];
};

static int event_attr_cb(const struct nlattr *a, void *data)
{
	uint32_t *kind_index_ev = data;

	switch (mnl_attr_get_type(a)) {
	case KIPC_A_KIND:
		kind_index_ev[0] = mnl_attr_get_u32(a);
		break;
	case KIPC_A_INDEX:
		kind_index_ev[1] = mnl_attr_get_u32(a);
		break;
	case KIPC_A_EVENT:
		kind_index_ev[2] = mnl_attr_get_u32(a);
		break;
	case KIPC_A_FILL:
		memcpy(&kind_index_ev[4], mnl_attr_get_payload(a), 8);
		break;
	}
	return MNL_CB_OK;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	uint32_t kie[6] = { 0, 0, 0, 0, 0, 0 };
	struct events *e = data;

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), event_attr_cb, kie);
	if (kie[0] != KIPC_KIND_PIPE || kie[1] != 0 || e->n >= 64)
		return MNL_CB_OK;
	e->ev[e->n] = kie[2];
	memcpy(&e->fill[e->n], &kie[4], 8);
	e->n++;
	return MNL_CB_OK;
}

/* The events queued so far: they are sent during the system call. */
static int take_events(struct kipc_nl *k, struct events *e)
{
	e->n = 0;
	return kipc_nl_drain(k, event_cb, e);
}

/* Asserts the events, in order, as (event, fill) pairs. */
#define ASSERT_EVENTS(k, ...) do {					\
	static const uint64_t __want[] = { __VA_ARGS__ };		\
	struct events __e;						\
	int __i;							\
									\
	ASSERT_EQ(0, take_events(k, &__e));				\
	for (__i = 0; __i < __e.n; __i++)				\
		TH_LOG("event %d: %u fill %llu", __i, __e.ev[__i],	\
		       (unsigned long long)__e.fill[__i]);		\
	ASSERT_EQ((int)(sizeof(__want) / sizeof(__want[0]) / 2), __e.n); \
	for (__i = 0; __i < __e.n; __i++) {				\
		ASSERT_EQ(__want[2 * __i], __e.ev[__i]);		\
		ASSERT_EQ(__want[2 * __i + 1], __e.fill[__i]);		\
	}								\
} while (0)

#define ASSERT_NO_EVENTS(k) do {					\
	struct events __e;						\
									\
	ASSERT_EQ(0, take_events(k, &__e));				\
	ASSERT_EQ(0, __e.n);						\
} while (0)

TEST_F(pipe, nl_counters_and_waiters)
{
	unsigned char *buf = malloc(SZ);
	struct kipc_nl *k = kipc_nl_open(false);
	struct pinfo pi;
	int rp[2];
	struct res r;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, k);
	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(0, SET(k, { KIPC_A_RESET_STATS, FLAG }));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(SZ, pi.cap);
	ASSERT_EQ(0, pi.fill);
	ASSERT_EQ(0, pi.st[KIPC_STAT_BYTES_IN]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_PEAK_FILL]);

	ASSERT_EQ(100, write_pat(self->w, 0, 100));
	ASSERT_EQ(200, write_pat(self->w, 100, 200));
	ASSERT_EQ(50, read(self->r, buf, 50));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(250, pi.fill);
	ASSERT_EQ(300, pi.st[KIPC_STAT_BYTES_IN]);
	ASSERT_EQ(2, pi.st[KIPC_STAT_WRITES]);
	ASSERT_EQ(50, pi.st[KIPC_STAT_BYTES_OUT]);
	ASSERT_EQ(1, pi.st[KIPC_STAT_READS]);
	ASSERT_EQ(300, pi.st[KIPC_STAT_PEAK_FILL]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_READ_WAITS]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_WRITE_WAITS]);

	/* A read that finds nothing is not counted, nor is EAGAIN a wait. */
	ASSERT_EQ(250, read(self->r, buf, SZ));
	ASSERT_EQ(0, set_nonblock(self->r, 1));
	ASSERT_EQ(-1, read(self->r, &c, 1));
	ASSERT_EQ(0, set_nonblock(self->r, 0));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(2, pi.st[KIPC_STAT_READS]);
	ASSERT_EQ(300, pi.st[KIPC_STAT_BYTES_OUT]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_READ_WAITS]);

	/* A blocked reader. */
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		REPORT(rp[1], read(self->r, buf, 10), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_read"));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(1, pi.rd_waiting);
	ASSERT_EQ(0, pi.wr_waiting);
	ASSERT_EQ(1, pi.st[KIPC_STAT_READ_WAITS]);
	ASSERT_EQ(3, write(self->w, "abc", 3));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(3, r.ret);
	ASSERT_EQ(0, wait_exit(pid));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(0, pi.rd_waiting);

	/* A blocked writer. */
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		REPORT(rp[1], write_pat(self->w, 0, 10), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(0, pi.rd_waiting);
	ASSERT_EQ(1, pi.wr_waiting);
	ASSERT_EQ(1, pi.st[KIPC_STAT_WRITE_WAITS]);
	ASSERT_EQ(SZ, pi.fill);
	ASSERT_EQ(SZ, pi.st[KIPC_STAT_PEAK_FILL]);
	ASSERT_EQ(SZ, read(self->r, buf, SZ));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(10, r.ret);
	ASSERT_EQ(0, wait_exit(pid));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(0, pi.wr_waiting);
	ASSERT_EQ(10, pi.fill);
	ASSERT_EQ(5, pi.st[KIPC_STAT_WRITES]);
	ASSERT_EQ(300 + 3 + SZ + 10, pi.st[KIPC_STAT_BYTES_IN]);
	ASSERT_EQ(4, pi.st[KIPC_STAT_READS]);
	ASSERT_EQ(300 + 3 + SZ, pi.st[KIPC_STAT_BYTES_OUT]);
	ASSERT_EQ(1, pi.st[KIPC_STAT_READ_WAITS]);
	ASSERT_EQ(1, pi.st[KIPC_STAT_WRITE_WAITS]);

	/* Reset: counters to 0, the peak to what is buffered now. */
	ASSERT_EQ(0, SET(k, { KIPC_A_RESET_STATS, FLAG }));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(0, pi.st[KIPC_STAT_BYTES_IN]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_BYTES_OUT]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_WRITES]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_READS]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_WRITE_WAITS]);
	ASSERT_EQ(0, pi.st[KIPC_STAT_READ_WAITS]);
	ASSERT_EQ(10, pi.st[KIPC_STAT_PEAK_FILL]);
	ASSERT_EQ(10, pi.fill);
	free(buf);
}

TEST_F(pipe, nl_flush_drops_data_and_wakes_writers)
{
	struct kipc_nl *k = kipc_nl_open(false), *ev = kipc_nl_open(true);
	int rp[2];
	struct res r;
	pid_t pid;

	ASSERT_NE(NULL, k);
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, 0 }));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(SZ, write_pat(self->w, 0, SZ));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		REPORT(rp[1], write_pat(self->w, 0, PBUF), 0, NULL, 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_blocked(pid, "kipc_pipe_write"));
	ASSERT_EQ(0, SET(k, { KIPC_A_FLUSH, FLAG }));
	ASSERT_EQ(0, get_res(rp[0], &r));
	ASSERT_EQ(PBUF, r.ret);
	ASSERT_EQ(PBUF, nread(self->r));
	ASSERT_EQ(0, wait_exit(pid));
	ASSERT_EVENTS(ev, KIPC_EVENT_FULL, SZ, KIPC_EVENT_FLUSHED, 0);
	/* Flushing an empty pipe is still a flush. */
	ASSERT_EQ(0, SET(k, { KIPC_A_FLUSH, FLAG }));
	ASSERT_EQ(0, SET(k, { KIPC_A_FLUSH, FLAG }));
	ASSERT_EVENTS(ev, KIPC_EVENT_FLUSHED, 0, KIPC_EVENT_FLUSHED, 0);
	ASSERT_EQ(0, nread(self->r));
}

/* FULL and EMPTY only when the state changes. */
TEST_F(pipe, nl_full_and_empty_events_on_transitions)
{
	unsigned char *buf = malloc(SZ);
	struct kipc_nl *k = kipc_nl_open(false), *ev = kipc_nl_open(true);
	char c;

	ASSERT_NE(NULL, k);
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, 0 }));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(0, set_nonblock(self->w, 1));
	ASSERT_EQ(SZ - 1, write_pat(self->w, 0, SZ - 1));
	ASSERT_NO_EVENTS(ev);
	ASSERT_EQ(1, write(self->w, "x", 1));
	ASSERT_EQ(-1, write(self->w, "x", 1));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EVENTS(ev, KIPC_EVENT_FULL, SZ);
	ASSERT_EQ(1, read(self->r, &c, 1));
	ASSERT_EQ(1, write(self->w, "y", 1));
	ASSERT_EQ(SZ - 10, read(self->r, buf, SZ - 10));
	ASSERT_EQ(10, read(self->r, buf, SZ));
	ASSERT_EQ(3, write(self->w, "abc", 3));
	ASSERT_EQ(3, read(self->r, buf, SZ));
	ASSERT_EVENTS(ev, KIPC_EVENT_FULL, SZ, KIPC_EVENT_EMPTY, 0,
		      KIPC_EVENT_EMPTY, 0);
	free(buf);
}

/* HIGH_WATER when the fill rises to the mark from below, not above it. */
TEST_F(pipe, nl_high_water_events)
{
	unsigned char *buf = malloc(SZ);
	struct kipc_nl *k = kipc_nl_open(false), *ev = kipc_nl_open(true);
	struct pinfo pi;

	ASSERT_NE(NULL, k);
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, 10000 }));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(10000, pi.hw);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(5000, write_pat(self->w, 0, 5000));
	ASSERT_NO_EVENTS(ev);
	ASSERT_EQ(5000, write_pat(self->w, 0, 5000));
	ASSERT_EQ(100, write_pat(self->w, 0, 100));
	ASSERT_EQ(9000, read(self->r, buf, 9000));
	ASSERT_EQ(9000, write_pat(self->w, 0, 9000));
	ASSERT_EQ(10100, read(self->r, buf, SZ));
	ASSERT_EVENTS(ev, KIPC_EVENT_HIGH_WATER, 10000,
		      KIPC_EVENT_HIGH_WATER, 10100, KIPC_EVENT_EMPTY, 0);

	/* 0 turns it off. */
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, 0 }));
	ASSERT_EQ(20000, write_pat(self->w, 0, 20000));
	ASSERT_EQ(20000, read(self->r, buf, SZ));
	ASSERT_EVENTS(ev, KIPC_EVENT_EMPTY, 0);

	/* Above the capacity it could never fire. */
	ASSERT_EQ(-EINVAL, SET(k, { KIPC_A_HIGH_WATER, SZ + 1 }));
	ASSERT_STREQ("high-water mark above the pipe size", k->msg);
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, SZ }));
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, 0 }));
	free(buf);
}

TEST_F(pipe, nl_set_capacity_rules)
{
	struct kipc_nl *k = kipc_nl_open(false), *ev = kipc_nl_open(true);
	struct pinfo pi;
	int st;
	pid_t pid;

	ASSERT_NE(NULL, k);
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, SET(k, { KIPC_A_HIGH_WATER, 0 }));
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	ASSERT_EQ(8193, write_pat(self->w, 0, 8193));

	/* Data that would not fit: nothing changes, high water neither. */
	ASSERT_EQ(-EBUSY, SET(k, { KIPC_A_CAPACITY, 8192 },
			      { KIPC_A_HIGH_WATER, 100 }));
	ASSERT_STREQ("buffered data would not fit", k->msg);
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(SZ, pi.cap);
	ASSERT_EQ(0, pi.hw);
	ASSERT_EQ(8193, pi.fill);

	ASSERT_EQ(-EINVAL, SET(k, { KIPC_A_CAPACITY, (1ULL << 31) + 1 }));
	ASSERT_STREQ("pipe size out of range", k->msg);
	ASSERT_EQ(-EINVAL, SET(k, { KIPC_A_CAPACITY, 1ULL << 31 }));
	ASSERT_STREQ("pipe size out of range", k->msg);

	/* With a flush in the same request it fits; rounded to pages. */
	ASSERT_EQ(0, SET(k, { KIPC_A_CAPACITY, 5000 }, { KIPC_A_FLUSH, FLAG }));
	ASSERT_EQ(0, get_pipe0(k, &pi));
	ASSERT_EQ(8192, pi.cap);
	ASSERT_EQ(0, pi.fill);
	ASSERT_EQ(8192, get_pipe_size(self->r));
	/* The same size again is no change and no event. */
	ASSERT_EQ(0, SET(k, { KIPC_A_CAPACITY, 8192 }));
	ASSERT_EVENTS(ev, KIPC_EVENT_FLUSHED, 0, KIPC_EVENT_RESIZED, 0);

	/* Above pipe_max_size only with CAP_SYS_RESOURCE. */
	ASSERT_LT(0, max_size());
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_nl *k2;

		if (drop_sys_resource())
			_exit(10);
		k2 = kipc_nl_open(false);
		if (!k2)
			_exit(11);
		if (SET(k2, { KIPC_A_CAPACITY, ABOVE }) != -EPERM)
			_exit(12);
		if (strcmp(k2->msg, "needs CAP_SYS_RESOURCE above the max"))
			_exit(13);
		if (SET(k2, { KIPC_A_CAPACITY, MAXSZ }))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	ASSERT_EQ(MAXSZ, get_pipe_size(self->r));
	ASSERT_EQ(0, SET(k, { KIPC_A_CAPACITY, ABOVE }));
	ASSERT_EQ(ABOVE, get_pipe_size(self->r));
	ASSERT_EVENTS(ev, KIPC_EVENT_RESIZED, 0, KIPC_EVENT_RESIZED, 0);
}

/* --- many readers and writers -------------------------------------------- */

#define NWR	4
#define NRD	4

/*
 * NRD blocking readers and NWR writers of DEV, each file in its own
 * thread running reader() or writer() with { m, its number }, all joined.
 * The readers open first, non-blocking, so no open waits for a partner.
 */
static void run_crowd(struct __test_metadata *_metadata, int *rfd, int *wfd,
		      void *m, void *(*reader)(void *), void *(*writer)(void *))
{
	pthread_t wt[NWR], rt[NRD];
	void *wa[NWR][2], *ra[NRD][2];
	unsigned int i;

	for (i = 0; i < NRD; i++) {
		rfd[i] = open(DEV, O_RDONLY | O_NONBLOCK);
		ASSERT_LE(0, rfd[i]);
	}
	for (i = 0; i < NWR; i++) {
		wfd[i] = open(DEV, O_WRONLY);
		ASSERT_LE(0, wfd[i]);
	}
	for (i = 0; i < NRD; i++)
		ASSERT_EQ(0, set_nonblock(rfd[i], 0));
	for (i = 0; i < NRD; i++) {
		ra[i][0] = m;
		ra[i][1] = (void *)(uintptr_t)i;
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, reader, ra[i]));
	}
	for (i = 0; i < NWR; i++) {
		wa[i][0] = m;
		wa[i][1] = (void *)(uintptr_t)i;
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer, wa[i]));
	}
	for (i = 0; i < NWR; i++)
		ASSERT_EQ(0, pthread_join(wt[i], NULL));
	for (i = 0; i < NRD; i++)
		ASSERT_EQ(0, pthread_join(rt[i], NULL));
}

#define NREC	1500
#define MAGIC	0x6b697063u

struct rec_hdr {
	uint32_t magic;
	uint16_t writer;
	uint16_t len;		/* whole record, header included */
	uint32_t seq;
	uint32_t sum;
};

struct mix {
	int wfd[NWR], rfd[NRD];
	pthread_mutex_t lock;	/* readers take a record at a time */
	uint32_t next[NWR];	/* under lock */
	atomic_int bad;
	atomic_int records;
};

static uint32_t rec_len(unsigned int w, uint32_t seq)
{
	uint32_t x = (seq + 1) * 2654435761u ^ (w + 1) * 40503u;

	return sizeof(struct rec_hdr) + x % (PBUF - sizeof(struct rec_hdr) + 1);
}

static unsigned char rec_byte(unsigned int w, uint32_t seq, uint32_t i)
{
	return (unsigned char)(w * 31 + seq * 7 + i * 13);
}

static void *mix_writer(void *arg)
{
	struct mix *m = ((void **)arg)[0];
	unsigned int w = (uintptr_t)((void **)arg)[1];
	unsigned char buf[PBUF];
	uint32_t seq, i;

	for (seq = 0; seq < NREC; seq++) {
		struct rec_hdr *h = (struct rec_hdr *)buf;
		uint32_t len = rec_len(w, seq);

		h->magic = MAGIC;
		h->writer = w;
		h->len = len;
		h->seq = seq;
		h->sum = 0;
		for (i = sizeof(*h); i < len; i++) {
			buf[i] = rec_byte(w, seq, i);
			h->sum += buf[i];
		}
		if (write(m->wfd[w], buf, len) != (ssize_t)len)
			m->bad++;
	}
	close(m->wfd[w]);
	return NULL;
}

static void *mix_reader(void *arg)
{
	struct mix *m = ((void **)arg)[0];
	unsigned int r = (uintptr_t)((void **)arg)[1];
	unsigned char buf[PBUF];
	struct rec_hdr *h = (struct rec_hdr *)buf;
	uint32_t i, sum;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		n = read(m->rfd[r], buf, sizeof(*h));
		if (n == 0) {
			pthread_mutex_unlock(&m->lock);
			return NULL;
		}
		if (n != sizeof(*h) || h->magic != MAGIC || h->writer >= NWR ||
		    h->len < sizeof(*h) || h->len > PBUF) {
			m->bad++;
			pthread_mutex_unlock(&m->lock);
			return NULL;
		}
		/* A record is written whole: all of it is there already. */
		n = read(m->rfd[r], buf + sizeof(*h), h->len - sizeof(*h));
		if (n != (ssize_t)(h->len - sizeof(*h)) ||
		    h->seq != m->next[h->writer]++ ||
		    h->len != rec_len(h->writer, h->seq))
			m->bad++;
		pthread_mutex_unlock(&m->lock);
		for (sum = 0, i = sizeof(*h); i < h->len; i++) {
			if (buf[i] != rec_byte(h->writer, h->seq, i))
				m->bad++;
			sum += buf[i];
		}
		if (sum != h->sum)
			m->bad++;
		m->records++;
	}
}

TEST_F_TIMEOUT(pipe, concurrent_mixed_records, 300)
{
	struct mix *m = calloc(1, sizeof(*m));
	unsigned int i;

	ASSERT_NE(NULL, m);
	pthread_mutex_init(&m->lock, NULL);
	run_crowd(_metadata, m->rfd, m->wfd, m, mix_reader, mix_writer);
	ASSERT_EQ(0, m->bad);
	ASSERT_EQ(NWR * NREC, m->records);
	for (i = 0; i < NWR; i++)
		ASSERT_EQ((uint32_t)NREC, m->next[i]);
	free(m);
}

/*
 * Fixed 64-byte records, written 1 to 64 at a time (<= PIPE_BUF), read by
 * four readers at once, each read asking for a random whole number of
 * records: every read returns whole records, no record is lost or seen
 * twice, a write's records are never split by another writer's, and each
 * reader sees each writer's records in order.
 */
#define FREC	64
#define NFREC	12000

struct frec {
	uint16_t writer;
	uint16_t nwrite;	/* records in the write */
	uint16_t idx;		/* index in the write */
	uint16_t pad;
	uint32_t seq;
	uint32_t sum;
	unsigned char payload[FREC - 16];
};

struct par {
	int wfd[NWR], rfd[NRD];
	atomic_uchar seen[NWR][NFREC];
	atomic_int bad;
};

static void *par_writer(void *arg)
{
	struct par *m = ((void **)arg)[0];
	unsigned int w = (uintptr_t)((void **)arg)[1];
	struct frec recs[PBUF / FREC];
	uint32_t seq = 0, k, i, n;

	while (seq < NFREC) {
		n = 1 + (seq * 7 + w * 13) % (PBUF / FREC);
		if (n > NFREC - seq)
			n = NFREC - seq;
		for (k = 0; k < n; k++) {
			struct frec *f = &recs[k];

			f->writer = w;
			f->nwrite = n;
			f->idx = k;
			f->pad = 0;
			f->seq = seq + k;
			f->sum = 0;
			for (i = 0; i < sizeof(f->payload); i++) {
				f->payload[i] = rec_byte(w, f->seq, i);
				f->sum += f->payload[i];
			}
		}
		if (write(m->wfd[w], recs, n * FREC) != (ssize_t)(n * FREC))
			m->bad++;
		seq += n;
	}
	close(m->wfd[w]);
	return NULL;
}

static void *par_reader(void *arg)
{
	struct par *m = ((void **)arg)[0];
	unsigned int r = (uintptr_t)((void **)arg)[1];
	struct frec recs[2 * PBUF / FREC];
	int64_t last[NWR];
	unsigned int k, i, want = r;
	ssize_t n;

	for (i = 0; i < NWR; i++)
		last[i] = -1;
	for (;;) {
		want = (want * 5 + 3) % (2 * PBUF / FREC) + 1;
		n = read(m->rfd[r], recs, want * FREC);
		if (n <= 0) {
			if (n < 0)
				m->bad++;
			return NULL;
		}
		if (n % FREC) {
			m->bad++;
			return NULL;
		}
		for (k = 0; k < n / FREC; k++) {
			struct frec *f = &recs[k];
			uint32_t sum = 0;

			if (f->writer >= NWR || f->seq >= NFREC ||
			    f->idx >= f->nwrite) {
				m->bad++;
				return NULL;
			}
			for (i = 0; i < sizeof(f->payload); i++)
				sum += f->payload[i];
			if (sum != f->sum)
				m->bad++;
			if ((int64_t)f->seq <= last[f->writer])
				m->bad++;
			last[f->writer] = f->seq;
			/* Within a write, the next record follows at once. */
			if (f->idx + 1 < f->nwrite && k + 1 < n / FREC &&
			    (recs[k + 1].writer != f->writer ||
			     recs[k + 1].seq != f->seq + 1))
				m->bad++;
			if (m->seen[f->writer][f->seq]++)
				m->bad++;
		}
	}
}

TEST_F_TIMEOUT(pipe, concurrent_parallel_readers, 300)
{
	struct par *m = calloc(1, sizeof(*m));
	unsigned int i, j;
	int missing = 0;

	ASSERT_NE(NULL, m);
	run_crowd(_metadata, m->rfd, m->wfd, m, par_reader, par_writer);
	ASSERT_EQ(0, m->bad);
	for (i = 0; i < NWR; i++)
		for (j = 0; j < NFREC; j++)
			if (m->seen[i][j] != 1)
				missing++;
	ASSERT_EQ(0, missing);
	free(m);
}

/*
 * One writer and one reader moving a byte stream in large pieces, so that
 * each copies outside the pipe's state lock while the other works (the
 * device copies with only its side's mutex held);
 * in the second half the ring is resized meanwhile, as often as it can
 * be.  Every byte arrives, in order: a reader that empties the ring while
 * a write is under way leaves the positions alone, and the resizes (which
 * wait for both sides' copies) keep what is buffered.
 */
#define BIG_TOTAL	(32u << 20)
#define BIG_MAX		(200u << 10)

struct big {
	int w, ctl;
	atomic_int bad_writes, resized, busy, half, done;
};

static void *big_writer(void *arg)
{
	struct big *b = arg;
	unsigned char *buf = malloc(BIG_MAX);
	uint64_t off = 0;
	uint32_t x = 1;

	while (buf && off < BIG_TOTAL) {
		size_t n = 8192 + (x = x * 1103515245 + 12345) % (BIG_MAX - 8192);

		if (n > BIG_TOTAL - off)
			n = BIG_TOTAL - off;
		fill_pat(buf, off, n);
		if (write(b->w, buf, n) != (ssize_t)n)
			b->bad_writes++;
		off += n;
		if (off >= BIG_TOTAL / 2 && !b->half) {
			b->half = 1;
			/*
			 * The second half only once a resize went through:
			 * that one resize is what the test asserts, and the
			 * resizes after it meet copies under way.
			 */
			while (!b->resized && !b->bad_writes)
				usleep(1000);
		}
	}
	if (!buf)
		b->bad_writes++;
	free(buf);
	b->done = 1;
	return NULL;
}

static void *big_resizer(void *arg)
{
	struct big *b = arg;
	unsigned int i = 0;

	while (!b->half && !b->done)
		usleep(1000);
	/* As often as it can, so that resizes meet copies under way. */
	while (!b->done) {
		if (!set_pipe_size(b->ctl, i++ % 2 ? 1048576 : 262144, NULL))
			b->resized++;
		else if (errno == EBUSY)
			b->busy++;
		else
			b->bad_writes++;
	}
	return NULL;
}

TEST_F_TIMEOUT(pipe, concurrent_large_copies_and_resizes, 300)
{
	struct big b = { 0 };
	unsigned char *buf = malloc(BIG_MAX + 4096);
	pthread_t wt, zt;
	uint64_t off = 0;
	uint32_t x = 7;
	ssize_t n, bad;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	b.w = self->w;
	b.ctl = open(DEV, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, b.ctl);
	ASSERT_EQ(0, pthread_create(&wt, NULL, big_writer, &b));
	ASSERT_EQ(0, pthread_create(&zt, NULL, big_resizer, &b));
	while (off < BIG_TOTAL) {
		n = read(self->r, buf,
			 1 + (x = x * 1103515245 + 12345) % (BIG_MAX + 4096));
		if (n <= 0)
			break;
		bad = bad_pat(buf, off, n);
		if (bad != n) {
			TH_LOG("byte %llu of the stream is wrong",
			       (unsigned long long)(off + bad));
			break;
		}
		off += n;
	}
	ASSERT_EQ(0, pthread_join(wt, NULL));
	ASSERT_EQ(0, pthread_join(zt, NULL));
	EXPECT_EQ(BIG_TOTAL, off);
	EXPECT_EQ(0, b.bad_writes);
	EXPECT_LT(0, b.resized);
	ASSERT_EQ(0, set_pipe_size(b.ctl, SZ, NULL));
	TH_LOG("%u MiB moved, %d sizes set, %d refused with EBUSY",
	       BIG_TOTAL >> 20, b.resized, b.busy);
	close(b.ctl);
	free(buf);
}

/* --- a copy stalled on a page fault holds up no netlink request ----------- */

/*
 * A write from (or a read into) a page registered with userfaultfd whose
 * fault is not served yet: the copy sleeps in the fault with its side's
 * mutex held.  Meanwhile GET_DEV of pipe0, a dump, a SET_DEV of pipe0
 * that needs no copy excluded (high-water mark), a SET_DEV of pipe0 that
 * does (flush: EBUSY with a message, at once) and a SET_DEV of pipe1 each
 * answer; they run in a thread and the test waits at most 1 s for each
 * on an eventfd (before the fix, GET_DEV slept on the mutex held across
 * the copy, inside genetlink's cb_lock).  Then the fault is served and
 * the call completes with the right bytes.
 */
struct stall {
	int fd, evfd, uffd;
	unsigned char *page;
	ssize_t ret;
	int err;
	bool read;
	/* The netlink answers, in order. */
	int get, dump, set_light, set_busy, set_other;
	char busy_msg[256];
};

static void *stall_io(void *arg)
{
	struct stall *s = arg;

	s->ret = s->read ? read(s->fd, s->page, 64) : write(s->fd, s->page, 64);
	s->err = errno;
	return NULL;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return MNL_CB_OK;
}

static void *stall_nl(void *arg)
{
	struct stall *s = arg;
	struct kipc_nl *k = kipc_nl_open(false);
	struct nlmsghdr *nlh;
	struct pinfo pi;
	uint64_t one = 1;
	int n = 0;

	if (!k) {
		s->get = -999;
		goto out;
	}
	s->get = get_pipe0(k, &pi);
	if (write(s->evfd, &one, sizeof(one)) != sizeof(one))
		goto out;
	nlh = kipc_nl_req(k, k->family, KIPC_CMD_GET_DEV, NLM_F_DUMP);
	s->dump = kipc_nl_rpc(k, nlh, count_cb, &n);
	if (!s->dump && n < 2)
		s->dump = -999;
	if (write(s->evfd, &one, sizeof(one)) != sizeof(one))
		goto out;
	s->set_light = SET(k, { KIPC_A_HIGH_WATER, 0 });
	if (write(s->evfd, &one, sizeof(one)) != sizeof(one))
		goto out;
	s->set_busy = SET(k, { KIPC_A_FLUSH, FLAG });
	snprintf(s->busy_msg, sizeof(s->busy_msg), "%s", k->msg);
	if (write(s->evfd, &one, sizeof(one)) != sizeof(one))
		goto out;
	nlh = kipc_nl_req(k, k->family, KIPC_CMD_SET_DEV, NLM_F_ACK);
	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 1);
	mnl_attr_put_u64(nlh, KIPC_A_HIGH_WATER, 0);
	mnl_attr_put(nlh, KIPC_A_FLUSH, 0, NULL);
	s->set_other = kipc_nl_rpc(k, nlh, NULL, NULL);
out:
	if (write(s->evfd, &one, sizeof(one)) != sizeof(one))
		s->set_other = -998;
	kipc_nl_close(k);
	return NULL;
}

/* One more answer from stall_nl within 1 s. */
static bool stall_answered(int evfd)
{
	struct pollfd pfd = { .fd = evfd, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, 1000) != 1)
		return false;
	return read(evfd, &v, sizeof(v)) == sizeof(v);
}

static void stalled_copy(struct __test_metadata *_metadata, int r, int w,
			 bool is_read)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_copy cp = { 0 };
	struct stall s = { 0 };
	struct uffd_msg msg;
	struct pollfd pfd;
	unsigned char *src, got[64];
	pthread_t io, nl;
	int i, answered = 0;

	s.uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s.uffd < 0 && errno == ENOSYS)
		SKIP(return, "userfaultfd: the kernel has no CONFIG_USERFAULTFD");
	if (s.uffd < 0)
		SKIP(return, "userfaultfd: %s (root or vm.unprivileged_userfaultfd needed)",
		     strerror(errno));
	ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_API, &api));
	s.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.page);
	ASSERT_NE(MAP_FAILED, src);
	reg.range.start = (unsigned long)s.page;
	reg.range.len = 4096;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_REGISTER, &reg));
	fill_pat(src, 0, 4096);
	/* One read per answer, however fast they come. */
	s.evfd = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
	ASSERT_LE(0, s.evfd);
	s.read = is_read;
	s.fd = is_read ? r : w;
	if (is_read)
		ASSERT_EQ(64, write_pat(w, 1000, 64));

	ASSERT_EQ(0, pthread_create(&io, NULL, stall_io, &s));
	/* The copy has faulted and waits for the page: deterministic. */
	pfd = (struct pollfd){ .fd = s.uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ((ssize_t)sizeof(msg), read(s.uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	ASSERT_EQ(0, pthread_create(&nl, NULL, stall_nl, &s));
	for (i = 0; i < 5; i++)
		answered += stall_answered(s.evfd);
	EXPECT_EQ(5, answered) TH_LOG("netlink waited behind the stalled copy");

	/* Serve the fault: the call completes (and unblocks netlink). */
	cp.dst = (unsigned long)s.page;
	cp.src = (unsigned long)src;
	cp.len = 4096;
	ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_COPY, &cp));
	ASSERT_EQ(0, pthread_join(io, NULL));
	ASSERT_EQ(0, pthread_join(nl, NULL));
	EXPECT_EQ(0, s.get);
	EXPECT_EQ(0, s.dump);
	EXPECT_EQ(0, s.set_light);
	EXPECT_EQ(-EBUSY, s.set_busy);
	EXPECT_STREQ("pipe busy: a read, write or open is under way",
		     s.busy_msg);
	EXPECT_EQ(0, s.set_other);
	ASSERT_EQ(64, s.ret) TH_LOG("%s", strerror(s.err));
	if (is_read) {
		/* The bytes written, in the page the fault was served with. */
		EXPECT_EQ(64, bad_pat(s.page, 1000, 64));
	} else {
		ASSERT_EQ(64, read(r, got, sizeof(got)));
		EXPECT_EQ(64, bad_pat(got, 0, 64));
	}
	EXPECT_EQ(0, nread(r));
	close(s.evfd);
	close(s.uffd);
	munmap(s.page, 4096);
	munmap(src, 4096);
}

TEST_F_TIMEOUT(pipe, netlink_answers_during_stalled_write, 60)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	stalled_copy(_metadata, self->r, self->w, false);
}

TEST_F_TIMEOUT(pipe, netlink_answers_during_stalled_read, 60)
{
	ASSERT_EQ(0, open_pair(&self->r, &self->w));
	stalled_copy(_metadata, self->r, self->w, true);
}

TEST_HARNESS_MAIN
