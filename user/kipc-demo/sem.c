// SPDX-License-Identifier: GPL-2.0
/*
 * Section 4, semaphore: two processes incrementing a shared counter lose
 * updates without one; with a POSIX, SysV or kipc semaphore none is lost.
 * Then the notes' producer/consumer over shared memory, with each kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>

#include <linux/kipc.h>

#include "demo.h"

#define NINCR	300	/* increments per process */
#define NITEMS	200	/* producer/consumer items */
#define NSLOTS	4	/* ring slots */

/* Semaphore numbers: a mutex, and the ring's free and filled slots. */
enum { SEM_MUTEX, SEM_EMPTY, SEM_FULL, NSEMS };

enum sem_kind { K_NONE, K_POSIX, K_SYSV, K_KIPC };

/* Lives in shared memory: an anonymous mapping, or kipc shm0's pages. */
struct shared {
	sem_t psem[NSEMS];	/* POSIX only */
	volatile long counter;
	volatile long ring[NSLOTS];
};

struct semset {
	enum sem_kind kind;
	const char *label;
	struct shared *sh;
	size_t maplen;
	int sysv_id;
	int kfd;
	int cpu;		/* both workers run here, -1: anywhere */
	struct gate start;	/* both workers go at once */
};

static int sem_p(struct semset *s, unsigned int i)
{
	struct sembuf op = { (unsigned short)i, -1, 0 };
	struct kipc_sem_op kop = { .index = i, .value = 1 };
	int ret;

	switch (s->kind) {
	case K_NONE:
		return 0;
	case K_POSIX:
		do {
			ret = sem_wait(&s->sh->psem[i]);
		} while (ret < 0 && errno == EINTR);
		return ret;
	case K_SYSV:
		return semop(s->sysv_id, &op, 1);
	case K_KIPC:
		return ioctl(s->kfd, KIPC_SEM_P, &kop);
	}
	return -1;
}

static int sem_v(struct semset *s, unsigned int i)
{
	struct sembuf op = { (unsigned short)i, 1, 0 };
	struct kipc_sem_op kop = { .index = i, .value = 1 };

	switch (s->kind) {
	case K_NONE:
		return 0;
	case K_POSIX:
		return sem_post(&s->sh->psem[i]);
	case K_SYSV:
		return semop(s->sysv_id, &op, 1);
	case K_KIPC:
		return ioctl(s->kfd, KIPC_SEM_V, &kop);
	}
	return -1;
}

static int sem_set(struct semset *s, unsigned int i, unsigned int value)
{
	struct kipc_sem_op kop = { .index = i, .value = value };

	switch (s->kind) {
	case K_NONE:
		return 0;
	case K_POSIX:
		return sem_init(&s->sh->psem[i], 1, value);
	case K_SYSV:
		return semctl(s->sysv_id, i, SETVAL, (int)value);
	case K_KIPC:
		return ioctl(s->kfd, KIPC_SEM_INIT, &kop);
	}
	return -1;
}

/* Shared memory and semaphores of one kind; false (reported) on failure. */
static bool setup(struct semset *s, enum sem_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->sysv_id = -1;
	s->kfd = -1;
	s->sh = MAP_FAILED;
	s->maplen = sysconf(_SC_PAGESIZE);
	switch (kind) {
	case K_NONE:
		s->label = "no semaphore";
		break;
	case K_POSIX:
		s->label = "POSIX sem_t";
		break;
	case K_SYSV:
		s->label = "SysV semop";
		s->sysv_id = semget(IPC_PRIVATE, NSEMS, IPC_CREAT | 0600);
		if (s->sysv_id < 0) {
			fail_errno("semget");
			return false;
		}
		track_sem(s->sysv_id);
		break;
	case K_KIPC:
		s->label = "kipc shm0";
		s->kfd = kipc_open("shm0", O_RDWR);
		if (s->kfd < 0)
			return false;
		s->sh = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
			     s->kfd, 0);
		if (s->sh == MAP_FAILED) {
			fail_errno("mmap /dev/kipc/shm0");
			close_fd(&s->kfd);
			return false;
		}
		break;
	}
	if (s->sh == MAP_FAILED) {
		s->sh = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (s->sh == MAP_FAILED) {
			fail_errno("mmap");
			return false;
		}
	}
	memset((void *)s->sh, 0, sizeof(*s->sh));
	return true;
}

static void teardown(struct semset *s)
{
	unsigned int i;

	if (s->kind == K_POSIX && s->sh != MAP_FAILED)
		for (i = 0; i < NSEMS; i++)
			sem_destroy(&s->sh->psem[i]);
	if (s->sh != MAP_FAILED)
		munmap(s->sh, s->maplen);
	s->sh = MAP_FAILED;
	close_fd(&s->kfd);
	/* A SysV set is removed by cleanup_ipc(). */
}

static bool init_sems(struct semset *s, unsigned int mutex, unsigned int empty,
		      unsigned int full)
{
	if (sem_set(s, SEM_MUTEX, mutex) < 0 || sem_set(s, SEM_EMPTY, empty) < 0 ||
	    sem_set(s, SEM_FULL, full) < 0) {
		fail_errno(s->label);
		return false;
	}
	return true;
}

/* --- lost updates -------------------------------------------------------- */

static int incrementer(void *arg)
{
	const struct timespec pause = { 0, 20000 };
	struct semset *s = arg;
	unsigned int i;
	long v;

	pin_to_cpu(s->cpu);
	/* Start together: a worker alone on the CPU loses nothing. */
	if (gate_wait(&s->start) < 0)
		return 3;
	for (i = 0; i < NINCR; i++) {
		if (sem_p(s, SEM_MUTEX) < 0)
			return 1;
		/*
		 * Load, let the other run, store: a classic lost update.  A
		 * short sleep, not sched_yield(): CFS (6.1) lets a task that
		 * yields keep the CPU while the other is far ahead in
		 * vruntime, so a yield may switch to nobody.
		 */
		v = s->sh->counter;
		nanosleep(&pause, NULL);
		s->sh->counter = v + 1;
		if (sem_v(s, SEM_MUTEX) < 0)
			return 2;
	}
	return 0;
}

/* Returns the final count, or -1 (reported). */
static long count_with(struct semset *s)
{
	pid_t pid[2];
	bool good;

	s->sh->counter = 0;
	if (!init_sems(s, 1, 0, 0) || gate_init(&s->start) < 0)
		return -1;
	pid[0] = spawn(incrementer, s);
	pid[1] = spawn(incrementer, s);
	gate_post(&s->start);
	gate_post(&s->start);
	good = wait_ok(pid[0], s->label);
	good &= wait_ok(pid[1], s->label);
	gate_close(&s->start);
	return good ? s->sh->counter : -1;
}

static void lost_updates(void)
{
	static const enum sem_kind kinds[] = { K_NONE, K_POSIX, K_SYSV, K_KIPC };
	const long want = 2 * NINCR;
	struct semset s;
	unsigned int i, round;
	int cpu = first_cpu();
	long n;

	out_part("what goes wrong without one: lost updates");
	out_say("Two processes each add 1 to a counter in shared memory %d times:", NINCR);
	out_say("load it, sleep 20 us, store it plus 1. Both run on CPU %d; while one", cpu);
	out_say("sleeps the other loads the same value: one of the two stores is lost.");
	out_say("A semaphore with initial value 1 around the three steps prevents it.");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!setup(&s, kinds[i])) {
			teardown(&s);
			continue;
		}
		s.cpu = cpu;
		n = count_with(&s);
		/* The race is real, so it may take a second try to show. */
		for (round = 1; kinds[i] == K_NONE && n == want && round < 3; round++)
			n = count_with(&s);
		if (n < 0)
			;	/* reported */
		else if (kinds[i] == K_NONE)
			check(n < want, "%-12s %5ld / %ld counted, %ld lost: the expected race",
			      s.label, n, want, want - n);
		else
			check(n == want, "%-12s %5ld / %ld counted, %ld lost", s.label, n,
			      want, want - n);
		teardown(&s);
	}
}

/* --- producer / consumer ------------------------------------------------- */

static int producer(void *arg)
{
	struct semset *s = arg;
	unsigned int i;

	for (i = 1; i <= NITEMS; i++) {
		/* Wait for a free slot, take the lock, write, give both back. */
		if (sem_p(s, SEM_EMPTY) < 0 || sem_p(s, SEM_MUTEX) < 0)
			return 1;
		s->sh->ring[i % NSLOTS] = i * 7;
		if (sem_v(s, SEM_MUTEX) < 0 || sem_v(s, SEM_FULL) < 0)
			return 2;
	}
	return 0;
}

static int consumer(void *arg)
{
	struct semset *s = arg;
	unsigned int i, bad = 0;
	long sum = 0, v;

	for (i = 1; i <= NITEMS; i++) {
		if (sem_p(s, SEM_FULL) < 0 || sem_p(s, SEM_MUTEX) < 0) {
			fail_errno("consumer: P");
			return 1;
		}
		v = s->sh->ring[i % NSLOTS];
		if (sem_v(s, SEM_MUTEX) < 0 || sem_v(s, SEM_EMPTY) < 0) {
			fail_errno("consumer: V");
			return 1;
		}
		bad += v != (long)i * 7;
		sum += v;
	}
	check(!bad && sum == 7L * NITEMS * (NITEMS + 1) / 2,
	      "%s: consumer got all %d items in order (sum %ld), %u wrong",
	      s->label, NITEMS, sum, bad);
	return demo_failures != 0;
}

static void producer_consumer(void)
{
	static const enum sem_kind kinds[] = { K_POSIX, K_SYSV, K_KIPC };
	struct semset s;
	unsigned int i;
	pid_t prod, cons;
	int rfd;

	out_part("producer and consumer over shared memory");
	out_say("The notes' pattern: take the semaphore, use the shared memory, give it");
	out_say("back. A ring of %d slots; \"empty\" counts free slots (starts at %d),", NSLOTS,
		NSLOTS);
	out_say("\"full\" filled ones (0), \"mutex\" guards the ring (1). %d items pass.", NITEMS);
	out_say("P waits while the count is 0, then takes one; V gives one back.");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!setup(&s, kinds[i])) {
			teardown(&s);
			continue;
		}
		if (init_sems(&s, 1, NSLOTS, 0)) {
			cons = spawn_report(consumer, &s, &rfd);
			prod = spawn(producer, &s);
			if (!wait_ok(prod, "producer"))
				kill(cons, SIGKILL);
			report_wait(cons, &rfd, "consumer");
		}
		teardown(&s);
	}
}

void demo_sem(void)
{
	out_say("A semaphore is a counter in the kernel for mutual exclusion and ordering;");
	out_say("it carries no data. P (down) takes one, V (up) gives one back.");
	lost_updates();
	producer_consumer();
}
