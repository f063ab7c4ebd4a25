// SPDX-License-Identifier: GPL-2.0
/*
 * kipc's own ioctls under attack: every request of every kind, on files of
 * every open mode, with random and boundary-valued argument structures
 * from a seed, with good, NULL, unmapped, read-only, kernel and
 * page-straddling pointers, while other threads keep data moving through
 * the same devices; every other kind's request, the neighbours of each
 * request number and unknown numbers, which must be ENOTTY.
 *
 * Rules checked for every call: the errno is one Documentation/uapi.md
 * (and the device pages) give for that request; a request the open mode
 * does not allow is EBADF; a successful call returns what the request
 * documents and writes nothing past its structure (the buffers around it
 * are poisoned), reserved output fields are 0, a receive writes no byte
 * past what it returns.  Then the devices must still work: a round trip
 * on each.
 *
 * Blocking requests are armed with a 10 ms SIGALRM (no SA_RESTART), so a
 * wait ends in EINTR rather than hanging the test.  The seed is printed;
 * KIPC_FUZZ_SEED replays it, KIPC_FUZZ_ROUNDS sets the calls per file.
 * nlfuzz_test.c does the same for the netlink family.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <linux/kipc.h>

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_caps.h"

#define FUZZ_SEED	0x696f63746cULL	/* "ioctl" */
#define FUZZ_ROUNDS	1500
/* Pages of the argument arena; an unmapped page follows it. */
#define ARENA_PAGES	16
#define PAYLOAD_SIZE	(256 * 1024)
#define POISON		0xa5
/* Poisoned before a receive: more than the largest message allowed. */
#define RECV_POISON	(128 * 1024)
#define GUARD_US	10000
#define MAX_ERRS	12

/* --- small helpers ------------------------------------------------------ */

static unsigned long env_or(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static unsigned long param(const char *name, unsigned long dflt)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kipc/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return dflt;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtoul(buf, NULL, 10) : dflt;
}

/* splitmix64, as nlfuzz_test.c: the same sequence everywhere for a seed. */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd_below(unsigned int n)
{
	return rnd() % n;
}

static uint32_t rnd_u32(void)
{
	static const uint32_t edge[] = {
		0, 1, 2, 3, 15, 16, 17, 4095, 4096, 4097, 8192, 32767, 32768,
		65535, 65536, 65537, 1 << 20, (1 << 20) + 1, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff,
	};

	switch (rnd_below(4)) {
	case 0:
		return edge[rnd_below(sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return rnd();
	default:
		return rnd_below(64);
	}
}

static int64_t rnd_s64(void)
{
	static const int64_t edge[] = {
		0, 1, -1, 2, -2, 1000, 1000000, INT32_MAX, INT32_MIN,
		INT64_MAX, INT64_MIN, INT64_MIN + 1,
	};

	switch (rnd_below(4)) {
	case 0:
		return edge[rnd_below(sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return (int64_t)rnd();
	default:
		return (int64_t)rnd_below(9) - 4;
	}
}

/* Mostly 0; a reserved field that is not must be refused. */
static uint32_t rnd_reserved(void)
{
	return rnd_below(8) ? 0 : rnd_u32();
}

/* Mostly known flags, sometimes any bits. */
static uint32_t rnd_flags(uint32_t all)
{
	return rnd_below(6) ? (uint32_t)rnd() & all : rnd_u32();
}

/* --- memory the arguments live in ---------------------------------------- */

static size_t pg;
static uint8_t *arena;		/* ARENA_PAGES, then an inaccessible page */
static uint8_t *ro_page;	/* PROT_READ */
static uint8_t *payload;	/* PAYLOAD_SIZE, then an inaccessible page */

static int arena_setup(void)
{
	uint8_t *p;

	pg = sysconf(_SC_PAGESIZE);
	p = mmap(NULL, (ARENA_PAGES + 1) * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* PROT_NONE, not unmapped: no later mapping may land there. */
	if (p == MAP_FAILED || mprotect(p + ARENA_PAGES * pg, pg, PROT_NONE))
		return -1;
	arena = p;
	p = mmap(NULL, PAYLOAD_SIZE + pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + PAYLOAD_SIZE, pg, PROT_NONE))
		return -1;
	payload = p;
	p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	ro_page = p;
	return 0;
}

enum where {
	AT_START,	/* arena start: the bytes after it are checked */
	AT_END,		/* ends exactly at the inaccessible page */
	AT_ODD,		/* misaligned */
	AT_STRADDLE,	/* half of it in the inaccessible page */
	AT_NULL,
	AT_UNMAPPED,	/* the inaccessible page */
	AT_KERNEL,
	AT_RO,		/* readable, not writable */
	WHERE_N,
};

/* Pointers that may fault; the good ones come three times in four. */
static enum where rnd_where(void)
{
	static const enum where good[] = { AT_START, AT_START, AT_END, AT_ODD };

	if (rnd_below(4))
		return good[rnd_below(4)];
	return AT_STRADDLE + rnd_below(WHERE_N - AT_STRADDLE);
}

static void *where_ptr(enum where w, size_t size)
{
	uint8_t *end = arena + ARENA_PAGES * pg;

	switch (w) {
	case AT_START:
		return arena;
	case AT_END:
		return end - size;
	case AT_ODD:
		return arena + 1;
	case AT_STRADDLE:
		return end - size / 2;
	case AT_NULL:
		return NULL;
	case AT_UNMAPPED:
		return end;
	case AT_KERNEL:
		return (void *)(uintptr_t)0xffff888000000000ULL;
	case AT_RO:
		return ro_page;
	default:
		return arena;
	}
}

/* A user pointer inside a structure (payloads, message arrays). */
static uint64_t rnd_uptr(uint8_t *good, size_t size)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return (uint64_t)(uintptr_t)(payload + PAYLOAD_SIZE);
	case 2:
		return 0xffff888000000000ULL;
	case 3:
		return (uint64_t)(uintptr_t)(payload + PAYLOAD_SIZE - size / 2);
	default:
		return (uint64_t)(uintptr_t)good;
	}
}

/* --- the requests ------------------------------------------------------- */

enum arg {
	A_NONE,
	A_U32,
	A_U64,
	A_INT,
	A_MQ_MSG,
	A_MQ_BATCH,
	A_MQ_STAT,
	A_MQ_LIMITS,
	A_MQ_FILEOPTS,
	A_SEM_OP,
	A_SEM_INFO,
};

static const size_t arg_size[] = {
	[A_NONE] = 0,
	[A_U32] = sizeof(uint32_t),
	[A_U64] = sizeof(uint64_t),
	[A_INT] = sizeof(int),
	[A_MQ_MSG] = sizeof(struct kipc_mq_msg),
	[A_MQ_BATCH] = sizeof(struct kipc_mq_batch),
	[A_MQ_STAT] = sizeof(struct kipc_mq_stat),
	[A_MQ_LIMITS] = sizeof(struct kipc_mq_limits),
	[A_MQ_FILEOPTS] = sizeof(struct kipc_mq_fileopts),
	[A_SEM_OP] = sizeof(struct kipc_sem_op),
	[A_SEM_INFO] = sizeof(struct kipc_sem_info),
};

enum need { ANY, NEED_R, NEED_W };

/* A request of a kind, with what the documents allow it to return. */
struct req {
	const char *name;
	unsigned long cmd;
	enum arg arg;
	enum need need;
	bool waits;		/* may sleep interruptibly: EINTR allowed */
	bool ret_count;		/* returns a count, not 0 */
	int errs[MAX_ERRS];	/* besides EFAULT; 0 ends the list */
};

#define FAULT_ERRS EFAULT

static const struct req pipe_reqs[] = {
	{ "PIPE_GET_SIZE", KIPC_PIPE_GET_SIZE, A_U32, ANY, false, false,
	  { FAULT_ERRS } },
	{ "PIPE_SET_SIZE", KIPC_PIPE_SET_SIZE, A_U32, ANY, false, false,
	  { FAULT_ERRS, EINVAL, EPERM, EBUSY, ENOMEM } },
	{ "FIONREAD", FIONREAD, A_INT, ANY, false, false, { FAULT_ERRS } },
};

static const struct req mq_reqs[] = {
	{ "MQ_SEND", KIPC_MQ_SEND, A_MQ_MSG, NEED_W, true, false,
	  { FAULT_ERRS, EINVAL, EAGAIN, ENOMEM } },
	{ "MQ_RECV", KIPC_MQ_RECV, A_MQ_MSG, NEED_R, true, true,
	  { FAULT_ERRS, EINVAL, E2BIG, ENOMSG } },
	{ "MQ_SEND_BATCH", KIPC_MQ_SEND_BATCH, A_MQ_BATCH, NEED_W, true, false,
	  { FAULT_ERRS, EINVAL, EAGAIN, ENOMEM } },
	{ "MQ_RECV_BATCH", KIPC_MQ_RECV_BATCH, A_MQ_BATCH, NEED_R, true, false,
	  { FAULT_ERRS, EINVAL, E2BIG, ENOMSG } },
	{ "MQ_STAT", KIPC_MQ_STAT, A_MQ_STAT, ANY, false, false,
	  { FAULT_ERRS } },
	{ "MQ_SET_LIMITS", KIPC_MQ_SET_LIMITS, A_MQ_LIMITS, NEED_W, false,
	  false, { FAULT_ERRS, EINVAL, EPERM } },
	{ "MQ_FLUSH", KIPC_MQ_FLUSH, A_NONE, NEED_W, false, true, { 0 } },
	{ "MQ_GET_FILEOPTS", KIPC_MQ_GET_FILEOPTS, A_MQ_FILEOPTS, ANY, false,
	  false, { FAULT_ERRS } },
	{ "MQ_SET_FILEOPTS", KIPC_MQ_SET_FILEOPTS, A_MQ_FILEOPTS, ANY, false,
	  false, { FAULT_ERRS, EINVAL } },
};

static const struct req shm_reqs[] = {
	{ "SEM_INIT", KIPC_SEM_INIT, A_SEM_OP, NEED_W, false, false,
	  { FAULT_ERRS, EINVAL } },
	{ "SEM_P", KIPC_SEM_P, A_SEM_OP, NEED_W, true, false,
	  { FAULT_ERRS, EINVAL, EAGAIN, ETIMEDOUT, ERANGE } },
	{ "SEM_V", KIPC_SEM_V, A_SEM_OP, NEED_W, false, false,
	  { FAULT_ERRS, EINVAL, ERANGE } },
	{ "SEM_GET", KIPC_SEM_GET, A_SEM_INFO, ANY, false, false,
	  { FAULT_ERRS, EINVAL } },
	{ "SEM_SET_POLL", KIPC_SEM_SET_POLL, A_U32, ANY, false, false,
	  { FAULT_ERRS, EINVAL } },
	{ "SHM_GET_SIZE", KIPC_SHM_GET_SIZE, A_U64, ANY, false, false,
	  { FAULT_ERRS } },
	{ "SHM_SET_SIZE", KIPC_SHM_SET_SIZE, A_U64, NEED_W, false, false,
	  { FAULT_ERRS, EINVAL, EPERM, ENOMEM, EBUSY } },
};

struct kind {
	const char *name;
	const struct req *reqs;
	unsigned int nreqs;
};

#define KIND(n, r) { n, r, sizeof(r) / sizeof(r[0]) }
static const struct kind kinds[] = {
	KIND("pipe", pipe_reqs),
	KIND("mq", mq_reqs),
	KIND("shm", shm_reqs),
};

/* --- building one argument ------------------------------------------------ */

static uint32_t mq_max_msg_size = KIPC_MQ_DEF_MSG_SIZE;

static void fill_mq_msg(struct kipc_mq_msg *m, bool recv)
{
	uint32_t len;

	m->type = rnd_below(3) ? (int64_t)rnd_below(7) - 3 : rnd_s64();
	if (!recv && rnd_below(4))
		m->type = 1 + rnd_below(3);
	len = rnd_below(3) ? rnd_below(256) : rnd_u32();
	if (!rnd_below(8))
		len = mq_max_msg_size + rnd_below(3) - 1;
	m->len = len;
	m->buf = rnd_uptr(payload, len < PAYLOAD_SIZE ? len : PAYLOAD_SIZE);
	m->flags = rnd_flags(KIPC_MQ_FLAGS_ALL);
}

/*
 * The argument of @r at @where in the poisoned arena (nested arrays at
 * page 1 on, payloads in their own area), or an integer for A_NONE.
 */
static unsigned long build_arg(const struct req *r, enum where w)
{
	size_t size = arg_size[r->arg];
	uint8_t tmp[64];
	void *dst;

	memset(arena, POISON, ARENA_PAGES * pg);
	memset(tmp, 0, sizeof(tmp));
	switch (r->arg) {
	case A_NONE:
		return rnd_below(2) ? 0 : rnd();
	case A_U32:
	case A_INT: {
		uint32_t v = rnd_u32();

		if (r->cmd == KIPC_PIPE_SET_SIZE && rnd_below(2))
			v = (1 + rnd_below(64)) * pg;
		memcpy(tmp, &v, 4);
		break;
	}
	case A_U64: {
		static const uint64_t edge[] = {
			0, 1, 4095, 4096, 4097, KIPC_SHM_DEF_SIZE,
			1ULL << 31, 1ULL << 32, 1ULL << 63, UINT64_MAX,
			UINT64_MAX - 4095,
		};
		uint64_t v = rnd_below(2) ? (1 + rnd_below(512)) * pg :
					    edge[rnd_below(11)];

		memcpy(tmp, &v, 8);
		break;
	}
	case A_MQ_MSG:
		fill_mq_msg((void *)tmp, r->cmd == KIPC_MQ_RECV);
		break;
	case A_MQ_BATCH: {
		struct kipc_mq_batch *b = (void *)tmp;
		struct kipc_mq_msg *msgs = (void *)(arena + pg);
		unsigned int i, n;

		n = rnd_below(4) ? rnd_below(9) :
				   (rnd_below(2) ? KIPC_MQ_BATCH_MAX +
					     rnd_below(2) : rnd_u32());
		for (i = 0; i < n && i < 64; i++)
			fill_mq_msg(&msgs[i], r->cmd == KIPC_MQ_RECV_BATCH);
		b->count = n;
		b->done = rnd_u32();
		b->msgs = rnd_uptr((uint8_t *)msgs, n * sizeof(*msgs));
		break;
	}
	case A_MQ_STAT:
		break;
	case A_MQ_LIMITS: {
		struct kipc_mq_limits *l = (void *)tmp;

		l->max_bytes = rnd_below(2) ? 1 + rnd_below(65536) : rnd_u32();
		l->max_msg_size = rnd_below(2) ? 1 + rnd_below(16384) :
						 rnd_u32();
		l->max_msgs = rnd_below(2) ? 1 + rnd_below(1024) : rnd_u32();
		l->__reserved = rnd_reserved();
		break;
	}
	case A_MQ_FILEOPTS: {
		struct kipc_mq_fileopts *o = (void *)tmp;

		o->send_type = rnd_s64();
		o->recv_type = rnd_s64();
		o->recv_flags = rnd_flags(KIPC_MQ_FLAGS_ALL);
		o->__reserved = rnd_reserved();
		break;
	}
	case A_SEM_OP: {
		struct kipc_sem_op *op = (void *)tmp;

		op->index = rnd_below(4) ? rnd_below(KIPC_SEM_NSEMS) : rnd_u32();
		op->flags = rnd_flags(KIPC_SEM_FLAGS_ALL);
		op->value = rnd_below(2) ? rnd_below(3) : rnd_u32();
		op->__reserved = rnd_reserved();
		op->timeout_ns = rnd_below(2) ? 0 : rnd_s64();
		if (r->cmd == KIPC_SEM_P && rnd_below(2))
			op->timeout_ns = 1 + rnd_below(1000000);
		break;
	}
	case A_SEM_INFO: {
		struct kipc_sem_info *in = (void *)tmp;

		in->index = rnd_below(4) ? rnd_below(KIPC_SEM_NSEMS) : rnd_u32();
		in->value = rnd_u32();
		in->waiters = rnd_u32();
		in->__reserved = rnd_reserved();
		break;
	}
	}
	dst = where_ptr(w, size);
	/* Only where the test may write: the arena, whole. */
	if (w == AT_START || w == AT_END || w == AT_ODD)
		memcpy(dst, tmp, size);
	return (unsigned long)(uintptr_t)dst;
}

/* --- one call ------------------------------------------------------------- */

static void on_alarm(int sig)
{
	(void)sig;
}

static void guard(bool on)
{
	struct itimerval it = { .it_value.tv_usec = on ? GUARD_US : 0 };

	setitimer(ITIMER_REAL, &it, NULL);
}

struct tally {
	unsigned long calls, ok, failures, eintr;
	unsigned long errs[256];
};

static void report(const char *kind, const char *what, unsigned long cmd,
		   const char *why, long ret, int err, struct tally *t)
{
	t->failures++;
	if (t->failures <= 10)
		fprintf(stderr,
			"# FUZZ FAILURE %s %s (%#lx): %s (ret %ld, errno %d %s)\n",
			kind, what, cmd, why, ret, err, strerror(err));
}

static bool allowed(const struct req *r, int err)
{
	int i;

	if (err == EFAULT || (err == EINTR && r->waits))
		return true;
	for (i = 0; i < MAX_ERRS && r->errs[i]; i++)
		if (r->errs[i] == err)
			return true;
	return false;
}

/* Nothing written past the structure at the arena's start. */
static bool untouched(const uint8_t *p, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (p[i] != POISON)
			return false;
	return true;
}

/* What a successful call wrote must make sense; NULL if it does. */
static const char *check_output(const struct req *r, void *arg, long ret,
				enum where w)
{
	if (w == AT_START && !untouched(arena, arg_size[r->arg], pg))
		return "wrote past its structure";
	if (!r->ret_count && ret != 0)
		return "returned neither 0 nor -1";
	if (r->ret_count && ret < 0)
		return "returned a negative count";
	switch (r->arg) {
	case A_MQ_MSG:
		if (r->cmd == KIPC_MQ_RECV) {
			struct kipc_mq_msg *m = arg;

			if ((uint64_t)ret != m->len)
				return "RECV: return and len differ";
			if (m->type <= 0)
				return "RECV: a message type below 1";
			if (m->buf == (uint64_t)(uintptr_t)payload &&
			    ret + 64 <= RECV_POISON &&
			    !untouched(payload, ret, ret + 64))
				return "RECV: wrote past what it returned";
		}
		break;
	case A_MQ_BATCH: {
		struct kipc_mq_batch *b = arg;

		if (b->done > b->count || (!b->done && b->count))
			return "batch: done out of range on success";
		break;
	}
	case A_MQ_STAT: {
		struct kipc_mq_stat *s = arg;

		if (s->__reserved)
			return "STAT: reserved not 0";
		if (s->last_send_pid < 0 || s->last_recv_pid < 0)
			return "STAT: a negative pid";
		break;
	}
	case A_MQ_FILEOPTS:
		if (r->cmd == KIPC_MQ_GET_FILEOPTS) {
			struct kipc_mq_fileopts *o = arg;

			if (o->__reserved || o->send_type <= 0 ||
			    o->recv_flags & ~(KIPC_MQ_NOERROR | KIPC_MQ_EXCEPT))
				return "GET_FILEOPTS: bad options";
		}
		break;
	case A_SEM_INFO: {
		struct kipc_sem_info *in = arg;

		if (in->__reserved || in->value > KIPC_SEM_VALUE_MAX ||
		    in->index >= KIPC_SEM_NSEMS)
			return "SEM_GET: bad info";
		break;
	}
	case A_U32:
		if (r->cmd != KIPC_SEM_SET_POLL &&
		    (!*(uint32_t *)arg || *(uint32_t *)arg % pg))
			return "pipe size: not whole pages";
		break;
	case A_U64:
		if (r->cmd == KIPC_SHM_GET_SIZE &&
		    (!*(uint64_t *)arg || *(uint64_t *)arg % pg))
			return "shm size: not whole pages";
		break;
	default:
		break;
	}
	return NULL;
}

/* One call of request @r on @fd, opened with @mode; checks it. */
static void fuzz_one(const char *kind, int fd, int mode, const struct req *r,
		     struct tally *t)
{
	enum where w = r->arg == A_NONE ? AT_START : rnd_where();
	unsigned long arg = build_arg(r, w);
	const char *why;
	long ret;
	int err;

	/* A receive buffer is poisoned, to see what the kernel writes. */
	if (r->cmd == KIPC_MQ_RECV)
		memset(payload, POISON, RECV_POISON);
	if (r->waits)
		guard(true);
	errno = 0;
	ret = ioctl(fd, r->cmd, arg);
	err = errno;
	if (r->waits)
		guard(false);
	t->calls++;
	if ((r->need == NEED_W && !(mode & 2)) ||
	    (r->need == NEED_R && !(mode & 1))) {
		if (ret != -1 || err != EBADF)
			report(kind, r->name, r->cmd,
			       "not EBADF for the open mode", ret, err, t);
		return;
	}
	if (ret == -1) {
		t->errs[err & 255]++;
		if (err == EINTR)
			t->eintr++;
		if (!allowed(r, err))
			report(kind, r->name, r->cmd, "an errno it may not give",
			       ret, err, t);
		return;
	}
	t->ok++;
	switch (w) {
	case AT_STRADDLE:
	case AT_NULL:
	case AT_UNMAPPED:
	case AT_KERNEL:
		why = r->arg == A_NONE ? NULL : "succeeded with a bad pointer";
		break;
	case AT_RO:
		/* An argument that is only read may come from there. */
		why = NULL;
		break;
	default:
		why = check_output(r, (void *)arg, ret, w);
		break;
	}
	if (why)
		report(kind, r->name, r->cmd, why, ret, err, t);
}

/* Requests that are not this kind's: ENOTTY, whatever the argument. */
static bool is_own(const struct kind *k, unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < k->nreqs; i++)
		if (k->reqs[i].cmd == cmd)
			return true;
	return false;
}

static void expect_enotty(const struct kind *k, int fd, unsigned long cmd,
			  struct tally *t)
{
	long ret;

	if (is_own(k, cmd))
		return;
	memset(arena, 0, pg);
	errno = 0;
	ret = ioctl(fd, cmd, arena);
	t->calls++;
	if (ret != -1 || errno != ENOTTY)
		report(k->name, "a request not of this kind", cmd, "not ENOTTY",
		       ret, errno, t);
}

/* Every other kind's requests, the neighbours of each, unknown numbers. */
static void foreign_requests(const struct kind *k, int fd, struct tally *t)
{
	unsigned int i, j, nr;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		for (j = 0; j < kinds[i].nreqs; j++) {
			unsigned long cmd = kinds[i].reqs[j].cmd;

			/* FIONREAD is a pipe's; the others may take it. */
			if (cmd == FIONREAD)
				continue;
			expect_enotty(k, fd, cmd, t);
			expect_enotty(k, fd, cmd ^ (_IOC_READ << _IOC_DIRSHIFT), t);
			expect_enotty(k, fd, cmd ^ (_IOC_WRITE << _IOC_DIRSHIFT), t);
			expect_enotty(k, fd, cmd + (1 << _IOC_SIZESHIFT), t);
			expect_enotty(k, fd, cmd - (1 << _IOC_SIZESHIFT), t);
		}
	}
	for (nr = 0; nr < 256; nr++) {
		expect_enotty(k, fd, _IO(KIPC_IOC_MAGIC, nr), t);
		expect_enotty(k, fd, _IOR(KIPC_IOC_MAGIC, nr, uint32_t), t);
		expect_enotty(k, fd, _IOW(KIPC_IOC_MAGIC, nr, uint64_t), t);
		expect_enotty(k, fd, _IOWR(KIPC_IOC_MAGIC, nr, struct kipc_mq_msg),
			      t);
	}
	for (i = 0; i < 64; i++)
		expect_enotty(k, fd,
			      _IOC(rnd_below(4), KIPC_IOC_MAGIC + 1 - rnd_below(3),
				   rnd_below(256), rnd_below(1 << 14)),
			      t);
}

/* --- traffic in other threads --------------------------------------------- */

struct traffic {
	const char *path;
	int kind;		/* index in kinds[] */
	volatile bool stop;
	unsigned long ops;
	int bad_errno;		/* the first unexpected one, or 0 */
};

static void traffic_err(struct traffic *tr, int err, const int *ok)
{
	for (; *ok; ok++)
		if (*ok == err)
			return;
	if (!tr->bad_errno)
		tr->bad_errno = err;
}

static void *traffic_main(void *data)
{
	static const int pipe_ok[] = { EAGAIN, 0 };
	static const int mq_ok[] = { EAGAIN, EINVAL, EMSGSIZE, ENOMEM, 0 };
	static const int sem_ok[] = { EAGAIN, ERANGE, 0 };
	struct traffic *tr = data;
	char buf[64 * 1024];
	int fd;

	fd = open(tr->path, O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		tr->bad_errno = errno;
		return NULL;
	}
	memset(buf, 'x', 64);
	while (!tr->stop) {
		if (tr->kind == 0 || tr->kind == 1) {
			const int *ok = tr->kind ? mq_ok : pipe_ok;

			if (write(fd, buf, 32 + tr->ops % 32) < 0)
				traffic_err(tr, errno, ok);
			if (read(fd, buf, sizeof(buf)) < 0 && errno != ENOMSG)
				traffic_err(tr, errno, ok);
		} else {
			struct kipc_sem_op op = { .index = KIPC_SEM_NSEMS - 1,
						  .value = 1 };
			char *p;

			if (ioctl(fd, KIPC_SEM_V, &op))
				traffic_err(tr, errno, sem_ok);
			op.value = 0;
			op.flags = KIPC_SEM_NOWAIT;
			if (ioctl(fd, KIPC_SEM_P, &op))
				traffic_err(tr, errno, sem_ok);
			/* Now and then a mapping, which a resize must respect. */
			if (tr->ops % 16 == 0) {
				p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
				if (p == MAP_FAILED) {
					traffic_err(tr, errno, sem_ok);
				} else {
					p[0]++;
					munmap(p, pg);
				}
			}
		}
		tr->ops++;
	}
	close(fd);
	return NULL;
}

/* --- the devices, before and after ----------------------------------------- */

/* Index 1 of each kind when there is one, else 0 (-1: none at all). */
static int fuzz_index(const char *count_param)
{
	unsigned long n = param(count_param, 0);

	return n > 1 ? 1 : n == 1 ? 0 : -1;
}

struct saved {
	uint32_t pipe_size;
	struct kipc_mq_limits limits;
	uint64_t shm_size;
};

static int save_state(const char *paths[3], struct saved *s)
{
	struct kipc_mq_stat st;
	int fd, ret = 0;

	fd = open(paths[0], O_RDWR | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, KIPC_PIPE_GET_SIZE, &s->pipe_size))
		ret = -1;
	close(fd);
	fd = open(paths[1], O_RDWR);
	if (fd < 0 || ioctl(fd, KIPC_MQ_STAT, &st))
		ret = -1;
	s->limits = (struct kipc_mq_limits){ st.max_bytes, st.max_msg_size,
					     st.max_msgs, 0 };
	close(fd);
	fd = open(paths[2], O_RDWR);
	if (fd < 0 || ioctl(fd, KIPC_SHM_GET_SIZE, &s->shm_size))
		ret = -1;
	close(fd);
	return ret;
}

/*
 * Back to what the devices had, then one round trip on each: -1 and a
 * line on stderr if anything fails.
 */
static int restore_and_use(const char *paths[3], const struct saved *s)
{
	static const char note[] = "ioctlfuzz round trip";
	struct kipc_sem_op op = { 0 };
	struct kipc_sem_info info = { .index = 3 };
	struct kipc_mq_msg m;
	char got[64] = "";
	int fd, i, ret = 0;
	uint32_t size = s->pipe_size;
	uint64_t shm_size = s->shm_size;
	char *a, *b;

#define FAIL(what)                                                    \
	do {                                                          \
		fprintf(stderr, "# after the fuzz: %s: %s\n", what,   \
			strerror(errno));                             \
		ret = -1;                                             \
	} while (0)

	fd = open(paths[0], O_RDWR | O_NONBLOCK);
	if (fd < 0)
		FAIL("open the pipe");
	while (read(fd, got, sizeof(got)) > 0)
		;
	if (ioctl(fd, KIPC_PIPE_SET_SIZE, &size) || size != s->pipe_size)
		FAIL("pipe size");
	if (write(fd, note, sizeof(note)) != sizeof(note) ||
	    read(fd, got, sizeof(got)) != sizeof(note) || strcmp(got, note))
		FAIL("pipe round trip");
	close(fd);

	fd = open(paths[1], O_RDWR | O_NONBLOCK);
	if (fd < 0)
		FAIL("open the queue");
	if (ioctl(fd, KIPC_MQ_FLUSH) < 0)
		FAIL("mq flush");
	if (ioctl(fd, KIPC_MQ_SET_LIMITS, &s->limits))
		FAIL("mq limits");
	m = (struct kipc_mq_msg){ .type = 7, .buf = (uintptr_t)note,
				  .len = sizeof(note) };
	if (ioctl(fd, KIPC_MQ_SEND, &m))
		FAIL("mq send");
	memset(got, 0, sizeof(got));
	m = (struct kipc_mq_msg){ .type = 7, .buf = (uintptr_t)got,
				  .len = sizeof(got) };
	if (ioctl(fd, KIPC_MQ_RECV, &m) != sizeof(note) || m.type != 7 ||
	    strcmp(got, note))
		FAIL("mq round trip");
	close(fd);

	fd = open(paths[2], O_RDWR);
	if (fd < 0)
		FAIL("open the shm device");
	if (ioctl(fd, KIPC_SHM_SET_SIZE, &shm_size))
		FAIL("shm size");
	for (i = 0; i < KIPC_SEM_NSEMS; i++) {
		op = (struct kipc_sem_op){ .index = i };
		if (ioctl(fd, KIPC_SEM_INIT, &op))
			FAIL("sem init");
	}
	op = (struct kipc_sem_op){ .index = 3, .value = 1 };
	if (ioctl(fd, KIPC_SEM_V, &op))
		FAIL("sem V");
	op = (struct kipc_sem_op){ .index = 3, .flags = KIPC_SEM_NOWAIT };
	if (ioctl(fd, KIPC_SEM_P, &op) || ioctl(fd, KIPC_SEM_GET, &info) ||
	    info.value || info.waiters)
		FAIL("sem round trip");
	a = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED) {
		FAIL("shm mmap");
	} else {
		strcpy(a, note);
		if (strcmp(b, note))
			FAIL("shm round trip");
		memset(a, 0, sizeof(note));
	}
	if (a != MAP_FAILED)
		munmap(a, pg);
	if (b != MAP_FAILED)
		munmap(b, pg);
	close(fd);
#undef FAIL
	return ret;
}

/* --- the test ------------------------------------------------------------- */

/* The files of one kind that are fuzzed: open flags, mode bits (1 r, 2 w). */
struct file_mode {
	int flags;
	int mode;
};

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, every_request_every_kind, 240)
{
	static const char *const counts[] = { "npipes", "nmqs", "nshms" };
	static const struct file_mode pipe_files[] = {
		{ O_RDWR | O_NONBLOCK, 3 },
	};
	static const struct file_mode mq_shm_files[] = {
		{ O_RDWR | O_NONBLOCK, 3 },
		{ O_RDWR, 3 },
		{ O_RDONLY | O_NONBLOCK, 1 },
		{ O_WRONLY | O_NONBLOCK, 2 },
	};
	unsigned long seed = env_or("KIPC_FUZZ_SEED", FUZZ_SEED);
	unsigned long rounds = env_or("KIPC_FUZZ_ROUNDS", FUZZ_ROUNDS);
	struct traffic tr[3] = { 0 };
	pthread_t threads[3];
	char paths_buf[3][64];
	const char *paths[3];
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec t0, t1;
	struct tally *t;
	struct saved saved;
	sigset_t block;
	unsigned int k, f, i;
	int err;

	t = calloc(1, sizeof(*t));
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, arena_setup());
	for (k = 0; k < 3; k++) {
		int index = fuzz_index(counts[k]);

		if (index < 0)
			SKIP(return, "no %s devices", kinds[k].name);
		snprintf(paths_buf[k], sizeof(paths_buf[k]),
			 KIPC_DEV_DIR "/%s%d", kinds[k].name, index);
		paths[k] = paths_buf[k];
	}
	ASSERT_EQ(0, save_state(paths, &saved));
	mq_max_msg_size = saved.limits.max_msg_size;
	/* Sizes stay within the module maxima: EPERM instead of a big ring. */
	ASSERT_EQ(0, drop_sys_resource());
	/* No SA_RESTART: a guarded wait ends in EINTR. */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));

	/* The traffic threads never take the guard's signal. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, NULL));
	for (k = 0; k < 3; k++) {
		tr[k].path = paths[k];
		tr[k].kind = k;
		ASSERT_EQ(0, pthread_create(&threads[k], NULL, traffic_main,
					    &tr[k]));
	}
	ASSERT_EQ(0, pthread_sigmask(SIG_UNBLOCK, &block, NULL));

	fprintf(stderr,
		"# seed %#lx (KIPC_FUZZ_SEED), %lu calls per file (KIPC_FUZZ_ROUNDS); %s %s %s\n",
		seed, rounds, paths[0], paths[1], paths[2]);
	rnd_state = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < 3; k++) {
		const struct kind *kd = &kinds[k];
		const struct file_mode *files = k ? mq_shm_files : pipe_files;
		unsigned int nfiles = k ? 4 : 1;
		unsigned long before = t->calls;

		for (f = 0; f < nfiles; f++) {
			int fd = open(paths[k], files[f].flags);

			ASSERT_LE(0, fd) TH_LOG("open %s: %s", paths[k],
						strerror(errno));
			for (i = 0; i < rounds; i++)
				fuzz_one(kd->name, fd, files[f].mode,
					 &kd->reqs[rnd_below(kd->nreqs)], t);
			if (f == 0)
				foreign_requests(kd, fd, t);
			close(fd);
		}
		fprintf(stderr, "# %s: %lu calls\n", kd->name,
			t->calls - before);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (k = 0; k < 3; k++) {
		tr[k].stop = true;
		ASSERT_EQ(0, pthread_join(threads[k], NULL));
	}
	fprintf(stderr,
		"# %lu calls, %lu succeeded, %lu interrupted by the guard, %.1f s; traffic: pipe %lu, mq %lu, shm %lu rounds\n",
		t->calls, t->ok, t->eintr,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		tr[0].ops, tr[1].ops, tr[2].ops);
	fprintf(stderr, "# errnos:");
	for (err = 1; err < 256; err++)
		if (t->errs[err])
			fprintf(stderr, " %s %lu", strerror(err), t->errs[err]);
	fprintf(stderr, "\n");

	EXPECT_EQ(0UL, t->failures)
	TH_LOG("calls that broke a rule: see FUZZ FAILURE above (seed %#lx)",
	       seed);
	for (k = 0; k < 3; k++) {
		EXPECT_LT(0UL, tr[k].ops);
		EXPECT_EQ(0, tr[k].bad_errno)
		TH_LOG("%s traffic: %s", kinds[k].name,
		       strerror(tr[k].bad_errno));
	}
	/* The fuzz got past the argument checks, not only into them. */
	EXPECT_LT(t->calls / 20, t->ok);
	EXPECT_EQ(0, restore_and_use(paths, &saved));
	free(t);
}

TEST_HARNESS_MAIN
