// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kipc/shmN region: sharing between processes, page offsets, bounds,
 * private mappings, lifetime of mappings, resize rules, module pinning,
 * the ioctl error paths, and what the device shows and accepts through
 * the "kipc" netlink family.  Documentation/shm.md states the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <linux/kipc.h>

/*
 * gcc inlines small TEST_F bodies into the harness wrapper, which calls
 * setjmp(), and then warns about the wrapper's own locals.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_caps.h"
#include "kipc_nl.h"

#define SHM0 KIPC_DEV_DIR "/shm0"
#define SHM1 KIPC_DEV_DIR "/shm1"
#define CHILD_ENV "KIPC_SHM_TEST_CHILD"
/* size_t, so the harness compares it with sizes without sign warnings */
#define DEF_SIZE ((size_t)KIPC_SHM_DEF_SIZE)

static size_t page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int set_size(int fd, uint64_t size)
{
	return ioctl(fd, KIPC_SHM_SET_SIZE, &size) ? -errno : 0;
}

static uint64_t get_size(int fd)
{
	uint64_t size = 0;

	if (ioctl(fd, KIPC_SHM_GET_SIZE, &size))
		return 0;
	return size;
}

/* Errno of mmap(), or 0 with the mapping unmapped again. */
static int mmap_errno(int fd, size_t len, int prot, int flags, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

static long module_refcnt(void)
{
	char buf[32] = "";
	long n = -1;
	int fd = open("/sys/module/kipc/refcnt", O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		n = strtol(buf, NULL, 10);
	close(fd);
	return n;
}

static unsigned long shm_max_size(void)
{
	char buf[32] = "";
	unsigned long n = 0;
	int fd = open("/sys/module/kipc/parameters/shm_max_size", O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		n = strtoul(buf, NULL, 10);
	close(fd);
	return n;
}

/*
 * The exec'd child of shm.exec_sees_writes: maps page 5 alone, checks the
 * parent's note and answers 128 bytes further on.  Exit codes say which
 * step failed.
 */
static int exec_child(const char *note)
{
	size_t pg = page_size();
	char *p;
	int fd;

	fd = open(SHM0, O_RDWR);
	if (fd < 0)
		return 10;
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 5 * pg);
	if (p == MAP_FAILED)
		return 11;
	close(fd);
	if (strcmp(p, note))
		return 12;
	snprintf(p + 128, 64, "child %d", getpid());
	return 0;
}

static void __attribute__((constructor)) maybe_exec_child(void)
{
	const char *note = getenv(CHILD_ENV);

	if (note)
		_exit(exec_child(note));
}

FIXTURE(shm) {
	int fd;
	size_t pg;
};

FIXTURE_SETUP(shm)
{
	self->pg = page_size();
	self->fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SHM0, strerror(errno));
	/* Every test starts from the default size; nothing maps it now. */
	ASSERT_EQ(0, set_size(self->fd, DEF_SIZE));
}

/* Leave the default size for whatever runs next. */
FIXTURE_TEARDOWN(shm)
{
	set_size(self->fd, DEF_SIZE);
	close(self->fd);
}

TEST_F(shm, get_size)
{
	uint64_t size = 0;

	ASSERT_EQ(0, ioctl(self->fd, KIPC_SHM_GET_SIZE, &size));
	ASSERT_EQ(DEF_SIZE, size);
}

/* A forked child maps the device again: two addresses, one memory. */
TEST_F(shm, fork_sees_writes)
{
	size_t len = DEF_SIZE;
	int to_child[2], to_parent[2];
	char *a;
	pid_t pid;
	int status;
	char c;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	memset(a + 3 * self->pg, 0, self->pg);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(SHM0, O_RDWR);
		char *b;

		if (fd < 0)
			_exit(1);
		b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (b == MAP_FAILED || b == a)
			_exit(2);
		/* The same byte through both of the child's mappings. */
		strcpy(b + 3 * self->pg, "from child");
		if (strcmp(a + 3 * self->pg, "from child"))
			_exit(3);
		if (write(to_parent[1], "x", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(4);
		if (strcmp(b + 3 * self->pg + 64, "from parent"))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	EXPECT_STREQ("from child", a + 3 * self->pg);
	strcpy(a + 3 * self->pg + 64, "from parent");
	ASSERT_EQ(1, write(to_child[1], "y", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, munmap(a, len));
}

/* An exec'd program, with its own open and a one-page mapping at page 5. */
TEST_F(shm, exec_sees_writes)
{
	size_t len = DEF_SIZE;
	char note[64], want[64];
	char *a;
	pid_t pid;
	int status;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	memset(a + 5 * self->pg, 0, self->pg);
	snprintf(note, sizeof(note), "parent %d", getpid());
	strcpy(a + 5 * self->pg, note);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "shm_test", NULL };

		setenv(CHILD_ENV, note, 1);
		execv("/proc/self/exe", argv);
		_exit(99);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	snprintf(want, sizeof(want), "child %d", pid);
	EXPECT_STREQ(want, a + 5 * self->pg + 128);
	ASSERT_EQ(0, munmap(a, len));
}

TEST_F(shm, page_offsets)
{
	size_t len = DEF_SIZE;
	size_t npages = len / self->pg;
	char *all, *one, *last;

	all = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, all);
	one = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 7 * self->pg);
	ASSERT_NE(MAP_FAILED, one);
	last = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, (npages - 1) * self->pg);
	ASSERT_NE(MAP_FAILED, last);

	all[7 * self->pg + 10] = 'a';
	all[8 * self->pg + 20] = 'b';
	EXPECT_EQ('a', one[10]);
	EXPECT_EQ('b', one[self->pg + 20]);
	one[self->pg - 1] = 'c';
	EXPECT_EQ('c', all[8 * self->pg - 1]);
	last[self->pg - 1] = 'z';
	EXPECT_EQ('z', all[len - 1]);

	ASSERT_EQ(0, munmap(last, self->pg));
	ASSERT_EQ(0, munmap(one, 2 * self->pg));
	ASSERT_EQ(0, munmap(all, len));
}

TEST_F(shm, bounds)
{
	size_t len = DEF_SIZE;
	int rw = PROT_READ | PROT_WRITE;

	EXPECT_EQ(0, mmap_errno(self->fd, len, rw, MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, mmap_errno(self->fd, len + self->pg, rw,
				     MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, mmap_errno(self->fd, self->pg, rw, MAP_SHARED,
				     len));
	EXPECT_EQ(EINVAL, mmap_errno(self->fd, 2 * self->pg, rw, MAP_SHARED,
				     len - self->pg));
	EXPECT_EQ(EINVAL, mmap_errno(self->fd, self->pg, rw, MAP_SHARED,
				     (off_t)1 << 40));
	EXPECT_EQ(0, mmap_errno(self->fd, self->pg, rw, MAP_SHARED,
				len - self->pg));
}

/* Only read-only private mappings, and they cannot become writable. */
TEST_F(shm, private_mappings)
{
	char *s, *p;
	int mem;

	EXPECT_EQ(EINVAL, mmap_errno(self->fd, self->pg,
				     PROT_READ | PROT_WRITE, MAP_PRIVATE, 0));

	s = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, s);
	p = mmap(NULL, self->pg, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	strcpy(s, "shared");
	EXPECT_STREQ("shared", p);
	EXPECT_EQ(-1, mprotect(p, self->pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* Not even a forced (ptrace-style) write makes a private copy. */
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-1, pwrite(mem, "X", 1, (off_t)(uintptr_t)p));
	EXPECT_EQ(EIO, errno);
	close(mem);
	EXPECT_STREQ("shared", p);
	ASSERT_EQ(0, munmap(p, self->pg));
	ASSERT_EQ(0, munmap(s, self->pg));
}

/*
 * A read-only file: no shared writable mapping (the VFS rule), and none
 * made writable later by mprotect(); no resize (EBADF, as write(2) on
 * it); the size can be read.
 */
TEST_F(shm, readonly_fd)
{
	uint64_t size = 2 * DEF_SIZE;
	int fd = open(SHM0, O_RDONLY);
	char *p;

	ASSERT_LE(0, fd);
	EXPECT_EQ(EACCES, mmap_errno(fd, self->pg, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(0, mmap_errno(fd, self->pg, PROT_READ, MAP_SHARED, 0));
	p = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, self->pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	ASSERT_EQ(0, munmap(p, self->pg));

	EXPECT_EQ(-EBADF, set_size(fd, 2 * DEF_SIZE));
	/* The open mode is checked first, before the argument is read. */
	EXPECT_EQ(-EBADF, set_size(fd, 0));
	EXPECT_EQ(-1, ioctl(fd, KIPC_SHM_SET_SIZE, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, ioctl(fd, KIPC_SHM_GET_SIZE, &size));
	EXPECT_EQ(DEF_SIZE, size);
	EXPECT_EQ(DEF_SIZE, get_size(self->fd));
	close(fd);
}

TEST_F(shm, survives_close)
{
	int fd = open(SHM0, O_RDWR);
	char *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(fd));
	strcpy(p + self->pg, "after close");
	EXPECT_STREQ("after close", p + self->pg);
	/* Still counted as mapped with no file descriptor left. */
	EXPECT_EQ(-EBUSY, set_size(self->fd, 2 * DEF_SIZE));
	ASSERT_EQ(0, munmap(p, 4 * self->pg));
	EXPECT_EQ(0, set_size(self->fd, 2 * DEF_SIZE));
	EXPECT_EQ(2 * DEF_SIZE, get_size(self->fd));
}

/* munmap() of the middle splits the vma: both halves keep it mapped. */
TEST_F(shm, split_mapping)
{
	char *p;

	p = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + self->pg, self->pg));
	ASSERT_EQ(0, munmap(p, self->pg));
	EXPECT_EQ(-EBUSY, set_size(self->fd, 2 * DEF_SIZE));
	ASSERT_EQ(0, mprotect(p + 2 * self->pg, self->pg, PROT_READ));
	ASSERT_EQ(0, munmap(p + 2 * self->pg, self->pg));
	EXPECT_EQ(-EBUSY, set_size(self->fd, 2 * DEF_SIZE));
	ASSERT_EQ(0, munmap(p + 3 * self->pg, self->pg));
	EXPECT_EQ(0, set_size(self->fd, 2 * DEF_SIZE));
}

/* mremap() may move a mapping but not grow it past what mmap() checked. */
TEST_F(shm, mremap)
{
	char *p, *q;

	p = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	strcpy(p, "moved");
	q = mremap(p, 2 * self->pg, 4 * self->pg, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	q = mremap(p, 2 * self->pg, self->pg, 0);
	ASSERT_EQ(p, q);
	EXPECT_STREQ("moved", q);
	EXPECT_EQ(-EBUSY, set_size(self->fd, 2 * DEF_SIZE));
	ASSERT_EQ(0, munmap(q, self->pg));
	EXPECT_EQ(0, set_size(self->fd, 2 * DEF_SIZE));
}

/* A forked child's copy of the mapping keeps the region mapped. */
TEST_F(shm, survives_fork)
{
	int to_child[2], to_parent[2];
	char *p;
	pid_t pid;
	int status;
	char c;

	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, self->pg);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(self->fd);
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		strcpy(p, "child was here");
		_exit(0);
	}
	ASSERT_EQ(0, munmap(p, self->pg));
	EXPECT_EQ(-EBUSY, set_size(self->fd, 2 * DEF_SIZE));
	ASSERT_EQ(1, write(to_child[1], "go", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, set_size(self->fd, 2 * DEF_SIZE));
	p = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_STREQ("child was here", p);
	ASSERT_EQ(0, munmap(p, self->pg));
}

TEST_F(shm, persists_across_opens)
{
	char note[64];
	char *p;
	int fd;

	snprintf(note, sizeof(note), "cookie %d %ld", getpid(),
		 (long)time(NULL));
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 9 * self->pg);
	ASSERT_NE(MAP_FAILED, p);
	strcpy(p, note);
	ASSERT_EQ(0, munmap(p, self->pg));
	close(self->fd);

	fd = open(SHM0, O_RDONLY);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 10 * self->pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_STREQ(note, p + 9 * self->pg);
	ASSERT_EQ(0, munmap(p, 10 * self->pg));
	self->fd = fd;
}

/* Devices do not share regions. */
TEST_F(shm, devices_distinct)
{
	int fd1 = open(SHM1, O_RDWR);
	char *a, *b;

	ASSERT_LE(0, fd1);
	a = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, 0);
	ASSERT_NE(MAP_FAILED, b);
	strcpy(a, "shm0");
	strcpy(b, "shm1");
	EXPECT_STREQ("shm0", a);
	EXPECT_STREQ("shm1", b);
	munmap(b, self->pg);
	munmap(a, self->pg);
	close(fd1);
}

/* Resize keeps the head, zeroes the new tail, rounds up to pages. */
TEST_F(shm, resize)
{
	size_t big = 2 * DEF_SIZE + self->pg;
	size_t i, zeros = 0;
	char *p;

	p = mmap(NULL, DEF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, DEF_SIZE);
	EXPECT_EQ(-EBUSY, set_size(self->fd, big));
	EXPECT_EQ(DEF_SIZE, get_size(self->fd));
	ASSERT_EQ(0, munmap(p, DEF_SIZE));

	EXPECT_EQ(0, set_size(self->fd, 2 * DEF_SIZE + 1));
	EXPECT_EQ(big, get_size(self->fd));
	p = mmap(NULL, big, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x5a, p[0]);
	EXPECT_EQ(0x5a, p[DEF_SIZE - 1]);
	for (i = DEF_SIZE; i < big; i++)
		zeros += p[i] == 0;
	EXPECT_EQ(big - DEF_SIZE, zeros);
	ASSERT_EQ(0, munmap(p, big));

	/* Shrinking keeps the first bytes; then growing gives zeroes. */
	EXPECT_EQ(0, set_size(self->fd, self->pg));
	EXPECT_EQ(self->pg, get_size(self->fd));
	EXPECT_EQ(EINVAL, mmap_errno(self->fd, 2 * self->pg, PROT_READ,
				     MAP_SHARED, 0));
	EXPECT_EQ(0, set_size(self->fd, 2 * self->pg));
	p = mmap(NULL, 2 * self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x5a, p[self->pg - 1]);
	EXPECT_EQ(0, p[self->pg]);
	ASSERT_EQ(0, munmap(p, 2 * self->pg));
}

TEST_F(shm, resize_invalid)
{
	uint64_t size;

	EXPECT_EQ(-EINVAL, set_size(self->fd, 0));
	EXPECT_EQ(-EINVAL, set_size(self->fd, UINT64_MAX));
	/* Root may pass shm_max_size, but not the machine's RAM. */
	EXPECT_EQ(-ENOMEM, set_size(self->fd, (uint64_t)1 << 50));
	size = get_size(self->fd);
	EXPECT_EQ(DEF_SIZE, size);
}

/* Above shm_max_size needs CAP_SYS_RESOURCE. */
TEST_F(shm, resize_limit)
{
	unsigned long max = shm_max_size();
	pid_t pid;
	int status;

	ASSERT_NE(0UL, max);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_sys_resource())
			_exit(2);
		if (set_size(self->fd, max + 1) != -EPERM)
			_exit(3);
		/* Validity is checked before permission. */
		if (set_size(self->fd, 0) != -EINVAL)
			_exit(4);
		if (set_size(self->fd, 4 * self->pg) != 0)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(4 * self->pg, get_size(self->fd));

	/* Root (CAP_SYS_RESOURCE) may go one page past the limit. */
	EXPECT_EQ(0, set_size(self->fd, max + 1));
	EXPECT_EQ(max + self->pg, get_size(self->fd));
	EXPECT_EQ(0, set_size(self->fd, DEF_SIZE));
}

/*
 * A mapping pins the module through its file, even with every file
 * descriptor closed: rmmod fails and the data stays readable.
 */
TEST(rmmod_refused_while_mapped)
{
	size_t pg = page_size();
	long before, during;
	char *p;
	int fd;

	before = module_refcnt();
	ASSERT_LE(0, before);
	fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(fd));
	strcpy(p, "pinned");
	/* The file holds the module (fops and cdev references). */
	during = module_refcnt();
	EXPECT_LT(before, during);

	EXPECT_EQ(-1, syscall(SYS_delete_module, "kipc", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(-1, syscall(SYS_delete_module, "kipc", 0));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_STREQ("pinned", p);
	ASSERT_EQ(0, munmap(p, pg));
	EXPECT_EQ(before, module_refcnt());
}

TEST_F(shm, enotty)
{
	uint32_t v = 0;

	EXPECT_EQ(-1, ioctl(self->fd, _IO(KIPC_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_PIPE_GET_SIZE, &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, FIONREAD, &v));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(shm, efault)
{
	void *bad = (void *)16;

	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SHM_GET_SIZE, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SHM_SET_SIZE, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_INIT, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_P, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_V, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_GET, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, KIPC_SEM_SET_POLL, bad));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(DEF_SIZE, get_size(self->fd));
}

/* No file position and no read/write: mmap() is the way in. */
TEST_F(shm, no_read_write_seek)
{
	char buf[8];

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ESPIPE, errno);
}

/* --- netlink: GET_DEV, SET_DEV and events of shm0 ------------------------ */

/* What one device message held. */
struct dev_msg {
	bool has[KIPC_A_MAX + 1];
	uint64_t v[KIPC_A_MAX + 1];
	bool has_st[KIPC_STAT_MAX + 1];
	uint64_t st[KIPC_STAT_MAX + 1];
};

static int stat_cb(const struct nlattr *a, void *data)
{
	struct dev_msg *m = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= KIPC_STAT_MAX && !mnl_attr_validate(a, MNL_TYPE_U64)) {
		m->has_st[t] = true;
		m->st[t] = mnl_attr_get_u64(a);
	}
	return MNL_CB_OK;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	struct dev_msg *m = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t > KIPC_A_MAX || t == KIPC_A_PAD)
		return MNL_CB_OK;
	m->has[t] = true;
	if (t == KIPC_A_STATS)
		mnl_attr_parse_nested(a, stat_cb, m);
	else if (mnl_attr_get_payload_len(a) == 8)
		m->v[t] = mnl_attr_get_u64(a);
	else if (mnl_attr_get_payload_len(a) == 4)
		m->v[t] = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* @data: the struct dev_msg to fill, or NULL to ignore the reply. */
static int dev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dev_msg *m = data;

	if (m) {
		memset(m, 0, sizeof(*m));
		mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, m);
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *shm0_req(struct kipc_nl *nl, uint8_t cmd)
{
	struct nlmsghdr *nlh = kipc_nl_req(nl, nl->family, cmd, NLM_F_ACK);

	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_SHM);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
	return nlh;
}

static int get_shm0(struct kipc_nl *nl, struct dev_msg *m)
{
	return kipc_nl_rpc(nl, shm0_req(nl, KIPC_CMD_GET_DEV), dev_cb, m);
}

/* SET_DEV of shm0: capacity (0: none), flush, reset_stats. */
static int set_shm0(struct kipc_nl *nl, uint64_t capacity, bool flush,
		    bool reset, struct dev_msg *reply)
{
	struct nlmsghdr *nlh = shm0_req(nl, KIPC_CMD_SET_DEV);

	if (capacity)
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, capacity);
	if (flush)
		mnl_attr_put(nlh, KIPC_A_FLUSH, 0, NULL);
	if (reset)
		mnl_attr_put(nlh, KIPC_A_RESET_STATS, 0, NULL);
	return kipc_nl_rpc(nl, nlh, dev_cb, reply);
}

/* The next kipc event for shm0 (others skipped): event and fill, or -1. */
static int next_event(struct kipc_nl *ev, uint64_t *fill)
{
	for (;;) {
		struct dev_msg m = {};
		ssize_t n = mnl_socket_recvfrom(ev->sock, ev->buf,
						ev->buf_size);

		if (n < 0 || mnl_cb_run(ev->buf, n, 0, 0, dev_cb, &m) < 0)
			return -1;
		if (m.v[KIPC_A_KIND] != KIPC_KIND_SHM || m.v[KIPC_A_INDEX])
			continue;
		*fill = m.v[KIPC_A_FILL];
		return m.v[KIPC_A_EVENT];
	}
}

FIXTURE(nl) {
	int fd;
	size_t pg;
	struct kipc_nl *nl;
	struct dev_msg m;
};

FIXTURE_SETUP(nl)
{
	self->pg = page_size();
	self->fd = open(SHM0, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, set_size(self->fd, DEF_SIZE));
	self->nl = kipc_nl_open(false);
	ASSERT_NE(NULL, self->nl) TH_LOG("no kipc netlink family");
	ASSERT_EQ(0, set_shm0(self->nl, 0, false, true, NULL));
}

FIXTURE_TEARDOWN(nl)
{
	if (self->nl)
		kipc_nl_close(self->nl);
	set_size(self->fd, DEF_SIZE);
	close(self->fd);
}

static int sem(int fd, unsigned long cmd, uint32_t index, uint32_t flags,
	       uint32_t value, int64_t timeout_ns)
{
	struct kipc_sem_op op = {
		.index = index, .flags = flags, .value = value,
		.timeout_ns = timeout_ns,
	};

	return ioctl(fd, cmd, &op) ? -errno : 0;
}

/* FILL counts live mappings (vmas), MAPS counts mmap() calls. */
TEST_F(nl, fill_counts_mappings)
{
	char *a, *b;

	ASSERT_EQ(0, get_shm0(self->nl, &self->m));
	EXPECT_EQ(DEF_SIZE, self->m.v[KIPC_A_CAPACITY]);
	EXPECT_TRUE(self->m.has[KIPC_A_FILL]);
	EXPECT_EQ(0UL, self->m.v[KIPC_A_FILL]);
	EXPECT_TRUE(self->m.has[KIPC_A_WRITERS_WAITING]);
	EXPECT_EQ(0UL, self->m.v[KIPC_A_WRITERS_WAITING]);
	EXPECT_TRUE(self->m.has_st[KIPC_STAT_MAPS]);
	EXPECT_EQ(0UL, self->m.st[KIPC_STAT_MAPS]);

	a = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	/* A hole splits the first: three vmas from two mmap() calls. */
	ASSERT_EQ(0, munmap(a + self->pg, self->pg));
	ASSERT_EQ(0, get_shm0(self->nl, &self->m));
	EXPECT_EQ(3UL, self->m.v[KIPC_A_FILL]);
	EXPECT_EQ(2UL, self->m.st[KIPC_STAT_MAPS]);
	ASSERT_EQ(0, munmap(a, 4 * self->pg));
	ASSERT_EQ(0, munmap(b, self->pg));
	ASSERT_EQ(0, get_shm0(self->nl, &self->m));
	EXPECT_EQ(0UL, self->m.v[KIPC_A_FILL]);
	EXPECT_EQ(2UL, self->m.st[KIPC_STAT_MAPS]);
}

/* The semaphore counters after a known workload. */
TEST_F(nl, sem_counters)
{
	int report[2];
	pid_t pid;
	char c;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, sem(self->fd, KIPC_SEM_INIT, i, 0, 0, 0));
	ASSERT_EQ(0, sem(self->fd, KIPC_SEM_INIT, 0, 0, 2, 0));
	ASSERT_EQ(0, sem(self->fd, KIPC_SEM_P, 0, KIPC_SEM_NOWAIT, 0, 0));
	ASSERT_EQ(0, sem(self->fd, KIPC_SEM_P, 0, 0, 0, 0));
	ASSERT_EQ(-EAGAIN, sem(self->fd, KIPC_SEM_P, 0, KIPC_SEM_NOWAIT, 0,
			       0));
	ASSERT_EQ(0, sem(self->fd, KIPC_SEM_V, 0, 0, 3, 0));
	ASSERT_EQ(-ERANGE, sem(self->fd, KIPC_SEM_V, 0, 0,
			       KIPC_SEM_VALUE_MAX, 0));
	ASSERT_EQ(-ETIMEDOUT, sem(self->fd, KIPC_SEM_P, 1, 0, 0, 1000000));

	ASSERT_EQ(0, pipe(report));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (sem(self->fd, KIPC_SEM_P, 2, 0, 0, 0))
			_exit(1);
		_exit(write(report[1], "p", 1) == 1 ? 0 : 2);
	}
	for (i = 0; i < 20000; i++) {
		ASSERT_EQ(0, get_shm0(self->nl, &self->m));
		if (self->m.v[KIPC_A_READERS_WAITING] == 1)
			break;
		usleep(1000);
	}
	EXPECT_EQ(1UL, self->m.v[KIPC_A_READERS_WAITING]);
	ASSERT_EQ(0, sem(self->fd, KIPC_SEM_V, 2, 0, 1, 0));
	ASSERT_EQ(1, read(report[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));

	ASSERT_EQ(0, get_shm0(self->nl, &self->m));
	EXPECT_EQ(0UL, self->m.v[KIPC_A_READERS_WAITING]);
	EXPECT_EQ(3UL, self->m.st[KIPC_STAT_SEM_P]);
	EXPECT_EQ(2UL, self->m.st[KIPC_STAT_SEM_V]);
	EXPECT_EQ(2UL, self->m.st[KIPC_STAT_SEM_WAITS]);
	EXPECT_EQ(1UL, self->m.st[KIPC_STAT_SEM_TIMEOUTS]);

	ASSERT_EQ(0, set_shm0(self->nl, 0, false, true, &self->m));
	EXPECT_EQ(0UL, self->m.st[KIPC_STAT_SEM_P]);
	EXPECT_EQ(0UL, self->m.st[KIPC_STAT_SEM_V]);
	EXPECT_EQ(0UL, self->m.st[KIPC_STAT_SEM_WAITS]);
	EXPECT_EQ(0UL, self->m.st[KIPC_STAT_SEM_TIMEOUTS]);
}

TEST_F(nl, set_capacity_and_flush)
{
	char *p;

	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 0);
	ASSERT_NE(MAP_FAILED, p);
	strcpy(p, "keep me");
	EXPECT_EQ(-EBUSY, set_shm0(self->nl, 2 * DEF_SIZE, false, false,
				   NULL));
	EXPECT_STREQ("shm region is mapped", self->nl->msg);
	EXPECT_EQ(-EBUSY, set_shm0(self->nl, 0, true, false, NULL));
	EXPECT_STREQ("shm region is mapped", self->nl->msg);
	EXPECT_STREQ("keep me", p);
	ASSERT_EQ(0, munmap(p, self->pg));

	/* Both in one request: resized (rounded up) and zeroed. */
	ASSERT_EQ(0, set_shm0(self->nl, 2 * DEF_SIZE + 1, true, false,
			      &self->m));
	EXPECT_EQ(2 * DEF_SIZE + self->pg, self->m.v[KIPC_A_CAPACITY]);
	EXPECT_EQ(2 * DEF_SIZE + self->pg, get_size(self->fd));
	p = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, p[0]);
	ASSERT_EQ(0, munmap(p, self->pg));
}

TEST_F(nl, set_refusals)
{
	struct nlmsghdr *nlh;
	pid_t pid;
	int status;

	nlh = shm0_req(self->nl, KIPC_CMD_SET_DEV);
	mnl_attr_put_u64(nlh, KIPC_A_HIGH_WATER, 1);
	EXPECT_EQ(-EINVAL, kipc_nl_rpc(self->nl, nlh, NULL, NULL));
	EXPECT_STREQ("not settable on shm devices", self->nl->msg);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_sys_resource())
			_exit(1);
		if (set_shm0(self->nl, shm_max_size() + 1, false, false,
			     NULL) != -EPERM)
			_exit(2);
		if (strcmp(self->nl->msg,
			   "above shm_max_size: needs CAP_SYS_RESOURCE"))
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(DEF_SIZE, get_size(self->fd));
}

/* RESIZED carries the new size, FLUSHED 0 (no mapping can exist). */
TEST_F(nl, events)
{
	struct kipc_nl *ev = kipc_nl_open(true);
	uint64_t fill = 1;

	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, set_size(self->fd, 3 * self->pg));
	EXPECT_EQ(KIPC_EVENT_RESIZED, next_event(ev, &fill));
	EXPECT_EQ(3 * self->pg, fill);
	ASSERT_EQ(0, set_shm0(self->nl, 0, true, false, NULL));
	EXPECT_EQ(KIPC_EVENT_FLUSHED, next_event(ev, &fill));
	EXPECT_EQ(0UL, fill);
	kipc_nl_close(ev);
}

TEST_HARNESS_MAIN
