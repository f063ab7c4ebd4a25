// SPDX-License-Identifier: GPL-2.0
/*
 * kipc message queues, the file interface: read_iter/write_iter (one call,
 * one message, as sendmsg()/recvmsg() on a datagram socket), the msgop(2)
 * twins as ioctls and their batches, the same four as io_uring commands,
 * poll and SIGIO.
 *
 * This file copies payloads between user space and messages: before a
 * send, after a receive, never under q->lock (it takes no lock of the
 * queue at all; mq.c does).  A receive whose copy-out faults puts its
 * messages back (kipc_mq_requeue()), so a bad buffer loses nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/uaccess.h>

#include "mq.h"
#include "compat.h"

/* Per open file: what write(2) and read(2) use, and what poll asks. */
struct kipc_mq_file {
	struct kipc_mq *q;
	s64 send_type;
	s64 recv_type;
	u32 recv_flags;
	/*
	 * The size of this file's last send (1 before the first): poll
	 * reports EPOLLOUT only when a message of that size fits, the room
	 * a sender of that size sleeps for.
	 */
	u32 last_len;
};

#define KIPC_MQ_READ_FLAGS (KIPC_MQ_NOERROR | KIPC_MQ_EXCEPT)

/* Batches are prepared and received a chunk at a time. */
#define KIPC_MQ_CHUNK 64
/* Payload a send batch copies in before sending, beyond one message. */
#define KIPC_MQ_CHUNK_BYTES 65536

struct kipc_mq_chunk {
	struct kipc_mq_msg desc[KIPC_MQ_CHUNK];
	struct kipc_mq_kmsg *msgs[KIPC_MQ_CHUNK];
	struct kipc_mq_sel sels[KIPC_MQ_CHUNK];
};

static int kipc_mq_open(struct inode *inode, struct file *file)
{
	struct kipc_mq *q =
		container_of(inode->i_cdev, struct kipc_mq, base.cdev);
	struct kipc_mq_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	f->q = q;
	f->send_type = 1;
	f->last_len = 1;
	file->private_data = f;
	stream_open(inode, file);
	/* Every read and write honours IOCB_NOWAIT (RWF_NOWAIT, io_uring). */
	file->f_mode |= FMODE_NOWAIT;
	kipc_devbase_opened(&q->base);
	return 0;
}

static int kipc_mq_release(struct inode *inode, struct file *file)
{
	struct kipc_mq_file *f = file->private_data;

	kipc_devbase_closed(&f->q->base);
	kfree(f);
	return 0;
}

static unsigned int kipc_mq_file_io(struct kiocb *iocb)
{
	unsigned int io = KIPC_MQ_IO_FILE;

	if ((iocb->ki_filp->f_flags & O_NONBLOCK) ||
	    (iocb->ki_flags & IOCB_NOWAIT))
		io |= KIPC_MQ_IO_NONBLOCK;
	return io;
}

/* One read, one message, scattered over the iovecs. */
static ssize_t kipc_mq_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct kipc_mq_file *f = iocb->ki_filp->private_data;
	size_t count = iov_iter_count(to);
	struct kipc_mq_kmsg *m;
	struct kipc_mq_sel sel;
	size_t n;
	int err;

	kipc_mq_sel_init(&sel, READ_ONCE(f->recv_type),
			 READ_ONCE(f->recv_flags),
			 min_t(size_t, count, U32_MAX));
	if (!kipc_mq_recv(f->q, &sel, &m, 1, kipc_mq_file_io(iocb), &err))
		return err;
	n = min_t(size_t, m->len, count);
	if (copy_to_iter(m->data, n, to) != n) {
		kipc_mq_requeue(f->q, &m, 1);
		return -EFAULT;
	}
	kipc_mq_free(m);
	return n;
}

/* One write, one message, gathered from the iovecs. */
static ssize_t kipc_mq_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct kipc_mq_file *f = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	struct kipc_mq_kmsg *m;
	int err;

	/* Over the size limit is EINVAL, as msgsnd(). */
	if (len > READ_ONCE(f->q->max_msg_size))
		return -EINVAL;
	WRITE_ONCE(f->last_len, len);
	m = kipc_mq_alloc(len);
	if (!m)
		return -ENOMEM;
	m->type = READ_ONCE(f->send_type);
	if (!copy_from_iter_full(m->data, len, from)) {
		kipc_mq_free(m);
		return -EFAULT;
	}
	if (!kipc_mq_send(f->q, &m, 1, kipc_mq_file_io(iocb), &err)) {
		kipc_mq_free(m);
		return err;
	}
	return len;
}

static __poll_t kipc_mq_poll(struct file *file, poll_table *wait)
{
	struct kipc_mq_file *f = file->private_data;
	struct kipc_mq *q = f->q;
	struct kipc_mq_sel sel;
	__poll_t mask = 0;

	poll_wait(file, &q->pollwq, wait);
	/* Pairs with wq_has_sleeper() in kipc_mq_unlock(), as sock_poll_wait(). */
	smp_mb();

	if (file->f_mode & FMODE_READ) {
		/* The message read(2) would take, or fail on: it won't block. */
		kipc_mq_sel_init(&sel, READ_ONCE(f->recv_type),
				 READ_ONCE(f->recv_flags), U32_MAX);
		if (kipc_mq_readable(q, &sel))
			mask |= EPOLLIN | EPOLLRDNORM;
	}
	if ((file->f_mode & FMODE_WRITE) &&
	    kipc_mq_room(q, READ_ONCE(f->last_len)))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int kipc_mq_fasync(int fd, struct file *file, int on)
{
	struct kipc_mq_file *f = file->private_data;

	return fasync_helper(fd, file, on, &f->q->fasync);
}

/* --- the msgop(2) twins, for the ioctls and io_uring ------------------------ */

static long kipc_mq_send_one(struct kipc_mq_file *f,
			     const struct kipc_mq_msg __user *um,
			     unsigned int io)
{
	struct kipc_mq_kmsg *m;
	struct kipc_mq_msg d;
	int err;

	if (copy_from_user(&d, um, sizeof(d)))
		return -EFAULT;
	if (d.type <= 0 || (d.flags & ~KIPC_MQ_NOWAIT) ||
	    d.len > READ_ONCE(f->q->max_msg_size))
		return -EINVAL;
	WRITE_ONCE(f->last_len, d.len);
	m = kipc_mq_alloc(d.len);
	if (!m)
		return -ENOMEM;
	m->type = d.type;
	m->flags = d.flags;
	if (copy_from_user(m->data, u64_to_user_ptr(d.buf), d.len)) {
		kipc_mq_free(m);
		return -EFAULT;
	}
	if (!kipc_mq_send(f->q, &m, 1, io, &err)) {
		kipc_mq_free(m);
		return err;
	}
	return 0;
}

/* Returns the bytes received; writes the message's type and length back. */
static long kipc_mq_recv_one(struct kipc_mq_file *f,
			     struct kipc_mq_msg __user *um, unsigned int io)
{
	struct kipc_mq_kmsg *m;
	struct kipc_mq_sel sel;
	struct kipc_mq_msg d;
	u32 n;
	int err;

	if (copy_from_user(&d, um, sizeof(d)))
		return -EFAULT;
	if (d.flags & ~KIPC_MQ_FLAGS_ALL)
		return -EINVAL;
	kipc_mq_sel_init(&sel, d.type, d.flags, d.len);
	if (!kipc_mq_recv(f->q, &sel, &m, 1, io, &err))
		return err;
	n = min(m->len, d.len);
	if (copy_to_user(u64_to_user_ptr(d.buf), m->data, n) ||
	    put_user(m->type, &um->type) || put_user(n, &um->len)) {
		if (sel.peek)
			kipc_mq_free(m);
		else
			kipc_mq_requeue(f->q, &m, 1);
		return -EFAULT;
	}
	kipc_mq_free(m);
	return n;
}

/*
 * A batch stops at the first message that fails: done says how many
 * were sent or received, and the call fails only when done is 0.
 */
static long kipc_mq_batch_end(struct kipc_mq_batch __user *ub, u32 done,
			      int err)
{
	if (put_user(done, &ub->done))
		return -EFAULT;
	return done ? 0 : err;
}

/*
 * Prepare up to @n messages of @c->desc: check them, copy their payloads
 * in.  Returns how many are ready in @c->msgs; *err says why fewer.
 */
static unsigned int kipc_mq_prepare(struct kipc_mq_file *f,
				    struct kipc_mq_chunk *c, unsigned int n,
				    int *err)
{
	u32 max_size = READ_ONCE(f->q->max_msg_size);
	size_t bytes = 0;
	unsigned int i;

	*err = 0;
	for (i = 0; i < n; i++) {
		struct kipc_mq_msg *d = &c->desc[i];
		struct kipc_mq_kmsg *m;

		if (d->type <= 0 || (d->flags & ~KIPC_MQ_NOWAIT) ||
		    d->len > max_size) {
			*err = -EINVAL;
			break;
		}
		/* Bound what is held, copied but not sent, per chunk. */
		if (i && bytes + d->len > KIPC_MQ_CHUNK_BYTES)
			break;
		bytes += d->len;
		WRITE_ONCE(f->last_len, d->len);
		m = kipc_mq_alloc(d->len);
		if (!m) {
			*err = -ENOMEM;
			break;
		}
		m->type = d->type;
		m->flags = d->flags;
		if (copy_from_user(m->data, u64_to_user_ptr(d->buf), d->len)) {
			kipc_mq_free(m);
			*err = -EFAULT;
			break;
		}
		c->msgs[i] = m;
	}
	return i;
}

/* Send the chunk's @n messages: returns how many; *err why fewer. */
static unsigned int kipc_mq_send_chunk(struct kipc_mq_file *f,
				       struct kipc_mq_chunk *c, unsigned int n,
				       unsigned int io, int *err)
{
	unsigned int ready, sent = 0, i;
	int serr;

	ready = kipc_mq_prepare(f, c, n, err);
	if (ready)
		sent = kipc_mq_send(f->q, c->msgs, ready, io, &serr);
	for (i = sent; i < ready; i++)
		kipc_mq_free(c->msgs[i]);
	if (sent < ready)
		*err = serr;
	return sent;
}

/*
 * Receive for the chunk's @n descriptors, copy the payloads out and the
 * types and lengths back to @umsgs: returns how many; *err why fewer.
 */
static unsigned int kipc_mq_recv_chunk(struct kipc_mq_file *f,
				       struct kipc_mq_chunk *c,
				       struct kipc_mq_msg __user *umsgs,
				       unsigned int n, unsigned int io,
				       int *err)
{
	unsigned int i, got;
	int rerr;

	*err = 0;
	for (i = 0; i < n; i++) {
		struct kipc_mq_msg *d = &c->desc[i];

		/* A peek takes no message: nothing to batch. */
		if (d->flags & ~(KIPC_MQ_FLAGS_ALL & ~KIPC_MQ_PEEK)) {
			*err = -EINVAL;
			break;
		}
		kipc_mq_sel_init(&c->sels[i], d->type, d->flags, d->len);
	}
	if (!i)
		return 0;
	got = kipc_mq_recv(f->q, c->sels, c->msgs, i, io, &rerr);
	for (i = 0; i < got; i++) {
		struct kipc_mq_kmsg *m = c->msgs[i];
		u32 len = min(m->len, c->desc[i].len);

		if (copy_to_user(u64_to_user_ptr(c->desc[i].buf), m->data,
				 len)) {
			kipc_mq_requeue(f->q, c->msgs + i, got - i);
			*err = -EFAULT;
			break;
		}
		c->desc[i].type = m->type;
		c->desc[i].len = len;
	}
	/* Types and lengths in one copy; if it fails, undo them all. */
	if (i && copy_to_user(umsgs, c->desc, i * sizeof(c->desc[0]))) {
		kipc_mq_requeue(f->q, c->msgs, i);
		*err = -EFAULT;
		return 0;
	}
	got = i;
	while (i--)
		kipc_mq_free(c->msgs[i]);
	if (!*err && got < n)
		*err = rerr;
	return got;
}

static long kipc_mq_batch(struct kipc_mq_file *f,
			  struct kipc_mq_batch __user *ub, bool send,
			  unsigned int io)
{
	struct kipc_mq_msg __user *umsgs;
	struct kipc_mq_chunk *c;
	struct kipc_mq_batch b;
	u32 done = 0;
	int err = 0;

	if (copy_from_user(&b, ub, sizeof(b)))
		return -EFAULT;
	if (b.count > KIPC_MQ_BATCH_MAX)
		return -EINVAL;
	if (!b.count)
		return kipc_mq_batch_end(ub, 0, 0);
	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	umsgs = u64_to_user_ptr(b.msgs);

	while (done < b.count && !err) {
		unsigned int n = min_t(u32, b.count - done, KIPC_MQ_CHUNK);

		if (copy_from_user(c->desc, umsgs + done,
				   n * sizeof(c->desc[0]))) {
			err = -EFAULT;
			break;
		}
		if (send)
			done += kipc_mq_send_chunk(f, c, n, io, &err);
		else /* Only the first of the whole batch may wait. */
			done += kipc_mq_recv_chunk(
				f, c, umsgs + done, n,
				io | (done ? KIPC_MQ_IO_NONBLOCK : 0), &err);
	}
	kfree(c);
	return kipc_mq_batch_end(ub, done, err);
}

/* SEND, RECV and their batches, from an ioctl or an io_uring command. */
static long kipc_mq_msg_cmd(struct file *file, unsigned int cmd,
			    void __user *arg, unsigned int io)
{
	struct kipc_mq_file *f = file->private_data;

	/* As read(2) and write(2) on a file not opened for them. */
	switch (cmd) {
	case KIPC_MQ_SEND:
	case KIPC_MQ_SEND_BATCH:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		break;
	case KIPC_MQ_RECV:
	case KIPC_MQ_RECV_BATCH:
		if (!(file->f_mode & FMODE_READ))
			return -EBADF;
		break;
	}
	if (file->f_flags & O_NONBLOCK)
		io |= KIPC_MQ_IO_NONBLOCK;

	switch (cmd) {
	case KIPC_MQ_SEND:
		return kipc_mq_send_one(f, arg, io);
	case KIPC_MQ_RECV:
		return kipc_mq_recv_one(f, arg, io);
	case KIPC_MQ_SEND_BATCH:
		return kipc_mq_batch(f, arg, true, io);
	case KIPC_MQ_RECV_BATCH:
		return kipc_mq_batch(f, arg, false, io);
	}
	return -ENOTTY;
}

/*
 * io_uring: the same four commands.  The inline attempt must not sleep:
 * where it would, -EAGAIN has io_uring retry the command from its worker,
 * which may, and which cancellation (io_uring_prep_cancel(), closing the
 * ring, exiting) interrupts like a signal.  Any other result is posted
 * with io_uring_cmd_done(): io_uring takes a positive return value of
 * ->uring_cmd() for a failure, which would cancel the commands linked
 * after it.
 */
static int kipc_mq_uring_cmd(struct io_uring_cmd *ioucmd,
			     unsigned int issue_flags)
{
	const struct kipc_mq_uring_cmd *c = kipc_uring_cmd_payload(ioucmd);
	unsigned int io = 0;
	long ret;

	switch (ioucmd->cmd_op) {
	case KIPC_MQ_SEND:
	case KIPC_MQ_RECV:
	case KIPC_MQ_SEND_BATCH:
	case KIPC_MQ_RECV_BATCH:
		break;
	default:
		return -ENOTTY;
	}
	if (READ_ONCE(c->__reserved))
		return -EINVAL;
	if (issue_flags & IO_URING_F_NONBLOCK)
		io |= KIPC_MQ_IO_NOSLEEP;
	ret = kipc_mq_msg_cmd(ioucmd->file, ioucmd->cmd_op,
			      u64_to_user_ptr(READ_ONCE(c->arg)), io);
	if (ret == -EAGAIN && (io & KIPC_MQ_IO_NOSLEEP))
		return -EAGAIN;
	/* A completion cannot be restarted: interrupted is EINTR. */
	if (ret == -ERESTARTNOHAND)
		ret = -EINTR;
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
	return -EIOCBQUEUED;
}

/* --- the other ioctls --------------------------------------------------------- */

static long kipc_mq_ioctl_stat(struct kipc_mq *q,
			       struct kipc_mq_stat __user *us)
{
	struct kipc_mq_stat st;

	kipc_mq_stat(q, &st);
	return copy_to_user(us, &st, sizeof(st)) ? -EFAULT : 0;
}

static long kipc_mq_ioctl_limits(struct kipc_mq *q,
				 const struct kipc_mq_limits __user *ul)
{
	struct kipc_mq_new_limits nl = {
		.mask = BIT(KIPC_MQ_LIMIT_BYTES) | BIT(KIPC_MQ_LIMIT_MSG_SIZE) |
			BIT(KIPC_MQ_LIMIT_MSGS),
	};
	struct kipc_mq_limits l;
	unsigned int bad;
	int ret;

	if (copy_from_user(&l, ul, sizeof(l)))
		return -EFAULT;
	if (l.__reserved)
		return -EINVAL;
	nl.val[KIPC_MQ_LIMIT_BYTES] = l.max_bytes;
	nl.val[KIPC_MQ_LIMIT_MSG_SIZE] = l.max_msg_size;
	nl.val[KIPC_MQ_LIMIT_MSGS] = l.max_msgs;
	ret = kipc_mq_check_limits(&nl, &bad);
	if (ret)
		return ret;
	kipc_mq_set_limits(q, &nl);
	return 0;
}

static long kipc_mq_get_fileopts(struct kipc_mq_file *f,
				 struct kipc_mq_fileopts __user *uo)
{
	struct kipc_mq_fileopts o = {
		.send_type = READ_ONCE(f->send_type),
		.recv_type = READ_ONCE(f->recv_type),
		.recv_flags = READ_ONCE(f->recv_flags),
	};

	return copy_to_user(uo, &o, sizeof(o)) ? -EFAULT : 0;
}

static long kipc_mq_set_fileopts(struct kipc_mq_file *f,
				 const struct kipc_mq_fileopts __user *uo)
{
	struct kipc_mq_fileopts o;

	if (copy_from_user(&o, uo, sizeof(o)))
		return -EFAULT;
	if (o.send_type <= 0 || (o.recv_flags & ~KIPC_MQ_READ_FLAGS) ||
	    o.__reserved)
		return -EINVAL;
	WRITE_ONCE(f->send_type, o.send_type);
	WRITE_ONCE(f->recv_type, o.recv_type);
	WRITE_ONCE(f->recv_flags, o.recv_flags);
	return 0;
}

static long kipc_mq_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct kipc_mq_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KIPC_MQ_SEND:
	case KIPC_MQ_RECV:
	case KIPC_MQ_SEND_BATCH:
	case KIPC_MQ_RECV_BATCH:
		return kipc_mq_msg_cmd(file, cmd, uarg, 0);
	case KIPC_MQ_STAT:
		return kipc_mq_ioctl_stat(f->q, uarg);
	case KIPC_MQ_SET_LIMITS:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return kipc_mq_ioctl_limits(f->q, uarg);
	case KIPC_MQ_FLUSH:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return kipc_mq_flush(f->q);
	case KIPC_MQ_GET_FILEOPTS:
		return kipc_mq_get_fileopts(f, uarg);
	case KIPC_MQ_SET_FILEOPTS:
		return kipc_mq_set_fileopts(f, uarg);
	}
	return -ENOTTY;
}

const struct file_operations kipc_mq_fops = {
	.owner = THIS_MODULE,
	.open = kipc_mq_open,
	.release = kipc_mq_release,
	.read_iter = kipc_mq_read_iter,
	.write_iter = kipc_mq_write_iter,
	.poll = kipc_mq_poll,
	.fasync = kipc_mq_fasync,
	.unlocked_ioctl = kipc_mq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = kipc_mq_uring_cmd,
};
