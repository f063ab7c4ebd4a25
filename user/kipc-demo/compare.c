// SPDX-License-Identifier: GPL-2.0
/*
 * Section 7, comparison: the notes' table (lifetime, length, direction,
 * copies, timeliness), then a quick measured figure for each row: the
 * mean round trip of a 64-byte ping-pong between a parent and a child.
 * A rough figure, for scale only: kipc-bench does the real measuring.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/socket.h>

#include <linux/kipc.h>

#include "demo.h"

#define MSG_SIZE	64
#define MAX_ROUNDS	2000
#define WARMUP		5
#define BUDGET_NS	250000000ull	/* per mechanism */

/* dir: TO_CHILD (ping) or TO_PARENT (pong) */
enum { TO_CHILD, TO_PARENT };

struct shm_area {
	sem_t sem[2];
	char buf[2][MSG_SIZE];
};

struct chan;

struct chan_ops {
	const char *row;
	const char *label;
	size_t size;		/* bytes per message */
	bool (*setup)(struct chan *c);
	void (*child_init)(struct chan *c);
	void (*parent_init)(struct chan *c);
	int (*send)(struct chan *c, int dir, const char *buf);
	int (*recv)(struct chan *c, int dir, char *buf);
	void (*teardown)(struct chan *c);
};

struct chan {
	const struct chan_ops *o;
	size_t size;
	int fd[4];
	int id;
	mqd_t mq[2];
	struct shm_area *area;
	size_t maplen;
	pid_t peer;
};

/* --- pipe(2) and kipc pipes: fd[0..1] the ping pipe, fd[2..3] the pong --- */

static bool pipes_setup(struct chan *c)
{
	if (pipe2(c->fd, O_CLOEXEC) < 0 || pipe2(c->fd + 2, O_CLOEXEC) < 0) {
		fail_errno("pipe");
		return false;
	}
	return true;
}

static void pipes_child(struct chan *c)
{
	close_fd(&c->fd[1]);
	close_fd(&c->fd[2]);
}

static void pipes_parent(struct chan *c)
{
	close_fd(&c->fd[0]);
	close_fd(&c->fd[3]);
}

static int fd_send(struct chan *c, int dir, const char *buf)
{
	int fd = dir == TO_CHILD ? c->fd[1] : c->fd[3];

	return write_all(fd, buf, c->size) == (ssize_t)c->size ? 0 : -1;
}

static int fd_recv(struct chan *c, int dir, char *buf)
{
	int fd = dir == TO_CHILD ? c->fd[0] : c->fd[2];

	return read_full(fd, buf, c->size) == (ssize_t)c->size ? 0 : -1;
}

static void fds_teardown(struct chan *c)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		close_fd(&c->fd[i]);
}

/* pipe0 carries the ping, pipe1 the pong; each side opens its ends. */
static bool kpipes_setup(struct chan *c)
{
	(void)c;
	return kipc_usable("pipe0") && kipc_usable("pipe1");
}

static void kpipes_child(struct chan *c)
{
	/* In the parent's order, or the FIFO opens would wait for ever. */
	c->fd[0] = open(kipc_path("pipe0"), O_RDONLY | O_CLOEXEC);
	c->fd[3] = open(kipc_path("pipe1"), O_WRONLY | O_CLOEXEC);
}

static void kpipes_parent(struct chan *c)
{
	/*
	 * Without a reader a non-blocking writer's open fails (ENXIO):
	 * retry until the child has opened its end, or has died trying.
	 */
	for (;;) {
		c->fd[1] = open(kipc_path("pipe0"), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->fd[1] >= 0 || errno != ENXIO || child_exited(c->peer))
			break;
		sleep_ms(1);
	}
	if (c->fd[1] < 0 || fcntl(c->fd[1], F_SETFL, 0) < 0) {
		close_fd(&c->fd[1]);
		return;
	}
	c->fd[2] = open(kipc_path("pipe1"), O_RDONLY | O_CLOEXEC);
}

static int kpipe_send(struct chan *c, int dir, const char *buf)
{
	return fd_send(c, dir, buf);
}

static int kpipe_recv(struct chan *c, int dir, char *buf)
{
	return fd_recv(c, dir, buf);
}

/* --- SysV msg: one queue, type 1 to the child, 2 back --------------------- */

struct sysv_msg {
	long mtype;
	char mtext[MSG_SIZE];
};

static bool sysv_msg_setup(struct chan *c)
{
	c->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (c->id < 0) {
		fail_errno("msgget");
		return false;
	}
	track_msg(c->id);
	return true;
}

static int sysv_msg_send(struct chan *c, int dir, const char *buf)
{
	struct sysv_msg m = { .mtype = dir + 1 };

	memcpy(m.mtext, buf, c->size);
	return msgsnd(c->id, &m, c->size, 0);
}

static int sysv_msg_recv(struct chan *c, int dir, char *buf)
{
	struct sysv_msg m;

	if (msgrcv(c->id, &m, c->size, dir + 1, 0) != (ssize_t)c->size)
		return -1;
	memcpy(buf, m.mtext, c->size);
	return 0;
}

/* --- POSIX mq: two queues ------------------------------------------------- */

static bool posix_mq_setup(struct chan *c)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = MSG_SIZE };
	const char *name;
	int i;

	for (i = 0; i < 2; i++) {
		name = ipc_name("mq");
		c->mq[i] = mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
				   0600, &attr);
		if (c->mq[i] == (mqd_t)-1) {
			fail_errno("mq_open");
			return false;
		}
		track_mq(name);
	}
	return true;
}

static int posix_mq_send(struct chan *c, int dir, const char *buf)
{
	return mq_send(c->mq[dir], buf, c->size, 0);
}

static int posix_mq_recv(struct chan *c, int dir, char *buf)
{
	return mq_receive(c->mq[dir], buf, MSG_SIZE, NULL) == (ssize_t)c->size ? 0 : -1;
}

static void posix_mq_teardown(struct chan *c)
{
	int i;

	for (i = 0; i < 2; i++)
		if (c->mq[i] != (mqd_t)-1)
			mq_close(c->mq[i]);
}

/* --- kipc mq0: one queue, types as SysV --------------------------------- */

static bool kmq_setup(struct chan *c)
{
	c->fd[0] = kipc_open("mq0", O_RDWR);
	if (c->fd[0] < 0)
		return false;
	if (ioctl(c->fd[0], KIPC_MQ_FLUSH) < 0) {
		fail_errno("KIPC_MQ_FLUSH");
		return false;
	}
	return true;
}

static int kmq_send(struct chan *c, int dir, const char *buf)
{
	struct kipc_mq_msg m = {
		.type = dir + 1, .buf = (uintptr_t)buf, .len = c->size
	};

	return ioctl(c->fd[0], KIPC_MQ_SEND, &m);
}

static int kmq_recv(struct chan *c, int dir, char *buf)
{
	struct kipc_mq_msg m = {
		.type = dir + 1, .buf = (uintptr_t)buf, .len = c->size
	};

	if (ioctl(c->fd[0], KIPC_MQ_RECV, &m) < 0)
		return -1;
	return m.len == c->size ? 0 : -1;
}

/* --- shared memory + a semaphore per direction ---------------------------- */

static bool shm_map(struct chan *c, int fd)
{
	c->maplen = sysconf(_SC_PAGESIZE);
	c->area = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE,
		       fd < 0 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED, fd, 0);
	if (c->area == MAP_FAILED) {
		c->area = NULL;
		fail_errno("mmap");
		return false;
	}
	return true;
}

static void shm_teardown(struct chan *c)
{
	if (c->area)
		munmap(c->area, c->maplen);
	c->area = NULL;
	fds_teardown(c);
}

static bool psem_setup(struct chan *c)
{
	if (!shm_map(c, -1))
		return false;
	if (sem_init(&c->area->sem[0], 1, 0) < 0 || sem_init(&c->area->sem[1], 1, 0) < 0) {
		fail_errno("sem_init");
		return false;
	}
	return true;
}

static int psem_send(struct chan *c, int dir, const char *buf)
{
	memcpy(c->area->buf[dir], buf, c->size);
	return sem_post(&c->area->sem[dir]);
}

static int psem_recv(struct chan *c, int dir, char *buf)
{
	while (sem_wait(&c->area->sem[dir]) < 0)
		if (errno != EINTR)
			return -1;
	memcpy(buf, c->area->buf[dir], c->size);
	return 0;
}

static bool ssem_setup(struct chan *c)
{
	if (!shm_map(c, -1))
		return false;
	c->id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	if (c->id < 0) {
		fail_errno("semget");
		return false;
	}
	track_sem(c->id);
	return true;
}

static int ssem_send(struct chan *c, int dir, const char *buf)
{
	struct sembuf op = { (unsigned short)dir, 1, 0 };

	memcpy(c->area->buf[dir], buf, c->size);
	return semop(c->id, &op, 1);
}

static int ssem_recv(struct chan *c, int dir, char *buf)
{
	struct sembuf op = { (unsigned short)dir, -1, 0 };

	if (semop(c->id, &op, 1) < 0)
		return -1;
	memcpy(buf, c->area->buf[dir], c->size);
	return 0;
}

static bool ksem_setup(struct chan *c)
{
	struct kipc_sem_op op = { .value = 0 };

	c->fd[0] = kipc_open("shm0", O_RDWR);
	if (c->fd[0] < 0 || !shm_map(c, c->fd[0]))
		return false;
	for (op.index = 0; op.index < 2; op.index++) {
		if (ioctl(c->fd[0], KIPC_SEM_INIT, &op) < 0) {
			fail_errno("KIPC_SEM_INIT");
			return false;
		}
	}
	return true;
}

static int ksem_send(struct chan *c, int dir, const char *buf)
{
	struct kipc_sem_op op = { .index = dir, .value = 1 };

	memcpy(c->area->buf[dir], buf, c->size);
	return ioctl(c->fd[0], KIPC_SEM_V, &op);
}

static int ksem_recv(struct chan *c, int dir, char *buf)
{
	struct kipc_sem_op op = { .index = dir, .value = 1 };

	if (ioctl(c->fd[0], KIPC_SEM_P, &op) < 0)
		return -1;
	memcpy(buf, c->area->buf[dir], c->size);
	return 0;
}

/* --- a signal each way: sigqueue() carries 4 bytes ----------------------- */

static bool sig_setup(struct chan *c)
{
	sigset_t set;

	(void)c;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* Taken synchronously with sigwaitinfo(): it must stay pending. */
	return sigprocmask(SIG_BLOCK, &set, NULL) == 0;
}

static void sig_child(struct chan *c)
{
	sig_setup(c);
	c->peer = getppid();
}

static int sig_send(struct chan *c, int dir, const char *buf)
{
	union sigval v;

	(void)dir;
	memcpy(&v.sival_int, buf, sizeof(int));
	return sigqueue(c->peer, SIGUSR1, v);
}

static int sig_recv(struct chan *c, int dir, char *buf)
{
	siginfo_t si;
	sigset_t set;

	(void)c;
	(void)dir;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigwaitinfo(&set, &si) < 0)
		if (errno != EINTR)
			return -1;
	memcpy(buf, &si.si_value.sival_int, sizeof(int));
	return 0;
}

static void sig_teardown(struct chan *c)
{
	sigset_t set;
	siginfo_t si;
	struct timespec zero = { 0, 0 };

	(void)c;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigtimedwait(&set, &si, &zero) > 0)
		;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* --- sockets: fd[0] ours, fd[1] the child's ------------------------------ */

static bool unix_setup(struct chan *c)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) < 0) {
		fail_errno("socketpair");
		return false;
	}
	return true;
}

static bool tcp_setup(struct chan *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int ls, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c->fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || c->fd[1] < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&sa, &len) < 0 ||
	    connect(c->fd[1], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail_errno("TCP on 127.0.0.1");
		if (ls >= 0)
			close(ls);
		return false;
	}
	c->fd[0] = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	close(ls);
	if (c->fd[0] < 0) {
		fail_errno("accept");
		return false;
	}
	/* A ping-pong of small writes: do not wait to fill a segment. */
	setsockopt(c->fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return true;
}

static void sock_child(struct chan *c)
{
	close_fd(&c->fd[0]);
}

static void sock_parent(struct chan *c)
{
	close_fd(&c->fd[1]);
}

static int sock_send(struct chan *c, int dir, const char *buf)
{
	return write_all(c->fd[dir == TO_CHILD ? 0 : 1], buf, c->size) ==
	       (ssize_t)c->size ? 0 : -1;
}

static int sock_recv(struct chan *c, int dir, char *buf)
{
	return read_full(c->fd[dir == TO_CHILD ? 1 : 0], buf, c->size) ==
	       (ssize_t)c->size ? 0 : -1;
}

/* --- the ping-pong -------------------------------------------------------- */

struct echo_arg {
	struct chan *c;
	struct gate ready;
};

static int echo(void *arg)
{
	struct echo_arg *e = arg;
	struct chan *c = e->c;
	char buf[MSG_SIZE];

	if (c->o->child_init)
		c->o->child_init(c);
	gate_post(&e->ready);
	for (;;) {
		if (c->o->recv(c, TO_CHILD, buf) < 0)
			return 1;
		/* A negative first int says stop. */
		if ((signed char)buf[3] < 0)
			return 0;
		if (c->o->send(c, TO_PARENT, buf) < 0)
			return 2;
	}
}

/* Mean round trip in ns, 0 after a failure (reported). */
static uint64_t ping_pong(struct chan *c, unsigned int *rounds)
{
	struct echo_arg e = { c, { { -1, -1 } } };
	char out[MSG_SIZE], in[MSG_SIZE];
	uint64_t start = 0, end;
	unsigned int i, bad = 0;
	int n = 0, io = 0;
	pid_t pid;

	*rounds = 0;
	if (gate_init(&e.ready) < 0)
		return 0;
	pid = spawn(echo, &e);
	if (pid < 0)
		goto out;
	c->peer = pid;
	if (c->o->parent_init)
		c->o->parent_init(c);
	if (gate_wait_from(&e.ready, pid) < 0) {
		kill_child(pid);
		goto out;
	}
	memset(out, 0x5a, sizeof(out));
	for (i = 0; i < WARMUP + MAX_ROUNDS; i++) {
		if (i == WARMUP)
			start = now_ns();
		if (i > WARMUP && now_ns() - start > BUDGET_NS)
			break;
		/* The round number, so a stale or lost message shows. */
		n = (int)i;
		memcpy(out, &n, sizeof(n));
		if (c->size > sizeof(n))
			out[sizeof(n)] = (char)i;
		if (c->o->send(c, TO_CHILD, out) < 0 || c->o->recv(c, TO_PARENT, in) < 0) {
			io = errno ?: EIO;
			break;
		}
		bad += memcmp(in, out, c->size) != 0;
	}
	end = now_ns();
	*rounds = i > WARMUP ? i - WARMUP : 0;
	n = -1;
	memcpy(out, &n, sizeof(n));
	if (!io)
		c->o->send(c, TO_CHILD, out);
	if (io || bad) {
		kill_child(pid);
		if (io)
			out_fail("%s: round %u failed: %s", c->o->label, i, strerror(io));
		else
			out_fail("%s: %u of %u replies differed from what was sent",
				 c->o->label, bad, i);
		*rounds = 0;
		goto out;
	}
	if (!wait_ok(pid, c->o->label))
		*rounds = 0;
out:
	gate_close(&e.ready);
	return *rounds ? (end - start) / *rounds : 0;
}

static const struct chan_ops chans[] = {
	{ "pipe", "pipe(2), one each way", MSG_SIZE, pipes_setup, pipes_child,
	  pipes_parent, fd_send, fd_recv, fds_teardown },
	{ "pipe", "/dev/kipc/pipe0 + pipe1", MSG_SIZE, kpipes_setup, kpipes_child,
	  kpipes_parent, kpipe_send, kpipe_recv, fds_teardown },
	{ "msg queue", "SysV msg, one queue", MSG_SIZE, sysv_msg_setup, NULL, NULL,
	  sysv_msg_send, sysv_msg_recv, NULL },
	{ "msg queue", "POSIX mq, two queues", MSG_SIZE, posix_mq_setup, NULL, NULL,
	  posix_mq_send, posix_mq_recv, posix_mq_teardown },
	{ "msg queue", "/dev/kipc/mq0, one queue", MSG_SIZE, kmq_setup, NULL, NULL,
	  kmq_send, kmq_recv, fds_teardown },
	{ "shm + sem", "shm + POSIX sem_t", MSG_SIZE, psem_setup, NULL, NULL,
	  psem_send, psem_recv, shm_teardown },
	{ "shm + sem", "shm + SysV semop", MSG_SIZE, ssem_setup, NULL, NULL,
	  ssem_send, ssem_recv, shm_teardown },
	{ "shm + sem", "/dev/kipc/shm0 + KIPC_SEM", MSG_SIZE, ksem_setup, NULL, NULL,
	  ksem_send, ksem_recv, shm_teardown },
	{ "signal", "sigqueue + sigwaitinfo (4 B)", sizeof(int), sig_setup, sig_child,
	  NULL, sig_send, sig_recv, sig_teardown },
	{ "socket", "unix stream socketpair", MSG_SIZE, unix_setup, sock_child,
	  sock_parent, sock_send, sock_recv, fds_teardown },
	{ "socket", "TCP on 127.0.0.1", MSG_SIZE, tcp_setup, sock_child, sock_parent,
	  sock_send, sock_recv, fds_teardown },
};

static const char *const notes[][6] = {
	{ "mechanism", "lifetime", "length", "direction", "copies", "timeliness" },
	{ "pipe", "its processes", "byte stream", "one-way", "2", "reader wakes" },
	{ "msg queue", "until removed", "units <= 8 KiB", "both (by type)", "2", "weaker" },
	{ "shm + sem", "until removed", "the region", "both", "0", "needs the sem" },
	{ "signal", "until delivered", "a number (+int)", "one-way", "-", "asynchronous" },
	{ "socket", "its processes", "stream or dgram", "both, hosts", "2", "reader wakes" },
};

void demo_compare(void)
{
	unsigned int i, rounds, measured = 0;
	int cpu = first_cpu();
	cpu_set_t saved;
	bool pinned;
	uint64_t ns;

	out_say("The notes compare the mechanisms on five points. Lifetime: a pipe or");
	out_say("socket dies with the processes holding it, a queue or shm segment lives");
	out_say("until removed. Copies: user -> kernel -> user, except shared memory.");
	out_part("the notes' table");
	for (i = 0; i < ARRAY_SIZE(notes); i++)
		out_row("%s%-10s %-16s %-16s %-15s %-6s %s%s", i ? "" : col_bold(),
			notes[i][0], notes[i][1], notes[i][2], notes[i][3],
			notes[i][4], notes[i][5], i ? "" : col_off());

	out_part("measured: mean round trip of a %d-byte ping-pong, parent <-> child", MSG_SIZE);
	out_say("At most %d rounds or %llu ms each; every reply is checked against what was sent.",
		MAX_ROUNDS, BUDGET_NS / 1000000);
	/*
	 * Both ends on one CPU: each round is then two plain context
	 * switches, comparable from row to row, with no cross-CPU wake-up.
	 */
	pinned = sched_getaffinity(0, sizeof(saved), &saved) == 0 && pin_to_cpu(cpu) == 0;
	if (pinned)
		out_say("Parent and child both run on CPU %d: each round is two context switches.",
			cpu);
	out_row("%s%-10s %-30s %12s %7s%s", col_bold(), "row", "mechanism", "round trip",
		"rounds", col_off());
	for (i = 0; i < ARRAY_SIZE(chans); i++) {
		struct chan chan = { .o = &chans[i], .size = chans[i].size };
		struct chan *c = &chan;

		c->fd[0] = c->fd[1] = c->fd[2] = c->fd[3] = -1;
		c->id = -1;
		c->mq[0] = c->mq[1] = (mqd_t)-1;
		c->area = NULL;
		if (c->o->setup(c)) {
			ns = ping_pong(c, &rounds);
			if (rounds) {
				out_row("%-10s %-30s %9.1f us %7u", c->o->row, c->o->label,
					ns / 1000.0, rounds);
				measured++;
			}
		}
		if (c->o->teardown)
			c->o->teardown(c);
	}
	if (pinned)
		sched_setaffinity(0, sizeof(saved), &saved);
	check(measured > 0, "%u mechanisms measured, every reply as sent", measured);
	out_note("a rough figure from one short run; kipc-bench measures properly");
}
