// SPDX-License-Identifier: GPL-2.0
/*
 * kipc pipe: /dev/kipc/pipeN, an in-kernel twin of a FIFO (fifo(7), pipe(7))
 * built on a flat byte ring instead of pipe buffers and pages.
 *
 * Locking, in this order: wr_mutex serialises writers and rd_mutex
 * readers, each held across its side's user copies; p->lock guards the
 * ring's state (position, length, size), the reader and writer counts and
 * the counters, and is held only to look at that state and to publish
 * what was copied.  A reader copies out of the published data, a writer
 * into the free space after it, so a reader and a writer copy at the same
 * time without touching the same bytes, where fs/pipe.c makes them take
 * turns under one mutex; copies shorter than KIPC_PIPE_UNLOCKED_COPY stay
 * under p->lock.  Whatever moves the data itself (resize, flush) takes
 * both side mutexes first.  At most two copy_{to,from}_user() calls per
 * round, one per side of the wrap.
 *
 * Waiting: readers sleep on rd_wait until kipc_pipe_readable(), writers on
 * wr_wait until kipc_pipe_writable(); poll() answers from the same two
 * tests, so a sleeper and a poller always agree on what "ready" means.
 * The waits are exclusive: a change of state wakes one sleeper, and a
 * sleeper that was woken wakes the next one when it leaves the state
 * still ready (wake_next), as in fs/pipe.c.  A side is only woken when its
 * state changes (readers: was empty; writers: had less than KIPC_PIPE_BUF
 * free), always after the mutex is dropped.  Openers waiting for a partner
 * sleep on their own queue, so data traffic never wakes them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/sched/signal.h>
#include <linux/compat.h>
#include <asm/ioctls.h>

#include "kipc.h"
#include "compat.h"

unsigned int kipc_pipe_max_size = 1048576;
module_param_named(pipe_max_size, kipc_pipe_max_size, uint, 0644);
MODULE_PARM_DESC(pipe_max_size,
		 "Largest pipe size without CAP_SYS_RESOURCE (default 1 MiB)");

static unsigned int kipc_pipe_size = KIPC_PIPE_DEF_SIZE;
module_param_named(pipe_size, kipc_pipe_size, uint, 0444);
MODULE_PARM_DESC(pipe_size, "Initial size of each pipe ring (default 65536)");

/*
 * Copies of fewer bytes stay under p->lock: for them the two lock round
 * trips that let the other side work meanwhile cost more than the copy.
 */
#define KIPC_PIPE_UNLOCKED_COPY 8192

/* Like round_pipe_size(): larger requests are refused with EINVAL. */
#define KIPC_PIPE_SIZE_LIMIT (1U << 31)

struct kipc_pipe {
	struct kipc_devbase base;
	struct mutex wr_mutex;
	struct mutex rd_mutex;
	struct mutex lock;
	wait_queue_head_t rd_wait;
	wait_queue_head_t wr_wait;
	/* Openers waiting for the other side (fifo_open's wait_for_partner). */
	wait_queue_head_t open_wait;

	/* The ring: len bytes from rpos, wrapping at size.  NULL when closed. */
	char *buf;
	unsigned int size;
	unsigned int rpos;
	unsigned int len;
	/* A writer is copying after the data: rpos must stay where it is. */
	bool writing;

	unsigned int readers;
	unsigned int writers;
	/* Opens ever seen per side: a quick open and close still counts. */
	unsigned int r_counter;
	unsigned int w_counter;
	/* Set once poll() is used: epoll wants a wake-up on every write. */
	bool poll_usage;

	struct fasync_struct *fasync_readers;
	struct fasync_struct *fasync_writers;

	u64 high_water;
	struct kipc_io_stats stats;
	atomic_t readers_waiting;
	atomic_t writers_waiting;
};

/* Per open file. */
struct kipc_pipe_file {
	struct kipc_pipe *pipe;
	/* fifo's f_pipe: w_counter when opened, to hold back EPOLLHUP. */
	unsigned int w_seen;
};

static struct kipc_pipe *kipc_pipes;
static unsigned int kipc_pipe_nr;

#define KIPC_PIPE_EV(e) (1U << (e))

static inline bool kipc_pipe_has_data(unsigned int len)
{
	return len != 0;
}

/* Room for an atomic write of any size: what writers wait for. */
static inline bool kipc_pipe_has_room(unsigned int size, unsigned int len)
{
	return len <= size && size - len >= KIPC_PIPE_BUF;
}

/* Read without the lock by wait_event and poll, hence READ_ONCE. */
static bool kipc_pipe_readable(const struct kipc_pipe *p)
{
	return kipc_pipe_has_data(READ_ONCE(p->len)) || !READ_ONCE(p->writers);
}

static bool kipc_pipe_writable(const struct kipc_pipe *p)
{
	return kipc_pipe_has_room(READ_ONCE(p->size), READ_ONCE(p->len)) ||
	       !READ_ONCE(p->readers);
}

static inline struct kipc_pipe *kipc_pipe_of(struct file *file)
{
	return ((struct kipc_pipe_file *)file->private_data)->pipe;
}

/* Sends the events collected under the lock; call with no lock held. */
static void kipc_pipe_notify(struct kipc_pipe *p, unsigned int ev, u64 fill)
{
	static const u8 order[] = {
		KIPC_EVENT_FLUSHED, KIPC_EVENT_RESIZED, KIPC_EVENT_HIGH_WATER,
		KIPC_EVENT_FULL,    KIPC_EVENT_EMPTY,
	};
	unsigned int i;

	if (likely(!ev))
		return;
	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (ev & KIPC_PIPE_EV(order[i]))
			kipc_nl_notify(&p->base, order[i], fill);
}

/*
 * After len grew from old: the events it causes, and the peak.  Called
 * under the lock.
 */
static unsigned int kipc_pipe_grew(struct kipc_pipe *p, unsigned int old)
{
	unsigned int ev = 0;

	if (p->len > p->stats.peak_fill)
		p->stats.peak_fill = p->len;
	if (p->high_water && old < p->high_water && p->len >= p->high_water)
		ev |= KIPC_PIPE_EV(KIPC_EVENT_HIGH_WATER);
	if (p->len == p->size && old < p->size)
		ev |= KIPC_PIPE_EV(KIPC_EVENT_FULL);
	return ev;
}

/*
 * Copies n bytes (n <= free space) in at head; returns bytes copied.  A
 * small copy goes through a user access window, its bounds being the
 * ring's own offsets; if it faults it is done again the usual way, which
 * counts what it copied.
 */
static size_t kipc_pipe_copy_in(struct kipc_pipe *p, unsigned int head,
				const char __user *ubuf, size_t n)
{
	size_t first, left;

	first = min_t(size_t, n, p->size - head);
	if (n <= KIPC_SMALL_COPY &&
	    !kipc_copy_from_user_small(p->buf + head, ubuf, first) &&
	    !kipc_copy_from_user_small(p->buf, ubuf + first, n - first))
		return n;
	left = copy_from_user(p->buf + head, ubuf, first);
	if (likely(!left) && n > first)
		return n - copy_from_user(p->buf, ubuf + first, n - first);
	return first - left;
}

/* Copies n bytes (n <= len) out from rpos; returns bytes copied. */
static size_t kipc_pipe_copy_out(struct kipc_pipe *p, unsigned int rpos,
				 char __user *ubuf, size_t n)
{
	size_t first, left;

	first = min_t(size_t, n, p->size - rpos);
	if (n <= KIPC_SMALL_COPY &&
	    !kipc_copy_to_user_small(ubuf, p->buf + rpos, first) &&
	    !kipc_copy_to_user_small(ubuf + first, p->buf, n - first))
		return n;
	left = copy_to_user(ubuf, p->buf + rpos, first);
	if (likely(!left) && n > first)
		return n - copy_to_user(ubuf + first, p->buf, n - first);
	return first - left;
}

static ssize_t kipc_pipe_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct kipc_pipe *p = kipc_pipe_of(file);
	bool wake_writer = false, wake_next = false, had_room;
	unsigned int ev = 0, rpos;
	size_t n, done = 0;
	ssize_t ret = 0;

	if (unlikely(!count))
		return 0;

	mutex_lock(&p->rd_mutex);
	mutex_lock(&p->lock);
	while (!kipc_pipe_has_data(p->len)) {
		if (!p->writers)
			goto out; /* EOF */
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out;
		}
		p->stats.read_waits++;
		mutex_unlock(&p->lock);
		mutex_unlock(&p->rd_mutex);

		atomic_inc(&p->readers_waiting);
		ret = wait_event_interruptible_exclusive(p->rd_wait,
							 kipc_pipe_readable(p));
		atomic_dec(&p->readers_waiting);
		/* Nothing moved yet and the locks are dropped: just leave. */
		if (ret)
			return -ERESTARTSYS;
		mutex_lock(&p->rd_mutex);
		mutex_lock(&p->lock);
		wake_next = true;
	}

	/* Out of the published data, while writers add after it. */
	n = min_t(size_t, count, p->len);
	rpos = p->rpos;
	if (n < KIPC_PIPE_UNLOCKED_COPY) {
		done = kipc_pipe_copy_out(p, rpos, ubuf, n);
	} else {
		mutex_unlock(&p->lock);
		done = kipc_pipe_copy_out(p, rpos, ubuf, n);
		mutex_lock(&p->lock);
	}
	if (unlikely(!done)) {
		ret = -EFAULT;
		goto out;
	}
	had_room = kipc_pipe_has_room(p->size, p->len);
	p->len -= done;
	p->rpos += done;
	if (p->rpos >= p->size)
		p->rpos -= p->size;
	if (!p->len) {
		/* Start over at 0, so the next write is one copy. */
		if (!p->writing)
			p->rpos = 0;
		ev |= KIPC_PIPE_EV(KIPC_EVENT_EMPTY);
	}
	p->stats.reads++;
	p->stats.bytes_out += done;
	wake_writer = !had_room && kipc_pipe_has_room(p->size, p->len);
	ret = done;
out:
	/* A woken reader passes the wake-up on while data is left. */
	if (!kipc_pipe_has_data(p->len))
		wake_next = false;
	mutex_unlock(&p->lock);
	mutex_unlock(&p->rd_mutex);

	if (wake_writer)
		wake_up_interruptible_sync_poll(&p->wr_wait,
						EPOLLOUT | EPOLLWRNORM);
	if (wake_next)
		wake_up_interruptible_sync_poll(&p->rd_wait,
						EPOLLIN | EPOLLRDNORM);
	if (done) {
		kill_fasync(&p->fasync_writers, SIGIO, POLL_OUT);
		kipc_pipe_notify(p, ev, 0);
	}
	return ret;
}

/* Wakes readers after a round of writing; was_empty: it added to nothing. */
static void kipc_pipe_wrote(struct kipc_pipe *p, bool was_empty)
{
	/* Epoll, even edge triggered, expects a wake-up on every write. */
	if (was_empty || READ_ONCE(p->poll_usage))
		wake_up_interruptible_sync_poll(&p->rd_wait,
						EPOLLIN | EPOLLRDNORM);
	kill_fasync(&p->fasync_readers, SIGIO, POLL_IN);
}

static ssize_t kipc_pipe_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct kipc_pipe *p = kipc_pipe_of(file);
	bool atomic = count <= KIPC_PIPE_BUF;
	bool wake_next = false, wrote = false, was_empty = false;
	unsigned int len, ev = 0;
	size_t done = 0;
	ssize_t ret = 0;

	if (unlikely(!count))
		return 0;

	mutex_lock(&p->wr_mutex);
	mutex_lock(&p->lock);
	for (;;) {
		unsigned int space, head, old;
		size_t n, copied;

		if (unlikely(!p->readers)) {
			send_sig(SIGPIPE, current, 0);
			ret = -EPIPE;
			break;
		}
		space = p->size - p->len;
		/* Up to KIPC_PIPE_BUF bytes go in whole or not at all. */
		if (space && (!atomic || space >= count)) {
			/* Into the free space, while readers take the data. */
			n = min_t(size_t, space, count - done);
			head = p->rpos + p->len;
			if (head >= p->size)
				head -= p->size;
			if (n < KIPC_PIPE_UNLOCKED_COPY) {
				copied = kipc_pipe_copy_in(p, head, ubuf + done,
							   n);
			} else {
				p->writing = true;
				mutex_unlock(&p->lock);
				copied = kipc_pipe_copy_in(p, head, ubuf + done,
							   n);
				mutex_lock(&p->lock);
				p->writing = false;
			}

			/* A fault in an atomic write writes nothing. */
			if (unlikely(copied < n) && atomic)
				copied = 0;
			old = p->len;
			p->len += copied;
			done += copied;
			if (copied) {
				wrote = true;
				was_empty |= !old;
			}
			ev |= kipc_pipe_grew(p, old);
			if (unlikely(copied < n)) {
				ret = -EFAULT;
				break;
			}
			if (done == count)
				break;
			continue;
		}
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}

		/* Full: let the readers at what is there, then sleep. */
		p->stats.write_waits++;
		len = p->len;
		mutex_unlock(&p->lock);
		mutex_unlock(&p->wr_mutex);
		if (wrote)
			kipc_pipe_wrote(p, was_empty);
		wrote = was_empty = false;
		kipc_pipe_notify(p, ev, len);
		ev = 0;

		atomic_inc(&p->writers_waiting);
		wait_event_interruptible_exclusive(p->wr_wait,
						   kipc_pipe_writable(p));
		atomic_dec(&p->writers_waiting);

		mutex_lock(&p->wr_mutex);
		mutex_lock(&p->lock);
		wake_next = true;
	}
	if (done) {
		p->stats.writes++;
		p->stats.bytes_in += done;
		ret = done;
	}
	/* A woken writer passes the wake-up on while room is left. */
	if (!kipc_pipe_has_room(p->size, p->len) || !p->readers)
		wake_next = false;
	len = p->len;
	mutex_unlock(&p->lock);
	mutex_unlock(&p->wr_mutex);

	if (wrote)
		kipc_pipe_wrote(p, was_empty);
	if (wake_next)
		wake_up_interruptible_sync_poll(&p->wr_wait,
						EPOLLOUT | EPOLLWRNORM);
	kipc_pipe_notify(p, ev, len);
	return ret;
}

static __poll_t kipc_pipe_poll(struct file *file, poll_table *wait)
{
	struct kipc_pipe_file *pf = file->private_data;
	struct kipc_pipe *p = pf->pipe;
	unsigned int len, size;
	__poll_t mask = 0;

	if (!READ_ONCE(p->poll_usage))
		WRITE_ONCE(p->poll_usage, true);

	/* Queue first, then test: a change after the test wakes us. */
	if (file->f_mode & FMODE_READ)
		poll_wait(file, &p->rd_wait, wait);
	if (file->f_mode & FMODE_WRITE)
		poll_wait(file, &p->wr_wait, wait);

	len = READ_ONCE(p->len);
	size = READ_ONCE(p->size);
	if (file->f_mode & FMODE_READ) {
		if (kipc_pipe_has_data(len))
			mask |= EPOLLIN | EPOLLRDNORM;
		/* No hang-up before this file has seen a writer. */
		if (!READ_ONCE(p->writers) &&
		    pf->w_seen != READ_ONCE(p->w_counter))
			mask |= EPOLLHUP;
	}
	if (file->f_mode & FMODE_WRITE) {
		if (kipc_pipe_has_room(size, len))
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (!READ_ONCE(p->readers))
			mask |= EPOLLERR;
	}
	return mask;
}

/*
 * A change asked for by the ioctls or netlink.  Everything is checked
 * before anything is changed, so a request applies whole or not at all.
 */
struct kipc_pipe_change {
	bool resize;
	bool flush;
	bool set_high_water;
	bool reset_stats;
	u64 size; /* as asked for, rounded here */
	u64 high_water;
};

static int kipc_pipe_apply(struct kipc_pipe *p, struct kipc_pipe_change *c,
			   struct netlink_ext_ack *extack)
{
	unsigned int ev = 0, size, len = 0;
	char *old = NULL, *buf = NULL;
	bool had_room, wake_writer = false;
	int ret = 0;

	if (c->resize) {
		if (!c->size || c->size > KIPC_PIPE_SIZE_LIMIT) {
			NL_SET_ERR_MSG(extack, "pipe size out of range");
			return -EINVAL;
		}
		c->size = round_up(c->size, PAGE_SIZE);
	}

	/* No user copy may be under way while the data moves. */
	mutex_lock(&p->wr_mutex);
	mutex_lock(&p->rd_mutex);
	mutex_lock(&p->lock);
	size = c->resize ? c->size : p->size;
	if (c->resize && size > p->size &&
	    size > READ_ONCE(kipc_pipe_max_size) &&
	    !capable(CAP_SYS_RESOURCE)) {
		NL_SET_ERR_MSG(extack, "needs CAP_SYS_RESOURCE above the max");
		ret = -EPERM;
		goto out;
	}
	if (c->resize && !c->flush && p->len > size) {
		NL_SET_ERR_MSG(extack, "buffered data would not fit");
		ret = -EBUSY;
		goto out;
	}
	if (c->set_high_water && c->high_water > size) {
		NL_SET_ERR_MSG(extack, "high-water mark above the pipe size");
		ret = -EINVAL;
		goto out;
	}
	if (c->resize && size != p->size && p->buf) {
		buf = kvmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!buf) {
			NL_SET_ERR_MSG(extack, "no memory for the new ring");
			ret = -ENOMEM;
			goto out;
		}
	}

	/* Checked: from here on nothing fails. */
	had_room = kipc_pipe_has_room(p->size, p->len);
	if (c->flush) {
		p->len = 0;
		p->rpos = 0;
		ev |= KIPC_PIPE_EV(KIPC_EVENT_FLUSHED);
	}
	if (c->resize && size != p->size) {
		if (buf) {
			unsigned int first = min(p->len, p->size - p->rpos);

			memcpy(buf, p->buf + p->rpos, first);
			memcpy(buf + first, p->buf, p->len - first);
			old = p->buf;
			p->buf = buf;
			p->rpos = 0;
		}
		p->size = size;
		ev |= KIPC_PIPE_EV(KIPC_EVENT_RESIZED);
	}
	if (c->set_high_water)
		p->high_water = c->high_water;
	if (c->reset_stats) {
		memset(&p->stats, 0, sizeof(p->stats));
		p->stats.peak_fill = p->len;
	}
	wake_writer = !had_room && kipc_pipe_has_room(p->size, p->len);
	len = p->len;
out:
	c->size = p->size;
	mutex_unlock(&p->lock);
	mutex_unlock(&p->rd_mutex);
	mutex_unlock(&p->wr_mutex);
	if (ret)
		return ret;

	kvfree(old);
	if (wake_writer)
		wake_up_interruptible_poll(&p->wr_wait, EPOLLOUT | EPOLLWRNORM);
	kipc_pipe_notify(p, ev, len);
	return 0;
}

static long kipc_pipe_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct kipc_pipe *p = kipc_pipe_of(file);
	u32 __user *uarg = (u32 __user *)arg;
	struct kipc_pipe_change c = { .resize = true };
	u32 want;
	int ret;

	switch (cmd) {
	case FIONREAD:
		return put_user(READ_ONCE(p->len), (int __user *)arg);
	case KIPC_PIPE_GET_SIZE:
		return put_user(READ_ONCE(p->size), uarg);
	case KIPC_PIPE_SET_SIZE:
		if (get_user(want, uarg))
			return -EFAULT;
		c.size = want;
		ret = kipc_pipe_apply(p, &c, NULL);
		if (ret)
			return ret;
		return put_user((u32)c.size, uarg);
	default:
		return -ENOTTY;
	}
}

static int kipc_pipe_fasync(int fd, struct file *file, int on)
{
	struct kipc_pipe *p = kipc_pipe_of(file);
	int ret = 0, rd_ret;

	mutex_lock(&p->lock);
	if (file->f_mode & FMODE_READ)
		ret = fasync_helper(fd, file, on, &p->fasync_readers);
	if ((file->f_mode & FMODE_WRITE) && ret >= 0) {
		rd_ret = ret;
		ret = fasync_helper(fd, file, on, &p->fasync_writers);
		/* Undo a reader entry added by this very call. */
		if (ret < 0 && rd_ret > 0)
			fasync_helper(-1, file, 0, &p->fasync_readers);
	}
	mutex_unlock(&p->lock);
	return ret;
}

/*
 * One side less, under the lock.  Returns the ring to free once nobody
 * has the device open: like a FIFO, its data dies with the last file.
 */
static char *kipc_pipe_put(struct kipc_pipe *p, fmode_t mode)
{
	char *buf = NULL;

	if (mode & FMODE_READ)
		p->readers--;
	if (mode & FMODE_WRITE)
		p->writers--;

	/* The last reader or writer left, but not the other side. */
	if (!p->readers != !p->writers) {
		wake_up_interruptible_all(&p->rd_wait);
		wake_up_interruptible_all(&p->wr_wait);
		kill_fasync(&p->fasync_readers, SIGIO, POLL_IN);
		kill_fasync(&p->fasync_writers, SIGIO, POLL_OUT);
	}
	if (!p->readers && !p->writers) {
		buf = p->buf;
		p->buf = NULL;
		p->len = 0;
		p->rpos = 0;
		p->poll_usage = false;
	}
	return buf;
}

/*
 * fifo_open's wait_for_partner: sleeps until *cnt moves, so a partner that
 * opens and closes again at once still lets this open complete.
 */
static int kipc_pipe_wait_partner(struct kipc_pipe *p, unsigned int *cnt)
{
	unsigned int cur = *cnt;
	int ret;

	mutex_unlock(&p->lock);
	ret = wait_event_interruptible(p->open_wait, READ_ONCE(*cnt) != cur);
	mutex_lock(&p->lock);
	return ret ? -ERESTARTSYS : 0;
}

static int kipc_pipe_open(struct inode *inode, struct file *file)
{
	struct kipc_pipe *p =
		container_of(inode->i_cdev, struct kipc_pipe, base.cdev);
	fmode_t mode = file->f_mode & (FMODE_READ | FMODE_WRITE);
	struct kipc_pipe_file *pf;
	char *old;
	int ret;

	if (!mode)
		return -EINVAL;
	pf = kmalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	if (!pf)
		return -ENOMEM;
	pf->pipe = p;
	pf->w_seen = 0;
	file->private_data = pf;
	/* No lseek, pread or pwrite: ESPIPE, as on a FIFO. */
	stream_open(inode, file);

	mutex_lock(&p->lock);
	/* POSIX: O_WRONLY | O_NONBLOCK with no reader fails at once. */
	if (mode == FMODE_WRITE && (file->f_flags & O_NONBLOCK) &&
	    !p->readers) {
		ret = -ENXIO;
		goto err;
	}
	if (!p->buf) {
		p->buf = kvmalloc(p->size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!p->buf) {
			ret = -ENOMEM;
			goto err;
		}
	}

	switch (mode) {
	case FMODE_READ:
		p->r_counter++;
		if (p->readers++ == 0)
			wake_up_interruptible_all(&p->open_wait);
		if (!p->writers) {
			if (file->f_flags & O_NONBLOCK) {
				/* Opens at once, but no EPOLLHUP until a
				 * writer has come and gone.
				 */
				pf->w_seen = p->w_counter;
			} else if (kipc_pipe_wait_partner(p, &p->w_counter)) {
				ret = -ERESTARTSYS;
				goto err_put;
			}
		}
		break;
	case FMODE_WRITE:
		p->w_counter++;
		if (p->writers++ == 0)
			wake_up_interruptible_all(&p->open_wait);
		if (!p->readers && kipc_pipe_wait_partner(p, &p->r_counter)) {
			ret = -ERESTARTSYS;
			goto err_put;
		}
		break;
	default:
		/* O_RDWR never blocks: the file can talk to itself. */
		p->readers++;
		p->writers++;
		p->r_counter++;
		p->w_counter++;
		if (p->readers == 1 || p->writers == 1)
			wake_up_interruptible_all(&p->open_wait);
		break;
	}
	mutex_unlock(&p->lock);
	kipc_devbase_opened(&p->base);
	return 0;

err_put:
	old = kipc_pipe_put(p, mode);
	mutex_unlock(&p->lock);
	kvfree(old);
	kfree(pf);
	return ret;
err:
	mutex_unlock(&p->lock);
	kfree(pf);
	return ret;
}

static int kipc_pipe_release(struct inode *inode, struct file *file)
{
	struct kipc_pipe *p = kipc_pipe_of(file);
	char *old;

	mutex_lock(&p->lock);
	old = kipc_pipe_put(p, file->f_mode);
	mutex_unlock(&p->lock);
	kvfree(old);
	kfree(file->private_data);
	kipc_devbase_closed(&p->base);
	return 0;
}

static const struct file_operations kipc_pipe_fops = {
	.owner = THIS_MODULE,
	.open = kipc_pipe_open,
	.release = kipc_pipe_release,
	.read = kipc_pipe_read,
	.write = kipc_pipe_write,
	.poll = kipc_pipe_poll,
	.unlocked_ioctl = kipc_pipe_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.fasync = kipc_pipe_fasync,
};

static void kipc_pipe_destroy_locks(struct kipc_pipe *p)
{
	mutex_destroy(&p->lock);
	mutex_destroy(&p->rd_mutex);
	mutex_destroy(&p->wr_mutex);
}

static void kipc_pipe_del(unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		kipc_devbase_del(&kipc_pipes[i].base);
		/* Files pin the module: no ring can be left, but be safe. */
		kvfree(kipc_pipes[i].buf);
		kipc_pipe_destroy_locks(&kipc_pipes[i]);
	}
}

static int kipc_pipe_create(unsigned int count)
{
	unsigned int i;
	int ret;

	if (!kipc_pipe_size || kipc_pipe_size > KIPC_PIPE_SIZE_LIMIT) {
		pr_err("pipe_size %u is out of range\n", kipc_pipe_size);
		return -EINVAL;
	}
	if (!count)
		return 0;

	kipc_pipes = kcalloc(count, sizeof(*kipc_pipes), GFP_KERNEL);
	if (!kipc_pipes)
		return -ENOMEM;

	for (i = 0; i < count; i++) {
		struct kipc_pipe *p = &kipc_pipes[i];

		mutex_init(&p->wr_mutex);
		mutex_init(&p->rd_mutex);
		mutex_init(&p->lock);
		init_waitqueue_head(&p->rd_wait);
		init_waitqueue_head(&p->wr_wait);
		init_waitqueue_head(&p->open_wait);
		p->size = round_up(kipc_pipe_size, PAGE_SIZE);
		atomic_set(&p->readers_waiting, 0);
		atomic_set(&p->writers_waiting, 0);
		ret = kipc_devbase_add(&p->base, KIPC_KIND_PIPE, i,
				       &kipc_pipe_fops);
		if (ret) {
			kipc_pipe_destroy_locks(p);
			kipc_pipe_del(i);
			kfree(kipc_pipes);
			kipc_pipes = NULL;
			return ret;
		}
	}
	kipc_pipe_nr = count;
	return 0;
}

static void kipc_pipe_destroy(void)
{
	kipc_pipe_del(kipc_pipe_nr);
	kfree(kipc_pipes);
	kipc_pipes = NULL;
	kipc_pipe_nr = 0;
}

static unsigned int kipc_pipe_count(void)
{
	return kipc_pipe_nr;
}

static struct kipc_devbase *kipc_pipe_get(unsigned int index)
{
	if (index >= kipc_pipe_nr)
		return NULL;
	return &kipc_pipes[index].base;
}

static int kipc_pipe_fill(struct sk_buff *skb, unsigned int index)
{
	struct kipc_io_stats st;
	struct kipc_pipe *p;
	u64 size, len, high_water;

	if (index >= kipc_pipe_nr)
		return -ENODEV;
	p = &kipc_pipes[index];

	mutex_lock(&p->lock);
	size = p->size;
	len = p->len;
	high_water = p->high_water;
	st = p->stats;
	mutex_unlock(&p->lock);

	if (nla_put_u64_64bit(skb, KIPC_A_CAPACITY, size, KIPC_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_A_FILL, len, KIPC_A_PAD) ||
	    nla_put_u32(skb, KIPC_A_READERS_WAITING,
			atomic_read(&p->readers_waiting)) ||
	    nla_put_u32(skb, KIPC_A_WRITERS_WAITING,
			atomic_read(&p->writers_waiting)) ||
	    nla_put_u64_64bit(skb, KIPC_A_HIGH_WATER, high_water, KIPC_A_PAD))
		return -EMSGSIZE;

	return kipc_nl_put_stats(skb, &p->base, &st, NULL, 0);
}

static int kipc_pipe_set(unsigned int index, struct nlattr **attrs,
			 struct netlink_ext_ack *extack)
{
	struct kipc_pipe_change c = {};
	int i;

	if (index >= kipc_pipe_nr) {
		NL_SET_ERR_MSG(extack, "no such pipe");
		return -ENODEV;
	}
	for (i = 1; i <= KIPC_A_MAX; i++) {
		if (!attrs[i])
			continue;
		switch (i) {
		case KIPC_A_KIND:
		case KIPC_A_INDEX:
		case KIPC_A_NAME:
			break;
		case KIPC_A_CAPACITY:
			c.resize = true;
			c.size = nla_get_u64(attrs[i]);
			break;
		case KIPC_A_HIGH_WATER:
			c.set_high_water = true;
			c.high_water = nla_get_u64(attrs[i]);
			break;
		case KIPC_A_FLUSH:
			c.flush = true;
			break;
		case KIPC_A_RESET_STATS:
			c.reset_stats = true;
			break;
		default:
			NL_SET_ERR_MSG_ATTR(
				extack, attrs[i],
				"attribute does not apply to a pipe");
			return -EINVAL;
		}
	}
	return kipc_pipe_apply(&kipc_pipes[index], &c, extack);
}

const struct kipc_kind_ops kipc_pipe_ops = {
	.name = "pipe",
	.create = kipc_pipe_create,
	.destroy = kipc_pipe_destroy,
	.count = kipc_pipe_count,
	.get = kipc_pipe_get,
	.fill = kipc_pipe_fill,
	.set = kipc_pipe_set,
};
