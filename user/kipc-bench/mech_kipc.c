// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: the kipc pipe and message queue devices, configured exactly
 * like their standard twins (the same buffer size and queue depth).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/kipc.h>

#include "bench.h"

static const char *const pipe_path[KB_NCH] = {
	KIPC_DEV_DIR "/pipe0", KIPC_DEV_DIR "/pipe1"
};
static const char *const mq_path[KB_NCH] = {
	KIPC_DEV_DIR "/mq0", KIPC_DEV_DIR "/mq1"
};

static size_t no_limit(char *note, size_t notelen)
{
	(void)note;
	(void)notelen;
	return KB_MAX_SIZE;
}

static int need_nodes(struct kb_ctx *c, const char *const *path)
{
	struct stat st;

	for (int ch = 0; ch < KB_NCH; ch++) {
		if (stat(path[ch], &st)) {
			kb_fail(c, "%s: %s", path[ch], strerror(errno));
			return KB_SKIP;
		}
	}
	return 0;
}

/* --- /dev/kipc/pipeN: a FIFO, one per direction ---------------------------- */

static int kpipe_setup(struct kb_ctx *c)
{
	return need_nodes(c, pipe_path);
}

static int kpipe_attach(struct kb_ctx *c)
{
	if (kb_open_pair(c, pipe_path[0], pipe_path[1]))
		return -1;
	if (c->role != KB_PARENT)
		return 0;
	/* The same size F_SETPIPE_SZ gives pipe(2) (see kb_sizing). */
	for (int ch = 0; ch < KB_NCH; ch++) {
		__u32 size = c->bufsize;
		int fd = c->fd[ch][ch == KB_CH_P2C];

		if (ioctl(fd, KIPC_PIPE_SET_SIZE, &size) < 0 &&
		    ioctl(fd, KIPC_PIPE_GET_SIZE, &size) < 0)
			return kb_fail_errno(c, "KIPC_PIPE_SET_SIZE");
		if (ch == 0)
			kb_cfg_add(c, "pipe size %u", size);
	}
	return 0;
}

const struct kb_mech kb_mech_kipc_pipe = {
	.name = "kipc-pipe",
	.desc = "/dev/kipc/pipe0 and pipe1, KIPC_PIPE_SET_SIZE",
	.flags = KB_F_KIPC | KB_F_BYTESTREAM,
	.copies = 2,
	.max_size = no_limit,
	.setup = kpipe_setup,
	.attach = kpipe_attach,
	.send = kb_fd_send,
	.recv = kb_fd_recv,
	.teardown = kb_close_all,
};

/* --- /dev/kipc/mqN: one queue per direction --------------------------------- */

struct kmq_priv {
	struct kipc_mq_msg msgs[KB_MAX_BATCH];
};

static void kmq_teardown(struct kb_ctx *c)
{
	struct kipc_mq_limits lim = {
		.max_bytes = KIPC_MQ_DEF_BYTES,
		.max_msg_size = KIPC_MQ_DEF_MSG_SIZE,
		.max_msgs = KIPC_MQ_DEF_MSGS,
	};

	for (int ch = 0; ch < KB_NCH; ch++) {
		int fd = c->fd[ch][0];

		if (fd < 0)
			continue;
		/* Leave the device as the next user expects it. */
		ioctl(fd, KIPC_MQ_FLUSH);
		ioctl(fd, KIPC_MQ_SET_LIMITS, &lim);
		kb_unreg_kipc_mq(fd);
		close(fd);
		c->fd[ch][0] = c->fd[ch][1] = -1;
	}
	free(c->priv);
	c->priv = NULL;
}

static int kmq_setup(struct kb_ctx *c)
{
	struct kipc_mq_limits lim = { 0 };
	int rc = need_nodes(c, mq_path);

	if (rc)
		return rc;
	c->priv = calloc(1, sizeof(struct kmq_priv));
	if (!c->priv)
		return kb_fail(c, "out of memory");
	for (int ch = 0; ch < KB_NCH; ch++) {
		int fd = open(mq_path[ch], O_RDWR | O_CLOEXEC);
		unsigned int depth = c->depth;

		if (fd < 0) {
			kb_fail(c, "open %s: %s", mq_path[ch], strerror(errno));
			goto fail;
		}
		c->fd[ch][0] = c->fd[ch][1] = fd;
		kb_reg_kipc_mq(fd);
		if (ioctl(fd, KIPC_MQ_FLUSH) < 0) {
			kb_fail_errno(c, "KIPC_MQ_FLUSH");
			goto fail;
		}
		/* The depth of the other queues; less if the module caps it. */
		for (;;) {
			lim.max_bytes = depth * c->size;
			lim.max_msg_size = c->size;
			lim.max_msgs = depth;
			if (ioctl(fd, KIPC_MQ_SET_LIMITS, &lim) >= 0)
				break;
			if (errno != EINVAL && errno != EPERM &&
			    errno != ERANGE) {
				kb_fail_errno(c, "KIPC_MQ_SET_LIMITS");
				goto fail;
			}
			if (depth == 1) {
				kb_fail(c, "KIPC_MQ_SET_LIMITS refuses %zu-byte messages: %s",
					c->size, strerror(errno));
				kmq_teardown(c);
				return KB_SKIP;
			}
			depth /= 2;
		}
		if (ch == 0)
			kb_cfg_add(c, "max_msgs %u max_bytes %u%s", depth,
				   lim.max_bytes,
				   depth < c->depth ? " (module cap)" : "");
	}
	if (c->m->send_batch)
		kb_cfg_add(c, "batches of %u", c->batch);
	return 0;
fail:
	kmq_teardown(c);
	return -1;
}

/*
 * One message per write(2) and read(2): the queue's file interface, where
 * a file sends type 1 and receives the first message of any type, as
 * sysv-msg's msgsnd() of type 1 and msgrcv() of type 0.  kipc-mq-ioctl
 * below sends and receives the same messages with the typed ioctls.
 */
static int kmq_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	ssize_t n;

	while ((n = write(c->fd[ch][1], buf, len)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "write");
	if ((size_t)n != len)
		return kb_fail(c, "write: %zd bytes, expected %zu", n, len);
	return 0;
}

static int kmq_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(c->fd[ch][0], buf, len)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "read");
	if ((size_t)n != len)
		return kb_fail(c, "read: %zd bytes, expected %zu", n, len);
	return 0;
}

const struct kb_mech kb_mech_kipc_mq = {
	.name = "kipc-mq",
	.desc = "/dev/kipc/mq0 and mq1, write(2)/read(2), a message each",
	.flags = KB_F_KIPC,
	.copies = 2,
	.max_size = no_limit,
	.setup = kmq_setup,
	.attach = kb_nothing,
	.send = kmq_send,
	.recv = kmq_recv,
	.teardown = kmq_teardown,
};

/*
 * The typed path: KIPC_MQ_SEND of type 1 and KIPC_MQ_RECV of type 0, the
 * exact twins of msgsnd()/msgrcv().  Each call also copies the 24-byte
 * struct kipc_mq_msg in (and RECV back out), and passes the file_ioctl
 * security hook that read(2) and write(2) do not.
 */
static int kmq_ioctl_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	struct kipc_mq_msg m = {
		.type = 1,
		.buf = (uintptr_t)buf,
		.len = len,
	};

	while (ioctl(c->fd[ch][1], KIPC_MQ_SEND, &m) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "KIPC_MQ_SEND");
	return 0;
}

static int kmq_ioctl_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	struct kipc_mq_msg m = {
		.type = 0,
		.buf = (uintptr_t)buf,
		.len = len,
	};
	int n;

	while ((n = ioctl(c->fd[ch][0], KIPC_MQ_RECV, &m)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "KIPC_MQ_RECV");
	if ((size_t)n != len || m.len != len || m.type != 1)
		return kb_fail(c, "KIPC_MQ_RECV: %d bytes (len %u, type %lld), expected %zu of type 1",
			       n, m.len, (long long)m.type, len);
	return 0;
}

const struct kb_mech kb_mech_kipc_mq_ioctl = {
	.name = "kipc-mq-ioctl",
	.desc = "/dev/kipc/mq0 and mq1, KIPC_MQ_SEND type 1 / KIPC_MQ_RECV type 0",
	.flags = KB_F_KIPC,
	.copies = 2,
	.max_size = no_limit,
	.setup = kmq_setup,
	.attach = kb_nothing,
	.send = kmq_ioctl_send,
	.recv = kmq_ioctl_recv,
	.teardown = kmq_teardown,
};

static int kmq_send_batch(struct kb_ctx *c, int ch, void **bufs,
			  unsigned int n, size_t len)
{
	struct kmq_priv *p = c->priv;
	struct kipc_mq_batch b;
	unsigned int i = 0;

	for (unsigned int j = 0; j < n; j++) {
		p->msgs[j] = (struct kipc_mq_msg) {
			.type = 1,
			.buf = (uintptr_t)bufs[j],
			.len = len,
		};
	}
	/* Every message blocks for room; a short count means: go on. */
	while (i < n) {
		b = (struct kipc_mq_batch) {
			.msgs = (uintptr_t)&p->msgs[i],
			.count = n - i,
		};
		if (ioctl(c->fd[ch][1], KIPC_MQ_SEND_BATCH, &b) < 0) {
			if (kb_retry())
				continue;
			return kb_fail_errno(c, "KIPC_MQ_SEND_BATCH");
		}
		if (b.done == 0 || b.done > n - i)
			return kb_fail(c, "KIPC_MQ_SEND_BATCH: done %u of %u",
				       b.done, n - i);
		i += b.done;
	}
	return 0;
}

/* Wait for the first message only; take whatever else is queued. */
static int kmq_recv_batch(struct kb_ctx *c, int ch, void **bufs,
			  unsigned int n, size_t len)
{
	struct kmq_priv *p = c->priv;
	struct kipc_mq_batch b = {
		.msgs = (uintptr_t)p->msgs,
		.count = n,
	};

	for (unsigned int j = 0; j < n; j++) {
		p->msgs[j] = (struct kipc_mq_msg) {
			.buf = (uintptr_t)bufs[j],
			.len = len,
			.flags = j ? KIPC_MQ_NOWAIT : 0,
		};
	}
	while (ioctl(c->fd[ch][0], KIPC_MQ_RECV_BATCH, &b) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "KIPC_MQ_RECV_BATCH");
	if (b.done == 0 || b.done > n)
		return kb_fail(c, "KIPC_MQ_RECV_BATCH: done %u of %u", b.done,
			       n);
	for (unsigned int j = 0; j < b.done; j++)
		if (p->msgs[j].len != len)
			return kb_fail(c, "KIPC_MQ_RECV_BATCH: message %u has %u bytes, expected %zu",
				       j, p->msgs[j].len, len);
	return b.done;
}

const struct kb_mech kb_mech_kipc_mq_batch = {
	.name = "kipc-mq-batch",
	.desc = "/dev/kipc/mq1, KIPC_MQ_SEND_BATCH/RECV_BATCH",
	.flags = KB_F_KIPC | KB_F_STREAM_ONLY,
	.copies = 2,
	.max_size = no_limit,
	.setup = kmq_setup,
	.attach = kb_nothing,
	.send_batch = kmq_send_batch,
	.recv_batch = kmq_recv_batch,
	.teardown = kmq_teardown,
};
