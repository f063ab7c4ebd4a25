// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: the stream and message mechanisms driven through io_uring.
 *
 * Each io_uring mechanism wraps an ordinary adapter (its setup, attach
 * and teardown make the same objects, configured the same way) and moves
 * the messages with one submission queue entry each: IORING_OP_WRITE and
 * IORING_OP_READ on the descriptors, or IORING_OP_URING_CMD carrying
 * KIPC_MQ_SEND/KIPC_MQ_RECV for the kipc queue's typed path.  A variant
 * has a depth: the messages submitted per io_uring_enter() (1, 16, 64),
 * and optionally SQPOLL, a kernel thread that picks the submissions up so
 * that the process enters the kernel only to wait.
 *
 * The entries of one submission are linked (IOSQE_IO_LINK), so they run
 * in order: two reads queued on one pipe or queue must not overtake each
 * other.  A short read or write ends a chain (io_uring cancels the rest);
 * the rest is submitted again from where the data stopped, so a byte
 * stream still delivers every byte in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include <liburing.h>
#include <linux/kipc.h>

#include "bench.h"

enum ur_kind {
	UR_STREAM,	/* a byte stream: read and write, short ones resumed */
	UR_MSG,		/* one message per read and write */
	UR_CMD,		/* kipc mq: IORING_OP_URING_CMD, typed */
};

/* One ring per process (the child makes its own after fork()). */
static struct {
	struct io_uring ring;
	bool up;
	pid_t pid;
	struct kipc_mq_msg msgs[KB_MAX_BATCH];
	struct kipc_mq_uring_cmd cmd[KB_MAX_BATCH];
	uint8_t *base[KB_MAX_BATCH];
	size_t left[KB_MAX_BATCH];
	int res[KB_MAX_BATCH];
} ur;

static void ring_down(void)
{
	if (ur.up && ur.pid == getpid())
		io_uring_queue_exit(&ur.ring);
	ur.up = false;
}

static int ring_up(unsigned int depth, bool sqpoll)
{
	struct io_uring_params p = { 0 };
	unsigned int entries = 8;
	int rc;

	ring_down();
	while (entries < depth)
		entries <<= 1;
	if (sqpoll)
		p.flags |= IORING_SETUP_SQPOLL;
	rc = io_uring_queue_init_params(entries, &ur.ring, &p);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	ur.up = true;
	ur.pid = getpid();
	return 0;
}

/* Prepare entry j of a chain; it is linked to the next one but the last. */
static void prep(enum ur_kind kind, int fd, bool wr, unsigned int j,
		 bool last, size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ur.ring);

	if (kind == UR_CMD) {
		ur.msgs[j] = (struct kipc_mq_msg){
			.type = wr ? 1 : 0,
			.buf = (uintptr_t)ur.base[j],
			.len = len,
		};
		ur.cmd[j] = (struct kipc_mq_uring_cmd){
			.arg = (uintptr_t)&ur.msgs[j],
		};
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
		sqe->cmd_op = wr ? KIPC_MQ_SEND : KIPC_MQ_RECV;
		memcpy(sqe->cmd, &ur.cmd[j], sizeof(ur.cmd[j]));
	} else if (wr) {
		io_uring_prep_write(sqe, fd, ur.base[j], ur.left[j], 0);
	} else {
		io_uring_prep_read(sqe, fd, ur.base[j], ur.left[j], 0);
	}
	sqe->user_data = j;
	if (!last)
		sqe->flags |= IOSQE_IO_LINK;
}

/* Submit what is prepared and wait for n completions. */
static int submit_wait(struct kb_ctx *c, unsigned int n, bool sqpoll)
{
	struct io_uring_cqe *cqe;
	int rc;

	/*
	 * Without SQPOLL one io_uring_enter() submits and waits.  With it,
	 * submitting enters the kernel only to wake the SQ thread, and
	 * waiting only when the completions are not there yet.
	 */
	if (sqpoll) {
		rc = io_uring_submit(&ur.ring);
		if (rc >= 0)
			rc = io_uring_wait_cqe_nr(&ur.ring, &cqe, n);
	} else {
		rc = io_uring_submit_and_wait(&ur.ring, n);
	}
	while (rc == -EINTR && !kb_timed_out)
		rc = io_uring_wait_cqe_nr(&ur.ring, &cqe, n);
	if (rc < 0) {
		errno = -rc;
		return kb_fail_errno(c, "io_uring_enter");
	}
	return 0;
}

/* Collect n completions into ur.res[] by index; wait for missing ones. */
static int reap(struct kb_ctx *c, unsigned int n)
{
	struct io_uring_cqe *cqe;
	unsigned int got = 0, head;
	int rc;

	while (got < n) {
		unsigned int k = 0;

		io_uring_for_each_cqe(&ur.ring, head, cqe) {
			ur.res[cqe->user_data] = cqe->res;
			k++;
			if (got + k == n)
				break;
		}
		io_uring_cq_advance(&ur.ring, k);
		got += k;
		if (got == n)
			break;
		if (kb_timed_out)
			return kb_fail(c, "io_uring: timed out waiting for completions");
		rc = io_uring_wait_cqe(&ur.ring, &cqe);
		if (rc < 0 && rc != -EINTR) {
			errno = -rc;
			return kb_fail_errno(c, "io_uring_wait_cqe");
		}
	}
	return 0;
}

/*
 * Move n messages of len bytes from or into bufs, one entry each, in as
 * few submissions as the data allows (one, unless a read or write comes
 * up short).
 */
static int ur_io(struct kb_ctx *c, int ch, bool wr, void **bufs,
		 unsigned int n, size_t len)
{
	const struct kb_mech *m = c->m;
	enum ur_kind kind = m->uring_kind;
	int fd = c->fd[ch][wr ? 1 : 0];
	unsigned int first = 0;

	for (unsigned int j = 0; j < n; j++) {
		ur.base[j] = bufs[j];
		ur.left[j] = len;
	}
	while (first < n) {
		for (unsigned int j = first; j < n; j++)
			prep(kind, fd, wr, j, j == n - 1, len);
		if (submit_wait(c, n - first, m->sqpoll) ||
		    reap(c, n - first))
			return -1;
		for (; first < n; first++) {
			int res = ur.res[first];

			if (kind == UR_CMD) {
				if (res < 0)
					break;
				if (wr ? res != 0 : (size_t)res != len ||
						    ur.msgs[first].len != len)
					return kb_fail(c, "io_uring %s: result %d, length %u, expected %zu",
						       wr ? "KIPC_MQ_SEND" : "KIPC_MQ_RECV",
						       res, ur.msgs[first].len,
						       len);
				continue;
			}
			if (res < 0)
				break;
			if (res == 0 && !wr)
				return kb_fail(c, "io_uring read: end of file");
			if ((size_t)res == ur.left[first])
				continue;
			if (kind == UR_MSG)
				return kb_fail(c, "io_uring %s: %d bytes, expected %zu",
					       wr ? "write" : "read", res, len);
			/* A short read or write: resume it. */
			ur.base[first] += res;
			ur.left[first] -= res;
			break;
		}
		if (first < n && ur.res[first] < 0 &&
		    ur.res[first] != -ECANCELED && ur.res[first] != -EINTR &&
		    ur.res[first] != -EAGAIN) {
			errno = -ur.res[first];
			return kb_fail_errno(c, kind == UR_CMD ?
					     "io_uring KIPC_MQ cmd" :
					     wr ? "io_uring write" :
					     "io_uring read");
		}
		if (first < n && kb_timed_out)
			return kb_fail(c, "io_uring: timed out");
	}
	return 0;
}

static int ur_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	return ur_io(c, ch, true, &buf, 1, len);
}

static int ur_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	return ur_io(c, ch, false, &buf, 1, len);
}

static int ur_send_batch(struct kb_ctx *c, int ch, void **bufs,
			 unsigned int n, size_t len)
{
	return ur_io(c, ch, true, bufs, n, len);
}

static int ur_recv_batch(struct kb_ctx *c, int ch, void **bufs,
			 unsigned int n, size_t len)
{
	return ur_io(c, ch, false, bufs, n, len) ? -1 : (int)n;
}

/*
 * Whether the kipc queue takes typed commands from io_uring: a
 * non-blocking KIPC_MQ_RECV on the empty queue answers EAGAIN or ENOMSG
 * when it does, EOPNOTSUPP when the module has no uring_cmd.
 */
static int probe_cmd(struct kb_ctx *c, int fd)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	char b[8];
	int rc;

	if (ring_up(1, false))
		return kb_fail_errno(c, "io_uring_queue_init");
	ur.msgs[0] = (struct kipc_mq_msg){
		.buf = (uintptr_t)b,
		.len = sizeof(b),
		.flags = KIPC_MQ_NOWAIT,
	};
	ur.cmd[0] = (struct kipc_mq_uring_cmd){ .arg = (uintptr_t)&ur.msgs[0] };
	sqe = io_uring_get_sqe(&ur.ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = KIPC_MQ_RECV;
	memcpy(sqe->cmd, &ur.cmd[0], sizeof(ur.cmd[0]));
	rc = io_uring_submit_and_wait(&ur.ring, 1);
	if (rc >= 0)
		rc = io_uring_wait_cqe(&ur.ring, &cqe);
	if (rc >= 0) {
		rc = cqe->res;
		io_uring_cqe_seen(&ur.ring, cqe);
	}
	ring_down();
	if (rc >= 0 || rc == -EAGAIN || rc == -ENOMSG)
		return 0;
	kb_fail(c, "io_uring: " KIPC_DEV_DIR "/mq0 refuses IORING_OP_URING_CMD (%s)%s",
		strerror(-rc),
		rc == -EOPNOTSUPP ? ": this module has no uring_cmd" : "");
	return KB_SKIP;
}

static int ur_setup(struct kb_ctx *c)
{
	const struct kb_mech *m = c->m;
	int rc;

	/* io_uring usable at all (a kernel may disable or lack it)? */
	if (ring_up(1, m->sqpoll)) {
		kb_fail(c, "io_uring_setup%s: %s", m->sqpoll ? " (SQPOLL)" : "",
			strerror(errno));
		return KB_SKIP;
	}
	ring_down();
	rc = m->base->setup(c);
	if (rc || m->uring_kind != UR_CMD)
		return rc;
	rc = probe_cmd(c, c->fd[KB_CH_P2C][0]);
	if (rc)
		m->base->teardown(c);
	return rc;
}

/*
 * A file without FMODE_NOWAIT cannot be read or written inline by
 * io_uring: every such request goes to io_uring's worker threads.  A
 * non-blocking preadv2() on the empty channel tells which case this is.
 */
static void note_nowait(struct kb_ctx *c)
{
	char b[8];
	struct iovec iov = { b, sizeof(b) };
	int fd = c->fd[KB_CH_C2P][0];

	if (fd < 0 || preadv2(fd, &iov, 1, -1, RWF_NOWAIT) >= 0 ||
	    errno != EOPNOTSUPP)
		return;
	kb_cfg_add(c, "no FMODE_NOWAIT: io_uring runs every read and write in its worker threads");
}

static int ur_attach(struct kb_ctx *c)
{
	const struct kb_mech *m = c->m;

	if (m->base->attach(c))
		return -1;
	if (c->role == KB_PARENT && (m->flags & KB_F_KIPC) &&
	    m->uring_kind != UR_CMD)
		note_nowait(c);
	if (ring_up(m->uring_depth, m->sqpoll))
		return kb_fail_errno(c, "io_uring_queue_init");
	if (c->role == KB_PARENT)
		kb_cfg_add(c, "io_uring, %u entr%s per io_uring_enter%s",
			   m->uring_depth, m->uring_depth == 1 ? "y" : "ies",
			   m->sqpoll ? ", SQPOLL" : "");
	return 0;
}

static void ur_teardown(struct kb_ctx *c)
{
	ring_down();
	c->m->base->teardown(c);
}

static size_t ur_max(char *note, size_t notelen)
{
	(void)note;
	(void)notelen;
	return KB_MAX_SIZE;
}

#define UR_TEMPLATE(var, nm, bs, fl, kind, what)			\
	static const struct kb_mech var = {				\
		.name = nm,						\
		.desc = what,						\
		.flags = (fl) | KB_F_URING,				\
		.copies = 2,						\
		.max_size = ur_max,					\
		.setup = ur_setup,					\
		.attach = ur_attach,					\
		.send = ur_send,					\
		.recv = ur_recv,					\
		.send_batch = ur_send_batch,				\
		.recv_batch = ur_recv_batch,				\
		.teardown = ur_teardown,				\
		.base = &bs,						\
		.uring_kind = kind,					\
	}

UR_TEMPLATE(ur_pipe, "uring-pipe", kb_mech_pipe, 0, UR_STREAM,
	    "pipe(2) through io_uring read/write");
UR_TEMPLATE(ur_fifo, "uring-fifo", kb_mech_fifo, 0, UR_STREAM,
	    "mkfifo(3) FIFOs through io_uring read/write");
UR_TEMPLATE(ur_ustream, "uring-unix-stream", kb_mech_unix_stream, 0,
	    UR_STREAM, "AF_UNIX SOCK_STREAM through io_uring read/write");
UR_TEMPLATE(ur_udgram, "uring-unix-dgram", kb_mech_unix_dgram, 0, UR_MSG,
	    "AF_UNIX SOCK_DGRAM through io_uring read/write");
UR_TEMPLATE(ur_kpipe, "uring-kipc-pipe", kb_mech_kipc_pipe, KB_F_KIPC,
	    UR_STREAM, "/dev/kipc/pipeN through io_uring read/write");
UR_TEMPLATE(ur_kmq, "uring-kipc-mq", kb_mech_kipc_mq, KB_F_KIPC, UR_MSG,
	    "/dev/kipc/mqN through io_uring read/write, a message each");
UR_TEMPLATE(ur_kmq_cmd, "uring-kipc-mq-cmd", kb_mech_kipc_mq_ioctl,
	    KB_F_KIPC, UR_CMD,
	    "/dev/kipc/mqN through IORING_OP_URING_CMD KIPC_MQ_SEND/RECV");

const struct kb_mech *const kb_uring_templates[] = {
	&ur_pipe, &ur_fifo, &ur_ustream, &ur_udgram, &ur_kpipe, &ur_kmq,
	&ur_kmq_cmd,
};
const size_t kb_uring_ntemplates =
	sizeof(kb_uring_templates) / sizeof(kb_uring_templates[0]);

/* "uring-pipe-d16", "uring-pipe-d16-sqpoll"; depth 1 also round trips. */
struct kb_mech *kb_uring_variant(const struct kb_mech *tmpl,
				 unsigned int depth, bool sqpoll)
{
	struct kb_mech *m = malloc(sizeof(*m));
	char *name = malloc(64), *desc = malloc(160);

	if (!m || !name || !desc)
		abort();
	*m = *tmpl;
	snprintf(name, 64, "%s-d%u%s", tmpl->name, depth,
		 sqpoll ? "-sqpoll" : "");
	snprintf(desc, 160, "%s, %u per io_uring_enter%s", tmpl->desc, depth,
		 sqpoll ? ", SQPOLL" : "");
	m->name = name;
	m->desc = desc;
	m->uring_depth = depth;
	m->sqpoll = sqpoll;
	if (depth > 1)
		m->flags |= KB_F_STREAM_ONLY;
	return m;
}
