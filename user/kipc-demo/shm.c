// SPDX-License-Identifier: GPL-2.0
/*
 * Section 3, shared memory: SysV shm, POSIX shm and /dev/kipc/shm0 each
 * mapped by two processes at different virtual addresses onto the same
 * physical page; what one stores the other loads, no copy in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include <linux/kipc.h>

#include "demo.h"

enum shm_kind { S_SYSV, S_POSIX, S_KIPC };

struct region {
	enum shm_kind kind;
	const char *label;
	int id;			/* SysV */
	const char *name;	/* POSIX */
	size_t size;
	struct gate child_done;
	struct gate parent_done;
};

/* What the two processes write into the shared page. */
struct page {
	uint64_t child_addr;
	uint64_t child_pfn;
	int32_t child_pid;
	char from_child[64];
	char from_parent[64];
};

/* The page frame behind addr, 0 when hidden (no CAP_SYS_ADMIN). */
static uint64_t pfn_of(const void *addr)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &entry, sizeof(entry),
		  (uintptr_t)addr / psize * sizeof(entry)) != sizeof(entry))
		entry = 0;
	close(fd);
	/* Bit 63: present; bits 0-54: the frame number. */
	if (!(entry >> 63))
		return 0;
	return entry & ((1ull << 55) - 1);
}

/* Maps the region in this process; MAP_FAILED (reported) on failure. */
static void *map(struct region *r)
{
	void *p = MAP_FAILED;
	int fd = -1;

	switch (r->kind) {
	case S_SYSV:
		p = shmat(r->id, NULL, 0);
		if (p == (void *)-1) {
			fail_errno("shmat");
			p = MAP_FAILED;
		}
		return p;
	case S_POSIX:
		fd = shm_open(r->name, O_RDWR | O_CLOEXEC, 0);
		break;
	case S_KIPC:
		fd = open(kipc_path("shm0"), O_RDWR | O_CLOEXEC);
		break;
	}
	if (fd < 0) {
		fail_errno(r->kind == S_POSIX ? "shm_open" : kipc_path("shm0"));
		return MAP_FAILED;
	}
	p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fail_errno("mmap");
	/* The mapping keeps the object; the descriptor is not needed. */
	close(fd);
	return p;
}

static void unmap(struct region *r, void *p)
{
	if (p == MAP_FAILED)
		return;
	if (r->kind == S_SYSV)
		shmdt(p);
	else
		munmap(p, r->size);
}

static int child(void *arg)
{
	struct region *r = arg;
	struct page *pg;
	void *spacer, *p;
	char want[64];

	/*
	 * After fork() both processes would pick the same free address; a
	 * spacer of the same size takes it, so this mapping lands elsewhere,
	 * as it would in an unrelated process.
	 */
	spacer = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = map(r);
	if (p == MAP_FAILED)
		return 1;
	pg = p;
	pg->child_addr = (uintptr_t)p;
	pg->child_pid = getpid();
	snprintf(pg->from_child, sizeof(pg->from_child), "stored by pid %d",
		 (int)getpid());
	pg->child_pfn = pfn_of(p);
	gate_post(&r->child_done);
	if (gate_wait(&r->parent_done) < 0)
		return 2;
	snprintf(want, sizeof(want), "stored by pid %d", (int)getppid());
	check(!strcmp(pg->from_parent, want),
	      "%s: child loads \"%s\" at %p: the parent's store",
	      r->label, pg->from_parent, p);
	unmap(r, p);
	if (spacer != MAP_FAILED)
		munmap(spacer, r->size);
	return demo_failures != 0;
}

static void share(struct region *r)
{
	struct page *pg;
	uint64_t pfn;
	char want[64];
	void *p;
	pid_t pid;
	int rfd;

	if (gate_init(&r->child_done) < 0 || gate_init(&r->parent_done) < 0)
		goto out_gates;
	/* Fork first: each process maps the object itself, none inherits. */
	pid = spawn_report(child, r, &rfd);
	if (pid < 0)
		goto out_gates;
	p = map(r);
	if (p == MAP_FAILED) {
		kill_child(pid);
		report_collect(&rfd);
		goto out_gates;
	}
	pg = p;
	if (gate_wait_from(&r->child_done, pid) < 0) {
		report_wait(pid, &rfd, r->label);
		goto out;
	}
	snprintf(want, sizeof(want), "stored by pid %d", (int)pid);
	/* A first load faults the page in: only then has it a frame here. */
	pfn = pg->child_pid == pid ? pfn_of(p) : 0;
	out_say("%s: parent %d maps it at %p, child %d at %#llx", r->label,
		(int)getpid(), p, (int)pid, (unsigned long long)pg->child_addr);
	check(pg->child_addr && pg->child_addr != (uintptr_t)p,
	      "%s: two different virtual addresses", r->label);
	check(!strcmp(pg->from_child, want),
	      "%s: parent loads \"%s\" at %p: the child's store, no read() call",
	      r->label, pg->from_child, p);
	if (pfn && pg->child_pfn)
		check(pfn == pg->child_pfn,
		      "%s: both map page frame %#llx (/proc/PID/pagemap): the same memory",
		      r->label, (unsigned long long)pfn);
	else
		out_note("%s: page frame numbers hidden (reading them needs CAP_SYS_ADMIN)",
			 r->label);
	snprintf(pg->from_parent, sizeof(pg->from_parent), "stored by pid %d",
		 (int)getpid());
	gate_post(&r->parent_done);
	report_wait(pid, &rfd, r->label);
out:
	unmap(r, p);
out_gates:
	gate_close(&r->child_done);
	gate_close(&r->parent_done);
}

void demo_shm(void)
{
	long psize = sysconf(_SC_PAGESIZE);
	struct region r;
	uint64_t size;
	int fd;

	out_say("Each process maps the object into its own address space, at an address of");
	out_say("its choosing; both mappings reach the same physical page. Loads and stores");
	out_say("are plain memory accesses: nothing is copied through the kernel.");

	out_part("SysV shared memory: shmget() + shmat()");
	memset(&r, 0, sizeof(r));
	r.kind = S_SYSV;
	r.label = "SysV shm";
	r.size = psize;
	r.id = shmget(IPC_PRIVATE, psize, IPC_CREAT | 0600);
	if (r.id < 0) {
		fail_errno("shmget");
	} else {
		track_shm(r.id);
		share(&r);
	}

	out_part("POSIX shared memory: shm_open() + ftruncate() + mmap()");
	memset(&r, 0, sizeof(r));
	r.kind = S_POSIX;
	r.label = "POSIX shm";
	r.size = psize;
	r.name = ipc_name("shm");
	fd = shm_open(r.name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail_errno("shm_open");
	} else {
		track_shm_name(r.name);
		if (ftruncate(fd, psize) < 0)
			fail_errno("ftruncate");
		else
			share(&r);
		close(fd);
	}

	out_part("/dev/kipc/shm0: open() + mmap()");
	memset(&r, 0, sizeof(r));
	r.kind = S_KIPC;
	r.label = "kipc shm0";
	r.size = psize;
	fd = kipc_open("shm0", O_RDWR);
	if (fd < 0)
		return;
	if (ioctl(fd, KIPC_SHM_GET_SIZE, &size) < 0)
		fail_errno("KIPC_SHM_GET_SIZE");
	else
		out_say("kipc shm0: KIPC_SHM_GET_SIZE = %llu bytes; both map its first page",
			(unsigned long long)size);
	close(fd);
	share(&r);
}
