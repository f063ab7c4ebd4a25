// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input: every ioctl of every device with pointers that are NULL,
 * unmapped, read-only (for what the kernel writes), straddling into a
 * PROT_NONE page, in kernel space or non-canonical; huge and negative
 * lengths; unknown flags and commands; nonzero reserved fields.  Each
 * gets its exact errno, and a failed call leaves the device as it was.
 *
 * No kernel memory reaches userspace: every structure copied out is
 * pre-filled with a pattern and checked field by field, reserved ones
 * included, and nothing is written past what a call returns.
 *
 * The module maxima hold against an unprivileged user (uid 65534 in a
 * child, with files opened by root before it dropped its privileges).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define PAT		0xA5
#define PAT64		0xA5A5A5A5A5A5A5A5ULL
#define KERNEL_PTR	0xffffffff81000000UL
/* Past the end of the user address space, below the canonical hole. */
#define NONCANON_PTR	0x0000800000000000UL

static const char *const pipe_path = KIPC_DEV_DIR "/pipe0";
static const char *const mq_path = KIPC_DEV_DIR "/mq0";
static const char *const shm_path = KIPC_DEV_DIR "/shm0";

/* Every command of the UAPI, to try each on the devices it is not for. */
static const unsigned long pipe_cmds[] = {
	KIPC_PIPE_GET_SIZE, KIPC_PIPE_SET_SIZE,
};
static const unsigned long mq_cmds[] = {
	KIPC_MQ_SEND, KIPC_MQ_RECV, KIPC_MQ_SEND_BATCH, KIPC_MQ_RECV_BATCH,
	KIPC_MQ_STAT, KIPC_MQ_SET_LIMITS, KIPC_MQ_FLUSH,
	KIPC_MQ_GET_FILEOPTS, KIPC_MQ_SET_FILEOPTS,
};
static const unsigned long shm_cmds[] = {
	KIPC_SEM_INIT, KIPC_SEM_P, KIPC_SEM_V, KIPC_SEM_GET,
	KIPC_SEM_SET_POLL, KIPC_SHM_GET_SIZE, KIPC_SHM_SET_SIZE,
};
/* Near misses and strangers: none of them is a kipc command. */
static const unsigned long unknown_cmds[] = {
	/* Not 1 or 2: those are FIBMAP and FIGETBSZ, the VFS's own. */
	0, _IO(KIPC_IOC_MAGIC, 0x00), _IO(KIPC_IOC_MAGIC, 0x03),
	_IO(KIPC_IOC_MAGIC, 0xff), _IOR(KIPC_IOC_MAGIC, 0x01, __u64),
	_IOW(KIPC_IOC_MAGIC, 0x02, __u32), _IOR(KIPC_IOC_MAGIC, 0x02, __u32),
	_IOWR(KIPC_IOC_MAGIC, 0x10, struct kipc_mq_msg),
	_IOR(KIPC_IOC_MAGIC, 0x14, struct kipc_mq_limits),
	_IOW(KIPC_IOC_MAGIC, 0x29, __u32), _IOR(KIPC_IOC_MAGIC, 0x28, __u32),
	_IO(KIPC_IOC_MAGIC + 1, 0x01), _IOR('T', 0x01, __u32),
	0x5401 /* TCGETS */, 0xffffffffUL, 0x80000000UL,
};

/* Pages to point at; one set per test process. */
struct pages {
	size_t pg;
	char *ro;		/* PROT_READ, contents set before protecting */
	char *unmapped;
	char *edge;		/* edge[0, pg) RW, then a PROT_NONE page */
};

static void pages_init(struct __test_metadata *_metadata, struct pages *p)
{
	char *m;

	p->pg = sysconf(_SC_PAGESIZE);
	m = mmap(NULL, 4 * p->pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0, 4 * p->pg);
	p->ro = m;
	p->unmapped = m + p->pg;
	p->edge = m + 2 * p->pg;
	ASSERT_EQ(0, munmap(p->unmapped, p->pg));
	ASSERT_EQ(0, mprotect(p->edge + p->pg, p->pg, PROT_NONE));
}

/* A read-only copy of @len bytes of @src. */
static void *ro_copy(struct __test_metadata *_metadata, struct pages *p,
		     const void *src, size_t len)
{
	ASSERT_EQ(0, mprotect(p->ro, p->pg, PROT_READ | PROT_WRITE));
	memcpy(p->ro, src, len);
	ASSERT_EQ(0, mprotect(p->ro, p->pg, PROT_READ));
	return p->ro;
}

/* A copy of @len bytes of @src whose second half is not mapped. */
static void *straddle(struct pages *p, const void *src, size_t len)
{
	char *s = p->edge + p->pg - len / 2;

	memcpy(s, src, len / 2);
	return s;
}

/* Pointers no call may read from or write to. */
static int bad_ptrs(struct pages *p, size_t len, unsigned long *out)
{
	out[0] = 0;
	out[1] = (unsigned long)p->unmapped;
	out[2] = KERNEL_PTR;
	out[3] = NONCANON_PTR;
	out[4] = (unsigned long)(p->edge + p->pg - len / 2);
	out[5] = (unsigned long)-1L;
	return 6;
}

/* Inputs tried in this test process, and what the loops are at. */
static unsigned long tried;
static int at_ptr = -1;
static unsigned long at_cmd;

/* The call must fail with exactly @err. */
#define EXPECT_ERR(err, call)						\
	do {								\
		long __r;						\
		errno = 0;						\
		__r = (call);						\
		tried++;						\
		EXPECT_EQ(-1, __r)					\
			TH_LOG("%s (cmd %#lx, pointer %d) returned %ld", \
			       #call, at_cmd, at_ptr, __r);		\
		if (__r == -1)						\
			EXPECT_EQ(err, errno)				\
				TH_LOG("%s (cmd %#lx, pointer %d): %s, " \
				       "expected %s", #call, at_cmd,	\
				       at_ptr, strerror(errno),		\
				       strerror(err));			\
	} while (0)

#define EXPECT_OK(call)							\
	do {								\
		long __r;						\
		errno = 0;						\
		__r = (call);						\
		tried++;						\
		EXPECT_LE(0, __r)					\
			TH_LOG("%s: %s", #call, strerror(errno));	\
	} while (0)

/*
 * Straight to the kernel: the C library would refuse these sizes.  Huge
 * counts are used on static buffers only: the VFS checks that the whole
 * range is user space (access_ok()) before clamping the count, and
 * buffer + 2 GiB stays below the top only low in the address space.
 */
static char low_buf[KIPC_MQ_DEF_MSG_SIZE + 1];

static long raw_read(int fd, void *buf, size_t count)
{
	return syscall(SYS_read, fd, buf, count);
}

static long raw_write(int fd, const void *buf, size_t count)
{
	return syscall(SYS_write, fd, buf, count);
}

static int open_dev(const char *path, int flags)
{
	return open(path, flags | O_CLOEXEC);
}

static unsigned long read_param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kipc/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 0);
}

static struct kipc_mq_stat mq_stat(int fd)
{
	struct kipc_mq_stat st;

	memset(&st, PAT, sizeof(st));
	if (ioctl(fd, KIPC_MQ_STAT, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

static int mq_send(int fd, __s64 type, const void *buf, __u32 len)
{
	struct kipc_mq_msg m = {
		.type = type, .buf = (uintptr_t)buf, .len = len,
		.flags = KIPC_MQ_NOWAIT,
	};

	return ioctl(fd, KIPC_MQ_SEND, &m);
}

/* Receives the first message into buf; returns its length or -1. */
static int mq_recv(int fd, __s64 *type, void *buf, __u32 len)
{
	struct kipc_mq_msg m = {
		.type = 0, .buf = (uintptr_t)buf, .len = len,
		.flags = KIPC_MQ_NOWAIT,
	};
	int r = ioctl(fd, KIPC_MQ_RECV, &m);

	if (r >= 0 && type)
		*type = m.type;
	return r;
}

static void mq_defaults(int fd)
{
	struct kipc_mq_limits l = {
		.max_bytes = KIPC_MQ_DEF_BYTES,
		.max_msg_size = KIPC_MQ_DEF_MSG_SIZE,
		.max_msgs = KIPC_MQ_DEF_MSGS,
	};

	ioctl(fd, KIPC_MQ_FLUSH);
	ioctl(fd, KIPC_MQ_SET_LIMITS, &l);
}

FIXTURE(dev)
{
	struct pages p;
	int pipe, mq, shm;
};

FIXTURE_SETUP(dev)
{
	__u32 psize = KIPC_PIPE_DEF_SIZE;
	__u64 ssize = KIPC_SHM_DEF_SIZE;

	pages_init(_metadata, &self->p);
	self->pipe = open_dev(pipe_path, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->pipe) TH_LOG("%s: %s", pipe_path, strerror(errno));
	self->mq = open_dev(mq_path, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, self->mq) TH_LOG("%s: %s", mq_path, strerror(errno));
	self->shm = open_dev(shm_path, O_RDWR);
	ASSERT_LE(0, self->shm) TH_LOG("%s: %s", shm_path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &psize));
	mq_defaults(self->mq);
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SHM_SET_SIZE, &ssize));
	tried = 0;
}

FIXTURE_TEARDOWN(dev)
{
	__u32 psize = KIPC_PIPE_DEF_SIZE;
	__u64 ssize = KIPC_SHM_DEF_SIZE;

	fprintf(stderr, "# %s: %lu inputs tried\n", _metadata->name, tried);
	ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &psize);
	mq_defaults(self->mq);
	ioctl(self->shm, KIPC_SHM_SET_SIZE, &ssize);
	close(self->pipe);
	close(self->mq);
	close(self->shm);
}

/* --- commands ------------------------------------------------------------ */

static void try_cmds(struct __test_metadata *_metadata, int fd,
		     const unsigned long *cmds, size_t n, unsigned long arg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		at_cmd = cmds[i];
		EXPECT_ERR(ENOTTY, ioctl(fd, cmds[i], arg));
	}
	at_cmd = 0;
}

#define TRY_CMDS(fd, cmds, arg)						\
	try_cmds(_metadata, fd, cmds, sizeof(cmds) / sizeof(cmds[0]), arg)

TEST_F_TIMEOUT(dev, unknown_commands, 120)
{
	unsigned long buf[64];
	unsigned long args[2] = { 0, (unsigned long)buf };
	int i;

	/* Whatever the argument: an unknown command is ENOTTY first. */
	for (i = 0; i < 2; i++) {
		memset(buf, 0, sizeof(buf));
		TRY_CMDS(self->pipe, unknown_cmds, args[i]);
		TRY_CMDS(self->pipe, mq_cmds, args[i]);
		TRY_CMDS(self->pipe, shm_cmds, args[i]);
		TRY_CMDS(self->mq, unknown_cmds, args[i]);
		TRY_CMDS(self->mq, pipe_cmds, args[i]);
		TRY_CMDS(self->mq, shm_cmds, args[i]);
		TRY_CMDS(self->shm, unknown_cmds, args[i]);
		TRY_CMDS(self->shm, pipe_cmds, args[i]);
		TRY_CMDS(self->shm, mq_cmds, args[i]);
		/* FIONREAD is the pipe's alone. */
		EXPECT_ERR(ENOTTY, ioctl(self->mq, FIONREAD, args[i]));
		EXPECT_ERR(ENOTTY, ioctl(self->shm, FIONREAD, args[i]));
	}
}

TEST_F_TIMEOUT(dev, wrong_file_kind_ops, 120)
{
	char buf[16];

	/* No mmap() but on shm; no read or write on shm; no seeking. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->p.pg, PROT_READ, MAP_SHARED,
				   self->pipe, 0));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->p.pg, PROT_READ, MAP_SHARED,
				   self->mq, 0));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_ERR(EINVAL, read(self->shm, buf, sizeof(buf)));
	EXPECT_ERR(EINVAL, write(self->shm, buf, sizeof(buf)));
	EXPECT_ERR(ESPIPE, lseek(self->pipe, 0, SEEK_SET));
	EXPECT_ERR(ESPIPE, lseek(self->mq, 0, SEEK_SET));
	EXPECT_ERR(ESPIPE, lseek(self->shm, 0, SEEK_SET));
	EXPECT_ERR(ESPIPE, pread(self->pipe, buf, sizeof(buf), 0));
	EXPECT_ERR(ESPIPE, pwrite(self->mq, buf, sizeof(buf), 0));
}

/* --- pipe ---------------------------------------------------------------- */

TEST_F_TIMEOUT(dev, pipe_bad_pointers, 120)
{
	unsigned long bad[8];
	__u32 size;
	int i, n;

	n = bad_ptrs(&self->p, sizeof(__u32), bad);
	for (i = 0; at_ptr = i, i < n; i++) {
		EXPECT_ERR(EFAULT, ioctl(self->pipe, KIPC_PIPE_GET_SIZE, bad[i]));
		EXPECT_ERR(EFAULT, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, bad[i]));
		EXPECT_ERR(EFAULT, ioctl(self->pipe, FIONREAD, bad[i]));
	}
	/* Output into read-only memory. */
	size = 0;
	EXPECT_ERR(EFAULT, ioctl(self->pipe, KIPC_PIPE_GET_SIZE,
				 ro_copy(_metadata, &self->p, &size, 4)));
	EXPECT_ERR(EFAULT, ioctl(self->pipe, FIONREAD,
				 ro_copy(_metadata, &self->p, &size, 4)));
	/* SET_SIZE reads, then writes back: the size asked is the size. */
	size = KIPC_PIPE_DEF_SIZE;
	EXPECT_ERR(EFAULT, ioctl(self->pipe, KIPC_PIPE_SET_SIZE,
				 ro_copy(_metadata, &self->p, &size, 4)));
	size = 0;
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_GET_SIZE, &size));
	EXPECT_EQ((__u32)KIPC_PIPE_DEF_SIZE, size);
}

TEST_F_TIMEOUT(dev, pipe_sizes, 120)
{
	union { __u32 v; __u64 wide; } u;
	char data[100];

	/* Only the __u32 is written, not one byte past it. */
	u.wide = PAT64;
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_GET_SIZE, &u.v));
	EXPECT_EQ((__u32)KIPC_PIPE_DEF_SIZE, u.v);
	EXPECT_EQ(0xA5A5A5A5U, (__u32)(u.wide >> 32));
	u.wide = PAT64;
	u.v = 3 * 4096 + 1;
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	EXPECT_EQ(4 * 4096U, u.v);
	EXPECT_EQ(0xA5A5A5A5U, (__u32)(u.wide >> 32));
	u.wide = PAT64;
	ASSERT_EQ(0, ioctl(self->pipe, FIONREAD, &u.v));
	EXPECT_EQ(0U, u.v);
	EXPECT_EQ(0xA5A5A5A5U, (__u32)(u.wide >> 32));

	/* Zero and the absurd: EINVAL; the size stays. */
	u.v = 0;
	EXPECT_ERR(EINVAL, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	u.v = 0xffffffffU;
	EXPECT_ERR(EINVAL, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	u.v = 0x80000001U;
	EXPECT_ERR(EINVAL, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_GET_SIZE, &u.v));
	EXPECT_EQ(4 * 4096U, u.v);

	/* 2 GiB: past INT_MAX, which kvmalloc() refuses, so out of range. */
	u.v = 0x80000000U;
	EXPECT_ERR(EINVAL, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_GET_SIZE, &u.v));
	EXPECT_EQ(4 * 4096U, u.v);

	/* Smaller than what is buffered: EBUSY, the data intact. */
	memset(data, 'x', sizeof(data));
	u.v = 8192;
	ASSERT_EQ(0, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	while (write(self->pipe, data, sizeof(data)) == sizeof(data))
		;
	ASSERT_EQ(EAGAIN, errno);
	u.v = 4096;
	EXPECT_ERR(EBUSY, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &u.v));
	ASSERT_EQ(0, ioctl(self->pipe, FIONREAD, &u.v));
	EXPECT_EQ(8192 - 8192 % 100, (int)u.v);
}

TEST_F_TIMEOUT(dev, pipe_bad_buffers, 120)
{
	char *edge = self->p.edge + self->p.pg - 100;
	unsigned long bad[8];
	char buf[300], out[300];
	int i, n, avail;
	ssize_t r;

	n = bad_ptrs(&self->p, 200, bad);
	/* Writes from nowhere move nothing (the straddler comes later). */
	for (i = 0; at_ptr = i, i < n; i++)
		if (i != 4)
			EXPECT_ERR(EFAULT, write(self->pipe, (void *)bad[i], 200));
	ASSERT_EQ(0, ioctl(self->pipe, FIONREAD, &avail));
	EXPECT_EQ(0, avail);

	/* Reads into nowhere take nothing. */
	for (i = 0; i < 200; i++)
		buf[i] = i;
	ASSERT_EQ(200, write(self->pipe, buf, 200));
	for (i = 0; at_ptr = i, i < n; i++)
		if (i != 4)
			EXPECT_ERR(EFAULT, read(self->pipe, (void *)bad[i], 200));
	EXPECT_ERR(EFAULT, read(self->pipe, ro_copy(_metadata, &self->p,
						    buf, 1), 200));
	ASSERT_EQ(0, ioctl(self->pipe, FIONREAD, &avail));
	EXPECT_EQ(200, avail);

	/*
	 * A read that faults half way returns what it copied, and exactly
	 * that much is consumed: the rest comes next, in order.
	 */
	memset(edge, PAT, 100);
	r = read(self->pipe, edge, 200);
	ASSERT_LT(0, r);
	ASSERT_GE(100, r);
	EXPECT_EQ(0, memcmp(edge, buf, r));
	ASSERT_EQ(0, ioctl(self->pipe, FIONREAD, &avail));
	EXPECT_EQ(200 - r, avail);
	memset(out, PAT, sizeof(out));
	ASSERT_EQ(200 - r, read(self->pipe, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, buf + r, 200 - r));
	/* Nothing past the data is touched. */
	EXPECT_EQ(PAT, (unsigned char)out[200 - r]);
	EXPECT_EQ(PAT, (unsigned char)out[sizeof(out) - 1]);

	/* A write that faults half way (not atomic: > PIPE_BUF) likewise. */
	r = write(self->pipe, edge, KIPC_PIPE_BUF + 1);
	ASSERT_LT(0, r);
	ASSERT_GE(100, r);
	ASSERT_EQ(0, ioctl(self->pipe, FIONREAD, &avail));
	EXPECT_EQ(r, avail);
	ASSERT_EQ(r, read(self->pipe, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, edge, r));

	/* Huge counts are clamped and bounded by the data there is. */
	ASSERT_EQ(10, write(self->pipe, buf, 10));
	EXPECT_EQ(10, raw_read(self->pipe, low_buf, INT_MAX));
	EXPECT_EQ(0, memcmp(low_buf, buf, 10));
	/* "Negative" counts overflow the address space: the VFS says EFAULT. */
	EXPECT_ERR(EFAULT, raw_read(self->pipe, out, SIZE_MAX));
	EXPECT_ERR(EFAULT, raw_write(self->pipe, buf, (size_t)-100));
}

/* --- message queue ------------------------------------------------------- */

TEST_F_TIMEOUT(dev, mq_bad_pointers, 120)
{
	static const unsigned long in_cmds[] = {
		KIPC_MQ_SEND, KIPC_MQ_RECV, KIPC_MQ_SEND_BATCH,
		KIPC_MQ_RECV_BATCH, KIPC_MQ_SET_LIMITS, KIPC_MQ_SET_FILEOPTS,
		KIPC_MQ_STAT, KIPC_MQ_GET_FILEOPTS,
	};
	struct kipc_mq_stat st0, st;
	struct kipc_mq_fileopts o;
	unsigned long bad[8];
	unsigned int c;
	int i, n;

	ASSERT_EQ(0, mq_send(self->mq, 7, "hello", 5));
	st0 = mq_stat(self->mq);
	for (c = 0; c < sizeof(in_cmds) / sizeof(in_cmds[0]); c++) {
		at_cmd = in_cmds[c];
		n = bad_ptrs(&self->p, _IOC_SIZE(in_cmds[c]), bad);
		for (i = 0; at_ptr = i, i < n; i++)
			EXPECT_ERR(EFAULT, ioctl(self->mq, in_cmds[c], bad[i]));
	}
	/* Outputs into read-only memory. */
	memset(&st, 0, sizeof(st));
	EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_STAT,
				 ro_copy(_metadata, &self->p, &st, sizeof(st))));
	memset(&o, 0, sizeof(o));
	EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_GET_FILEOPTS,
				 ro_copy(_metadata, &self->p, &o, sizeof(o))));
	/* Nothing sent, received or changed by any of that. */
	st = mq_stat(self->mq);
	EXPECT_EQ(1U, st.msgs);
	EXPECT_EQ(5U, st.bytes);
	EXPECT_EQ(st0.max_bytes, st.max_bytes);
	EXPECT_EQ(st0.max_msg_size, st.max_msg_size);
	EXPECT_EQ(st0.max_msgs, st.max_msgs);
	memset(&o, PAT, sizeof(o));
	ASSERT_EQ(0, ioctl(self->mq, KIPC_MQ_GET_FILEOPTS, &o));
	EXPECT_EQ(1, o.send_type);
	EXPECT_EQ(0, o.recv_type);
	EXPECT_EQ(0U, o.recv_flags);
	EXPECT_EQ(0U, o.__reserved);
}

TEST_F_TIMEOUT(dev, mq_send_bad_payload, 120)
{
	struct kipc_mq_stat st;
	unsigned long bad[8];
	char payload[64];
	int i, n;

	memset(payload, 'p', sizeof(payload));
	n = bad_ptrs(&self->p, sizeof(payload), bad);
	for (i = 0; at_ptr = i, i < n; i++) {
		struct kipc_mq_msg m = {
			.type = 1, .buf = bad[i], .len = sizeof(payload),
		};

		if (i == 4)
			straddle(&self->p, payload, sizeof(payload));
		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_SEND, &m));
		/* The same message, given straddling memory. */
		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_SEND,
					 straddle(&self->p, &m, sizeof(m))));
		EXPECT_ERR(EFAULT, write(self->mq, (void *)bad[i],
					 sizeof(payload)));
	}
	st = mq_stat(self->mq);
	EXPECT_EQ(0U, st.msgs);
	EXPECT_EQ(0U, st.bytes);
	/* NULL with length 0 is an empty message, not a fault. */
	EXPECT_EQ(0, mq_send(self->mq, 3, NULL, 0));
	EXPECT_EQ(1U, mq_stat(self->mq).msgs);
}

TEST_F_TIMEOUT(dev, mq_send_bad_fields, 120)
{
	static const __s64 types[] = { 0, -1, INT64_MIN };
	static const __u32 flags[] = {
		KIPC_MQ_NOERROR, KIPC_MQ_EXCEPT, KIPC_MQ_PEEK, 0x10,
		0x80000000U, 0xffffffffU,
	};
	char payload[KIPC_MQ_DEF_MSG_SIZE + 1];
	struct kipc_mq_msg m;
	unsigned int i;

	memset(payload, 'q', sizeof(payload));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		m = (struct kipc_mq_msg){ .type = types[i],
			.buf = (uintptr_t)payload, .len = 1 };
		EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND, &m));
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		m = (struct kipc_mq_msg){ .type = 1,
			.buf = (uintptr_t)payload, .len = 1, .flags = flags[i] };
		EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND, &m));
	}
	/* Longer than the message size limit, up to the absurd. */
	m = (struct kipc_mq_msg){ .type = 1, .buf = (uintptr_t)payload,
		.len = KIPC_MQ_DEF_MSG_SIZE + 1 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND, &m));
	m.len = 0xffffffffU;
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND, &m));
	m.len = 0x80000000U;
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND, &m));
	EXPECT_ERR(EINVAL, write(self->mq, payload, KIPC_MQ_DEF_MSG_SIZE + 1));
	/* write(2) counts are clamped below INT_MAX, still too long. */
	EXPECT_ERR(EINVAL, raw_write(self->mq, low_buf, INT_MAX));
	EXPECT_ERR(EINVAL, raw_write(self->mq, low_buf, 0x80000000UL));
	EXPECT_ERR(EFAULT, raw_write(self->mq, payload, SIZE_MAX));
	EXPECT_EQ(0U, mq_stat(self->mq).msgs);
}

TEST_F_TIMEOUT(dev, mq_recv_bad_buffers, 120)
{
	struct kipc_mq_stat st;
	unsigned long bad[8];
	char out[64];
	__s64 type;
	int i, n;

	ASSERT_EQ(0, mq_send(self->mq, 1, "first", 5));
	ASSERT_EQ(0, mq_send(self->mq, 2, "second", 6));
	ASSERT_EQ(0, mq_send(self->mq, 3, "third", 5));
	n = bad_ptrs(&self->p, 6, bad);
	/* A failed copy-out puts the message back where it was. */
	for (i = 0; at_ptr = i, i < n; i++) {
		struct kipc_mq_msg m = {
			.type = 0, .buf = bad[i], .len = sizeof(out),
		};

		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_RECV, &m));
		m.flags = KIPC_MQ_PEEK;
		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_RECV, &m));
		EXPECT_ERR(EFAULT, read(self->mq, (void *)bad[i], sizeof(out)));
	}
	{
		struct kipc_mq_msg m = {
			.type = -2, .len = sizeof(out),
			.buf = (uintptr_t)ro_copy(_metadata, &self->p, out, 1),
		};

		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_RECV, &m));
		/* A length past the real buffer: the copy runs into a hole. */
		m.type = 2;
		m.buf = (uintptr_t)(self->p.edge + self->p.pg - 3);
		m.len = 0xffffffffU;
		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_RECV, &m));
	}
	st = mq_stat(self->mq);
	EXPECT_EQ(3U, st.msgs);
	EXPECT_EQ(16U, st.bytes);
	/* Order and contents are intact. */
	memset(out, PAT, sizeof(out));
	ASSERT_EQ(5, mq_recv(self->mq, &type, out, sizeof(out)));
	EXPECT_EQ(1, type);
	EXPECT_EQ(0, memcmp(out, "first", 5));
	EXPECT_EQ(PAT, (unsigned char)out[5]);
	ASSERT_EQ(6, mq_recv(self->mq, &type, out, sizeof(out)));
	EXPECT_EQ(2, type);
	EXPECT_EQ(0, memcmp(out, "second", 6));
	ASSERT_EQ(5, mq_recv(self->mq, &type, out, sizeof(out)));
	EXPECT_EQ(3, type);
	EXPECT_EQ(0, memcmp(out, "third", 5));
}

TEST_F_TIMEOUT(dev, mq_recv_bad_fields, 120)
{
	static const __u32 flags[] = { 0x10, 0x80000000U, 0xffffffffU };
	struct kipc_mq_fileopts o;
	struct kipc_mq_msg m;
	char out[16];
	unsigned int i;

	ASSERT_EQ(0, mq_send(self->mq, 5, "0123456789", 10));
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		m = (struct kipc_mq_msg){ .buf = (uintptr_t)out, .len = 16,
			.flags = flags[i] };
		EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_RECV, &m));
	}
	/* Too small a buffer without NOERROR: E2BIG, the message stays. */
	m = (struct kipc_mq_msg){ .buf = (uintptr_t)out, .len = 9,
		.flags = KIPC_MQ_NOWAIT };
	EXPECT_ERR(E2BIG, ioctl(self->mq, KIPC_MQ_RECV, &m));
	m.flags |= KIPC_MQ_PEEK;
	EXPECT_ERR(E2BIG, ioctl(self->mq, KIPC_MQ_RECV, &m));
	/* read(2) reports it as mq_receive() does. */
	EXPECT_ERR(EMSGSIZE, read(self->mq, out, 9));
	EXPECT_EQ(1U, mq_stat(self->mq).msgs);
	/* The most negative selector matches every type. */
	memset(out, PAT, sizeof(out));
	m = (struct kipc_mq_msg){ .type = INT64_MIN, .buf = (uintptr_t)out,
		.len = 4, .flags = KIPC_MQ_NOERROR | KIPC_MQ_NOWAIT };
	ASSERT_EQ(4, ioctl(self->mq, KIPC_MQ_RECV, &m));
	EXPECT_EQ(5, m.type);
	EXPECT_EQ(4U, m.len);
	/* Only type and len are written back. */
	EXPECT_EQ((uintptr_t)out, m.buf);
	EXPECT_EQ((__u32)(KIPC_MQ_NOERROR | KIPC_MQ_NOWAIT), m.flags);
	EXPECT_EQ(0, memcmp(out, "0123", 4));
	EXPECT_EQ(PAT, (unsigned char)out[4]);
	/* Empty queue, no wait. */
	m = (struct kipc_mq_msg){ .buf = (uintptr_t)out, .len = 16,
		.flags = KIPC_MQ_NOWAIT };
	EXPECT_ERR(ENOMSG, ioctl(self->mq, KIPC_MQ_RECV, &m));
	EXPECT_ERR(EAGAIN, read(self->mq, out, sizeof(out)));

	/* File options: send type > 0, read flags NOERROR|EXCEPT only. */
	o = (struct kipc_mq_fileopts){ .send_type = 0 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_FILEOPTS, &o));
	o = (struct kipc_mq_fileopts){ .send_type = INT64_MIN };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_FILEOPTS, &o));
	o = (struct kipc_mq_fileopts){ .send_type = 1,
		.recv_flags = KIPC_MQ_NOWAIT };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_FILEOPTS, &o));
	o = (struct kipc_mq_fileopts){ .send_type = 1,
		.recv_flags = KIPC_MQ_PEEK };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_FILEOPTS, &o));
	o = (struct kipc_mq_fileopts){ .send_type = 1, .__reserved = 1 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_FILEOPTS, &o));
	memset(&o, PAT, sizeof(o));
	ASSERT_EQ(0, ioctl(self->mq, KIPC_MQ_GET_FILEOPTS, &o));
	EXPECT_EQ(1, o.send_type);
	EXPECT_EQ(0, o.recv_type);
	EXPECT_EQ(0U, o.recv_flags);
	EXPECT_EQ(0U, o.__reserved);
}

TEST_F_TIMEOUT(dev, mq_limits, 120)
{
	struct kipc_mq_limits l;
	struct kipc_mq_stat st;
	int ro;

	l = (struct kipc_mq_limits){ 4096, 1024, 10, 1 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
	l = (struct kipc_mq_limits){ 4096, 1024, 10, 0x80000000U };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
	l = (struct kipc_mq_limits){ 4096, 1024, 0, 0 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
	l = (struct kipc_mq_limits){ 0xffffffffU, 1024, 10, 0 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
	l = (struct kipc_mq_limits){ 4096, 0x80000000U, 10, 0 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
	l = (struct kipc_mq_limits){ 4096, 1024, 0xffffffffU, 0 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
	/* None of those changed anything. */
	st = mq_stat(self->mq);
	EXPECT_EQ((__u32)KIPC_MQ_DEF_BYTES, st.max_bytes);
	EXPECT_EQ((__u32)KIPC_MQ_DEF_MSG_SIZE, st.max_msg_size);
	EXPECT_EQ((__u32)KIPC_MQ_DEF_MSGS, st.max_msgs);

	/* Changing things needs a file open for writing. */
	ro = open_dev(mq_path, O_RDONLY);
	ASSERT_LE(0, ro);
	l = (struct kipc_mq_limits){ 4096, 1024, 10, 0 };
	EXPECT_ERR(EBADF, ioctl(ro, KIPC_MQ_SET_LIMITS, &l));
	EXPECT_ERR(EBADF, ioctl(ro, KIPC_MQ_FLUSH));
	EXPECT_ERR(EBADF, mq_send(ro, 1, "x", 1));
	EXPECT_ERR(EBADF, write(ro, "x", 1));
	close(ro);
	ro = open_dev(mq_path, O_WRONLY);
	ASSERT_LE(0, ro);
	EXPECT_ERR(EBADF, mq_recv(ro, NULL, &st, sizeof(st)));
	EXPECT_ERR(EBADF, read(ro, &st, sizeof(st)));
	close(ro);
}

TEST_F_TIMEOUT(dev, mq_batches, 120)
{
	struct kipc_mq_msg msgs[4], *edge;
	struct kipc_mq_batch b;
	char bufs[4][8];
	unsigned long bad[8];
	__s64 type;
	int i, n, r;

	for (i = 0; i < 4; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "msg%d", i);
		msgs[i] = (struct kipc_mq_msg){ .type = i + 1,
			.buf = (uintptr_t)bufs[i], .len = 4 };
	}
	/* Bad vectors. */
	n = bad_ptrs(&self->p, sizeof(msgs), bad);
	for (i = 0; at_ptr = i, i < n; i++) {
		b = (struct kipc_mq_batch){ .msgs = bad[i], .count = 4,
			.done = 0xdead };
		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
		EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	}
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs,
		.count = KIPC_MQ_BATCH_MAX + 1 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	b.count = 0xffffffffU;
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(0U, mq_stat(self->mq).msgs);

	/* A count of 0 does nothing and says so. */
	b = (struct kipc_mq_batch){ .msgs = 0, .count = 0, .done = 0xdead };
	EXPECT_EQ(0, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(0U, b.done);

	/* A vector running into a hole: the messages before it go. */
	edge = (struct kipc_mq_msg *)(self->p.edge + self->p.pg) - 2;
	memcpy(edge, msgs, 2 * sizeof(*edge));
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)edge, .count = 4 };
	b.done = 0xdead;
	errno = 0;
	r = ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b);
	/* Either the two before the hole went, or none and EFAULT. */
	if (r == 0) {
		EXPECT_GE(2U, b.done);
		EXPECT_EQ(b.done, mq_stat(self->mq).msgs);
	} else {
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(0U, mq_stat(self->mq).msgs);
	}
	ASSERT_LE(0, ioctl(self->mq, KIPC_MQ_FLUSH));
	/* A bad message stops the batch there: EINVAL only when first. */
	msgs[1].flags = KIPC_MQ_PEEK;
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs, .count = 4 };
	EXPECT_EQ(0, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(1U, b.done);
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)&msgs[1], .count = 3 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	msgs[1].flags = 0;
	msgs[2].buf = KERNEL_PTR;
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)&msgs[2], .count = 2 };
	EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	msgs[2].buf = (uintptr_t)bufs[2];
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)&msgs[1], .count = 1 };
	EXPECT_EQ(0, ioctl(self->mq, KIPC_MQ_SEND_BATCH, &b));
	EXPECT_EQ(1U, b.done);
	EXPECT_EQ(2U, mq_stat(self->mq).msgs);

	/* Receive: PEEK is not for batches; unknown flags neither. */
	for (i = 0; i < 4; i++)
		msgs[i] = (struct kipc_mq_msg){ .buf = (uintptr_t)bufs[i],
			.len = 8, .flags = KIPC_MQ_NOWAIT };
	msgs[0].flags |= KIPC_MQ_PEEK;
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs, .count = 4 };
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	msgs[0].flags = 0x40;
	EXPECT_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	msgs[0].flags = KIPC_MQ_NOWAIT;
	/* Payload buffers that fault: everything goes back, in order. */
	msgs[1].buf = KERNEL_PTR;
	EXPECT_EQ(0, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(1U, b.done);
	EXPECT_EQ(1, msgs[0].type);
	EXPECT_EQ(4U, msgs[0].len);
	EXPECT_EQ(0, memcmp(bufs[0], "msg0", 4));
	EXPECT_EQ(1U, mq_stat(self->mq).msgs);
	/* A read-only vector: the descriptors cannot be written back. */
	msgs[1].buf = (uintptr_t)bufs[1];
	/* The last call wrote back type 1: select any type again. */
	msgs[0].type = 0;
	b = (struct kipc_mq_batch){ .count = 2,
		.msgs = (uintptr_t)ro_copy(_metadata, &self->p, msgs,
					   sizeof(msgs)) };
	EXPECT_ERR(EFAULT, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(1U, mq_stat(self->mq).msgs);
	memset(bufs, 0, sizeof(bufs));
	ASSERT_EQ(4, mq_recv(self->mq, &type, bufs[0], 8));
	EXPECT_EQ(2, type);
	EXPECT_EQ(0, memcmp(bufs[0], "msg1", 4));
	/* Nothing left: ENOMSG, and done says 0. */
	b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs, .count = 4,
		.done = 0xdead };
	EXPECT_ERR(ENOMSG, ioctl(self->mq, KIPC_MQ_RECV_BATCH, &b));
	EXPECT_EQ(0U, b.done);
}

TEST_F_TIMEOUT(dev, mq_stat_initialised, 120)
{
	struct kipc_mq_stat st;
	unsigned char raw[sizeof(st) + 16];

	ASSERT_EQ(0, mq_send(self->mq, 9, "abc", 3));
	memset(raw, PAT, sizeof(raw));
	ASSERT_EQ(0, ioctl(self->mq, KIPC_MQ_STAT, raw));
	memcpy(&st, raw, sizeof(st));
	EXPECT_EQ(1U, st.msgs);
	EXPECT_EQ(3U, st.bytes);
	EXPECT_EQ((__u32)KIPC_MQ_DEF_BYTES, st.max_bytes);
	EXPECT_EQ((__u32)KIPC_MQ_DEF_MSG_SIZE, st.max_msg_size);
	EXPECT_EQ((__u32)KIPC_MQ_DEF_MSGS, st.max_msgs);
	EXPECT_EQ(getpid(), st.last_send_pid);
	EXPECT_EQ(0U, st.__reserved);
	EXPECT_NE(0ULL, st.last_send_time);
	EXPECT_NE(PAT64, st.last_recv_time);
	/* Not one byte past the structure. */
	EXPECT_EQ(PAT, raw[sizeof(st)]);
	EXPECT_EQ(PAT, raw[sizeof(raw) - 1]);
}

/* --- shm and semaphores -------------------------------------------------- */

TEST_F_TIMEOUT(dev, shm_bad_pointers, 120)
{
	static const unsigned long cmds[] = {
		KIPC_SEM_INIT, KIPC_SEM_P, KIPC_SEM_V, KIPC_SEM_GET,
		KIPC_SEM_SET_POLL, KIPC_SHM_GET_SIZE, KIPC_SHM_SET_SIZE,
	};
	struct kipc_sem_info info;
	unsigned long bad[8];
	unsigned int c;
	__u64 size;
	int i, n;

	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		at_cmd = cmds[c];
		n = bad_ptrs(&self->p, _IOC_SIZE(cmds[c]), bad);
		for (i = 0; at_ptr = i, i < n; i++)
			EXPECT_ERR(EFAULT, ioctl(self->shm, cmds[c], bad[i]));
	}
	size = 0;
	EXPECT_ERR(EFAULT, ioctl(self->shm, KIPC_SHM_GET_SIZE,
				 ro_copy(_metadata, &self->p, &size, 8)));
	info = (struct kipc_sem_info){ .index = 0 };
	EXPECT_ERR(EFAULT, ioctl(self->shm, KIPC_SEM_GET,
				 ro_copy(_metadata, &self->p, &info,
					 sizeof(info))));
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SHM_GET_SIZE, &size));
	EXPECT_EQ((__u64)KIPC_SHM_DEF_SIZE, size);
}

TEST_F_TIMEOUT(dev, sem_bad_fields, 120)
{
	struct kipc_sem_op op;
	struct kipc_sem_info info;
	unsigned char raw[sizeof(info) + 8];
	__u32 idx;

	op = (struct kipc_sem_op){ .index = 0, .value = 3 };
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SEM_INIT, &op));

	/* Index, flags, reserved: for every operation. */
	op = (struct kipc_sem_op){ .index = KIPC_SEM_NSEMS, .value = 1 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_V, &op));
	op.index = 0xffffffffU;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_V, &op));
	op = (struct kipc_sem_op){ .value = 1, .flags = 0x04 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_V, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));
	op.flags = 0x80000000U;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	op = (struct kipc_sem_op){ .value = 1, .flags = KIPC_SEM_NOWAIT };
	/* INIT takes no flags at all. */
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));
	op = (struct kipc_sem_op){ .value = 1, .__reserved = 1 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_V, &op));
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));
	/* P takes 0 or 1 and a timeout >= 0. */
	op = (struct kipc_sem_op){ .value = 2 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	op = (struct kipc_sem_op){ .value = 1, .timeout_ns = -1 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	op.timeout_ns = INT64_MIN;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_P, &op));
	/* V gives at least 1, takes no timeout, never past SEMVMX. */
	op = (struct kipc_sem_op){ .value = 0 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_V, &op));
	op = (struct kipc_sem_op){ .value = 1, .timeout_ns = 5 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_V, &op));
	op = (struct kipc_sem_op){ .value = KIPC_SEM_VALUE_MAX - 2 };
	EXPECT_ERR(ERANGE, ioctl(self->shm, KIPC_SEM_V, &op));
	op.value = 0x80000000U;
	EXPECT_ERR(ERANGE, ioctl(self->shm, KIPC_SEM_V, &op));
	op.value = 0xffffffffU;
	EXPECT_ERR(ERANGE, ioctl(self->shm, KIPC_SEM_V, &op));
	/* INIT up to SEMVMX, no further. */
	op = (struct kipc_sem_op){ .value = KIPC_SEM_VALUE_MAX + 1 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));
	op.value = 0xffffffffU;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));
	op = (struct kipc_sem_op){ .value = 1, .timeout_ns = 1 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_INIT, &op));

	/* GET: index and reserved checked; the value is untouched by all. */
	info = (struct kipc_sem_info){ .index = KIPC_SEM_NSEMS };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_GET, &info));
	info = (struct kipc_sem_info){ .index = 0, .__reserved = 1 };
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_GET, &info));
	memset(raw, PAT, sizeof(raw));
	info = (struct kipc_sem_info){ .index = 0, .value = 0xA5A5A5A5U,
		.waiters = 0xA5A5A5A5U };
	memcpy(raw, &info, sizeof(info));
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SEM_GET, raw));
	memcpy(&info, raw, sizeof(info));
	EXPECT_EQ(0U, info.index);
	EXPECT_EQ(3U, info.value);
	EXPECT_EQ(0U, info.waiters);
	EXPECT_EQ(0U, info.__reserved);
	EXPECT_EQ(PAT, raw[sizeof(info)]);

	/* SET_POLL: an index. */
	idx = KIPC_SEM_NSEMS;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_SET_POLL, &idx));
	idx = 0xffffffffU;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SEM_SET_POLL, &idx));
	idx = KIPC_SEM_NSEMS - 1;
	EXPECT_EQ(0, ioctl(self->shm, KIPC_SEM_SET_POLL, &idx));
	op = (struct kipc_sem_op){ .value = 0 };
	EXPECT_EQ(0, ioctl(self->shm, KIPC_SEM_INIT, &op));
}

TEST_F_TIMEOUT(dev, shm_sizes_and_maps, 120)
{
	size_t pg = self->p.pg;
	size_t want = 2 * KIPC_SHM_DEF_SIZE + pg;
	unsigned char *m, *r;
	union { __u64 v; unsigned char b[16]; } u;
	__u64 size;
	size_t i;

	/* GET writes its __u64 and nothing more. */
	memset(&u, PAT, sizeof(u));
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SHM_GET_SIZE, &u.v));
	EXPECT_EQ((__u64)KIPC_SHM_DEF_SIZE, u.v);
	EXPECT_EQ(PAT, u.b[8]);
	EXPECT_EQ(PAT, u.b[15]);

	size = 0;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	size = UINT64_MAX;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	size = UINT64_MAX - pg + 2;
	EXPECT_ERR(EINVAL, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	/* Root may pass shm_max_size, not the size of RAM. */
	size = 1ULL << 40;
	EXPECT_ERR(ENOMEM, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SHM_GET_SIZE, &size));
	EXPECT_EQ((__u64)KIPC_SHM_DEF_SIZE, size);

	/* Mappings: within the region, shared to write, no growth. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, KIPC_SHM_DEF_SIZE + pg, PROT_READ,
				   MAP_SHARED, self->shm, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_SHARED, self->shm,
				   KIPC_SHM_DEF_SIZE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED,
				   self->shm, KIPC_SHM_DEF_SIZE - pg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->shm, 0));
	EXPECT_EQ(EINVAL, errno);
	r = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, self->shm, 0);
	ASSERT_NE(MAP_FAILED, r);
	EXPECT_ERR(EACCES, mprotect(r, pg, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, munmap(r, pg));

	m = mmap(NULL, KIPC_SHM_DEF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->shm, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_EQ(MAP_FAILED, mremap(m, KIPC_SHM_DEF_SIZE,
				     KIPC_SHM_DEF_SIZE + pg, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	/* No resize while mapped, whatever the size. */
	size = 2 * KIPC_SHM_DEF_SIZE;
	EXPECT_ERR(EBUSY, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	size = pg;
	EXPECT_ERR(EBUSY, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	memset(m, 0x5c, KIPC_SHM_DEF_SIZE);
	ASSERT_EQ(0, munmap(m, KIPC_SHM_DEF_SIZE));

	/* Growing keeps the data and adds zeroes, never old memory. */
	size = 2 * KIPC_SHM_DEF_SIZE + 1;
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SHM_SET_SIZE, &size));
	ASSERT_EQ(0, ioctl(self->shm, KIPC_SHM_GET_SIZE, &size));
	EXPECT_EQ((__u64)want, size);
	m = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED, self->shm, 0);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < KIPC_SHM_DEF_SIZE; i++)
		if (m[i] != 0x5c)
			break;
	EXPECT_EQ((size_t)KIPC_SHM_DEF_SIZE, i);
	for (i = KIPC_SHM_DEF_SIZE; i < want; i++)
		if (m[i])
			break;
	EXPECT_EQ(want, i);
	/* Leave the region as the next test expects it: zeroed. */
	memset(m, 0, want);
	ASSERT_EQ(0, munmap(m, want));
}

/* A mapping pins the module even after its file is closed. */
TEST_F_TIMEOUT(dev, rmmod_refused_while_mapped, 120)
{
	int fd = open_dev(shm_path, O_RDWR);
	char *m;

	ASSERT_LE(0, fd);
	m = mmap(NULL, self->p.pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	close(fd);
	m[0] = 1;
	EXPECT_ERR(EWOULDBLOCK, syscall(SYS_delete_module, "kipc", O_NONBLOCK));
	EXPECT_EQ(0, access(shm_path, F_OK));
	EXPECT_EQ(1, m[0]);
	m[0] = 0;
	ASSERT_EQ(0, munmap(m, self->p.pg));
}

/* --- an unprivileged user ------------------------------------------------ */

/* In the child: report the first failure by its line number. */
#define CHILD_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "# child: line %d: %s failed: %s\n", \
				__LINE__, #cond, strerror(errno));	\
			_exit(1);					\
		}							\
	} while (0)

#define CHILD_ERR(err, call)						\
	do {								\
		errno = 0;						\
		CHILD_CHECK((call) == -1 && errno == (err));		\
	} while (0)

static void drop_privileges(void)
{
	CHILD_CHECK(setgroups(0, NULL) == 0);
	CHILD_CHECK(setgid(65534) == 0);
	CHILD_CHECK(setuid(65534) == 0);
	CHILD_CHECK(geteuid() == 65534);
}

TEST_F_TIMEOUT(dev, unprivileged_limits, 120)
{
	unsigned long pipe_max = read_param("pipe_max_size");
	unsigned long mq_max_bytes = read_param("mq_max_bytes");
	unsigned long mq_max_msg = read_param("mq_max_msg_size");
	unsigned long mq_max_msgs = read_param("mq_max_msgs");
	unsigned long shm_max = read_param("shm_max_size");
	unsigned long mode = read_param("mode");
	struct kipc_mq_stat st;
	int status;
	pid_t pid;

	ASSERT_NE(0UL, pipe_max);
	ASSERT_NE(0UL, mq_max_bytes);
	ASSERT_NE(0UL, mq_max_msg);
	ASSERT_NE(0UL, mq_max_msgs);
	ASSERT_NE(0UL, shm_max);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_mq_limits l;
		__u32 psize;
		__u64 ssize;

		drop_privileges();
		/* Nodes are root's, mode 0660 unless told otherwise. */
		if (!(mode & 0006)) {
			CHILD_ERR(EACCES, open(pipe_path, O_RDWR));
			CHILD_ERR(EACCES, open(mq_path, O_RDWR));
			CHILD_ERR(EACCES, open(shm_path, O_RDWR));
		}
		/* Files root opened still work, within the maxima. */
		psize = pipe_max + 1;
		CHILD_ERR(EPERM, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &psize));
		psize = 0x7ffff000; /* the largest size in range */
		CHILD_ERR(EPERM, ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &psize));
		psize = pipe_max;
		CHILD_CHECK(ioctl(self->pipe, KIPC_PIPE_SET_SIZE, &psize) == 0);
		CHILD_CHECK(psize >= pipe_max && psize < pipe_max + 4096);

		l = (struct kipc_mq_limits){ mq_max_bytes + 1, 1024, 10, 0 };
		CHILD_ERR(EPERM, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
		l = (struct kipc_mq_limits){ 4096, mq_max_msg + 1, 10, 0 };
		CHILD_ERR(EPERM, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
		l = (struct kipc_mq_limits){ 4096, 1024, mq_max_msgs + 1, 0 };
		CHILD_ERR(EPERM, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
		/* Still EINVAL first for what nobody may ask. */
		l = (struct kipc_mq_limits){ 0xffffffffU, 1024, 10, 0 };
		CHILD_ERR(EINVAL, ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l));
		l = (struct kipc_mq_limits){ mq_max_bytes, mq_max_msg,
					     mq_max_msgs, 0 };
		CHILD_CHECK(ioctl(self->mq, KIPC_MQ_SET_LIMITS, &l) == 0);

		ssize = shm_max + 4096;
		CHILD_ERR(EPERM, ioctl(self->shm, KIPC_SHM_SET_SIZE, &ssize));
		ssize = 1ULL << 40;
		CHILD_ERR(EPERM, ioctl(self->shm, KIPC_SHM_SET_SIZE, &ssize));
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	tried += 14;
	/* What the child could do, it did; nothing more. */
	st = mq_stat(self->mq);
	EXPECT_EQ(mq_max_bytes, st.max_bytes);
	EXPECT_EQ(mq_max_msg, st.max_msg_size);
	EXPECT_EQ(mq_max_msgs, st.max_msgs);
}

TEST_HARNESS_MAIN
