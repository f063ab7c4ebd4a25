// SPDX-License-Identifier: GPL-2.0
/*
 * Kill: processes blocked in pipe read and write, mq send and receive,
 * and semaphore P are killed with SIGKILL at random moments while the
 * others go on.  Nothing may be lost, duplicated or left counted:
 *
 * - pipe and mq: every record a writer started carries (incarnation,
 *   sequence).  Readers receive straight into shared memory, so what the
 *   kernel delivered is known even when the reader dies right after.
 *   Each writer incarnation's records must arrive as one unbroken prefix
 *   0..m-1, no record twice, where m lies between the sends that
 *   returned and the sends that were started; at the end the device is
 *   empty and its counters say so.
 * - semaphores: children take a unit with SEM_UNDO and hold it; killing
 *   a holder gives its unit back.  After every round, units given ==
 *   value + units held, and the waiters the kernel counts are exactly the
 *   children still blocked.
 *
 * A task that cannot be killed hangs waitpid(), the hung-task detector
 * (30 s in the guest) and the test's timeout.  KIPC_KILL_SECONDS (default
 * 3) is the time per device kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define NWRITERS	4
#define NREADERS	4
#define MAXINC		8192
#define NSLOTS		(1 << 18)
#define SLOT		128
#define RANGE		512	/* slots per reader incarnation */
/* Kept free for the parent's final drain: more than either device holds. */
#define DRAIN_ROOM	RANGE
#define PIPE_REC	64
#define REC_MAGIC	0x6b696c6cU	/* "kill" */

static const char *const pipe_path = KIPC_DEV_DIR "/pipe1";
static const char *const mq_path = KIPC_DEV_DIR "/mq1";
static const char *const shm_path = KIPC_DEV_DIR "/shm1";

struct rec {
	__u32 magic;
	__u32 inc;		/* writer incarnation */
	__u32 seq;
	__u32 len;		/* payload after the head */
	__u32 csum;
	__u32 pad;
};

/* Shared by the parent and every child. */
struct shared {
	atomic_uint attempt[MAXINC];	/* sends started */
	atomic_uint done[MAXINC];	/* sends that returned */
	char slot[NSLOTS][SLOT];
};

enum kind { PIPE, MQ };

static double kill_seconds(void)
{
	const char *s = getenv("KIPC_KILL_SECONDS");
	double v = s ? atof(s) : 3;

	return v > 0 ? v : 3;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static __u32 fnv(const unsigned char *p, size_t n)
{
	__u32 h = 2166136261U;

	while (n--)
		h = (h ^ *p++) * 16777619U;
	return h;
}

static void rec_make(void *buf, size_t len, __u32 inc, __u32 seq)
{
	struct rec *r = buf;
	unsigned char *d = (unsigned char *)(r + 1);
	size_t i;

	r->magic = REC_MAGIC;
	r->inc = inc;
	r->seq = seq;
	r->len = len - sizeof(*r);
	r->pad = 0;
	for (i = 0; i < r->len; i++)
		d[i] = (inc * 31 + seq * 7 + i) & 0xff;
	r->csum = fnv(d, r->len);
}

/* 1: a sound record; 0: an empty slot; -1: garbage. */
static int rec_valid(const void *buf, size_t max)
{
	const struct rec *r = buf;

	if (!r->magic)
		return 0;
	if (r->magic != REC_MAGIC || r->inc >= MAXINC ||
	    r->len > max - sizeof(*r) ||
	    fnv((const unsigned char *)(r + 1), r->len) != r->csum)
		return -1;
	return 1;
}

/* Blocked in a system call right now (racy, for the figures only). */
static bool blocked(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

/* --- children ------------------------------------------------------------ */

static int open_dev(enum kind kind, int flags)
{
	return open(kind == PIPE ? pipe_path : mq_path, flags | O_CLOEXEC);
}

static void __attribute__((noreturn))
writer(struct shared *sh, enum kind kind, __u32 inc)
{
	char buf[SLOT];
	__u32 seq = 0, x = inc * 2654435761U + 1;
	size_t len;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	fd = open_dev(kind, O_WRONLY);
	if (fd < 0)
		_exit(10);
	for (;;) {
		if (kind == PIPE) {
			len = PIPE_REC;
		} else {
			x = x * 1103515245U + 12345U;
			len = sizeof(struct rec) + (x >> 16) % (SLOT - 24 + 1);
		}
		rec_make(buf, len, inc, seq);
		atomic_store(&sh->attempt[inc], seq + 1);
		if (kind == PIPE) {
			if (write(fd, buf, len) != (ssize_t)len)
				_exit(11);
		} else {
			struct kipc_mq_msg m = { .type = 1 + seq % 3,
				.buf = (uintptr_t)buf, .len = len };

			if (ioctl(fd, KIPC_MQ_SEND, &m))
				_exit(12);
		}
		atomic_store(&sh->done[inc], ++seq);
	}
}

static void __attribute__((noreturn))
reader(struct shared *sh, enum kind kind, unsigned int base)
{
	unsigned int i;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Faulted in now: a copy into them cannot fail once a kill is due. */
	memset(sh->slot[base], 0, RANGE * SLOT);
	fd = open_dev(kind, O_RDONLY);
	if (fd < 0)
		_exit(20);
	for (i = base; i < base + RANGE; i++) {
		if (kind == PIPE) {
			if (read(fd, sh->slot[i], PIPE_REC) != PIPE_REC)
				_exit(21);
		} else {
			struct kipc_mq_msg m = { .type = 0,
				.buf = (uintptr_t)sh->slot[i], .len = SLOT };

			if (ioctl(fd, KIPC_MQ_RECV, &m) < 0)
				_exit(22);
		}
	}
	_exit(0);
}

/* --- the parent ---------------------------------------------------------- */

struct child {
	pid_t pid;
	bool is_writer;
};

struct run {
	struct shared *sh;
	enum kind kind;
	struct child kids[NWRITERS + NREADERS];
	unsigned int next_inc, next_base;
	unsigned int kills, kills_blocked, respawns;
	bool out_of_room;
};

static pid_t spawn(struct run *r, bool is_writer)
{
	pid_t pid;

	if (is_writer && r->next_inc >= MAXINC)
		return -1;
	if (!is_writer && r->next_base + RANGE + DRAIN_ROOM > NSLOTS)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (is_writer)
			writer(r->sh, r->kind, r->next_inc);
		reader(r->sh, r->kind, r->next_base);
	}
	if (pid > 0) {
		if (is_writer)
			r->next_inc++;
		else
			r->next_base += RANGE;
	}
	return pid;
}

static void respawn(struct __test_metadata *_metadata, struct run *r, int i)
{
	r->kids[i].pid = spawn(r, r->kids[i].is_writer);
	if (r->kids[i].pid < 0)
		r->out_of_room = true;
	r->respawns++;
}

static void kill_all(struct run *r)
{
	unsigned int i;

	for (i = 0; i < NWRITERS + NREADERS; i++) {
		if (r->kids[i].pid <= 0)
			continue;
		kill(r->kids[i].pid, SIGKILL);
		waitpid(r->kids[i].pid, NULL, 0);
		r->kids[i].pid = 0;
	}
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;

	if (x->inc != y->inc)
		return x->inc < y->inc ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Receive whatever is left through the parent's file. */
static unsigned int drain(struct __test_metadata *_metadata, struct run *r,
			  int fd, unsigned int base)
{
	unsigned int i = base;
	int n;

	while (i < NSLOTS) {
		if (r->kind == PIPE) {
			n = read(fd, r->sh->slot[i], PIPE_REC);
			if (n < 0 && errno == EAGAIN)
				break;
			EXPECT_EQ(PIPE_REC, n);
		} else {
			struct kipc_mq_msg m = { .type = 0,
				.buf = (uintptr_t)r->sh->slot[i], .len = SLOT,
				.flags = KIPC_MQ_NOWAIT };

			n = ioctl(fd, KIPC_MQ_RECV, &m);
			if (n < 0 && errno == ENOMSG)
				break;
			EXPECT_LE(0, n);
		}
		if (n <= 0)
			break;
		i++;
	}
	return i - base;
}

/*
 * Every incarnation's records: 0..m-1, each once, done <= m <= attempt.
 * Returns the records seen.
 */
static unsigned long verify(struct __test_metadata *_metadata, struct run *r,
			    unsigned int nslots)
{
	struct rec **all = calloc(nslots, sizeof(*all));
	unsigned long n = 0, i, j;
	unsigned int inc, m, bad = 0;

	ASSERT_NE(NULL, all);
	for (i = 0; i < nslots; i++) {
		int v = rec_valid(r->sh->slot[i], SLOT);

		if (v < 0 && bad++ < 5)
			TH_LOG("slot %lu: garbage", i);
		if (v > 0)
			all[n++] = (struct rec *)r->sh->slot[i];
	}
	EXPECT_EQ(0U, bad);
	qsort(all, n, sizeof(*all), cmp_rec);
	for (i = 0, inc = 0; inc < r->next_inc; inc++) {
		for (j = i, m = 0; j < n && all[j]->inc == inc; j++, m++) {
			if (all[j]->seq != m) {
				EXPECT_EQ(m, all[j]->seq)
					TH_LOG("incarnation %u: record %u is %s",
					       inc, all[j]->seq,
					       all[j]->seq < m ? "a duplicate" :
					       "after a hole");
				break;
			}
		}
		while (j < n && all[j]->inc == inc)
			j++;
		EXPECT_LE(atomic_load(&r->sh->done[inc]), m)
			TH_LOG("incarnation %u: %u sent, %u arrived", inc,
			       atomic_load(&r->sh->done[inc]), m);
		EXPECT_GE(atomic_load(&r->sh->attempt[inc]), m)
			TH_LOG("incarnation %u: %u arrived of %u started", inc,
			       m, atomic_load(&r->sh->attempt[inc]));
		i = j;
	}
	free(all);
	return n;
}

static void kill_run(struct __test_metadata *_metadata, enum kind kind)
{
	struct run r = { .kind = kind };
	double end, seconds = kill_seconds();
	unsigned int i, slots, tries;
	unsigned long records;
	int fd, status;
	pid_t pid;

	r.sh = mmap(NULL, sizeof(*r.sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.sh);
	srand(getpid());

	/* Small, so writers block often; the parent's file keeps both ends. */
	fd = open_dev(kind, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	if (kind == PIPE) {
		__u32 size = 4096;

		ASSERT_EQ(0, ioctl(fd, KIPC_PIPE_SET_SIZE, &size));
	} else {
		struct kipc_mq_limits l = { 16384, 1024, 4, 0 };

		ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
		ASSERT_EQ(0, ioctl(fd, KIPC_MQ_SET_LIMITS, &l));
	}
	for (i = 0; i < NWRITERS + NREADERS; i++) {
		r.kids[i].is_writer = i < NWRITERS;
		r.kids[i].pid = spawn(&r, r.kids[i].is_writer);
		ASSERT_LT(0, r.kids[i].pid);
	}

	end = now() + seconds;
	while (now() < end && !r.out_of_room) {
		nap_us(rand() % 15000);
		/* Readers that filled their slots leave: new ones come. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < NWRITERS + NREADERS; i++)
				if (r.kids[i].pid == pid)
					break;
			ASSERT_LT(i, (unsigned int)(NWRITERS + NREADERS));
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
				TH_LOG("child %d: status %#x", pid, status);
			respawn(_metadata, &r, i);
		}
		/* Mostly a child that sleeps in the device right now. */
		for (tries = 0; tries < 4; tries++) {
			i = rand() % (NWRITERS + NREADERS);
			if (r.kids[i].pid > 0 && blocked(r.kids[i].pid))
				break;
		}
		if (r.kids[i].pid <= 0)
			continue;
		r.kills_blocked += blocked(r.kids[i].pid);
		kill(r.kids[i].pid, SIGKILL);
		/* A task that cannot die hangs here: the test times out. */
		ASSERT_EQ(r.kids[i].pid, waitpid(r.kids[i].pid, &status, 0));
		/* A reader may have filled its slots and left just before. */
		EXPECT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
			    (!r.kids[i].is_writer && WIFEXITED(status) &&
			     !WEXITSTATUS(status)))
			TH_LOG("child %d: status %#x", r.kids[i].pid, status);
		r.kills++;
		respawn(_metadata, &r, i);
	}
	kill_all(&r);

	/* Nobody is left: what is still queued is the parent's to take. */
	slots = r.next_base;
	slots += drain(_metadata, &r, fd, slots);
	records = verify(_metadata, &r, slots);
	if (kind == PIPE) {
		__u32 size = KIPC_PIPE_DEF_SIZE;
		int avail = -1;

		ASSERT_EQ(0, ioctl(fd, FIONREAD, &avail));
		EXPECT_EQ(0, avail);
		ASSERT_EQ(0, ioctl(fd, KIPC_PIPE_SET_SIZE, &size));
	} else {
		struct kipc_mq_limits l = { KIPC_MQ_DEF_BYTES,
			KIPC_MQ_DEF_MSG_SIZE, KIPC_MQ_DEF_MSGS, 0 };
		struct kipc_mq_stat st;

		ASSERT_EQ(0, ioctl(fd, KIPC_MQ_STAT, &st));
		EXPECT_EQ(0U, st.msgs);
		EXPECT_EQ(0U, st.bytes);
		ASSERT_EQ(0, ioctl(fd, KIPC_MQ_SET_LIMITS, &l));
	}
	close(fd);
	fprintf(stderr, "# %s: %u kills (%u seen blocked), %u writers, %lu records checked in %.1f s\n",
		kind == PIPE ? "pipe" : "mq", r.kills, r.kills_blocked,
		r.next_inc, records, seconds);
	EXPECT_LT(0U, r.kills);
	EXPECT_LT(0UL, records);
	munmap(r.sh, sizeof(*r.sh));
}

FIXTURE(kill)
{
	int unused;
};

FIXTURE_SETUP(kill)
{
}

FIXTURE_TEARDOWN(kill)
{
}

TEST_F_TIMEOUT(kill, pipe_read_write, 3600)
{
	kill_run(_metadata, PIPE);
}

TEST_F_TIMEOUT(kill, mq_send_recv, 3600)
{
	kill_run(_metadata, MQ);
}

/* --- semaphores ---------------------------------------------------------- */

#define NSEMKIDS	8
#define NUNITS		4
#define SEMIDX		5
#define GOT		0x00
#define RELEASING	0x40

/*
 * Takes a unit with SEM_UNDO, says so, holds it a moment (or while the
 * parent freezes everyone to count), says it lets go, gives it back with
 * SEM_UNDO: at any moment its undo record is what it holds, so a kill
 * anywhere returns exactly that.
 */
static void __attribute__((noreturn))
sem_child(int status_fd, int id, atomic_bool *freeze)
{
	struct kipc_sem_op p = { .index = SEMIDX, .value = 1,
		.flags = KIPC_SEM_UNDO };
	struct kipc_sem_op v = p;
	__u32 x = getpid() * 2654435761U;
	char c;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(shm_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(30);
	for (;;) {
		while (ioctl(fd, KIPC_SEM_P, &p))
			if (errno != EINTR)
				_exit(31);
		c = GOT | id;
		if (write(status_fd, &c, 1) != 1)
			_exit(32);
		do {
			x = x * 1103515245U + 12345U;
			nap_us((x >> 16) % 3000);
		} while (atomic_load(freeze));
		c = RELEASING | id;
		if (write(status_fd, &c, 1) != 1)
			_exit(33);
		while (ioctl(fd, KIPC_SEM_V, &v))
			if (errno != EINTR)
				_exit(34);
	}
}

struct semrun {
	int fd, status[2];
	atomic_bool *freeze;
	pid_t pid[NSEMKIDS];
	bool holds[NSEMKIDS];
	unsigned int kills, kills_blocked, kills_holding, settles;
};

static pid_t sem_spawn(struct semrun *s, int id)
{
	pid_t pid = fork();

	if (pid == 0) {
		close(s->status[0]);
		sem_child(s->status[1], id, s->freeze);
	}
	s->holds[id] = false;
	return pid;
}

static void sem_read_status(struct semrun *s)
{
	unsigned char c;

	while (read(s->status[0], &c, 1) == 1)
		if ((c & 0x3f) < NSEMKIDS)
			s->holds[c & 0x3f] = !(c & RELEASING);
}

static struct kipc_sem_info sem_get(struct semrun *s)
{
	struct kipc_sem_info si = { .index = SEMIDX };

	if (ioctl(s->fd, KIPC_SEM_GET, &si))
		si.value = si.waiters = ~0U;
	return si;
}

/*
 * Freeze the holders, wait until every child is blocked or holding, and
 * check the books: units == value + held, waiters == children blocked.
 */
static void sem_settle(struct __test_metadata *_metadata, struct semrun *s)
{
	struct kipc_sem_info si;
	unsigned int held = 0, i, tries;

	atomic_store(s->freeze, true);
	for (tries = 0; tries < 2000; tries++) {
		sem_read_status(s);
		si = sem_get(s);
		for (held = 0, i = 0; i < NSEMKIDS; i++)
			held += s->holds[i];
		if (si.value + held == NUNITS &&
		    si.waiters == NSEMKIDS - held)
			break;
		nap_us(5000);
	}
	EXPECT_EQ((unsigned int)NUNITS, si.value + held)
		TH_LOG("value %u, held %u, waiters %u", si.value, held,
		       si.waiters);
	EXPECT_EQ(NSEMKIDS - held, si.waiters);
	s->settles++;
	atomic_store(s->freeze, false);
}

TEST_F_TIMEOUT(kill, sem_p, 3600)
{
	struct kipc_sem_op op = { .index = SEMIDX };
	struct semrun s = { 0 };
	struct kipc_sem_info si;
	double end, seconds = kill_seconds();
	int i, k, status, round = 0;

	srand(getpid() + 1);
	s.freeze = mmap(NULL, sizeof(*s.freeze), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.freeze);
	s.fd = open(shm_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, ioctl(s.fd, KIPC_SEM_INIT, &op));
	ASSERT_EQ(0, pipe2(s.status, O_NONBLOCK | O_CLOEXEC));
	for (i = 0; i < NSEMKIDS; i++) {
		s.pid[i] = sem_spawn(&s, i);
		ASSERT_LT(0, s.pid[i]);
	}
	/* Fewer units than children: some always wait. */
	op = (struct kipc_sem_op){ .index = SEMIDX, .value = NUNITS };
	ASSERT_EQ(0, ioctl(s.fd, KIPC_SEM_V, &op));
	sem_settle(_metadata, &s);

	end = now() + seconds;
	while (now() < end) {
		nap_us(rand() % 10000);
		sem_read_status(&s);
		/* Half the time a child that waits, if there is one. */
		i = rand() % NSEMKIDS;
		if (rand() % 2)
			for (k = 0; k < NSEMKIDS && s.holds[i]; k++)
				i = (i + 1) % NSEMKIDS;
		s.kills_holding += s.holds[i];
		s.kills_blocked += !s.holds[i] && blocked(s.pid[i]);
		kill(s.pid[i], SIGKILL);
		ASSERT_EQ(s.pid[i], waitpid(s.pid[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("child %d: status %#x", s.pid[i], status);
		s.kills++;
		/* Its last word may still be in the pipe: read it first. */
		sem_read_status(&s);
		s.pid[i] = sem_spawn(&s, i);
		ASSERT_LT(0, s.pid[i]);
		if (++round % 16 == 0)
			sem_settle(_metadata, &s);
	}
	sem_settle(_metadata, &s);
	atomic_store(s.freeze, true);
	for (i = 0; i < NSEMKIDS; i++) {
		kill(s.pid[i], SIGKILL);
		waitpid(s.pid[i], NULL, 0);
	}
	/* Everyone gone: every unit back, nobody waiting. */
	si = sem_get(&s);
	EXPECT_EQ((unsigned int)NUNITS, si.value);
	EXPECT_EQ(0U, si.waiters);
	fprintf(stderr, "# sem: %u kills (%u blocked in P, %u holding), %u checks of the books in %.1f s\n",
		s.kills, s.kills_blocked, s.kills_holding, s.settles, seconds);
	EXPECT_LT(0U, s.kills);
	op = (struct kipc_sem_op){ .index = SEMIDX };
	ioctl(s.fd, KIPC_SEM_INIT, &op);
	close(s.fd);
	close(s.status[0]);
	close(s.status[1]);
	munmap(s.freeze, sizeof(*s.freeze));
}

TEST_HARNESS_MAIN
