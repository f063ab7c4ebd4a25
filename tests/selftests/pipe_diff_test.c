// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test: one scripted scenario of opens, reads, writes, polls,
 * O_NONBLOCK, EOF, EPIPE and FIONREAD runs against a mkfifo FIFO in /tmp
 * and against /dev/kipc/pipe0.  Every step records its return value,
 * errno, poll mask and data; the two runs must agree step by step.
 *
 * The few places where kipc differs from a FIFO on purpose are steps made
 * with DIFF(): each side is checked against its own expected result, and
 * the comment says why (Documentation/pipe.md lists them all).
 *
 * A second scenario does the same for the paths past read and write:
 * readv, writev, preadv2/pwritev2 with RWF_NOWAIT, splice in and out, tee
 * and vmsplice through a pipe(2), sendfile and copy_file_range.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"

#define KIPC_PATH	KIPC_DEV_DIR "/pipe0"
#define SZ		65536	/* a FIFO's default size, and kipc's */
#define MAX_STEPS	200

struct step {
	char label[64];
	long ret;
	int err;		/* errno when ret < 0, else 0 */
	uint64_t hash;		/* of the data read, when any */
	/* DIFF() steps: what this side must return. */
	int differs;
	long want_ret;
	int want_err;
};

struct run {
	const char *path;
	int is_kipc;
	int n;
	struct step s[MAX_STEPS];
};

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *c++) * 1099511628211ull;
	return h;
}

static struct step *add(struct run *rn, const char *label, long ret, int err)
{
	struct step *s = &rn->s[rn->n < MAX_STEPS - 1 ? rn->n++ : rn->n];

	snprintf(s->label, sizeof(s->label), "%s", label);
	s->ret = ret;
	s->err = ret < 0 ? err : 0;
	s->hash = 0;
	s->differs = 0;
	return s;
}

/* A step: expr's value (or -1 and errno). */
#define STEP(label, expr) do {						\
	long __r = (long)(expr);					\
	add(rn, label, __r, errno);					\
} while (0)

/* An open: only success or the errno matter, not the fd number. */
#define OPEN(label, fd, flags) do {					\
	fd = open(rn->path, (flags) | O_CLOEXEC);			\
	add(rn, label, fd < 0 ? -1 : 0, errno);				\
} while (0)

/* A read: count, errno and a hash of the bytes. */
#define READ(label, fd, n) do {						\
	static unsigned char __b[2 * SZ];				\
	long __r = read(fd, __b, n);					\
	struct step *__s = add(rn, label, __r, errno);			\
									\
	if (__r > 0)							\
		__s->hash = fnv(__b, __r);				\
} while (0)

/* A step where kipc differs from a FIFO on purpose. */
#define DIFF(label, expr, fifo_ret, fifo_err, kipc_ret, kipc_err) do {	\
	long __r = (long)(expr);					\
	struct step *__s = add(rn, label, __r, errno);			\
									\
	__s->differs = 1;						\
	__s->want_ret = rn->is_kipc ? (kipc_ret) : (fifo_ret);		\
	__s->want_err = rn->is_kipc ? (kipc_err) : (fifo_err);		\
} while (0)

static short poll1(int fd)
{
	struct pollfd pfd = {
		.fd = fd,
		.events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
	};

	if (poll(&pfd, 1, 0) < 0)
		return -1;
	return pfd.revents;
}

static long write_pat(int fd, unsigned int seed, size_t n)
{
	static unsigned char buf[2 * SZ];
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(seed + i * 7 + (i >> 8));
	return write(fd, buf, n);
}

static int nread(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

static int sigpipe_pending(void)
{
	struct timespec ts = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	return sigtimedwait(&set, NULL, &ts) == SIGPIPE;
}

static int epoll_events(int ep)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, 0);

	return n == 1 ? (int)ev.events : n;
}

static int select_mask(int r, int w)
{
	struct timeval tv = { 0, 0 };
	fd_set rd, wr;
	int n;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(r, &rd);
	FD_SET(w, &wr);
	n = select((r > w ? r : w) + 1, &rd, &wr, NULL, &tv);
	if (n < 0)
		return -1;
	return n * 100 + FD_ISSET(r, &rd) * 10 + FD_ISSET(w, &wr);
}

/* A child blocks in open(O_WRONLY), writes "child" and exits. */
static int child_writer(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			_exit(1);
		_exit(write(fd, "child", 5) == 5 ? 0 : 2);
	}
	return pid;
}

static int child_status(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void scenario(struct run *rn)
{
	int r = -1, w = -1, rw = -1, ep = -1, i;
	struct epoll_event ev;
	struct stat st;
	pid_t pid;

	/* Opening. */
	OPEN("open wronly|nonblock, no reader", w, O_WRONLY | O_NONBLOCK);
	OPEN("open accmode 3", rw, O_ACCMODE);
	OPEN("open rdonly|nonblock, no writer", r, O_RDONLY | O_NONBLOCK);
	STEP("poll reader, no writer ever", poll1(r));
	READ("read, no writer: EOF", r, 16);
	STEP("FIONREAD empty", nread(r));
	OPEN("open wronly|nonblock, reader present", w,
	     O_WRONLY | O_NONBLOCK);
	STEP("poll writer, empty", poll1(w));
	STEP("poll reader, empty, writer present", poll1(r));
	READ("read empty, nonblock", r, 16);

	/* Data. */
	STEP("write hello", write(w, "hello", 5));
	STEP("FIONREAD reader", nread(r));
	STEP("FIONREAD writer", nread(w));
	STEP("poll reader, data", poll1(r));
	STEP("poll writer, data", poll1(w));
	READ("short read 3", r, 3);
	READ("read the rest", r, 100);
	READ("read empty again", r, 100);
	STEP("write 0 bytes", write(w, "", 0));
	READ("read 0 bytes", r, 0);

	/* No seeking. */
	STEP("lseek reader", lseek(r, 0, SEEK_SET));
	STEP("lseek writer", lseek(w, 0, SEEK_CUR));
	STEP("pwrite", pwrite(w, "x", 1, 0));
	STEP("write 1 for pread", write(w, "p", 1));
	STEP("pread", pread(r, &st, 1, 0));
	READ("read the byte pread left", r, 10);

	/* Full and back, in whole pages (where FIFOs and kipc agree). */
	STEP("write 64 KiB", write_pat(w, 1, SZ));
	STEP("FIONREAD full", nread(r));
	STEP("poll writer, full", poll1(w));
	STEP("poll reader, full", poll1(r));
	STEP("write 1, full", write(w, "x", 1));
	STEP("write 8 KiB, full", write_pat(w, 2, 8192));
	STEP("write 4 KiB, full", write_pat(w, 3, 4096));
	READ("read 4 KiB", r, 4096);
	STEP("poll writer, 4 KiB free", poll1(w));
	STEP("write 4097 into 4 KiB: partial", write_pat(w, 4, 4097));
	STEP("write 1 after partial", write(w, "x", 1));
	STEP("FIONREAD full again", nread(r));
	READ("read everything", r, 2 * SZ);
	STEP("poll reader, drained", poll1(r));
	STEP("poll writer, drained", poll1(w));

	/* Small writes gather; a read takes them all. */
	STEP("write 100 #1", write_pat(w, 5, 100));
	STEP("write 100 #2", write_pat(w, 6, 100));
	STEP("write 100 #3", write_pat(w, 7, 100));
	STEP("FIONREAD 300", nread(r));
	READ("read 1000 gets 300", r, 1000);

	/* The select(2) view. */
	STEP("select, empty", select_mask(r, w));
	STEP("write for select", write(w, "s", 1));
	STEP("select, data", select_mask(r, w));
	READ("read select byte", r, 10);

	/* Edge-triggered epoll: every write is an edge. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 0;
	STEP("epoll add reader ET", epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev));
	STEP("epoll ET, empty", epoll_events(ep));
	STEP("write e1", write(w, "1", 1));
	STEP("epoll ET after write", epoll_events(ep));
	STEP("epoll ET again", epoll_events(ep));
	STEP("write e2", write(w, "2", 1));
	STEP("epoll ET after second write", epoll_events(ep));
	READ("read e1e2", r, 10);
	STEP("epoll ET after read", epoll_events(ep));
	ev.events = EPOLLOUT;
	STEP("epoll add writer LT", epoll_ctl(ep, EPOLL_CTL_ADD, w, &ev));
	STEP("epoll LT writer", epoll_events(ep));
	close(ep);

	/* EOF and hang-up. */
	STEP("write abc", write(w, "abc", 3));
	STEP("close writer", close(w));
	STEP("poll reader, data + no writer", poll1(r));
	READ("read after writer left", r, 10);
	READ("read at EOF", r, 10);
	STEP("poll reader at EOF", poll1(r));
	OPEN("writer comes back", w, O_WRONLY | O_NONBLOCK);
	STEP("poll reader, writer back", poll1(r));

	/* EPIPE and SIGPIPE (blocked, so pending). */
	STEP("close reader", close(r));
	STEP("write, no reader", write(w, "x", 1));
	STEP("SIGPIPE pending", sigpipe_pending());
	STEP("write 8 KiB, no reader", write_pat(w, 8, 8192));
	STEP("SIGPIPE pending again", sigpipe_pending());
	STEP("poll writer, no reader", poll1(w));
	STEP("FIONREAD, no reader", nread(w));
	OPEN("reader comes back", r, O_RDONLY | O_NONBLOCK);
	STEP("poll writer, reader back", poll1(w));
	STEP("write y", write(w, "y", 1));

	/* The data dies with the last file. */
	STEP("close writer 2", close(w));
	STEP("close reader 2", close(r));
	OPEN("reopen reader", r, O_RDONLY | O_NONBLOCK);
	STEP("FIONREAD after last close", nread(r));
	STEP("poll fresh reader", poll1(r));
	READ("read fresh reader", r, 10);

	/* O_RDWR. */
	OPEN("open rdwr", rw, O_RDWR);
	STEP("poll rdwr, empty", poll1(rw));
	STEP("write rdwr", write(rw, "zz", 2));
	STEP("poll rdwr, data", poll1(rw));
	STEP("poll reader, rdwr wrote", poll1(r));
	READ("read rdwr data", r, 10);
	STEP("close rdwr", close(rw));
	STEP("poll reader, rdwr gone", poll1(r));
	STEP("F_SETFL blocking", fcntl(r, F_SETFL, 0));
	READ("blocking read at EOF", r, 10);

	/* A blocking open meets its partner (the child holds no fd). */
	STEP("close reader 3", close(r));
	pid = child_writer(rn->path);
	OPEN("blocking open rdonly", r, O_RDONLY);
	READ("read child's data", r, 100);
	READ("read EOF after child", r, 100);
	STEP("child exit status", child_status(pid));
	STEP("close reader 4", close(r));

	/*
	 * On purpose: a FIFO is a FIFO, kipc a character device with
	 * ioctls of its own instead of the F_*PIPE_SZ fcntls.
	 */
	OPEN("open rdwr for type", rw, O_RDWR);
	STEP("fstat", fstat(rw, &st));
	DIFF("file type", S_ISFIFO(st.st_mode) * 10 + S_ISCHR(st.st_mode),
	     10, 0, 1, 0);
	DIFF("F_GETPIPE_SZ", fcntl(rw, F_GETPIPE_SZ), SZ, 0, -1, EBADF);
	DIFF("KIPC_PIPE_GET_SIZE", ({
		__u32 v = 0;

		ioctl(rw, KIPC_PIPE_GET_SIZE, &v) ? -1L : (long)v;
	}), -1, ENOTTY, SZ, 0);

	/*
	 * On purpose: kipc's ring is counted in bytes, a FIFO in page slots.
	 * A FIFO puts a write in the last page only when it fits there, so
	 * 16 writes of 2100 bytes take all 16 slots of a 64 KiB FIFO with
	 * 33600 bytes in it: it is full.  kipc still has 31936 bytes free.
	 */
	STEP("rdwr nonblock", fcntl(rw, F_SETFL, O_NONBLOCK));
	for (i = 0; i < 16; i++)
		STEP("write 2100", write_pat(rw, i, 2100));
	STEP("FIONREAD 16 x 2100", nread(rw));
	DIFF("poll, 16 slots used", poll1(rw), POLLIN | POLLRDNORM, 0,
	     POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, 0);
	DIFF("write 2100, 16 slots used", write_pat(rw, 16, 2100), -1, EAGAIN,
	     2100, 0);
	STEP("close rdwr for type", close(rw));
}

/* A readv of two iovecs of @a and @b bytes: count, errno, hash. */
#define READV(label, fd, a, b, flags) do {				\
	static unsigned char __b[2 * SZ];				\
	struct iovec __v[2] = { { __b, a }, { __b + (a), b } };		\
	long __r = preadv2(fd, __v, 2, -1, flags);			\
	struct step *__s = add(rn, label, __r, errno);			\
									\
	if (__r > 0)							\
		__s->hash = fnv(__b, __r);				\
} while (0)

static long writev3(int fd, const void *mid, int flags)
{
	struct iovec v[3] = { { "0123456789", 10 }, { (void *)mid, 10 },
			      { "abcdefghij", 10 } };

	return pwritev2(fd, v, 3, -1, flags);
}

static void scenario_iter(struct run *rn)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	struct iovec iov = { "vms", 3 };
	char tmpl[] = "/tmp/kipc_diff_file.XXXXXX";
	int r = -1, w = -1, p[2], q[2], f;
	off_t off = 0;

	OPEN("iter: open rdonly|nonblock", r, O_RDONLY | O_NONBLOCK);
	OPEN("iter: open wronly|nonblock", w, O_WRONLY | O_NONBLOCK);
	STEP("iter: pipe2 p", pipe2(p, O_NONBLOCK | O_CLOEXEC));
	STEP("iter: pipe2 q", pipe2(q, O_NONBLOCK | O_CLOEXEC));
	f = mkstemp(tmpl);
	unlink(tmpl);

	/* readv and writev: one call, one operation. */
	STEP("writev 3 iovecs", writev3(w, "ABCDEFGHIJ", 0));
	READV("readv 2 x 20 of 30", r, 20, 20, 0);
	STEP("write 10", write(w, "0123456789", 10));
	READV("readv 2 x 10 of 10: no wait for the second", r, 10, 10, 0);
	READV("readv empty, nonblock", r, 10, 10, 0);
	STEP("writev, bad address in the middle", writev3(w, bad, 0));
	STEP("FIONREAD after the bad writev", nread(r));
	/*
	 * On purpose: a fault part way through a read.  A FIFO keeps the
	 * buffer it could not copy whole and fails; kipc returns (and
	 * consumes) the bytes before the fault.
	 */
	STEP("write 20 for a faulting readv", write_pat(w, 9, 20));
	DIFF("readv 10 good, 10 bad", ({
		struct iovec __v[2] = { { (char[10]){ 0 }, 10 }, { bad, 10 } };

		readv(r, __v, 2);
	}), -1, EFAULT, 10, 0);
	DIFF("FIONREAD after the faulting readv", nread(r), 20, 0, 10, 0);
	DIFF("read what the faulting readv left", read(r, (char[64]){ 0 }, 64),
	     20, 0, 10, 0);

	/*
	 * On purpose: RWF_NOWAIT.  A FIFO has no FMODE_NOWAIT (only pipe(2)
	 * does): EOPNOTSUPP.  kipc sets it: EAGAIN instead of a sleep.
	 */
	STEP("reader blocking", fcntl(r, F_SETFL, 0));
	STEP("writer blocking", fcntl(w, F_SETFL, 0));
	DIFF("preadv2 RWF_NOWAIT, empty", ({
		struct iovec __v = { (char[16]){ 0 }, 16 };

		preadv2(r, &__v, 1, -1, RWF_NOWAIT);
	}), -1, EOPNOTSUPP, -1, EAGAIN);
	DIFF("pwritev2 RWF_NOWAIT", writev3(w, "ABCDEFGHIJ", RWF_NOWAIT), -1,
	     EOPNOTSUPP, 30, 0);
	DIFF("preadv2 RWF_NOWAIT, data", ({
		struct iovec __v = { (char[64]){ 0 }, 64 };

		preadv2(r, &__v, 1, -1, RWF_NOWAIT);
	}), -1, EOPNOTSUPP, 30, 0);
	STEP("pwritev2 no flags", writev3(w, "KLMNOPQRST", 0));
	READV("preadv2 no flags", r, 20, 20, 0);
	STEP("reader nonblocking", fcntl(r, F_SETFL, O_NONBLOCK));
	STEP("writer nonblocking", fcntl(w, F_SETFL, O_NONBLOCK));

	/* splice in and out. */
	STEP("write p", write(p[1], "splice-in", 9));
	STEP("splice p -> node", splice(p[0], NULL, w, NULL, 64, 0));
	READ("read spliced in", r, 64);
	STEP("write node", write_pat(w, 3, 5000));
	STEP("splice node -> p", splice(r, NULL, p[1], NULL, 5000, 0));
	STEP("FIONREAD after splice out", nread(r));
	READ("read p", p[0], 2 * SZ);
	STEP("splice empty node -> p", splice(r, NULL, p[1], NULL, 64, 0));
	STEP("splice empty p -> node", splice(p[0], NULL, w, NULL, 64, 0));
	STEP("splice node -> p, nonblock flag",
	     splice(r, NULL, p[1], NULL, 64, SPLICE_F_NONBLOCK));
	/*
	 * On purpose (the VFS's answer): an offset for a file that cannot
	 * pread is EINVAL in do_splice(); for a FIFO, a pipe, ESPIPE.
	 */
	DIFF("splice with an offset", splice(r, &off, p[1], NULL, 64, 0), -1,
	     ESPIPE, -1, EINVAL);

	/* tee between pipe(2)s, on the way from the node back into it. */
	STEP("write tee", write(w, "tee", 3));
	STEP("splice node -> p for tee", splice(r, NULL, p[1], NULL, 64, 0));
	STEP("tee p -> q", tee(p[0], q[1], 64, 0));
	STEP("splice q -> node", splice(q[0], NULL, w, NULL, 64, 0));
	READ("read p after tee", p[0], 64);
	READ("read node after tee", r, 64);
	/* On purpose: tee on the node itself needs a pipe; kipc is none. */
	STEP("write x", write(w, "x", 1));
	DIFF("tee node -> q", tee(r, q[1], 64, 0), 1, 0, -1, EINVAL);
	READ("read node after tee on it", r, 64);
	DIFF("read q after tee on the node", read(q[0], (char[8]){ 0 }, 8), 1,
	     0, -1, EAGAIN);

	/* vmsplice into a pipe(2), then into the node. */
	STEP("vmsplice p", vmsplice(p[1], &iov, 1, 0));
	STEP("splice vmspliced p -> node", splice(p[0], NULL, w, NULL, 64, 0));
	READ("read vmspliced", r, 64);
	/* On purpose: vmsplice on the node: the VFS wants a pipe: EBADF. */
	DIFF("vmsplice node", vmsplice(w, &iov, 1, 0), 3, 0, -1, EBADF);
	DIFF("read after vmsplice on the node", read(r, (char[8]){ 0 }, 8), 3,
	     0, -1, EAGAIN);

	/* sendfile and copy_file_range. */
	STEP("write file", write(f, "sendfile", 8));
	STEP("sendfile file -> node", sendfile(w, f, &off, 8));
	READ("read sendfile", r, 64);
	/* Into a file, sendfile wants a regular input (both EINVAL). */
	STEP("write for sendfile out", write(w, "sendout", 7));
	STEP("sendfile node -> file", sendfile(f, r, NULL, 64));
	/*
	 * On purpose: sendfile from the node into a pipe.  A FIFO has no
	 * splice_read (splice takes it as a pipe instead): EINVAL; kipc's
	 * splice_read makes it work.
	 */
	DIFF("sendfile node -> pipe", sendfile(p[1], r, NULL, 64), -1, EINVAL,
	     7, 0);
	DIFF("read after sendfile out", read(r, (char[8]){ 0 }, 8), 7, 0, -1,
	     EAGAIN);
	DIFF("read p after sendfile out", read(p[0], (char[8]){ 0 }, 8), -1,
	     EAGAIN, 7, 0);
	STEP("copy_file_range file -> node",
	     copy_file_range(f, &off, w, NULL, 8, 0));
	STEP("copy_file_range node -> file",
	     copy_file_range(r, NULL, f, NULL, 8, 0));
	STEP("FIONREAD at the end", nread(r));

	close(f);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	STEP("iter: close writer", close(w));
	STEP("iter: close reader", close(r));
	munmap(bad, 4096);
}

static void check(struct __test_metadata *_metadata, struct run *fifo,
		  struct run *kipc)
{
	int i;

	ASSERT_EQ(fifo->n, kipc->n);
	ASSERT_GT(MAX_STEPS - 1, fifo->n);
	for (i = 0; i < fifo->n; i++) {
		struct step *f = &fifo->s[i], *k = &kipc->s[i];

		if (f->ret != k->ret || f->err != k->err || f->differs)
			TH_LOG("step %d %s: fifo %ld/%d, kipc %ld/%d", i,
			       f->label, f->ret, f->err, k->ret, k->err);
		if (f->differs) {
			EXPECT_EQ(f->want_ret, f->ret) TH_LOG("%s", f->label);
			EXPECT_EQ(f->want_err, f->err) TH_LOG("%s", f->label);
			EXPECT_EQ(k->want_ret, k->ret) TH_LOG("%s", k->label);
			EXPECT_EQ(k->want_err, k->err) TH_LOG("%s", k->label);
			continue;
		}
		EXPECT_EQ(f->ret, k->ret) TH_LOG("step %d: %s", i, f->label);
		EXPECT_EQ(f->err, k->err) TH_LOG("step %d: %s", i, f->label);
		EXPECT_EQ(f->hash, k->hash) TH_LOG("step %d: %s", i, f->label);
	}
}

TEST(fifo_and_kipc_agree)
{
	static struct run fifo, kipc;
	char path[64];
	__u32 size;
	int fd;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));

	snprintf(path, sizeof(path), "/tmp/kipc_diff_fifo.%d", getpid());
	unlink(path);
	ASSERT_EQ(0, mkfifo(path, 0600));
	fifo.path = path;
	fifo.is_kipc = 0;
	scenario(&fifo);
	unlink(path);

	/* pipe_test may leave another size behind. */
	fd = open(KIPC_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	size = SZ;
	ASSERT_EQ(0, ioctl(fd, KIPC_PIPE_SET_SIZE, &size));
	close(fd);

	kipc.path = KIPC_PATH;
	kipc.is_kipc = 1;
	scenario(&kipc);

	check(_metadata, &fifo, &kipc);

	/* The scenario itself means what it says (spot checks). */
	ASSERT_EQ(-1, fifo.s[0].ret);
	ASSERT_EQ(ENXIO, fifo.s[0].err);
}

/* readv, writev, RWF_NOWAIT, splice, tee, vmsplice, sendfile. */
TEST(fifo_and_kipc_agree_past_read_and_write)
{
	static struct run fifo, kipc;
	char path[64];
	__u32 size;
	int fd;

	snprintf(path, sizeof(path), "/tmp/kipc_diff_fifo2.%d", getpid());
	unlink(path);
	ASSERT_EQ(0, mkfifo(path, 0600));
	fifo.path = path;
	fifo.is_kipc = 0;
	scenario_iter(&fifo);
	unlink(path);

	fd = open(KIPC_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	size = SZ;
	ASSERT_EQ(0, ioctl(fd, KIPC_PIPE_SET_SIZE, &size));
	close(fd);

	kipc.path = KIPC_PATH;
	kipc.is_kipc = 1;
	scenario_iter(&kipc);

	check(_metadata, &fifo, &kipc);
	/* Spot checks: the readv did not wait, the bad writev wrote none. */
	ASSERT_EQ(10, kipc.s[7].ret);
	ASSERT_EQ(EFAULT, kipc.s[9].err);
}

TEST_HARNESS_MAIN
