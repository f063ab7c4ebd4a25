// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: system limits and their tuning, the registry of IPC objects
 * that must go away even when the run is interrupted, small helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/kipc.h>
#include <linux/perf_event.h>

#include "bench.h"

struct kb_sys kb_sys;
volatile sig_atomic_t kb_timed_out;
volatile pid_t kb_child;
static pid_t kb_main_pid;

/* --- the registry ---------------------------------------------------------- */

#define KB_REG_MAX 16

static struct {
	int kind;
	int id;
} reg_sysv[KB_REG_MAX];
static char reg_path[KB_REG_MAX][128];
static char reg_mq[KB_REG_MAX][64];
static int reg_kmq[KB_REG_MAX] = { [0 ... KB_REG_MAX - 1] = -1 };

struct kb_sysctl_save {
	const char *path;
	long old;
	bool saved;
};

static struct kb_sysctl_save saves[] = {
	{ .path = "/proc/sys/fs/mqueue/msgsize_max" },
	{ .path = "/proc/sys/fs/mqueue/msg_max" },
	{ .path = "/proc/sys/kernel/msgmax" },
	{ .path = "/proc/sys/kernel/msgmnb" },
	{ .path = "/proc/sys/net/unix/max_dgram_qlen" },
};

enum { S_MQ_MSGSIZE, S_MQ_MSGS, S_MSGMAX, S_MSGMNB, S_DGRAM_QLEN };

void kb_reg_sysv(int kind, int id)
{
	for (int i = 0; i < KB_REG_MAX; i++) {
		if (!reg_sysv[i].kind) {
			reg_sysv[i].id = id;
			reg_sysv[i].kind = kind;
			return;
		}
	}
}

void kb_unreg_sysv(int kind, int id)
{
	for (int i = 0; i < KB_REG_MAX; i++)
		if (reg_sysv[i].kind == kind && reg_sysv[i].id == id)
			reg_sysv[i].kind = 0;
}

static void reg_str(char (*tab)[128], const char *s)
{
	for (int i = 0; i < KB_REG_MAX; i++) {
		if (!tab[i][0]) {
			snprintf(tab[i], sizeof(tab[i]), "%s", s);
			return;
		}
	}
}

static void unreg_str(char (*tab)[128], const char *s)
{
	for (int i = 0; i < KB_REG_MAX; i++)
		if (!strcmp(tab[i], s))
			tab[i][0] = 0;
}

void kb_reg_path(const char *path)
{
	reg_str(reg_path, path);
}

void kb_unreg_path(const char *path)
{
	unreg_str(reg_path, path);
}

void kb_reg_mq(const char *name)
{
	for (int i = 0; i < KB_REG_MAX; i++) {
		if (!reg_mq[i][0]) {
			snprintf(reg_mq[i], sizeof(reg_mq[i]), "%s", name);
			return;
		}
	}
}

void kb_unreg_mq(const char *name)
{
	for (int i = 0; i < KB_REG_MAX; i++)
		if (!strcmp(reg_mq[i], name))
			reg_mq[i][0] = 0;
}

void kb_reg_kipc_mq(int fd)
{
	for (int i = 0; i < KB_REG_MAX; i++) {
		if (reg_kmq[i] < 0) {
			reg_kmq[i] = fd;
			return;
		}
	}
}

void kb_unreg_kipc_mq(int fd)
{
	for (int i = 0; i < KB_REG_MAX; i++)
		if (reg_kmq[i] == fd)
			reg_kmq[i] = -1;
}

static void write_long(const char *path, long v)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", v);
	if (write(fd, buf, n) < 0) {
		/* Nothing better to do: the report already names the value. */
	}
	close(fd);
}

/* Only system calls: also called from the signal handler. */
static void cleanup_now(void)
{
	struct kipc_mq_limits lim = {
		.max_bytes = KIPC_MQ_DEF_BYTES,
		.max_msg_size = KIPC_MQ_DEF_MSG_SIZE,
		.max_msgs = KIPC_MQ_DEF_MSGS,
	};

	for (int i = 0; i < KB_REG_MAX; i++) {
		switch (reg_sysv[i].kind) {
		case 'm':
			msgctl(reg_sysv[i].id, IPC_RMID, NULL);
			break;
		case 's':
			semctl(reg_sysv[i].id, 0, IPC_RMID);
			break;
		case 'h':
			shmctl(reg_sysv[i].id, IPC_RMID, NULL);
			break;
		}
		reg_sysv[i].kind = 0;
		if (reg_path[i][0])
			unlink(reg_path[i]);
		reg_path[i][0] = 0;
		if (reg_mq[i][0])
			mq_unlink(reg_mq[i]);
		reg_mq[i][0] = 0;
		if (reg_kmq[i] >= 0) {
			ioctl(reg_kmq[i], KIPC_MQ_FLUSH);
			ioctl(reg_kmq[i], KIPC_MQ_SET_LIMITS, &lim);
		}
		reg_kmq[i] = -1;
	}
	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++) {
		if (saves[i].saved)
			write_long(saves[i].path, saves[i].old);
		saves[i].saved = false;
	}
	if (kb_sys.tmpdir[0])
		rmdir(kb_sys.tmpdir);
}

void kb_sys_restore(void)
{
	if (getpid() == kb_main_pid)
		cleanup_now();
}

static void on_fatal_signal(int sig)
{
	if (getpid() != kb_main_pid)
		_exit(128 + sig);
	/* Reap the child first: no zombie, no user of what goes next. */
	if (kb_child > 0) {
		kill(kb_child, SIGKILL);
		waitpid(kb_child, NULL, 0);
	}
	cleanup_now();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_alarm(int sig)
{
	(void)sig;
	kb_timed_out = 1;
}

void kb_cleanup_install(void)
{
	struct sigaction sa = { 0 };

	kb_main_pid = getpid();
	sa.sa_handler = on_fatal_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* No SA_RESTART: a blocked call returns EINTR when the watchdog fires. */
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(kb_sys_restore);
}

/* --- limits ------------------------------------------------------------- */

long kb_sysctl_read(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/* Raise a limit to at least want; remember the old value to restore it. */
static long raise_sysctl(int idx, long want)
{
	struct kb_sysctl_save *s = &saves[idx];
	long cur = kb_sysctl_read(s->path);
	size_t len = strlen(kb_sys.tuned);

	if (cur < 0 || cur >= want || !kb_sys.tune)
		return cur;
	s->old = cur;
	s->saved = true;
	write_long(s->path, want);
	if (kb_sysctl_read(s->path) != want) {
		s->saved = false;
		return cur;
	}
	snprintf(kb_sys.tuned + len, sizeof(kb_sys.tuned) - len,
		 "%s%s %ld->%ld", len ? "; " : "",
		 s->path + strlen("/proc/sys/"), cur, want);
	return want;
}

int kb_sys_init(bool tune, size_t max_size)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	cpu_set_t set;
	struct stat st;
	long qbytes;

	kb_sys.root = geteuid() == 0;
	kb_sys.tune = tune && kb_sys.root;
	kb_sys.cpu[0] = kb_sys.cpu[1] = 0;
	kb_sys.ncpus = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = 0; i < CPU_SETSIZE; i++) {
			if (!CPU_ISSET(i, &set))
				continue;
			if (kb_sys.ncpus < 2)
				kb_sys.cpu[kb_sys.ncpus] = i;
			kb_sys.ncpus++;
		}
	}
	if (kb_sys.ncpus < 2)
		kb_sys.cpu[1] = kb_sys.cpu[0];
	kb_sys.kipc = stat(KIPC_DEV_DIR, &st) == 0 && S_ISDIR(st.st_mode);

	snprintf(kb_sys.tmpdir, sizeof(kb_sys.tmpdir),
		 "/tmp/kipc-bench.XXXXXX");
	if (!mkdtemp(kb_sys.tmpdir)) {
		perror("kipc-bench: mkdtemp /tmp");
		kb_sys.tmpdir[0] = 0;
		return -1;
	}

	/* What kb_sizing() gives the largest size: 16 of it up to 1 MiB,
	 * but at least two. */
	qbytes = KB_DEPTH_MSGS * (long)kb_pow2_ceil(max_size);
	if (qbytes > KB_MAX_SIZE)
		qbytes = KB_MAX_SIZE;
	if (qbytes < 2 * (long)max_size)
		qbytes = 2 * (long)max_size;
	if (qbytes < 65536)
		qbytes = 65536;
	kb_sys.mq_msgsize_max = raise_sysctl(S_MQ_MSGSIZE, max_size);
	kb_sys.mq_msg_max = raise_sysctl(S_MQ_MSGS, KB_MAX_BATCH);
	kb_sys.msgmax = raise_sysctl(S_MSGMAX, max_size);
	kb_sys.msgmnb = raise_sysctl(S_MSGMNB, qbytes);
	kb_sys.dgram_qlen = raise_sysctl(S_DGRAM_QLEN, KB_MAX_BATCH);
	kb_sys.wmem_max = kb_sysctl_read("/proc/sys/net/core/wmem_max");
	if (kb_sys.tune && setrlimit(RLIMIT_MSGQUEUE, &rl) == 0) {
		size_t len = strlen(kb_sys.tuned);

		snprintf(kb_sys.tuned + len, sizeof(kb_sys.tuned) - len,
			 "%sRLIMIT_MSGQUEUE unlimited", len ? "; " : "");
	}
	return 0;
}

/* --- helpers -------------------------------------------------------------- */

int kb_fail(struct kb_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

int kb_fail_errno(struct kb_ctx *c, const char *what)
{
	if (errno == EINTR && kb_timed_out)
		return kb_fail(c, "%s: timed out", what);
	return kb_fail(c, "%s: %s", what, strerror(errno));
}

bool kb_retry(void)
{
	return errno == EINTR && !kb_timed_out;
}

int kb_write_full(struct kb_ctx *c, int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (kb_retry())
				continue;
			return kb_fail_errno(c, "write");
		}
		p += n;
		len -= n;
	}
	return 0;
}

int kb_read_full(struct kb_ctx *c, int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (kb_retry())
				continue;
			return kb_fail_errno(c, "read");
		}
		if (n == 0)
			return kb_fail(c, "read: unexpected end of file");
		p += n;
		len -= n;
	}
	return 0;
}

void kb_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void kb_ctx_init(struct kb_ctx *c)
{
	memset(c, 0, sizeof(*c));
	for (int ch = 0; ch < KB_NCH; ch++)
		c->fd[ch][0] = c->fd[ch][1] = -1;
}

/*
 * Raise a socket's send buffer to at least want bytes, past wmem_max when
 * root (SO_SNDBUFFORCE); never lower it below the kernel's default.
 */
void kb_set_sndbuf(struct kb_ctx *c, int fd, long want)
{
	int cur = 0, v;
	socklen_t sl = sizeof(cur);

	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl);
	/* The kernel doubles what it is given. */
	if (want <= cur || want / 2 > 0x3fffffff)
		goto out;
	v = want / 2 + 1;
	if (!kb_sys.tune ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	sl = sizeof(cur);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl);
out:
	if (c->role == KB_PARENT && !strstr(c->config, "sndbuf"))
		snprintf(c->config + strlen(c->config),
			 sizeof(c->config) - strlen(c->config),
			 "%ssndbuf %d", c->config[0] ? "; " : "", cur);
}

size_t kb_pow2_ceil(size_t v)
{
	size_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

uint64_t kb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* User plus system time of this process, from getrusage(). */
uint64_t kb_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		1000000000ull +
		((uint64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

int kb_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* --- system calls, counted by the kernel ---------------------------------- */

/*
 * A perf counter of the raw_syscalls:sys_enter tracepoint for this task
 * alone: every system call it enters, whatever library makes it (glibc's
 * futex in sem_wait(), liburing's io_uring_enter()), and none that the
 * kernel's own threads (io_uring's SQPOLL thread and workers) make for
 * it.  Each process opens its own (a perf counter is not inherited).
 */
static long calls_id = -1;
static uint64_t calls_base;	/* what an empty start/stop pair counts */
static int calls_fd = -1;
static pid_t calls_pid;
double kb_clock_calls;

static long tracepoint_id(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		long v = kb_sysctl_read(paths[i]);

		if (v >= 0)
			return v;
	}
	return -1;
}

static int calls_open(void)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(a),
		.config = calls_id,
		.disabled = 1,
		.exclude_kernel = 0,
	};

	if (calls_pid == getpid())
		return calls_fd;
	if (calls_fd >= 0)
		close(calls_fd);
	calls_pid = getpid();
	calls_fd = syscall(SYS_perf_event_open, &a, 0, -1, -1,
			   PERF_FLAG_FD_CLOEXEC);
	return calls_fd;
}

int kb_calls_init(char *why, size_t whylen)
{
	uint64_t n;

	calls_id = tracepoint_id();
	if (calls_id < 0) {
		snprintf(why, whylen,
			 "not counted: no raw_syscalls:sys_enter tracepoint (tracefs not mounted?)");
		return -1;
	}
	if (calls_open() < 0) {
		snprintf(why, whylen, "not counted: perf_event_open: %s",
			 strerror(errno));
		calls_id = -1;
		return -1;
	}
	/*
	 * What the counter counts of its own (the disabling ioctl, and
	 * whatever else the kernel charges to an empty start/stop pair):
	 * the lowest of a few empty pairs, subtracted from every count.
	 */
	calls_base = 0;
	for (int i = 0; i < 5; i++) {
		kb_calls_start();
		n = kb_calls_stop();
		if (n != ~0ull && (i == 0 || n < calls_base))
			calls_base = n;
	}
	/* Does reading the clock enter the kernel (no vDSO clock here)? */
	kb_calls_start();
	for (int i = 0; i < 1000; i++)
		kb_now_ns();
	n = kb_calls_stop();
	kb_clock_calls = n == ~0ull ? 0 : n / 1000.0;
	snprintf(why, whylen,
		 "counted by the kernel: perf counter of raw_syscalls:sys_enter per process, timed phase, both processes%s",
		 kb_clock_calls > 0.5 ? "; the clock readings of the latency loop subtracted" : "");
	return 0;
}

void kb_calls_start(void)
{
	if (calls_id < 0 || calls_open() < 0)
		return;
	ioctl(calls_fd, PERF_EVENT_IOC_RESET, 0);
	ioctl(calls_fd, PERF_EVENT_IOC_ENABLE, 0);
}

uint64_t kb_calls_stop(void)
{
	uint64_t v;

	if (calls_id < 0 || calls_fd < 0 || calls_pid != getpid())
		return ~0ull;
	ioctl(calls_fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(calls_fd, &v, sizeof(v)) != sizeof(v))
		return ~0ull;
	return v > calls_base ? v - calls_base : 0;
}
