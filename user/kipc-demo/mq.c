// SPDX-License-Identifier: GPL-2.0
/*
 * Section 2, message queue: SysV msgsnd/msgrcv, POSIX mq and
 * /dev/kipc/mq0 side by side.  User-defined types and selection by type,
 * a message outliving its sender, one queue for both directions (type =
 * pid), the size limits, and the queue driven from io_uring (many typed
 * messages in one system call), which SysV cannot be.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include <liburing.h>
#include <linux/kipc.h>

#include "demo.h"

enum qkind { Q_SYSV, Q_POSIX, Q_KIPC };

/* One queue of any kind, with the operations the section needs. */
struct q {
	enum qkind kind;
	const char *label;
	int id;			/* SysV */
	mqd_t mqd;		/* POSIX */
	const char *name;	/* POSIX */
	int fd;			/* kipc */
};

#define RF_NOWAIT 0x1
#define RF_EXCEPT 0x2

/* Big enough for any message the section sends, limit tests included. */
#define BUF_MAX (64 * 1024)

struct sysv_msg {
	long mtype;
	char mtext[BUF_MAX];
};

static struct sysv_msg sysv_buf;

static int q_send(struct q *q, long type, const void *buf, size_t len)
{
	struct kipc_mq_msg m;

	switch (q->kind) {
	case Q_SYSV:
		if (len > sizeof(sysv_buf.mtext)) {
			errno = EINVAL;
			return -1;
		}
		sysv_buf.mtype = type;
		memcpy(sysv_buf.mtext, buf, len);
		return msgsnd(q->id, &sysv_buf, len, IPC_NOWAIT);
	case Q_POSIX:
		return mq_send(q->mqd, buf, len, type);
	case Q_KIPC:
		memset(&m, 0, sizeof(m));
		m.type = type;
		m.buf = (uintptr_t)buf;
		m.len = len;
		m.flags = KIPC_MQ_NOWAIT;
		return ioctl(q->fd, KIPC_MQ_SEND, &m);
	}
	return -1;
}

/* Returns the length received and sets *type, or -1 with errno. */
static ssize_t q_recv(struct q *q, long sel, unsigned int rf, long *type,
		      void *buf, size_t len)
{
	struct kipc_mq_msg m;
	unsigned int prio;
	ssize_t n;
	int flags;

	switch (q->kind) {
	case Q_SYSV:
		flags = (rf & RF_NOWAIT ? IPC_NOWAIT : 0) |
			(rf & RF_EXCEPT ? MSG_EXCEPT : 0);
		if (len > sizeof(sysv_buf.mtext))
			len = sizeof(sysv_buf.mtext);
		n = msgrcv(q->id, &sysv_buf, len, sel, flags);
		if (n >= 0) {
			*type = sysv_buf.mtype;
			memcpy(buf, sysv_buf.mtext, n);
		}
		return n;
	case Q_POSIX:
		n = mq_receive(q->mqd, buf, len, &prio);
		if (n >= 0)
			*type = prio;
		return n;
	case Q_KIPC:
		memset(&m, 0, sizeof(m));
		m.type = sel;
		m.buf = (uintptr_t)buf;
		m.len = len;
		m.flags = (rf & RF_NOWAIT ? KIPC_MQ_NOWAIT : 0) |
			  (rf & RF_EXCEPT ? KIPC_MQ_EXCEPT : 0);
		if (ioctl(q->fd, KIPC_MQ_RECV, &m) < 0)
			return -1;
		*type = m.type;
		return m.len;
	}
	return -1;
}

static bool open_sysv(struct q *q)
{
	q->kind = Q_SYSV;
	q->label = "SysV msg";
	q->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q->id < 0) {
		fail_errno("msgget");
		return false;
	}
	track_msg(q->id);
	return true;
}

static bool open_posix(struct q *q, long msgsize)
{
	struct mq_attr attr = { .mq_maxmsg = 8, .mq_msgsize = msgsize };

	q->kind = Q_POSIX;
	q->label = "POSIX mq";
	q->name = ipc_name("mq");
	q->mqd = mq_open(q->name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600,
			 &attr);
	if (q->mqd == (mqd_t)-1) {
		fail_errno("mq_open");
		return false;
	}
	track_mq(q->name);
	return true;
}

static bool open_kipc(struct q *q, int flags)
{
	q->kind = Q_KIPC;
	q->label = "kipc mq0";
	q->fd = kipc_open("mq0", flags);
	if (q->fd < 0)
		return false;
	/* The device lives as long as the module: start from empty. */
	if (ioctl(q->fd, KIPC_MQ_FLUSH) < 0) {
		fail_errno("KIPC_MQ_FLUSH");
		close_fd(&q->fd);
		return false;
	}
	return true;
}

static void close_q(struct q *q)
{
	switch (q->kind) {
	case Q_SYSV:
		/* Removed by cleanup_ipc() at the end of the section. */
		break;
	case Q_POSIX:
		if (q->mqd != (mqd_t)-1)
			mq_close(q->mqd);
		q->mqd = (mqd_t)-1;
		break;
	case Q_KIPC:
		close_fd(&q->fd);
		break;
	}
}

/* --- types and selection ------------------------------------------------- */

static const struct {
	long type;
	const char *text;
} fruit[] = {
	{ 1, "apple" }, { 2, "bread" }, { 3, "cheese" }, { 2, "butter" },
	{ 1, "cider" },
};

static const struct {
	const char *label;
	long sel;
	unsigned int rf;
	long want_type;		/* 0: want ENOMSG */
	const char *want;
} picks[] = {
	{ "type 3", 3, RF_NOWAIT, 3, "cheese" },
	{ "type -2 (lowest <= 2)", -2, RF_NOWAIT, 1, "apple" },
	{ "type 2 + EXCEPT", 2, RF_NOWAIT | RF_EXCEPT, 1, "cider" },
	{ "type 2", 2, RF_NOWAIT, 2, "bread" },
	{ "type 0 (first)", 0, RF_NOWAIT, 2, "butter" },
	{ "type 0, NOWAIT", 0, RF_NOWAIT, 0, NULL },
};

static bool fill(struct q *q)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fruit); i++) {
		if (q_send(q, fruit[i].type, fruit[i].text,
			   strlen(fruit[i].text)) < 0) {
			out_fail("%s: send type %ld: %s", q->label,
				 fruit[i].type, strerror(errno));
			return false;
		}
	}
	return true;
}

/* One receive as a table cell; returns whether it was the expected one. */
static bool pick(struct q *q, unsigned int i, char *cell, size_t size)
{
	char buf[64];
	long type = 0;
	ssize_t n;

	n = q_recv(q, picks[i].sel, picks[i].rf, &type, buf, sizeof(buf));
	if (n < 0) {
		snprintf(cell, size, "%s", errno_name(errno));
		return !picks[i].want_type && errno == ENOMSG;
	}
	snprintf(cell, size, "%ld \"%.*s\"", type, (int)n, buf);
	return picks[i].want_type == type &&
	       (size_t)n == strlen(picks[i].want) &&
	       !memcmp(buf, picks[i].want, n);
}

static void types(void)
{
	struct q sv = { .id = -1 }, px = { .mqd = (mqd_t)-1 }, kq = { .fd = -1 };
	char cs[32], ck[32], order[96];
	bool have_k, good = true;
	unsigned int i, bad;
	size_t used = 0;
	long type;
	ssize_t n;
	char buf[64];

	out_part("user-defined types, selection by type");
	out_say("The message type is a number the program chooses. Sent in this order:");
	for (i = 0; i < ARRAY_SIZE(fruit); i++)
		used += snprintf(order + used, sizeof(order) - used, "%s%ld \"%s\"",
				 i ? ", " : "", fruit[i].type, fruit[i].text);
	out_say("  %s", order);
	out_say("msgrcv() and KIPC_MQ_RECV pick by type; the kernel unlinks what it hands out.");

	if (!open_sysv(&sv) || !fill(&sv))
		goto out;
	have_k = open_kipc(&kq, O_RDWR) && fill(&kq);

	out_row("%-24s %-16s%s", "receive with", "SysV msg", have_k ? " /dev/kipc/mq0" : "");
	for (i = 0; i < ARRAY_SIZE(picks); i++) {
		bad = !pick(&sv, i, cs, sizeof(cs));
		if (have_k)
			bad |= !pick(&kq, i, ck, sizeof(ck)) << 1;
		if (have_k)
			out_row("%-24s %-16s %s", picks[i].label, cs, ck);
		else
			out_row("%-24s %s", picks[i].label, cs);
		if (bad) {
			good = false;
			out_fail("%s: expected %s%s%ld \"%s\"", picks[i].label,
				 bad & 1 ? "SysV " : "", bad & 2 ? "kipc " : "",
				 picks[i].want_type, picks[i].want ?: "ENOMSG");
		}
	}
	if (good)
		out_ok("%s picked by type exactly as msgop(2) says",
		       have_k ? "SysV and kipc" : "SysV");

	/* POSIX queues have priorities instead: no choosing. */
	if (!open_posix(&px, 64))
		goto out;
	for (i = 0; i < ARRAY_SIZE(fruit); i++)
		if (mq_send(px.mqd, fruit[i].text, strlen(fruit[i].text),
			    fruit[i].type) < 0)
			fail_errno("mq_send");
	used = 0;
	order[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(fruit); i++) {
		n = q_recv(&px, 0, 0, &type, buf, sizeof(buf));
		if (n < 0) {
			fail_errno("mq_receive");
			break;
		}
		used += snprintf(order + used, sizeof(order) - used, "%s%.*s",
				 i ? " " : "", (int)n, buf);
	}
	check(!strcmp(order, "cheese bread butter apple cider"),
	      "POSIX mq (type as priority): no selection, highest first: %s", order);
out:
	close_q(&sv);
	close_q(&px);
	close_q(&kq);
}

/* --- a message outlives its sender ---------------------------------------- */

struct sender {
	struct q *sv, *px;
	bool kipc;
};

static int sender(void *arg)
{
	struct sender *s = arg;
	char msg[64];
	mqd_t mqd;
	int len, fd;

	len = snprintf(msg, sizeof(msg), "left by pid %d", (int)getpid());
	if (q_send(s->sv, 7, msg, len) < 0)
		return 1;
	/* Unrelated processes find a POSIX queue by its name. */
	mqd = mq_open(s->px->name, O_WRONLY | O_CLOEXEC);
	if (mqd == (mqd_t)-1 || mq_send(mqd, msg, len, 7) < 0)
		return 2;
	if (s->kipc) {
		/* Plain write(2) sends one message of type 1. */
		fd = open(kipc_path("mq0"), O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, msg, len) != len)
			return 3;
	}
	return 0;
}

static void outlive(void)
{
	struct q sv = { .id = -1 }, px = { .mqd = (mqd_t)-1 }, kq = { .fd = -1 };
	struct sender s = { &sv, &px, false };
	struct kipc_mq_stat st;
	struct msqid_ds ds;
	char want[64], buf[128];
	long type;
	pid_t pid;
	ssize_t n;

	out_part("a message outlives its sender");
	out_say("A child sends one message to each queue and exits; the messages wait in");
	out_say("the kernel until someone receives them (or the queue is removed).");
	if (!open_sysv(&sv) || !open_posix(&px, 128))
		goto out;
	s.kipc = open_kipc(&kq, O_RDWR);
	pid = spawn(sender, &s);
	if (!wait_ok(pid, "sender"))
		goto out;
	snprintf(want, sizeof(want), "left by pid %d", (int)pid);
	check(kill(pid, 0) < 0 && errno == ESRCH,
	      "sender %d has exited and been reaped: kill(%d, 0) -> ESRCH", (int)pid,
	      (int)pid);

	if (msgctl(sv.id, IPC_STAT, &ds) < 0)
		fail_errno("msgctl(IPC_STAT)");
	else
		check(ds.msg_qnum == 1 && ds.msg_lspid == pid,
		      "SysV msg: IPC_STAT says %lu message queued, last sent by pid %d",
		      (unsigned long)ds.msg_qnum, (int)ds.msg_lspid);
	n = q_recv(&sv, 0, RF_NOWAIT, &type, buf, sizeof(buf));
	check(n == (ssize_t)strlen(want) && !memcmp(buf, want, n) && type == 7,
	      "SysV msg: msgrcv() -> type %ld \"%.*s\"", n < 0 ? 0 : type,
	      n < 0 ? 0 : (int)n, buf);
	n = q_recv(&px, 0, 0, &type, buf, sizeof(buf));
	check(n == (ssize_t)strlen(want) && !memcmp(buf, want, n),
	      "POSIX mq: mq_receive() -> \"%.*s\"", n < 0 ? 0 : (int)n, buf);
	if (!s.kipc)
		goto out;
	if (ioctl(kq.fd, KIPC_MQ_STAT, &st) < 0)
		fail_errno("KIPC_MQ_STAT");
	else
		check(st.msgs == 1 && st.last_send_pid == pid,
		      "kipc mq0: KIPC_MQ_STAT says %u message queued, last sent by pid %d",
		      st.msgs, st.last_send_pid);
	n = read(kq.fd, buf, sizeof(buf));
	check(n == (ssize_t)strlen(want) && !memcmp(buf, want, n),
	      "kipc mq0: read(2) -> one message, \"%.*s\"", n < 0 ? 0 : (int)n, buf);
out:
	close_q(&sv);
	close_q(&px);
	close_q(&kq);
}

/* --- one queue, both directions ------------------------------------------ */

#define SERVER_TYPE 1

struct request {
	int pid;
	int x;
};

struct client {
	struct q *q;
	int x;
};

static int client(void *arg)
{
	struct client *c = arg;
	struct request req = { getpid(), c->x };
	long type, answer = 0;
	char buf[64];
	ssize_t n;

	if (q_send(c->q, SERVER_TYPE, &req, sizeof(req)) < 0) {
		fail_errno("client: send");
		return 1;
	}
	/* Blocks until a message of our own type comes. */
	n = q_recv(c->q, getpid(), 0, &type, buf, sizeof(buf));
	if (n == sizeof(answer))
		memcpy(&answer, buf, sizeof(answer));
	check(n == sizeof(answer) && type == getpid() && answer == (long)c->x * c->x,
	      "%s: client %d sent %d as type %d, got type %ld: %ld", c->q->label,
	      (int)getpid(), c->x, SERVER_TYPE, n < 0 ? 0 : type, answer);
	return demo_failures != 0;
}

/* A client that exited before the server answered it: it never will. */
static bool client_lost(const pid_t *pid, const bool *answered)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (!answered[i] && child_exited(pid[i]))
			return true;
	return false;
}

static void both_ways_on(struct q *q)
{
	struct client cl[2] = { { q, 6 }, { q, 7 } };
	pid_t pid[2] = { -1, -1 };
	bool answered[2] = { false, false };
	int rfd[2] = { -1, -1 };
	struct request req;
	unsigned int i, served = 0;
	long type, answer;
	char buf[64];
	ssize_t n;

	for (i = 0; i < 2; i++)
		pid[i] = spawn_report(client, &cl[i], &rfd[i]);
	for (i = 0; i < 2 && pid[0] > 0 && pid[1] > 0; i++) {
		/*
		 * The clients block in their receive; the server polls, so
		 * that a client dead before sending cannot hang it.
		 */
		while ((n = q_recv(q, SERVER_TYPE, RF_NOWAIT, &type, buf,
				   sizeof(buf))) < 0 && errno == ENOMSG &&
		       !client_lost(pid, answered))
			sleep_ms(1);
		if (n != sizeof(req)) {
			if (n < 0 && errno != ENOMSG)
				fail_errno("server: receive");
			else
				out_fail("%s: a client exited before its request came", q->label);
			break;
		}
		memcpy(&req, buf, sizeof(req));
		answer = (long)req.x * req.x;
		if (q_send(q, req.pid, &answer, sizeof(answer)) < 0) {
			fail_errno("server: send");
			break;
		}
		answered[0] |= req.pid == pid[0];
		answered[1] |= req.pid == pid[1];
		served++;
	}
	out_say("%s: server %d answered %u requests (x*x) on the same queue",
		q->label, (int)getpid(), served);
	for (i = 0; i < 2; i++) {
		if (served == 2) {
			report_wait(pid[i], &rfd[i], "client");
			continue;
		}
		/* Failed already: say what the clients said, then end them. */
		if (pid[i] > 0)
			kill(pid[i], SIGKILL);
		report_collect(&rfd[i]);
		if (pid[i] > 0)
			wait_status(pid[i]);
	}
}

static void both_ways(void)
{
	struct q sv = { .id = -1 }, kq = { .fd = -1 };
	struct kipc_mq_stat st;
	struct msqid_ds ds;

	out_part("one queue, both directions (type = pid)");
	out_say("Clients send requests with type 1, the server's \"address\"; the server");
	out_say("answers each with type = the client's pid, and each client receives");
	out_say("only its own type. (A pipe would need two, one per direction.)");
	if (open_sysv(&sv)) {
		both_ways_on(&sv);
		if (msgctl(sv.id, IPC_STAT, &ds) == 0)
			check(ds.msg_qnum == 0, "SysV msg: queue empty again");
	}
	if (open_kipc(&kq, O_RDWR)) {
		both_ways_on(&kq);
		if (ioctl(kq.fd, KIPC_MQ_STAT, &st) == 0)
			check(st.msgs == 0, "kipc mq0: queue empty again");
	}
	close_q(&sv);
	close_q(&kq);
}

/* --- size limits --------------------------------------------------------- */

static long read_long(const char *path, long dflt)
{
	char buf[32];
	long v = dflt;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtol(buf, NULL, 10);
		fclose(f);
	}
	return v;
}

static char big[BUF_MAX + 1];

static void limit_on(struct q *q, long max)
{
	char small[16];
	long type;
	ssize_t n;
	int ret;

	if (max + 1 > BUF_MAX) {
		out_skip("%s: limit %ld too large for this demo", q->label, max);
		return;
	}
	memset(big, 'x', max + 1);
	ret = q_send(q, 5, big, max);
	check(ret == 0, "%s: a message of %ld bytes is accepted", q->label, max);
	if (ret == 0) {
		if (q->kind != Q_POSIX) {
			n = q_recv(q, 5, RF_NOWAIT, &type, small, sizeof(small));
			check_errno(n, errno, E2BIG,
				    "%s: receive it into a %zu-byte buffer", q->label,
				    sizeof(small));
		}
		n = q_recv(q, 0, RF_NOWAIT, &type, big, BUF_MAX);
		check(n == max, "%s: received whole: %zd bytes", q->label, n);
	}
	ret = q_send(q, 5, big, max + 1);
	check_errno(ret, errno, q->kind == Q_POSIX ? EMSGSIZE : EINVAL,
		    "%s: send %ld bytes", q->label, max + 1);
}

static void limits(void)
{
	struct q sv = { .id = -1 }, px = { .mqd = (mqd_t)-1 }, kq = { .fd = -1 };
	long msgmax = read_long("/proc/sys/kernel/msgmax", 8192);
	long mqmax = read_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
	struct kipc_mq_stat st;
	struct mq_attr attr;
	char small[16];
	ssize_t n;

	out_part("bounded units: the size limit");
	out_say("A queue carries messages, not a stream, and each has a maximum size:");
	out_say("SysV msgmax (/proc/sys/kernel/msgmax = %ld), kipc max_msg_size, and for", msgmax);
	out_say("POSIX mq the mq_msgsize chosen at mq_open() (at most fs.mqueue.msgsize_max");
	out_say("= %ld without CAP_SYS_RESOURCE).", mqmax);
	if (open_sysv(&sv))
		limit_on(&sv, msgmax);
	if (open_kipc(&kq, O_RDWR)) {
		if (ioctl(kq.fd, KIPC_MQ_STAT, &st) < 0) {
			fail_errno("KIPC_MQ_STAT");
		} else {
			out_say("kipc mq0: KIPC_MQ_STAT max_msg_size = %u%s", st.max_msg_size,
				st.max_msg_size == KIPC_MQ_DEF_MSG_SIZE ? " (the default, as MSGMAX)" :
				" (changed from the default 8192 by KIPC_MQ_SET_LIMITS)");
			limit_on(&kq, st.max_msg_size);
		}
	}
	if (open_posix(&px, mqmax)) {
		if (mq_getattr(px.mqd, &attr) == 0)
			out_say("POSIX mq: mq_getattr() mq_msgsize = %ld", attr.mq_msgsize);
		limit_on(&px, mqmax);
		n = mq_receive(px.mqd, small, sizeof(small), NULL);
		check_errno(n, errno, EMSGSIZE,
			    "POSIX mq: mq_receive() with a buffer smaller than mq_msgsize");
	}
	close_q(&sv);
	close_q(&px);
	close_q(&kq);
}

/* --- io_uring: many messages, one system call --------------------------- */

#define URING_MSGS 8

/* Queue n typed commands (SEND or RECV) on mq0, linked so they run in order. */
static void uring_prep_mq(struct io_uring *ring, int fd, unsigned int op,
			  struct kipc_mq_msg *m, struct kipc_mq_uring_cmd *cmd,
			  unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		cmd[i] = (struct kipc_mq_uring_cmd){ .arg = (uintptr_t)&m[i] };
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
		sqe->cmd_op = op;
		memcpy(sqe->cmd, &cmd[i], sizeof(cmd[i]));
		sqe->user_data = i;
		if (i + 1 < n)
			sqe->flags |= IOSQE_IO_LINK;
	}
}

/* One io_uring_enter(): submit n, wait for n; results by index. */
static int uring_run(struct io_uring *ring, int *res, unsigned int n)
{
	struct io_uring_cqe *cqe;
	int rc = io_uring_submit_and_wait(ring, n);

	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		rc = io_uring_peek_cqe(ring, &cqe);
		if (rc < 0)
			return rc;
		if (cqe->user_data < n)
			res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

static void uring(void)
{
	struct kipc_mq_uring_cmd cmd[URING_MSGS];
	struct kipc_mq_msg m[URING_MSGS];
	char text[URING_MSGS][16], got[URING_MSGS][16];
	struct q kq = { .fd = -1 };
	int res[URING_MSGS], rc;
	struct io_uring ring;
	bool ok = true;

	out_part("io_uring: many messages, one system call");
	out_say("Each msgsnd() or msgrcv() is a system call of its own, on a queue id that no");
	out_say("file descriptor stands for: io_uring cannot submit them, so SysV pays one");
	out_say("kernel entry per message. /dev/kipc/mq0 is a file, and io_uring carries its");
	out_say("typed KIPC_MQ_SEND and KIPC_MQ_RECV as IORING_OP_URING_CMD: %d sends in one", URING_MSGS);
	out_say("submission, %d receives in another, one io_uring_enter() each.", URING_MSGS);
	out_note("SysV msg: no descriptor, nothing io_uring can drive (one msgsnd() per message)");
	if (!open_kipc(&kq, O_RDWR))
		return;
	rc = io_uring_queue_init(URING_MSGS, &ring, 0);
	if (rc < 0) {
		out_skip("io_uring_queue_init: %s: this kernel gives no io_uring here",
			 strerror(-rc));
		close_q(&kq);
		return;
	}
	for (unsigned int i = 0; i < URING_MSGS; i++) {
		snprintf(text[i], sizeof(text[i]), "message %u", i + 1);
		m[i] = (struct kipc_mq_msg){
			.type = i + 1,
			.buf = (uintptr_t)text[i],
			.len = strlen(text[i]) + 1,
		};
	}
	uring_prep_mq(&ring, kq.fd, KIPC_MQ_SEND, m, cmd, URING_MSGS);
	rc = uring_run(&ring, res, URING_MSGS);
	if (rc < 0) {
		out_skip("io_uring_enter: %s", strerror(-rc));
	} else if (res[0] == -EOPNOTSUPP || res[0] == -EINVAL) {
		out_skip("kipc mq0: io_uring's command gets %s: this module has no uring_cmd yet",
			 errno_name(-res[0]));
	} else {
		for (unsigned int i = 0; i < URING_MSGS; i++)
			ok &= res[i] == 0;
		check(ok, "kipc mq0: %d typed sends, one submission, one io_uring_enter(): all completed",
		      URING_MSGS);
		for (unsigned int i = 0; i < URING_MSGS; i++)
			m[i] = (struct kipc_mq_msg){
				.buf = (uintptr_t)got[i],
				.len = sizeof(got[i]),
				.flags = KIPC_MQ_NOWAIT,
			};
		uring_prep_mq(&ring, kq.fd, KIPC_MQ_RECV, m, cmd, URING_MSGS);
		rc = uring_run(&ring, res, URING_MSGS);
		ok = rc == 0;
		for (unsigned int i = 0; ok && i < URING_MSGS; i++)
			ok = res[i] == (int)strlen(text[i]) + 1 &&
			     m[i].type == (long)i + 1 && !strcmp(got[i], text[i]);
		check(ok, "kipc mq0: %d receives in one io_uring_enter(): types 1 to %d in order, texts intact",
		      URING_MSGS, URING_MSGS);
		if (ok)
			out_say("  first: type %lld \"%s\", last: type %lld \"%s\"",
				(long long)m[0].type, got[0],
				(long long)m[URING_MSGS - 1].type,
				got[URING_MSGS - 1]);
	}
	io_uring_queue_exit(&ring);
	close_q(&kq);
}

void demo_mq(void)
{
	out_say("A message queue is a list of messages kept in the kernel. Sending copies");
	out_say("the message in (copy_from_user), receiving copies it out (copy_to_user)");
	out_say("and unlinks it. /dev/kipc/mq0 follows SysV msgsnd/msgrcv.");
	types();
	outlive();
	both_ways();
	limits();
	uring();
}
