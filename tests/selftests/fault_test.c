// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every path of every device that allocates memory is
 * made to fail at its 1st, 2nd, 3rd, ... allocation in turn, through
 * /proc/thread-self/fail-nth (Documentation/fault-injection), until a run
 * goes by without a fault.  Each injected failure must give a clean
 * ENOMEM and leave the device as it was, usable and with its data; a call
 * that survives a fault (the allocation was optional) must have done its
 * whole job.  Leaks show up in kmemleak after the run (tests/vm/init).
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB and FAIL_PAGE_ALLOC with debugfs:
 * the debug kernel (tests/vm/debug-kernel).  Elsewhere every test SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <libmnl/libmnl.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DBG		"/sys/kernel/debug/"
/* No path allocates nearly this often: more means the loop is stuck. */
#define FI_MAX		2000

static const char *const pipe_path = KIPC_DEV_DIR "/pipe0";
static const char *const mq_path = KIPC_DEV_DIR "/mq0";
static const char *const shm_path = KIPC_DEV_DIR "/shm0";

/*
 * Every allocation of this thread counts, whatever it sleeps on, down to
 * single pages; nothing is printed (a stack dump would read as a splat).
 * The second value of each pair is restored at the end.
 */
static const char *const fi_knobs[][3] = {
	{ DBG "failslab/ignore-gfp-wait", "N", "Y" },
	{ DBG "failslab/verbose", "0", "2" },
	{ DBG "fail_page_alloc/ignore-gfp-wait", "N", "Y" },
	{ DBG "fail_page_alloc/ignore-gfp-highmem", "N", "Y" },
	{ DBG "fail_page_alloc/min-order", "0", "1" },
	{ DBG "fail_page_alloc/verbose", "0", "2" },
};

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* One fail-nth loop: the counters of the calls it made. */
struct fi {
	int fd;			/* /proc/thread-self/fail-nth */
	unsigned int nth;
	bool injected;
	unsigned int calls;
	unsigned int faults;	/* allocations made to fail */
	unsigned int enomem;	/* calls that failed because of one */
};

static unsigned int total_calls, total_faults, total_enomem;

static void fi_start(struct fi *f, int fd)
{
	f->fd = fd;
	f->nth = 0;
	f->injected = true;
}

/* Next round, unless the last one ran without a fault. */
static bool fi_next(struct fi *f)
{
	if (!f->injected)
		return false;
	f->nth++;
	return f->nth < FI_MAX;
}

/* The nth allocation from here on fails.  No allocation in between. */
static void fi_arm(struct fi *f)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u", f->nth);

	if (write(f->fd, buf, n) != n)
		abort();
}

/* Stop injecting; was a fault injected since fi_arm()? */
static void fi_disarm(struct fi *f)
{
	char buf[16] = "";

	if (pread(f->fd, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	if (write(f->fd, "0", 1) != 1)
		abort();
	f->injected = atoi(buf) == 0;
	f->calls++;
	f->faults += f->injected;
}

static void fi_report(struct __test_metadata *_metadata, struct fi *f,
		      const char *what)
{
	fprintf(stderr, "# %s: %u calls, %u faults injected, %u ENOMEM\n",
		what, f->calls, f->faults, f->enomem);
	total_calls += f->calls;
	total_faults += f->faults;
	total_enomem += f->enomem;
	/* The loop ended with a run that had no fault in it. */
	EXPECT_FALSE(f->injected) TH_LOG("%s: still failing at %u", what,
					 f->nth);
	f->calls = f->faults = f->enomem = 0;
}

/*
 * The outcome of one armed call: success, or ENOMEM because of the
 * fault.  Returns true when it failed.
 */
#define FI_FAILED(f, r, err)						\
	({								\
		bool __failed = (r) < 0;				\
		if (__failed) {						\
			EXPECT_TRUE((f)->injected);			\
			EXPECT_EQ(ENOMEM, (err))			\
				TH_LOG("round %u: %s", (f)->nth,	\
				       strerror(err));			\
			(f)->enomem++;					\
		}							\
		__failed;						\
	})

FIXTURE(fi)
{
	struct fi f;
};

FIXTURE_SETUP(fi)
{
	unsigned int i;
	int fd;

	if (access(FAIL_NTH, F_OK))
		SKIP(return, "no %s: the kernel has no CONFIG_FAULT_INJECTION",
		     FAIL_NTH);
	if (access(DBG "failslab", F_OK) || access(DBG "fail_page_alloc", F_OK))
		SKIP(return, "no failslab or fail_page_alloc in debugfs");
	for (i = 0; i < sizeof(fi_knobs) / sizeof(fi_knobs[0]); i++) {
		if (write_file(fi_knobs[i][0], fi_knobs[i][1]))
			SKIP(return, "cannot set %s", fi_knobs[i][0]);
	}
	fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(&self->f, 0, sizeof(self->f));
	fi_start(&self->f, fd);
}

FIXTURE_TEARDOWN(fi)
{
	unsigned int i;

	if (write(self->f.fd, "0", 1) != 1)
		TH_LOG("cannot reset %s", FAIL_NTH);
	close(self->f.fd);
	for (i = 0; i < sizeof(fi_knobs) / sizeof(fi_knobs[0]); i++)
		write_file(fi_knobs[i][0], fi_knobs[i][2]);
	fprintf(stderr, "# %s: total %u calls, %u faults injected, %u ENOMEM\n",
		_metadata->name, total_calls, total_faults, total_enomem);
}

static void fill(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(seed * 131 + i * 7 + (i >> 8));
}

/* --- pipe ---------------------------------------------------------------- */

TEST_F_TIMEOUT(fi, pipe_open, 600)
{
	struct fi *f = &self->f;
	char out[8];
	int fd, probe, err;

	/* The first open allocates the ring; nobody else has it open. */
	for (fi_start(f, f->fd); fi_next(f);) {
		fi_arm(f);
		fd = open(pipe_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		err = errno;

		fi_disarm(f);
		if (FI_FAILED(f, fd, err)) {
			/* No reader or writer was left counted. */
			probe = open(pipe_path, O_WRONLY | O_NONBLOCK);
			EXPECT_EQ(-1, probe);
			EXPECT_EQ(ENXIO, errno);
			probe = open(pipe_path, O_RDONLY | O_NONBLOCK);
			ASSERT_LE(0, probe);
			EXPECT_EQ(0, read(probe, out, sizeof(out)));
			close(probe);
			continue;
		}
		ASSERT_EQ(3, write(fd, "abc", 3));
		ASSERT_EQ(3, read(fd, out, sizeof(out)));
		EXPECT_EQ(0, memcmp(out, "abc", 3));
		close(fd);
	}
	fi_report(_metadata, f, "pipe open");
}

/* Resize from @from to @to with @len bytes buffered, failing each step. */
static void pipe_resize(struct __test_metadata *_metadata, struct fi *f,
			__u32 from, __u32 to, size_t len, const char *what)
{
	static char data[8192], out[8192];
	__u32 size;
	int fd, n, r, err;

	fd = open(pipe_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fill(data, len, to);
	for (fi_start(f, f->fd); fi_next(f);) {
		size = from;
		ASSERT_EQ(0, ioctl(fd, KIPC_PIPE_SET_SIZE, &size));
		ASSERT_EQ((ssize_t)len, write(fd, data, len));
		size = to;
		fi_arm(f);
		r = ioctl(fd, KIPC_PIPE_SET_SIZE, &size);
		err = errno;

		fi_disarm(f);
		if (!FI_FAILED(f, r, err))
			EXPECT_EQ(to, size);
		ASSERT_EQ(0, ioctl(fd, KIPC_PIPE_GET_SIZE, &size));
		EXPECT_EQ(r < 0 ? from : to, size);
		/* Data intact either way. */
		ASSERT_EQ(0, ioctl(fd, FIONREAD, &n));
		EXPECT_EQ((int)len, n);
		ASSERT_EQ((ssize_t)len, read(fd, out, sizeof(out)));
		EXPECT_EQ(0, memcmp(data, out, len));
	}
	size = KIPC_PIPE_DEF_SIZE;
	ioctl(fd, KIPC_PIPE_SET_SIZE, &size);
	close(fd);
	fi_report(_metadata, f, what);
}

TEST_F_TIMEOUT(fi, pipe_set_size, 600)
{
	pipe_resize(_metadata, &self->f, 65536, 262144, 5000, "pipe grow");
	/* One page: kvmalloc() has no vmalloc() fallback, so it can fail. */
	pipe_resize(_metadata, &self->f, 65536, 4096, 3000, "pipe shrink");
}

/* --- message queue ------------------------------------------------------- */

static int mq_send(int fd, __s64 type, const void *buf, __u32 len)
{
	struct kipc_mq_msg m = {
		.type = type, .buf = (uintptr_t)buf, .len = len,
		.flags = KIPC_MQ_NOWAIT,
	};

	return ioctl(fd, KIPC_MQ_SEND, &m);
}

static int mq_recv(int fd, __s64 type, void *buf, __u32 len, __u32 flags)
{
	struct kipc_mq_msg m = {
		.type = type, .buf = (uintptr_t)buf, .len = len,
		.flags = KIPC_MQ_NOWAIT | flags,
	};

	return ioctl(fd, KIPC_MQ_RECV, &m);
}

static __u32 mq_count(int fd)
{
	struct kipc_mq_stat st;

	if (ioctl(fd, KIPC_MQ_STAT, &st))
		return ~0U;
	return st.msgs;
}

TEST_F_TIMEOUT(fi, mq_open, 600)
{
	struct fi *f = &self->f;
	char out[8];
	int fd, err;

	for (fi_start(f, f->fd); fi_next(f);) {
		fi_arm(f);
		fd = open(mq_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		err = errno;

		fi_disarm(f);
		if (FI_FAILED(f, fd, err))
			continue;
		ASSERT_EQ(0, mq_send(fd, 4, "abc", 3));
		ASSERT_EQ(3, mq_recv(fd, 4, out, sizeof(out), 0));
		EXPECT_EQ(0, memcmp(out, "abc", 3));
		close(fd);
	}
	fi_report(_metadata, f, "mq open");
}

enum mq_how { BY_IOCTL, BY_WRITE, BY_BATCH };

/*
 * Send with each allocation failing in turn.  The queue first holds 16
 * small fillers (a queue that is not empty, as in use).
 */
static void mq_send_case(struct __test_metadata *_metadata, struct fi *f,
			 int fd, size_t len, enum mq_how how, const char *what)
{
	static char data[4][KIPC_MQ_DEF_MSG_SIZE], out[KIPC_MQ_DEF_MSG_SIZE];
	struct kipc_mq_msg msgs[4];
	struct kipc_mq_batch b;
	unsigned int want = how == BY_BATCH ? 4 : 1, sent, i;
	__s64 type = how == BY_WRITE ? 1 : 7;
	int r, err;

	for (i = 0; i < 4; i++) {
		fill(data[i], len, i + len);
		msgs[i] = (struct kipc_mq_msg){ .type = 7,
			.buf = (uintptr_t)data[i], .len = len,
			.flags = KIPC_MQ_NOWAIT };
	}
	for (fi_start(f, f->fd); fi_next(f);) {
		ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
		for (i = 0; i < 16; i++)
			ASSERT_EQ(0, mq_send(fd, 99, "filler", 6));
		b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs,
			.count = 4 };
		fi_arm(f);
		if (how == BY_IOCTL)
			r = mq_send(fd, type, data[0], len);
		else if (how == BY_WRITE)
			r = write(fd, data[0], len);
		else
			r = ioctl(fd, KIPC_MQ_SEND_BATCH, &b);
		err = errno;
		fi_disarm(f);
		if (FI_FAILED(f, r, err))
			sent = 0;
		else if (how == BY_BATCH)
			sent = b.done;
		else
			sent = 1;
		if (how == BY_WRITE && r >= 0)
			EXPECT_EQ((ssize_t)len, r);
		/* A batch may stop short, and says where. */
		if (r >= 0 && sent < want)
			EXPECT_TRUE(f->injected);
		EXPECT_EQ(16 + sent, mq_count(fd));
		for (i = 0; i < sent; i++) {
			memset(out, 0, len);
			ASSERT_EQ((int)len, mq_recv(fd, type, out, sizeof(out), 0));
			EXPECT_EQ(0, memcmp(out, data[i], len));
		}
		EXPECT_EQ(-1, mq_recv(fd, type, out, sizeof(out), 0));
		EXPECT_EQ(ENOMSG, errno);
	}
	ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
	fi_report(_metadata, f, what);
}

TEST_F_TIMEOUT(fi, mq_send, 900)
{
	int fd = open(mq_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd);
	mq_send_case(_metadata, &self->f, fd, 16, BY_IOCTL, "mq send small");
	mq_send_case(_metadata, &self->f, fd, 1000, BY_IOCTL, "mq send 1000");
	mq_send_case(_metadata, &self->f, fd, KIPC_MQ_DEF_MSG_SIZE, BY_IOCTL,
		     "mq send max");
	mq_send_case(_metadata, &self->f, fd, 16, BY_WRITE, "mq write small");
	mq_send_case(_metadata, &self->f, fd, 3000, BY_WRITE, "mq write 3000");
	mq_send_case(_metadata, &self->f, fd, 16, BY_BATCH, "mq batch small");
	mq_send_case(_metadata, &self->f, fd, 2000, BY_BATCH, "mq batch 2000");
	close(fd);
}

TEST_F_TIMEOUT(fi, mq_recv, 900)
{
	static char data[3][4000], out[3][4000];
	struct kipc_mq_msg msgs[3];
	struct kipc_mq_batch b;
	struct fi *f = &self->f;
	int fd, r, err, i;
	unsigned int got;

	fd = open(mq_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
	for (i = 0; i < 3; i++) {
		fill(data[i], sizeof(data[i]), 40 + i);
		ASSERT_EQ(0, mq_send(fd, i + 1, data[i], sizeof(data[i])));
	}

	/* PEEK copies through a kernel buffer; the message stays. */
	for (fi_start(f, f->fd); fi_next(f);) {
		memset(out[0], 0, sizeof(out[0]));
		fi_arm(f);
		r = mq_recv(fd, 2, out[0], sizeof(out[0]), KIPC_MQ_PEEK);
		err = errno;
		fi_disarm(f);
		if (!FI_FAILED(f, r, err)) {
			EXPECT_EQ((int)sizeof(data[1]), r);
			EXPECT_EQ(0, memcmp(out[0], data[1], sizeof(data[1])));
		}
		EXPECT_EQ(3U, mq_count(fd));
	}
	fi_report(_metadata, f, "mq peek");

	/* Plain receive: whatever fails, the message is not lost. */
	for (fi_start(f, f->fd); fi_next(f);) {
		fi_arm(f);
		r = mq_recv(fd, 3, out[0], sizeof(out[0]), 0);
		err = errno;
		fi_disarm(f);
		if (FI_FAILED(f, r, err)) {
			EXPECT_EQ(3U, mq_count(fd));
			continue;
		}
		EXPECT_EQ(0, memcmp(out[0], data[2], sizeof(data[2])));
		EXPECT_EQ(2U, mq_count(fd));
		ASSERT_EQ(0, mq_send(fd, 3, data[2], sizeof(data[2])));
	}
	fi_report(_metadata, f, "mq recv");

	/* A batch: all it says it took, in order; the rest stays queued. */
	for (fi_start(f, f->fd); fi_next(f);) {
		for (i = 0; i < 3; i++)
			msgs[i] = (struct kipc_mq_msg){ .type = -3,
				.buf = (uintptr_t)out[i], .len = 4000,
				.flags = KIPC_MQ_NOWAIT };
		b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs,
			.count = 3 };
		fi_arm(f);
		r = ioctl(fd, KIPC_MQ_RECV_BATCH, &b);
		err = errno;
		fi_disarm(f);
		got = FI_FAILED(f, r, err) ? 0 : b.done;
		EXPECT_EQ(3 - got, mq_count(fd));
		for (i = 0; i < (int)got; i++) {
			EXPECT_EQ(i + 1, msgs[i].type);
			EXPECT_EQ(0, memcmp(out[i], data[i], sizeof(data[i])));
		}
		/* Put back what was taken, keeping the type order. */
		ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, mq_send(fd, i + 1, data[i],
					     sizeof(data[i])));
	}
	fi_report(_metadata, f, "mq recv batch");
	ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
	close(fd);
}

/* --- shm ----------------------------------------------------------------- */

#define SHM_SMALL	(64 * 1024)
#define SHM_LARGE	(128 * 1024)

/* The region must hold the pattern of seed in its first len bytes. */
static void shm_check(struct __test_metadata *_metadata, int fd, size_t size,
		      size_t len, unsigned int seed)
{
	static char want[SHM_LARGE];
	char *m;
	size_t i;

	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill(want, len, seed);
	EXPECT_EQ(0, memcmp(m, want, len));
	for (i = len; i < size; i++)
		if (m[i])
			break;
	EXPECT_EQ(size, i);
	munmap(m, size);
}

static void shm_set(struct __test_metadata *_metadata, int fd, __u64 size,
		    unsigned int seed)
{
	char *m;

	ASSERT_EQ(0, ioctl(fd, KIPC_SHM_SET_SIZE, &size));
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	fill(m, size, seed);
	munmap(m, size);
}

TEST_F_TIMEOUT(fi, shm_open, 600)
{
	struct fi *f = &self->f;
	struct kipc_sem_info si = { .index = 0 };
	int fd, err;

	for (fi_start(f, f->fd); fi_next(f);) {
		fi_arm(f);
		fd = open(shm_path, O_RDWR | O_CLOEXEC);
		err = errno;

		fi_disarm(f);
		if (FI_FAILED(f, fd, err))
			continue;
		EXPECT_EQ(0, ioctl(fd, KIPC_SEM_GET, &si));
		close(fd);
	}
	fi_report(_metadata, f, "shm open");
}

TEST_F_TIMEOUT(fi, shm_set_size, 900)
{
	struct fi *f = &self->f;
	__u64 size;
	int fd, r, err;

	fd = open(shm_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	shm_set(_metadata, fd, SHM_SMALL, 5);
	for (fi_start(f, f->fd); fi_next(f);) {
		size = SHM_LARGE;
		fi_arm(f);
		r = ioctl(fd, KIPC_SHM_SET_SIZE, &size);
		err = errno;
		fi_disarm(f);
		if (FI_FAILED(f, r, err)) {
			ASSERT_EQ(0, ioctl(fd, KIPC_SHM_GET_SIZE, &size));
			EXPECT_EQ((__u64)SHM_SMALL, size);
			shm_check(_metadata, fd, SHM_SMALL, SHM_SMALL, 5);
			continue;
		}
		ASSERT_EQ(0, ioctl(fd, KIPC_SHM_GET_SIZE, &size));
		EXPECT_EQ((__u64)SHM_LARGE, size);
		/* Kept the old bytes, zeroed the new ones. */
		shm_check(_metadata, fd, SHM_LARGE, SHM_SMALL, 5);
		size = SHM_SMALL;
		ASSERT_EQ(0, ioctl(fd, KIPC_SHM_SET_SIZE, &size));
	}
	fi_report(_metadata, f, "shm set size");
	size = KIPC_SHM_DEF_SIZE;
	ioctl(fd, KIPC_SHM_SET_SIZE, &size);
	shm_set(_metadata, fd, KIPC_SHM_DEF_SIZE, 0);
	close(fd);
}

TEST_F_TIMEOUT(fi, shm_mmap, 900)
{
	struct fi *f = &self->f;
	__u64 size;
	char *m;
	int fd, err;

	fd = open(shm_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	shm_set(_metadata, fd, SHM_SMALL, 9);
	for (fi_start(f, f->fd); fi_next(f);) {
		fi_arm(f);
		m = mmap(NULL, SHM_SMALL, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		err = errno;
		fi_disarm(f);
		if (!FI_FAILED(f, m == MAP_FAILED ? -1 : 0, err)) {
			/* Mapped: the region, and it counts as mapped. */
			size = SHM_LARGE;
			EXPECT_EQ(-1, ioctl(fd, KIPC_SHM_SET_SIZE, &size));
			EXPECT_EQ(EBUSY, errno);
			munmap(m, SHM_SMALL);
			shm_check(_metadata, fd, SHM_SMALL, SHM_SMALL, 9);
			continue;
		}
		/* Not mapped: no mapping left counted, so resizing works. */
		size = SHM_SMALL + 4096;
		EXPECT_EQ(0, ioctl(fd, KIPC_SHM_SET_SIZE, &size));
		size = SHM_SMALL;
		EXPECT_EQ(0, ioctl(fd, KIPC_SHM_SET_SIZE, &size));
	}
	fi_report(_metadata, f, "shm mmap");
	shm_set(_metadata, fd, KIPC_SHM_DEF_SIZE, 0);
	close(fd);
}

/* --- netlink ------------------------------------------------------------- */

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	__u16 family;
	unsigned int seq;
	char buf[32768];
};

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID)
		*(__u16 *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      data);
}

static int nl_socket(struct nl *nl)
{
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -1;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID)) {
		mnl_socket_close(nl->sock);
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

static int nl_family(struct nl *nl)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int n;

	nl->seq = time(NULL);
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KIPC_GENL_NAME);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
	if (n < 0 || mnl_cb_run(nl->buf, n, nl->seq, nl->portid, family_cb,
				&nl->family) < 0)
		return -1;
	return nl->family ? 0 : -1;
}

/* A request; doit ones ask for an ack, so success ends with one too. */
static struct nlmsghdr *nl_req(struct nl *nl, __u8 cmd, bool dump)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = KIPC_GENL_VERSION;
	return nlh;
}

enum nl_outcome {
	NL_OK,		/* the answer, complete */
	NL_KERR,	/* an error message: the request failed */
	NL_SOCKERR,	/* the socket lost messages (ENOBUFS): unknown */
	NL_NOTHING,	/* no answer at all: never right */
};

/*
 * Read everything the request caused, without waiting: it was all
 * queued while the request was sent (dump parts come as we read).
 */
static enum nl_outcome nl_collect(struct nl *nl, unsigned int *replies,
				  int *err)
{
	*replies = 0;
	*err = 0;
	for (;;) {
		int n = recv(mnl_socket_get_fd(nl->sock), nl->buf,
			     sizeof(nl->buf), MSG_DONTWAIT);
		struct nlmsghdr *nlh;

		if (n < 0) {
			*err = errno;
			return errno == EAGAIN ? NL_NOTHING : NL_SOCKERR;
		}
		for (nlh = (struct nlmsghdr *)nl->buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type == NLMSG_DONE)
				return NL_OK;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				*err = -e->error;
				return e->error ? NL_KERR : NL_OK;
			}
			(*replies)++;
		}
	}
}

static void put_dev(struct nlmsghdr *nlh, __u32 kind, __u32 index)
{
	mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
}

static const char *const nl_what[] = {
	"nl get info", "nl get dev", "nl dump", "nl set pipe size",
	"nl set mq limits",
};

static struct nlmsghdr *nl_build(struct __test_metadata *_metadata,
				 struct nl *nl, int round, int pfd)
{
	struct nlmsghdr *nlh;
	__u32 size;

	switch (round) {
	case 0:
		return nl_req(nl, KIPC_CMD_GET_INFO, false);
	case 1:
		nlh = nl_req(nl, KIPC_CMD_GET_DEV, false);
		put_dev(nlh, KIPC_KIND_MQ, 0);
		return nlh;
	case 2:
		return nl_req(nl, KIPC_CMD_GET_DEV, true);
	case 3:
		size = KIPC_PIPE_DEF_SIZE;
		if (ioctl(pfd, KIPC_PIPE_SET_SIZE, &size))
			return NULL;
		nlh = nl_req(nl, KIPC_CMD_SET_DEV, false);
		put_dev(nlh, KIPC_KIND_PIPE, 0);
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, 262144);
		return nlh;
	default:
		nlh = nl_req(nl, KIPC_CMD_SET_DEV, false);
		put_dev(nlh, KIPC_KIND_MQ, 0);
		mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSGS, 77);
		return nlh;
	}
}

/* What a SET_DEV round changed: 1 applied, 0 not. */
static int nl_applied(struct __test_metadata *_metadata, int round, int pfd)
{
	struct kipc_mq_limits l = {
		KIPC_MQ_DEF_BYTES, KIPC_MQ_DEF_MSG_SIZE, KIPC_MQ_DEF_MSGS, 0
	};
	struct kipc_mq_stat st;
	__u32 size;
	int mfd;

	if (round == 3) {
		if (ioctl(pfd, KIPC_PIPE_GET_SIZE, &size))
			return -1;
		return size == 262144 ? 1 : size == KIPC_PIPE_DEF_SIZE ? 0 : -1;
	}
	mfd = open(mq_path, O_RDWR | O_CLOEXEC);
	if (mfd < 0 || ioctl(mfd, KIPC_MQ_STAT, &st) ||
	    ioctl(mfd, KIPC_MQ_SET_LIMITS, &l))
		return -1;
	close(mfd);
	return st.max_msgs == 77 ? 1 : st.max_msgs == KIPC_MQ_DEF_MSGS ? 0 : -1;
}

TEST_F_TIMEOUT(fi, netlink, 900)
{
	struct fi *f = &self->f;
	struct nl nl = {};
	struct nlmsghdr *nlh;
	enum nl_outcome out;
	unsigned int replies;
	int pfd, r, err, round, applied;
	__u32 size;

	ASSERT_EQ(0, nl_socket(&nl));
	ASSERT_EQ(0, nl_family(&nl)) TH_LOG("genl family %s", KIPC_GENL_NAME);
	mnl_socket_close(nl.sock);
	pfd = open(pipe_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, pfd);
	for (round = 0; round < 5; round++) {
		for (fi_start(f, f->fd); fi_next(f);) {
			/* A fresh socket: a failed dump start leaves its own. */
			ASSERT_EQ(0, nl_socket(&nl));
			nlh = nl_build(_metadata, &nl, round, pfd);
			ASSERT_NE(NULL, nlh);
			fi_arm(f);
			r = mnl_socket_sendto(nl.sock, nlh, nlh->nlmsg_len);
			err = errno;
			fi_disarm(f);
			if (r < 0) {
				/* No skb for the request: it never left. */
				EXPECT_TRUE(f->injected);
				EXPECT_TRUE(err == ENOMEM || err == ENOBUFS)
					TH_LOG("sendto: %s", strerror(err));
				f->enomem++;
				out = NL_KERR;
			} else {
				out = nl_collect(&nl, &replies, &err);
				EXPECT_NE((int)NL_NOTHING, (int)out)
					TH_LOG("%s: no answer", nl_what[round]);
				if (out == NL_OK) {
					EXPECT_EQ(round == 2 ? 6U : 1U, replies);
				} else {
					EXPECT_TRUE(f->injected);
				}
				if (out == NL_KERR) {
					EXPECT_TRUE(err == ENOMEM ||
						    err == ENOBUFS)
						TH_LOG("%s: %s", nl_what[round],
						       strerror(err));
					f->enomem++;
				}
			}
			mnl_socket_close(nl.sock);
			if (round < 3)
				continue;
			/* All or nothing, and an error means nothing. */
			applied = nl_applied(_metadata, round, pfd);
			ASSERT_LE(0, applied);
			if (out == NL_OK)
				EXPECT_EQ(1, applied);
			if (out == NL_KERR)
				EXPECT_EQ(0, applied)
					TH_LOG("%s, round %u: %s, yet applied",
					       nl_what[round], f->nth,
					       strerror(err));
		}
		fi_report(_metadata, f, nl_what[round]);
	}
	size = KIPC_PIPE_DEF_SIZE;
	ioctl(pfd, KIPC_PIPE_SET_SIZE, &size);
	close(pfd);
}

TEST_HARNESS_MAIN
