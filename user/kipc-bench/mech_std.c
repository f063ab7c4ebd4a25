// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: the standard mechanisms.  Each one is set up the way a
 * careful user would for the message size at hand (buffer sizes raised,
 * queue limits raised when root), and says what it did in c->config.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "bench.h"

#define UNUSED __attribute__((unused))

void kb_cfg_add(struct kb_ctx *c, const char *fmt, ...)
{
	size_t len = strlen(c->config);
	va_list ap;

	if (len && len < sizeof(c->config) - 2) {
		c->config[len++] = ';';
		c->config[len++] = ' ';
		c->config[len] = 0;
	}
	va_start(ap, fmt);
	vsnprintf(c->config + len, sizeof(c->config) - len, fmt, ap);
	va_end(ap);
}

static size_t no_limit(char *note UNUSED, size_t notelen UNUSED)
{
	return KB_MAX_SIZE;
}

static size_t only_8(char *note, size_t notelen)
{
	snprintf(note, notelen, "carries one 64-bit value");
	return 8;
}

void kb_close_all(struct kb_ctx *c)
{
	for (int ch = 0; ch < KB_NCH; ch++) {
		/* A socket may serve as both ends of both channels. */
		for (int e = 0; e < 2; e++) {
			int fd = c->fd[ch][e];

			if (fd < 0)
				continue;
			for (int k = 0; k < KB_NCH; k++)
				for (int f = 0; f < 2; f++)
					if (c->fd[k][f] == fd)
						c->fd[k][f] = -1;
			close(fd);
		}
	}
}

/* Byte streams: write all, read exactly len (the framing is the size). */
int kb_fd_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	return kb_write_full(c, c->fd[ch][1], buf, len);
}

int kb_fd_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	return kb_read_full(c, c->fd[ch][0], buf, len);
}

/* Keep the ends this process uses: parent writes ch 0, reads ch 1. */
static int keep_my_ends(struct kb_ctx *c)
{
	if (c->role == KB_PARENT) {
		kb_close(&c->fd[KB_CH_P2C][0]);
		kb_close(&c->fd[KB_CH_C2P][1]);
	} else {
		kb_close(&c->fd[KB_CH_P2C][1]);
		kb_close(&c->fd[KB_CH_C2P][0]);
	}
	return 0;
}

/* --- pipe(2) and mkfifo(3) -------------------------------------------------- */

static void pipe_resize(struct kb_ctx *c, int fd)
{
	int got = fcntl(fd, F_SETPIPE_SZ, (int)c->bufsize);

	if (got < 0)
		got = fcntl(fd, F_GETPIPE_SZ);
	if (!strstr(c->config, "pipe size"))
		kb_cfg_add(c, "pipe size %d", got);
}

static int pipe_setup(struct kb_ctx *c)
{
	for (int ch = 0; ch < KB_NCH; ch++) {
		if (pipe2(c->fd[ch], O_CLOEXEC)) {
			kb_close_all(c);
			return kb_fail_errno(c, "pipe2");
		}
		pipe_resize(c, c->fd[ch][1]);
	}
	return 0;
}

const struct kb_mech kb_mech_pipe = {
	.name = "pipe",
	.desc = "pipe(2), one per direction, F_SETPIPE_SZ",
	.flags = KB_F_BYTESTREAM,
	.copies = 2,
	.max_size = no_limit,
	.setup = pipe_setup,
	.attach = keep_my_ends,
	.send = kb_fd_send,
	.recv = kb_fd_recv,
	.teardown = kb_close_all,
};

struct fifo_priv {
	char path[KB_NCH][128];
};

static void fifo_teardown(struct kb_ctx *c)
{
	struct fifo_priv *p = c->priv;

	kb_close_all(c);
	if (!p)
		return;
	for (int ch = 0; ch < KB_NCH; ch++) {
		if (p->path[ch][0]) {
			unlink(p->path[ch]);
			kb_unreg_path(p->path[ch]);
		}
	}
	free(p);
	c->priv = NULL;
}

static int fifo_setup(struct kb_ctx *c)
{
	struct fifo_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return kb_fail(c, "out of memory");
	c->priv = p;
	for (int ch = 0; ch < KB_NCH; ch++) {
		snprintf(p->path[ch], sizeof(p->path[ch]), "%s/fifo%d",
			 kb_sys.tmpdir, ch);
		if (mkfifo(p->path[ch], 0600)) {
			kb_fail_errno(c, "mkfifo");
			p->path[ch][0] = 0;
			fifo_teardown(c);
			return -1;
		}
		kb_reg_path(p->path[ch]);
	}
	return 0;
}

/*
 * Open the two FIFOs (or device nodes) in the same order on both sides:
 * an open for reading waits for the writer and the other way round.
 */
int kb_open_pair(struct kb_ctx *c, const char *path0, const char *path1)
{
	const char *path[KB_NCH] = { path0, path1 };

	for (int ch = 0; ch < KB_NCH; ch++) {
		bool writer = (ch == KB_CH_P2C) == (c->role == KB_PARENT);
		int fd;

		do {
			fd = open(path[ch], (writer ? O_WRONLY : O_RDONLY) |
				  O_CLOEXEC);
		} while (fd < 0 && kb_retry());
		if (fd < 0)
			return kb_fail(c, "open %s: %s", path[ch],
				       kb_timed_out ? "timed out" :
				       strerror(errno));
		c->fd[ch][writer] = fd;
	}
	return 0;
}

static int fifo_attach(struct kb_ctx *c)
{
	struct fifo_priv *p = c->priv;

	if (kb_open_pair(c, p->path[0], p->path[1]))
		return -1;
	if (c->role == KB_PARENT)
		for (int ch = 0; ch < KB_NCH; ch++)
			pipe_resize(c, c->fd[ch][ch == KB_CH_P2C]);
	return 0;
}

const struct kb_mech kb_mech_fifo = {
	.name = "fifo",
	.desc = "mkfifo(3) named pipes, one per direction, F_SETPIPE_SZ",
	.flags = KB_F_BYTESTREAM,
	.copies = 2,
	.max_size = no_limit,
	.setup = fifo_setup,
	.attach = fifo_attach,
	.send = kb_fd_send,
	.recv = kb_fd_recv,
	.teardown = fifo_teardown,
};

/* --- System V message queues ------------------------------------------- */

struct sysv_msg_priv {
	int id[KB_NCH];
};

static size_t sysv_msg_max(char *note, size_t notelen)
{
	if (kb_sys.msgmax < KB_MAX_SIZE)
		snprintf(note, notelen,
			 "above kernel.msgmax %ld%s", kb_sys.msgmax,
			 kb_sys.root ? "" : " (root raises it)");
	return kb_sys.msgmax;
}

static void sysv_msg_teardown(struct kb_ctx *c)
{
	struct sysv_msg_priv *p = c->priv;

	if (!p)
		return;
	for (int ch = 0; ch < KB_NCH; ch++) {
		if (p->id[ch] >= 0) {
			msgctl(p->id[ch], IPC_RMID, NULL);
			kb_unreg_sysv('m', p->id[ch]);
		}
	}
	free(p);
	c->priv = NULL;
}

static int sysv_msg_setup(struct kb_ctx *c)
{
	struct sysv_msg_priv *p = malloc(sizeof(*p));
	unsigned long want = (unsigned long)c->depth * c->size;
	struct msqid_ds ds;

	if (!p)
		return kb_fail(c, "out of memory");
	p->id[0] = p->id[1] = -1;
	c->priv = p;
	for (int ch = 0; ch < KB_NCH; ch++) {
		p->id[ch] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (p->id[ch] < 0)
			goto fail;
		kb_reg_sysv('m', p->id[ch]);
		if (msgctl(p->id[ch], IPC_STAT, &ds))
			goto fail;
		/*
		 * The depth the others get, never less than the kernel's
		 * default MSGMNB: a raised kernel.msgmnb (the default of new
		 * queues) would otherwise give SysV more room than the rest.
		 */
		if (want < 16384)
			want = 16384;
		if (want != ds.msg_qbytes) {
			ds.msg_qbytes = want;
			if (msgctl(p->id[ch], IPC_SET, &ds) &&
			    kb_sys.msgmnb > 0 &&
			    (unsigned long)kb_sys.msgmnb > ds.msg_qbytes) {
				ds.msg_qbytes = kb_sys.msgmnb;
				msgctl(p->id[ch], IPC_SET, &ds);
			}
			msgctl(p->id[ch], IPC_STAT, &ds);
		}
		if (ds.msg_qbytes < c->size) {
			kb_fail(c, "msg_qbytes %lu < message size",
				(unsigned long)ds.msg_qbytes);
			sysv_msg_teardown(c);
			return KB_SKIP;
		}
	}
	kb_cfg_add(c, "msg_qbytes %lu", (unsigned long)ds.msg_qbytes);
	return 0;
fail:
	kb_fail_errno(c, "msgget/msgctl");
	sysv_msg_teardown(c);
	return -1;
}

static int sysv_msg_attach(struct kb_ctx *c UNUSED)
{
	return 0;
}

/* The long mtype goes into the headroom before the payload: no copy. */
static int sysv_msg_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	struct sysv_msg_priv *p = c->priv;
	long *mtype = (long *)((char *)buf - sizeof(long));

	*mtype = 1;
	while (msgsnd(p->id[ch], mtype, len, 0))
		if (!kb_retry())
			return kb_fail_errno(c, "msgsnd");
	return 0;
}

static int sysv_msg_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	struct sysv_msg_priv *p = c->priv;
	long *mtype = (long *)((char *)buf - sizeof(long));
	ssize_t n;

	while ((n = msgrcv(p->id[ch], mtype, len, 0, 0)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "msgrcv");
	if ((size_t)n != len)
		return kb_fail(c, "msgrcv: %zd bytes, expected %zu", n, len);
	return 0;
}

const struct kb_mech kb_mech_sysv_msg = {
	.name = "sysv-msg",
	.desc = "System V msgsnd/msgrcv, one queue per direction",
	.copies = 2,
	.max_size = sysv_msg_max,
	.setup = sysv_msg_setup,
	.attach = sysv_msg_attach,
	.send = sysv_msg_send,
	.recv = sysv_msg_recv,
	.teardown = sysv_msg_teardown,
};

/* --- POSIX message queues ---------------------------------------------- */

static size_t posix_mq_max(char *note, size_t notelen)
{
	/* CAP_SYS_RESOURCE may pass msgsize_max (up to 16 MiB). */
	if (kb_sys.root)
		return KB_MAX_SIZE;
	snprintf(note, notelen,
		 "above fs.mqueue.msgsize_max %ld (root raises it)",
		 kb_sys.mq_msgsize_max);
	return kb_sys.mq_msgsize_max;
}

static int posix_mq_setup(struct kb_ctx *c)
{
	struct mq_attr attr = { .mq_msgsize = c->size };
	char name[64];

	attr.mq_maxmsg = c->depth;
	if (!kb_sys.root && attr.mq_maxmsg > kb_sys.mq_msg_max)
		attr.mq_maxmsg = kb_sys.mq_msg_max;
	for (int ch = 0; ch < KB_NCH; ch++) {
		int q, e;

		snprintf(name, sizeof(name), "/kipc-bench-%d-%d", getpid(), ch);
		kb_reg_mq(name);
		q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600,
			    &attr);
		/* mq_open()'s errno, before mq_unlink() overwrites it. */
		e = errno;
		/* The descriptors live on; the name is not needed any more. */
		mq_unlink(name);
		kb_unreg_mq(name);
		if (q < 0) {
			kb_fail(c, "mq_open maxmsg %ld msgsize %ld: %s%s",
				attr.mq_maxmsg, attr.mq_msgsize, strerror(e),
				e == EMFILE ? " (RLIMIT_MSGQUEUE)" : "");
			kb_close_all(c);
			/* No POSIX mq in this kernel, or a limit: say so. */
			return e == ENOSYS || e == ENOENT || e == EMFILE ?
			       KB_SKIP : -1;
		}
		c->fd[ch][0] = c->fd[ch][1] = q;
	}
	kb_cfg_add(c, "mq_maxmsg %ld", attr.mq_maxmsg);
	return 0;
}

int kb_nothing(struct kb_ctx *c UNUSED)
{
	return 0;
}

static int posix_mq_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	while (mq_send(c->fd[ch][1], buf, len, 0))
		if (!kb_retry())
			return kb_fail_errno(c, "mq_send");
	return 0;
}

static int posix_mq_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	ssize_t n;

	while ((n = mq_receive(c->fd[ch][0], buf, len, NULL)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "mq_receive");
	if ((size_t)n != len)
		return kb_fail(c, "mq_receive: %zd bytes, expected %zu", n, len);
	return 0;
}

const struct kb_mech kb_mech_posix_mq = {
	.name = "posix-mq",
	.desc = "POSIX mq_send/mq_receive, one queue per direction",
	.copies = 2,
	.max_size = posix_mq_max,
	.setup = posix_mq_setup,
	.attach = kb_nothing,
	.send = posix_mq_send,
	.recv = posix_mq_recv,
	.teardown = kb_close_all,
};

/* --- sockets ---------------------------------------------------------------- */

static void use_socket(struct kb_ctx *c, int fd)
{
	for (int ch = 0; ch < KB_NCH; ch++)
		c->fd[ch][0] = c->fd[ch][1] = fd;
}

struct unix_priv {
	char path[2][128];
	int lfd;
};

static void unix_teardown(struct kb_ctx *c)
{
	struct unix_priv *p = c->priv;

	kb_close_all(c);
	if (!p)
		return;
	kb_close(&p->lfd);
	for (int i = 0; i < 2; i++) {
		if (p->path[i][0]) {
			unlink(p->path[i]);
			kb_unreg_path(p->path[i]);
		}
	}
	free(p);
	c->priv = NULL;
}

static int unix_bind(struct kb_ctx *c, int fd, char *path, int i)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(path, 108, "%s/sock%d", kb_sys.tmpdir, i);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	kb_reg_path(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return kb_fail_errno(c, "bind");
	return 0;
}

static int unix_connect(struct kb_ctx *c, int fd, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		if (!kb_retry())
			return kb_fail_errno(c, "connect");
	return 0;
}

static struct unix_priv *unix_priv_new(struct kb_ctx *c)
{
	struct unix_priv *p = calloc(1, sizeof(*p));

	if (p)
		p->lfd = -1;
	c->priv = p;
	return p;
}

/* A named listening socket; the child connects, the parent accepts. */
static int unix_stream_setup(struct kb_ctx *c)
{
	struct unix_priv *p = unix_priv_new(c);

	if (!p)
		return kb_fail(c, "out of memory");
	p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->lfd < 0 || unix_bind(c, p->lfd, p->path[0], 0) ||
	    listen(p->lfd, 1)) {
		if (!c->err[0])
			kb_fail_errno(c, "socket/listen");
		unix_teardown(c);
		return -1;
	}
	return 0;
}

static int unix_stream_attach(struct kb_ctx *c)
{
	struct unix_priv *p = c->priv;
	int fd;

	if (c->role == KB_CHILD) {
		kb_close(&p->lfd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return kb_fail_errno(c, "socket");
		if (unix_connect(c, fd, p->path[0])) {
			close(fd);
			return -1;
		}
	} else {
		while ((fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			if (!kb_retry())
				return kb_fail_errno(c, "accept");
	}
	use_socket(c, fd);
	kb_set_sndbuf(c, fd, c->bufsize);
	return 0;
}

const struct kb_mech kb_mech_unix_stream = {
	.name = "unix-stream",
	.desc = "AF_UNIX SOCK_STREAM, named, connect/accept, SO_SNDBUF",
	.flags = KB_F_BYTESTREAM,
	.copies = 2,
	.max_size = no_limit,
	.setup = unix_stream_setup,
	.attach = unix_stream_attach,
	.send = kb_fd_send,
	.recv = kb_fd_recv,
	.teardown = unix_teardown,
};

/* Each datagram costs its truesize (about 1 KiB over the payload). */
static long dgram_sndbuf(const struct kb_ctx *c)
{
	return (long)c->depth * (c->size + 1024) + 4096;
}

static size_t unix_dgram_max(char *note, size_t notelen)
{
	long lim;

	if (kb_sys.tune)
		return KB_MAX_SIZE;
	/* A datagram must fit sk_sndbuf - 32; SO_SNDBUF stops at wmem_max. */
	lim = 2 * kb_sys.wmem_max - 32 - 1024;
	if (lim >= KB_MAX_SIZE)
		return KB_MAX_SIZE;
	snprintf(note, notelen,
		 "above the send buffer net.core.wmem_max allows (%ld)",
		 kb_sys.wmem_max);
	return lim > 0 ? lim : 0;
}

/* Two bound sockets connected to each other; each process keeps one. */
static int unix_dgram_setup(struct kb_ctx *c)
{
	struct unix_priv *p = unix_priv_new(c);
	int fd[2] = { -1, -1 };

	if (!p)
		return kb_fail(c, "out of memory");
	for (int i = 0; i < 2; i++) {
		fd[i] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd[i] < 0 || unix_bind(c, fd[i], p->path[i], i))
			goto fail;
	}
	if (unix_connect(c, fd[0], p->path[1]) ||
	    unix_connect(c, fd[1], p->path[0]))
		goto fail;
	/* fd[0] is the parent's, fd[1] the child's (see attach). */
	c->fd[KB_CH_P2C][1] = c->fd[KB_CH_C2P][0] = fd[0];
	c->fd[KB_CH_P2C][0] = c->fd[KB_CH_C2P][1] = fd[1];
	kb_set_sndbuf(c, fd[0], dgram_sndbuf(c));
	kb_set_sndbuf(c, fd[1], dgram_sndbuf(c));
	kb_cfg_add(c, "max_dgram_qlen %ld", kb_sys.dgram_qlen);
	return 0;
fail:
	if (!c->err[0])
		kb_fail_errno(c, "socket");
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	unix_teardown(c);
	return -1;
}

static int unix_dgram_attach(struct kb_ctx *c)
{
	int mine = c->role == KB_PARENT ? c->fd[KB_CH_P2C][1] :
					  c->fd[KB_CH_P2C][0];

	for (int ch = 0; ch < KB_NCH; ch++)
		for (int e = 0; e < 2; e++)
			if (c->fd[ch][e] != mine)
				kb_close(&c->fd[ch][e]);
	use_socket(c, mine);
	return 0;
}

static int dgram_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	ssize_t n;

	while ((n = send(c->fd[ch][1], buf, len, 0)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "send");
	if ((size_t)n != len)
		return kb_fail(c, "send: %zd of %zu bytes", n, len);
	return 0;
}

static int dgram_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	ssize_t n;

	/* MSG_TRUNC: a longer datagram reports its real length. */
	while ((n = recv(c->fd[ch][0], buf, len, MSG_TRUNC)) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "recv");
	if ((size_t)n != len)
		return kb_fail(c, "recv: %zd bytes, expected %zu", n, len);
	return 0;
}

const struct kb_mech kb_mech_unix_dgram = {
	.name = "unix-dgram",
	.desc = "AF_UNIX SOCK_DGRAM, named, connected, SO_SNDBUF",
	.copies = 2,
	.max_size = unix_dgram_max,
	.setup = unix_dgram_setup,
	.attach = unix_dgram_attach,
	.send = dgram_send,
	.recv = dgram_recv,
	.teardown = unix_teardown,
};

static int socketpair_setup(struct kb_ctx *c)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return kb_fail_errno(c, "socketpair");
	c->fd[KB_CH_P2C][1] = c->fd[KB_CH_C2P][0] = sv[0];
	c->fd[KB_CH_P2C][0] = c->fd[KB_CH_C2P][1] = sv[1];
	return 0;
}

static int socketpair_attach(struct kb_ctx *c)
{
	unix_dgram_attach(c);
	kb_set_sndbuf(c, c->fd[0][0], c->bufsize);
	return 0;
}

const struct kb_mech kb_mech_socketpair = {
	.name = "socketpair",
	.desc = "socketpair(AF_UNIX, SOCK_STREAM), anonymous, SO_SNDBUF",
	.flags = KB_F_BYTESTREAM,
	.copies = 2,
	.max_size = no_limit,
	.setup = socketpair_setup,
	.attach = socketpair_attach,
	.send = kb_fd_send,
	.recv = kb_fd_recv,
	.teardown = kb_close_all,
};

/* --- TCP over loopback ------------------------------------------------------ */

static int tcp_setup(struct kb_ctx *c)
{
	struct unix_priv *p = unix_priv_new(c);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	if (!p)
		return kb_fail(c, "out of memory");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->lfd < 0 ||
	    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(p->lfd, 1)) {
		kb_fail_errno(c, "tcp socket/bind/listen 127.0.0.1");
		unix_teardown(c);
		return -1;
	}
	/* Autotuning sizes the buffers best: SO_SNDBUF would disable it. */
	kb_cfg_add(c, "TCP_NODELAY; buffers autotuned");
	return 0;
}

static int tcp_attach(struct kb_ctx *c)
{
	struct unix_priv *p = c->priv;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	if (c->role == KB_CHILD) {
		if (getsockname(p->lfd, (struct sockaddr *)&sa, &sl))
			return kb_fail_errno(c, "getsockname");
		kb_close(&p->lfd);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return kb_fail_errno(c, "socket");
		while (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			if (!kb_retry()) {
				close(fd);
				return kb_fail_errno(c, "connect");
			}
		}
	} else {
		while ((fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			if (!kb_retry())
				return kb_fail_errno(c, "accept");
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	use_socket(c, fd);
	return 0;
}

const struct kb_mech kb_mech_tcp = {
	.name = "tcp",
	.desc = "TCP over 127.0.0.1, TCP_NODELAY",
	.flags = KB_F_BYTESTREAM,
	.copies = 2,
	.max_size = no_limit,
	.setup = tcp_setup,
	.attach = tcp_attach,
	.send = kb_fd_send,
	.recv = kb_fd_recv,
	.teardown = unix_teardown,
};

/* --- eventfd: the 8-byte message is the counter value ----------------------- */

static int eventfd_setup(struct kb_ctx *c)
{
	for (int ch = 0; ch < KB_NCH; ch++) {
		int fd = eventfd(0, EFD_CLOEXEC);

		if (fd < 0) {
			kb_close_all(c);
			return kb_fail_errno(c, "eventfd");
		}
		c->fd[ch][0] = c->fd[ch][1] = fd;
	}
	return 0;
}

static int eventfd_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	uint64_t v;

	/* The count must not be 0 (it would not wake) nor ~0. */
	memcpy(&v, buf, sizeof(v));
	v++;
	(void)len;
	return kb_write_full(c, c->fd[ch][1], &v, sizeof(v));
}

static int eventfd_recv(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	uint64_t v;

	(void)len;
	if (kb_read_full(c, c->fd[ch][0], &v, sizeof(v)))
		return -1;
	v--;
	memcpy(buf, &v, sizeof(v));
	return 0;
}

const struct kb_mech kb_mech_eventfd = {
	.name = "eventfd",
	.desc = "eventfd(2), one per direction; the counter is the message",
	.flags = KB_F_LAT_ONLY,
	.copies = 2,
	.max_size = only_8,
	.setup = eventfd_setup,
	.attach = kb_nothing,
	.send = eventfd_send,
	.recv = eventfd_recv,
	.teardown = kb_close_all,
};

/* --- signals: sigqueue(3) carries the 8-byte message in si_value ------------ */

struct signal_priv {
	sigset_t old;
	int sig;
};

static int signal_setup(struct kb_ctx *c)
{
	struct signal_priv *p = malloc(sizeof(*p));
	sigset_t set;

	if (!p)
		return kb_fail(c, "out of memory");
	p->sig = SIGRTMIN;
	sigemptyset(&set);
	sigaddset(&set, p->sig);
	/* Blocked before fork(): the child inherits the mask. */
	sigprocmask(SIG_BLOCK, &set, &p->old);
	c->priv = p;
	kb_cfg_add(c, "SIGRTMIN, sigqueue + sigwaitinfo");
	return 0;
}

static void signal_teardown(struct kb_ctx *c)
{
	struct signal_priv *p = c->priv;
	struct timespec zero = { 0, 0 };
	sigset_t set;

	if (!p)
		return;
	sigemptyset(&set);
	sigaddset(&set, p->sig);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &p->old, NULL);
	free(p);
	c->priv = NULL;
}

static int signal_send(struct kb_ctx *c, int ch UNUSED, void *buf,
		       size_t len UNUSED)
{
	struct signal_priv *p = c->priv;
	union sigval v;
	uint64_t seq;

	memcpy(&seq, buf, sizeof(seq));
	v.sival_ptr = (void *)(uintptr_t)seq;
	while (sigqueue(c->peer, p->sig, v))
		if (!kb_retry())
			return kb_fail_errno(c, "sigqueue");
	return 0;
}

static int signal_recv(struct kb_ctx *c, int ch UNUSED, void *buf,
		       size_t len UNUSED)
{
	struct signal_priv *p = c->priv;
	siginfo_t si;
	sigset_t set;
	uint64_t seq;

	sigemptyset(&set);
	sigaddset(&set, p->sig);
	while (sigwaitinfo(&set, &si) < 0)
		if (!kb_retry())
			return kb_fail_errno(c, "sigwaitinfo");
	if (si.si_pid != c->peer || si.si_code != SI_QUEUE)
		return kb_fail(c, "signal from pid %d code %d", si.si_pid,
			       si.si_code);
	seq = (uintptr_t)si.si_value.sival_ptr;
	memcpy(buf, &seq, sizeof(seq));
	return 0;
}

const struct kb_mech kb_mech_signal = {
	.name = "signal",
	.desc = "real-time signal, sigqueue(3) value, sigwaitinfo(2)",
	.flags = KB_F_LAT_ONLY,
	.copies = 0,
	.max_size = only_8,
	.setup = signal_setup,
	.attach = kb_nothing,
	.send = signal_send,
	.recv = signal_recv,
	.teardown = signal_teardown,
};
