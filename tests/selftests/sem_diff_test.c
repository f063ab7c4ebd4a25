// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test: one script of semaphore steps runs on the kipc
 * semaphores of /dev/kipc/shm0 and on a SysV semaphore set (semop(2),
 * semtimedop(2), semctl(2)); both must give the results the script
 * expects.  Where kipc differs from SysV on purpose the step names the
 * difference (enum diff), and Documentation/shm.md explains it.  The
 * timeout case is also checked against POSIX sem_timedwait(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <linux/kipc.h>

/*
 * gcc inlines small TEST_F bodies into the harness wrapper, which calls
 * setjmp(), and then warns about the wrapper's own locals.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "kipc_ksft.h"

#define SHM0 KIPC_DEV_DIR "/shm0"
#define MS 1000000LL

/* --- the two implementations behind one interface ----------------------- */

struct impl {
	const char *name;
	int fd;			/* kipc: /dev/kipc/shm0 */
	int semid;		/* SysV */
	int (*open)(struct impl *im);	/* per process, for UNDO */
	int (*init)(struct impl *im, int idx, int val);
	int (*p)(struct impl *im, int idx, int flags, int64_t timeout_ns);
	int (*v)(struct impl *im, int idx, int n, int flags);
	int (*value)(struct impl *im, int idx);
	int (*waiters)(struct impl *im, int idx);
};

/* Results are 0, a value, or -errno. */
static int kipc_op(struct impl *im, unsigned long cmd, int idx, int flags,
		   int val, int64_t timeout_ns)
{
	struct kipc_sem_op op = {
		.index = idx,
		.flags = flags,
		.value = val,
		.timeout_ns = timeout_ns,
	};

	return ioctl(im->fd, cmd, &op) ? -errno : 0;
}

static int kipc_open(struct impl *im)
{
	im->fd = open(SHM0, O_RDWR);
	return im->fd < 0 ? -errno : 0;
}

static int kipc_init(struct impl *im, int idx, int val)
{
	return kipc_op(im, KIPC_SEM_INIT, idx, 0, val, 0);
}

static int kipc_p(struct impl *im, int idx, int flags, int64_t timeout_ns)
{
	return kipc_op(im, KIPC_SEM_P, idx, flags, 0, timeout_ns);
}

static int kipc_v(struct impl *im, int idx, int n, int flags)
{
	return kipc_op(im, KIPC_SEM_V, idx, flags, n, 0);
}

static int kipc_get(struct impl *im, int idx, int waiters)
{
	struct kipc_sem_info info = { .index = idx };

	if (ioctl(im->fd, KIPC_SEM_GET, &info))
		return -errno;
	return waiters ? (int)info.waiters : (int)info.value;
}

static int kipc_value(struct impl *im, int idx)
{
	return kipc_get(im, idx, 0);
}

static int kipc_waiters(struct impl *im, int idx)
{
	return kipc_get(im, idx, 1);
}

static int sysv_open(struct impl *im)
{
	return 0;
}

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int sysv_init(struct impl *im, int idx, int val)
{
	union semun arg = { .val = val };

	return semctl(im->semid, idx, SETVAL, arg) ? -errno : 0;
}

static short sysv_flags(int flags)
{
	return (flags & KIPC_SEM_NOWAIT ? IPC_NOWAIT : 0) |
	       (flags & KIPC_SEM_UNDO ? SEM_UNDO : 0);
}

static int sysv_p(struct impl *im, int idx, int flags, int64_t timeout_ns)
{
	struct sembuf op = { .sem_num = idx, .sem_op = -1,
			     .sem_flg = sysv_flags(flags) };
	struct timespec ts = {
		.tv_sec = timeout_ns / 1000000000,
		.tv_nsec = timeout_ns % 1000000000,
	};

	if (!timeout_ns)
		return semop(im->semid, &op, 1) ? -errno : 0;
	return semtimedop(im->semid, &op, 1, &ts) ? -errno : 0;
}

static int sysv_v(struct impl *im, int idx, int n, int flags)
{
	struct sembuf op = { .sem_num = idx, .sem_op = n,
			     .sem_flg = sysv_flags(flags) };

	return semop(im->semid, &op, 1) ? -errno : 0;
}

static int sysv_value(struct impl *im, int idx)
{
	int r = semctl(im->semid, idx, GETVAL);

	return r < 0 ? -errno : r;
}

static int sysv_waiters(struct impl *im, int idx)
{
	int r = semctl(im->semid, idx, GETNCNT);

	return r < 0 ? -errno : r;
}

/* --- the script ------------------------------------------------------------ */

enum act {
	INIT,		/* idx = val */
	P,		/* idx, flags, timeout */
	V,		/* idx, val = n, flags */
	VALUE,		/* result: value of idx */
	WAITERS,	/* result: tasks waiting in P on idx */
	CHILD,		/* the next step runs in the helper process */
	CHILD_EXIT,	/* the helper exits: its UNDO records apply */
	SPAWN,		/* a waiter process: P(idx, flags, timeout) */
	AWAIT,		/* until val tasks wait on idx (polling) */
	SIGNAL,		/* SIGUSR1 to waiter val; waits for its handler */
	REAP,		/* val waiters finish: sum of 100 * id - errno */
};

/* Why kipc and SysV answer differently, when they do. */
enum diff {
	SAME,
	INIT_RANGE,	/* INIT above the maximum: EINVAL; SETVAL: ERANGE */
	BAD_INDEX,	/* kipc EINVAL; semop(2) EFBIG for sem_num >= nsems */
	TIMEOUT,	/* kipc (and sem_timedwait) ETIMEDOUT; semtimedop EAGAIN */
	ZERO_OP,	/* V of 0: EINVAL; sem_op 0 is SysV's wait-for-zero */
	RESTART,	/* untimed P restarts after SA_RESTART; semop(2) never */
};

/* Waiter flags for SPAWN: install a SIGUSR1 handler, with SA_RESTART. */
#define W_HANDLER	0x100
#define W_RESTART	0x200

struct step {
	enum act act;
	int idx;
	int val;
	int flags;
	int64_t timeout_ns;
	int kipc;		/* expected result on kipc */
	int sysv;		/* expected result on SysV */
	enum diff diff;
};

/* A step both give the same result r for. */
#define S(a, i, v, f, t, r) { a, i, v, f, t, r, r, SAME }
/* A named difference. */
#define D(a, i, v, f, t, rk, rs, d) { a, i, v, f, t, rk, rs, d }

#define NW KIPC_SEM_NOWAIT
#define UN KIPC_SEM_UNDO
#define MAXV KIPC_SEM_VALUE_MAX

static const struct step script[] = {
	/* INIT, P, V, values. */
	S(INIT, 0, 3, 0, 0, 0),
	S(VALUE, 0, 0, 0, 0, 3),
	S(P, 0, 0, NW, 0, 0),
	S(P, 0, 0, 0, 0, 0),
	S(P, 0, 0, NW, 0, 0),
	S(P, 0, 0, NW, 0, -EAGAIN),
	S(P, 0, 0, NW | UN, 0, -EAGAIN),
	S(V, 0, 2, 0, 0, 0),
	S(VALUE, 0, 0, 0, 0, 2),
	S(V, 0, 1, NW, 0, 0),
	S(VALUE, 0, 0, 0, 0, 3),
	/* The maximum. */
	S(INIT, 1, MAXV, 0, 0, 0),
	S(V, 1, 1, 0, 0, -ERANGE),
	S(VALUE, 1, 0, 0, 0, MAXV),
	S(INIT, 1, MAXV - 7, 0, 0, 0),
	S(V, 1, 8, 0, 0, -ERANGE),
	S(VALUE, 1, 0, 0, 0, MAXV - 7),
	S(V, 1, 7, 0, 0, 0),
	S(VALUE, 1, 0, 0, 0, MAXV),
	D(INIT, 2, MAXV + 1, 0, 0, -EINVAL, -ERANGE, INIT_RANGE),
	S(VALUE, 2, 0, 0, 0, 0),
	/* Bad index. */
	S(INIT, KIPC_SEM_NSEMS, 1, 0, 0, -EINVAL),
	D(P, KIPC_SEM_NSEMS, 0, NW, 0, -EINVAL, -EFBIG, BAD_INDEX),
	D(V, KIPC_SEM_NSEMS, 1, 0, 0, -EINVAL, -EFBIG, BAD_INDEX),
	S(VALUE, KIPC_SEM_NSEMS, 0, 0, 0, -EINVAL),
	/* Timeouts: a bad one, an expired one, one not needed. */
	S(P, 3, 0, 0, -1, -EINVAL),
	D(P, 3, 0, 0, 20 * MS, -ETIMEDOUT, -EAGAIN, TIMEOUT),
	S(WAITERS, 3, 0, 0, 0, 0),
	S(V, 3, 1, 0, 0, 0),
	S(P, 3, 0, 0, 20 * MS, 0),
	/* sem_op 0. */
	S(INIT, 6, 1, 0, 0, 0),
	D(V, 6, 0, NW, 0, -EINVAL, -EAGAIN, ZERO_OP),
	S(VALUE, 6, 0, 0, 0, 1),

	/* UNDO: P given back when the holder exits. */
	S(INIT, 4, 2, 0, 0, 0),
	S(CHILD, 0, 0, 0, 0, 0),
	S(P, 4, 0, UN, 0, 0),
	S(VALUE, 4, 0, 0, 0, 1),
	S(CHILD_EXIT, 0, 0, 0, 0, 0),
	S(VALUE, 4, 0, 0, 0, 2),
	/* V with UNDO taken back. */
	S(CHILD, 0, 0, 0, 0, 0),
	S(V, 4, 3, UN, 0, 0),
	S(VALUE, 4, 0, 0, 0, 5),
	S(CHILD_EXIT, 0, 0, 0, 0, 0),
	S(VALUE, 4, 0, 0, 0, 2),
	/* Taking back stops at 0. */
	S(CHILD, 0, 0, 0, 0, 0),
	S(V, 4, 2, UN, 0, 0),
	S(P, 4, 0, NW, 0, 0),
	S(P, 4, 0, NW, 0, 0),
	S(P, 4, 0, NW, 0, 0),
	S(CHILD_EXIT, 0, 0, 0, 0, 0),
	S(VALUE, 4, 0, 0, 0, 0),
	/* INIT (SETVAL) forgets the records. */
	S(INIT, 4, 1, 0, 0, 0),
	S(CHILD, 0, 0, 0, 0, 0),
	S(P, 4, 0, UN, 0, 0),
	S(INIT, 4, 5, 0, 0, 0),
	S(CHILD_EXIT, 0, 0, 0, 0, 0),
	S(VALUE, 4, 0, 0, 0, 5),
	/* Giving back stops at the maximum. */
	S(INIT, 4, 2, 0, 0, 0),
	S(CHILD, 0, 0, 0, 0, 0),
	S(P, 4, 0, UN, 0, 0),
	S(CHILD, 0, 0, 0, 0, 0),
	S(P, 4, 0, UN, 0, 0),
	S(V, 4, MAXV, 0, 0, 0),
	S(CHILD_EXIT, 0, 0, 0, 0, 0),
	S(VALUE, 4, 0, 0, 0, MAXV),
	/* A P with UNDO of the helper and one without cancel nothing. */
	S(INIT, 4, 1, 0, 0, 0),
	S(CHILD, 0, 0, 0, 0, 0),
	S(P, 4, 0, UN, 0, 0),
	S(CHILD, 0, 0, 0, 0, 0),
	S(V, 4, 1, 0, 0, 0),
	S(CHILD_EXIT, 0, 0, 0, 0, 0),
	S(VALUE, 4, 0, 0, 0, 2),

	/* Waiters: counted, woken one per unit, oldest first. */
	S(INIT, 5, 0, 0, 0, 0),
	S(SPAWN, 5, 0, 0, 0, 0),		/* waiter 0 */
	S(AWAIT, 5, 1, 0, 0, 0),
	S(SPAWN, 5, 0, 0, 0, 0),		/* waiter 1 */
	S(AWAIT, 5, 2, 0, 0, 0),
	S(SPAWN, 5, 0, 0, 60000 * MS, 0),	/* waiter 2, timed */
	S(AWAIT, 5, 3, 0, 0, 0),
	S(WAITERS, 5, 0, 0, 0, 3),
	S(V, 5, 1, 0, 0, 0),
	S(REAP, 0, 1, 0, 0, 0),
	S(WAITERS, 5, 0, 0, 0, 2),
	S(V, 5, 2, 0, 0, 0),
	S(REAP, 0, 2, 0, 0, 100 + 200),
	S(VALUE, 5, 0, 0, 0, 0),
	S(WAITERS, 5, 0, 0, 0, 0),
	S(SPAWN, 5, 0, 0, 0, 0),		/* waiter 3 */
	S(AWAIT, 5, 1, 0, 0, 0),
	S(V, 5, 3, 0, 0, 0),
	S(REAP, 0, 1, 0, 0, 300),
	S(VALUE, 5, 0, 0, 0, 2),
	S(WAITERS, 5, 0, 0, 0, 0),

	/* Signals: EINTR without SA_RESTART, and for timed waits. */
	S(INIT, 7, 0, 0, 0, 0),
	S(SPAWN, 7, 0, W_HANDLER, 0, 0),	/* waiter 4 */
	S(AWAIT, 7, 1, 0, 0, 0),
	S(SIGNAL, 0, 4, 0, 0, 0),
	S(REAP, 0, 1, 0, 0, 400 - EINTR),
	S(WAITERS, 7, 0, 0, 0, 0),
	S(SPAWN, 7, 0, W_HANDLER | W_RESTART, 60000 * MS, 0),	/* 5 */
	S(AWAIT, 7, 1, 0, 0, 0),
	S(SIGNAL, 0, 5, 0, 0, 0),
	S(REAP, 0, 1, 0, 0, 500 - EINTR),
	/*
	 * Untimed with SA_RESTART: kipc's P is restarted and takes the
	 * unit; semop(2) has failed by the time the handler ran.
	 */
	S(SPAWN, 7, 0, W_HANDLER | W_RESTART, 0, 0),	/* waiter 6 */
	S(AWAIT, 7, 1, 0, 0, 0),
	S(SIGNAL, 0, 6, 0, 0, 0),
	S(V, 7, 1, 0, 0, 0),
	D(REAP, 0, 1, 0, 0, 600, 600 - EINTR, RESTART),
	D(VALUE, 7, 0, 0, 0, 0, 1, RESTART),
	S(WAITERS, 7, 0, 0, 0, 0),
};

/* --- running it ------------------------------------------------------------ */

#define MAX_WAITERS 8

struct run {
	struct impl *im;
	pid_t helper;
	int cmd[2], res[2];	/* to and from the helper */
	pid_t waiters[MAX_WAITERS];
	int nwaiters;
	int done[2];		/* waiters report "id, errno" */
	int sigs[2];		/* waiters' handlers report */
	bool in_child;
};

static int sig_fd = -1;

static void on_sigusr1(int sig)
{
	char c = 's';

	if (write(sig_fd, &c, 1) != 1)
		_exit(91);
}

static int do_simple(struct impl *im, const struct step *s)
{
	switch (s->act) {
	case INIT:
		return im->init(im, s->idx, s->val);
	case P:
		return im->p(im, s->idx, s->flags, s->timeout_ns);
	case V:
		return im->v(im, s->idx, s->val, s->flags);
	case VALUE:
		return im->value(im, s->idx);
	case WAITERS:
		return im->waiters(im, s->idx);
	default:
		return -ENOSYS;
	}
}

/* The helper: its own open file (kipc) and its own UNDO list (SysV). */
static void helper_main(struct run *r)
{
	struct step s;
	int ret;

	/* Our own copy of the write end would hide the parent's EOF. */
	close(r->cmd[1]);
	close(r->res[0]);
	if (r->im->open(r->im))
		_exit(1);
	while (read(r->cmd[0], &s, sizeof(s)) == sizeof(s)) {
		ret = do_simple(r->im, &s);
		if (write(r->res[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(2);
	}
	_exit(0);
}

static int in_helper(struct run *r, const struct step *s)
{
	int ret;

	if (!r->helper) {
		if (pipe(r->cmd) || pipe(r->res))
			return -errno;
		r->helper = fork();
		if (r->helper < 0)
			return -errno;
		if (r->helper == 0)
			helper_main(r);
		close(r->cmd[0]);
		close(r->res[1]);
	}
	if (write(r->cmd[1], s, sizeof(*s)) != sizeof(*s) ||
	    read(r->res[0], &ret, sizeof(ret)) != sizeof(ret))
		return -EPIPE;
	return ret;
}

static int helper_exit(struct run *r)
{
	int status;

	if (!r->helper)
		return -ESRCH;
	close(r->cmd[1]);
	close(r->res[0]);
	if (waitpid(r->helper, &status, 0) != r->helper)
		return -errno;
	r->helper = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}

static int spawn(struct run *r, const struct step *s)
{
	int id = r->nwaiters;
	pid_t pid;

	if (id == MAX_WAITERS)
		return -ENOSPC;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int msg[2] = { id };

		if (r->helper) {
			close(r->cmd[1]);
			close(r->res[0]);
		}

		if (s->flags & W_HANDLER) {
			struct sigaction sa = { .sa_handler = on_sigusr1 };

			sa.sa_flags = s->flags & W_RESTART ? SA_RESTART : 0;
			sig_fd = r->sigs[1];
			sigaction(SIGUSR1, &sa, NULL);
		}
		msg[1] = r->im->p(r->im, s->idx, s->flags & 0xff,
				  s->timeout_ns);
		_exit(write(r->done[1], msg, sizeof(msg)) == sizeof(msg) ?
		      0 : 1);
	}
	r->waiters[r->nwaiters++] = pid;
	return 0;
}

static int await(struct run *r, const struct step *s)
{
	int i;

	for (i = 0; i < 20000; i++) {
		if (r->im->waiters(r->im, s->idx) == s->val)
			return 0;
		usleep(1000);
	}
	return -ETIME;
}

static int signal_waiter(struct run *r, const struct step *s)
{
	char c;

	if (s->val >= r->nwaiters || kill(r->waiters[s->val], SIGUSR1))
		return -ESRCH;
	return read(r->sigs[0], &c, 1) == 1 ? 0 : -EPIPE;
}

/* The order of several woken at once is the scheduler's: sum them. */
static int reap(struct run *r, const struct step *s)
{
	int msg[2], sum = 0, i;

	for (i = 0; i < s->val; i++) {
		if (read(r->done[0], msg, sizeof(msg)) != sizeof(msg))
			return -EPIPE;
		if (waitpid(r->waiters[msg[0]], NULL, 0) < 0)
			return -errno;
		r->waiters[msg[0]] = 0;
		sum += 100 * msg[0] + msg[1];
	}
	return sum;
}

static int do_step(struct run *r, const struct step *s)
{
	if (r->in_child && s->act <= WAITERS) {
		r->in_child = false;
		return in_helper(r, s);
	}
	switch (s->act) {
	case CHILD:
		r->in_child = true;
		return 0;
	case CHILD_EXIT:
		return helper_exit(r);
	case SPAWN:
		return spawn(r, s);
	case AWAIT:
		return await(r, s);
	case SIGNAL:
		return signal_waiter(r, s);
	case REAP:
		return reap(r, s);
	default:
		return do_simple(r->im, s);
	}
}

/* Runs the script; results[i] is step i's.  0 or -errno of the setup. */
static int run_script(struct impl *im, int *results)
{
	struct run r = { .im = im };
	size_t i;

	if (pipe(r.done) || pipe(r.sigs))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(script); i++)
		results[i] = do_step(&r, &script[i]);
	if (r.helper)
		helper_exit(&r);
	/* Any left over means a step failed: do not leave them behind. */
	for (i = 0; i < (size_t)r.nwaiters; i++) {
		if (!r.waiters[i])
			continue;
		kill(r.waiters[i], SIGKILL);
		waitpid(r.waiters[i], NULL, 0);
	}
	close(r.done[0]);
	close(r.done[1]);
	close(r.sigs[0]);
	close(r.sigs[1]);
	return 0;
}

static const char *const diff_names[] = {
	[SAME] = "same",
	[INIT_RANGE] = "INIT_RANGE",
	[BAD_INDEX] = "BAD_INDEX",
	[TIMEOUT] = "TIMEOUT",
	[ZERO_OP] = "ZERO_OP",
	[RESTART] = "RESTART",
};

FIXTURE(diff) {
	struct impl kipc, sysv;
};

FIXTURE_SETUP(diff)
{
	int i;

	self->kipc = (struct impl){
		.name = "kipc", .open = kipc_open, .init = kipc_init,
		.p = kipc_p, .v = kipc_v, .value = kipc_value,
		.waiters = kipc_waiters,
	};
	self->sysv = (struct impl){
		.name = "sysv", .open = sysv_open, .init = sysv_init,
		.p = sysv_p, .v = sysv_v, .value = sysv_value,
		.waiters = sysv_waiters,
	};
	ASSERT_EQ(0, kipc_open(&self->kipc));
	for (i = 0; i < KIPC_SEM_NSEMS; i++)
		ASSERT_EQ(0, kipc_init(&self->kipc, i, 0));
	self->sysv.semid = semget(IPC_PRIVATE, KIPC_SEM_NSEMS, 0600);
	ASSERT_LE(0, self->sysv.semid);
}

FIXTURE_TEARDOWN(diff)
{
	close(self->kipc.fd);
	semctl(self->sysv.semid, 0, IPC_RMID);
}

/* The script's own sanity: a SAME step expects one result. */
TEST_F(diff, script_consistent)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(script); i++) {
		const struct step *s = &script[i];

		if (s->diff == SAME) {
			EXPECT_EQ(s->kipc, s->sysv) TH_LOG("step %zu", i);
		} else {
			EXPECT_NE(s->kipc, s->sysv) TH_LOG("step %zu", i);
		}
	}
}

TEST_F_TIMEOUT(diff, script, 120)
{
	int kres[ARRAY_SIZE(script)], sres[ARRAY_SIZE(script)];
	size_t i;

	ASSERT_EQ(0, run_script(&self->kipc, kres));
	ASSERT_EQ(0, run_script(&self->sysv, sres));
	for (i = 0; i < ARRAY_SIZE(script); i++) {
		const struct step *s = &script[i];

		EXPECT_EQ(s->kipc, kres[i])
			TH_LOG("kipc: step %zu (act %d idx %d val %d)", i,
			       s->act, s->idx, s->val);
		EXPECT_EQ(s->sysv, sres[i])
			TH_LOG("sysv: step %zu (act %d idx %d val %d)", i,
			       s->act, s->idx, s->val);
		if (s->diff != SAME && kres[i] != sres[i])
			TH_LOG("step %zu: intended difference %s: kipc %d, SysV %d",
			       i, diff_names[s->diff], kres[i], sres[i]);
	}
}

/* The TIMEOUT difference, with POSIX semaphores as the third witness. */
TEST_F(diff, timeout_errno)
{
	struct timespec abs;
	sem_t sem;

	ASSERT_EQ(0, sem_init(&sem, 0, 0));
	EXPECT_EQ(-1, sem_trywait(&sem));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-EAGAIN, kipc_p(&self->kipc, 3, KIPC_SEM_NOWAIT, 0));
	EXPECT_EQ(-EAGAIN, sysv_p(&self->sysv, 3, KIPC_SEM_NOWAIT, 0));

	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &abs));
	abs.tv_nsec += 20 * MS;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	EXPECT_EQ(-1, sem_timedwait(&sem, &abs));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(-ETIMEDOUT, kipc_p(&self->kipc, 3, 0, 20 * MS));
	EXPECT_EQ(-EAGAIN, sysv_p(&self->sysv, 3, 0, 20 * MS));
	sem_destroy(&sem);
}

TEST_HARNESS_MAIN
