// SPDX-License-Identifier: GPL-2.0
/*
 * kipc pipe: /dev/kipc/pipeN, an in-kernel twin of a FIFO (fifo(7), pipe(7))
 * built on a flat byte ring instead of pipe buffers and pages.
 *
 * Locking, in this order: open_mutex serialises open, release, fasync and
 * the changes asked for by the ioctls and netlink; wr_mutex serialises
 * writers and rd_mutex readers, each held across its side's user copies;
 * the spinlock p->lock guards the ring's state (position, length, size),
 * the reader and writer counts and the counters, and is held only to look
 * at that state and to publish what was copied, never across a user copy
 * or a sleep.  So netlink (GET_DEV, the dump), poll and FIONREAD, which
 * take at most p->lock or read single words, never wait behind a copy
 * that faults; SET_DEV, which must exclude the copies to move the data,
 * only trylocks the mutexes and answers EBUSY.  A reader copies out of the
 * published data, a writer into the free space after it, so a reader and
 * a writer copy at the same time without touching the same bytes, where
 * fs/pipe.c makes them take turns under one mutex.  Whatever moves the
 * data itself (resize, flush) takes both side mutexes first.  The copies
 * are copy_{to,from}_iter() on the caller's iov_iter (user iovecs, or the
 * pages of a splice), at most two per round, one per side of the wrap.
 *
 * Waiting: readers sleep on rd_wait until kipc_pipe_readable(), writers on
 * wr_wait until kipc_pipe_writable(); poll() answers from the same two
 * tests, so a sleeper and a poller always agree on what "ready" means.
 * The waits are exclusive: a change of state wakes one sleeper, and a
 * sleeper that was woken wakes the next one when it leaves the state
 * still ready (wake_next), as in fs/pipe.c.  A side is only woken when its
 * state changes (readers: was empty; writers: had less than KIPC_PIPE_BUF
 * free), always after every lock is dropped, and so are the SIGIO
 * signals.  Openers waiting for a partner sleep on their own queue, so
 * data traffic never wakes them.  IOCB_NOWAIT (RWF_NOWAIT, io_uring's
 * first try) never sleeps: the side mutex is only trylocked and a wait is
 * EAGAIN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/ioctls.h>
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pipe_fs_i.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/splice.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include "compat.h"
#include "kipc.h"

unsigned int kipc_pipe_max_size = 1048576;
module_param_named(pipe_max_size, kipc_pipe_max_size, uint, 0644);
MODULE_PARM_DESC(pipe_max_size,
		 "Largest pipe size without CAP_SYS_RESOURCE (default 1 MiB)");

static unsigned int kipc_pipe_size = KIPC_PIPE_DEF_SIZE;
module_param_named(pipe_size, kipc_pipe_size, uint, 0444);
MODULE_PARM_DESC(pipe_size, "Initial size of each pipe ring (default 65536)");

/*
 * The largest ring: kvmalloc() refuses anything above INT_MAX, so this is
 * INT_MAX rounded down to whole pages (2 GiB - 4 KiB).  Larger sizes are
 * refused with EINVAL, at load as in a request.
 */
#define KIPC_PIPE_SIZE_LIMIT ((u64)(INT_MAX & PAGE_MASK))

/* Never the OOM killer for a ring: a size that does not fit is ENOMEM. */
#define KIPC_PIPE_GFP (GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

struct kipc_pipe {
	struct kipc_devbase base;
	struct mutex open_mutex;
	struct mutex wr_mutex;
	struct mutex rd_mutex;
	spinlock_t lock;
	wait_queue_head_t rd_wait;
	wait_queue_head_t wr_wait;
	/* Openers waiting for the other side (fifo_open's wait_for_partner). */
	wait_queue_head_t open_wait;

	/*
	 * The ring: len bytes from rpos, wrapping at size.  NULL when closed.
	 * buf and size change only with open_mutex and both side mutexes
	 * held (or with no file open), so a side holding its mutex may use
	 * them without p->lock.
	 */
	char *buf;
	unsigned int size;
	unsigned int rpos;
	unsigned int len;
	/* A writer is copying after the data: rpos must stay where it is. */
	bool writing;

	/* Changed under open_mutex and p->lock. */
	unsigned int readers;
	unsigned int writers;
	/* Opens ever seen per side: a quick open and close still counts. */
	unsigned int r_counter;
	unsigned int w_counter;
	/* Set once poll() is used: epoll wants a wake-up on every write. */
	bool poll_usage;

	/* Under open_mutex; kill_fasync() needs no lock. */
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
 * Copies n bytes (n <= free space) from the iterator in at head, with no
 * lock but wr_mutex held; returns the bytes copied (fewer on a fault).
 */
static size_t kipc_pipe_copy_in(char *buf, unsigned int size, unsigned int head,
				struct iov_iter *from, size_t n)
{
	size_t first = min_t(size_t, n, size - head);
	size_t done = copy_from_iter(buf + head, first, from);

	if (likely(done == first) && n > first)
		done += copy_from_iter(buf, n - first, from);
	return done;
}

/* Copies n bytes (n <= len) out from rpos, with rd_mutex held. */
static size_t kipc_pipe_copy_out(const char *buf, unsigned int size,
				 unsigned int rpos, struct iov_iter *to,
				 size_t n)
{
	size_t first = min_t(size_t, n, size - rpos);
	size_t done = copy_to_iter(buf + rpos, first, to);

	if (likely(done == first) && n > first)
		done += copy_to_iter(buf, n - first, to);
	return done;
}

/* O_NONBLOCK on the file, or IOCB_NOWAIT on this call: never sleep. */
static inline bool kipc_pipe_nowait(struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) ||
	       (iocb->ki_flags & IOCB_NOWAIT);
}

/* A side's mutex; under IOCB_NOWAIT only if it is free, as no sleep is. */
static inline bool kipc_pipe_side_lock(struct kiocb *iocb, struct mutex *m)
{
	if (iocb->ki_flags & IOCB_NOWAIT)
		return mutex_trylock(m);
	mutex_lock(m);
	return true;
}

/*
 * One readv() is one read: what is there, up to the iovecs' total, in at
 * most two copies; it waits only while nothing is there.
 */
static ssize_t kipc_pipe_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct kipc_pipe *p = kipc_pipe_of(iocb->ki_filp);
	bool wake_writer = false, wake_next = false, had_room;
	size_t count = iov_iter_count(to);
	unsigned int ev = 0, rpos;
	size_t n, done = 0;
	ssize_t ret = 0;

	if (unlikely(!count))
		return 0;

	if (!kipc_pipe_side_lock(iocb, &p->rd_mutex))
		return -EAGAIN;
	spin_lock(&p->lock);
	while (!kipc_pipe_has_data(p->len)) {
		if (!p->writers)
			goto out; /* EOF */
		if (kipc_pipe_nowait(iocb)) {
			ret = -EAGAIN;
			goto out;
		}
		p->stats.read_waits++;
		spin_unlock(&p->lock);
		mutex_unlock(&p->rd_mutex);

		atomic_inc(&p->readers_waiting);
		ret = wait_event_interruptible_exclusive(p->rd_wait,
							 kipc_pipe_readable(p));
		atomic_dec(&p->readers_waiting);
		/* Nothing moved yet and the locks are dropped: just leave. */
		if (ret)
			return -ERESTARTSYS;
		mutex_lock(&p->rd_mutex);
		spin_lock(&p->lock);
		wake_next = true;
	}

	/* Out of the published data, while writers add after it. */
	n = min_t(size_t, count, p->len);
	rpos = p->rpos;
	spin_unlock(&p->lock);
	done = kipc_pipe_copy_out(p->buf, p->size, rpos, to, n);
	spin_lock(&p->lock);
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
	spin_unlock(&p->lock);
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

/*
 * One writev() is one write: up to KIPC_PIPE_BUF bytes in all go in whole
 * or not at all, whatever the number of iovecs.
 */
static ssize_t kipc_pipe_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct kipc_pipe *p = kipc_pipe_of(iocb->ki_filp);
	size_t count = iov_iter_count(from);
	bool atomic = count <= KIPC_PIPE_BUF;
	bool wake_next = false, wrote = false, was_empty = false;
	unsigned int len, ev = 0;
	size_t done = 0;
	ssize_t ret = 0;

	if (unlikely(!count))
		return 0;

	if (!kipc_pipe_side_lock(iocb, &p->wr_mutex))
		return -EAGAIN;
	spin_lock(&p->lock);
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
			p->writing = true;
			spin_unlock(&p->lock);
			copied = kipc_pipe_copy_in(p->buf, p->size, head, from,
						   n);
			spin_lock(&p->lock);
			p->writing = false;

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
		if (kipc_pipe_nowait(iocb)) {
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
		spin_unlock(&p->lock);
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
		spin_lock(&p->lock);
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
	spin_unlock(&p->lock);
	mutex_unlock(&p->wr_mutex);

	if (wrote)
		kipc_pipe_wrote(p, was_empty);
	if (wake_next)
		wake_up_interruptible_sync_poll(&p->wr_wait,
						EPOLLOUT | EPOLLWRNORM);
	kipc_pipe_notify(p, ev, len);
	return ret;
}

/*
 * splice(2) out of the device, sendfile(2) from it: the VFS helper gives
 * read_iter an iterator over pages bound for the pipe, so the bytes are
 * copied out of the ring by kipc_pipe_copy_out() as for read(2).  As a
 * FIFO spliced to a pipe, SPLICE_F_NONBLOCK (or O_NONBLOCK on the pipe)
 * does not wait for data: EAGAIN when the ring is empty and a writer is
 * there.  (A racing reader may still take the data first: then this
 * waits, as a read would.)
 */
static ssize_t kipc_pipe_splice_read(struct file *in, loff_t *ppos,
				     struct pipe_inode_info *pipe, size_t len,
				     unsigned int flags)
{
	struct kipc_pipe *p = kipc_pipe_of(in);

	if ((flags & SPLICE_F_NONBLOCK) &&
	    !kipc_pipe_has_data(READ_ONCE(p->len)) && READ_ONCE(p->writers))
		return -EAGAIN;
	return kipc_splice_read(in, ppos, pipe, len, flags);
}

/*
 * splice(2) into the device, sendfile(2) to it: iter_file_splice_write()
 * hands write_iter the pipe's pages as one iterator, so the bytes are
 * copied into the ring by kipc_pipe_copy_in(), and a splice of up to
 * KIPC_PIPE_BUF bytes is one atomic write.  SPLICE_F_NONBLOCK does not
 * wait for room (EAGAIN), as for a FIFO.
 */
static ssize_t kipc_pipe_splice_write(struct pipe_inode_info *pipe,
				      struct file *out, loff_t *ppos,
				      size_t len, unsigned int flags)
{
	struct kipc_pipe *p = kipc_pipe_of(out);

	if ((flags & SPLICE_F_NONBLOCK) && !kipc_pipe_writable(p))
		return -EAGAIN;
	return iter_file_splice_write(pipe, out, ppos, len, flags);
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

/* A high-water mark or a reset: the state lock alone, never a wait. */
static int kipc_pipe_apply_light(struct kipc_pipe *p,
				 struct kipc_pipe_change *c,
				 struct netlink_ext_ack *extack)
{
	int ret = 0;

	spin_lock(&p->lock);
	if (c->set_high_water && c->high_water > p->size) {
		NL_SET_ERR_MSG(extack, "high-water mark above the pipe size");
		ret = -EINVAL;
	} else {
		if (c->set_high_water)
			p->high_water = c->high_water;
		if (c->reset_stats) {
			memset(&p->stats, 0, sizeof(p->stats));
			p->stats.peak_fill = p->len;
		}
	}
	c->size = p->size;
	spin_unlock(&p->lock);
	return ret;
}

/*
 * The locks a resize or a flush needs: no open, release or user copy may
 * be under way while the data moves.  @wait: the ioctl waits for them, as
 * F_SETPIPE_SZ waits for the pipe's mutex; netlink only tries, so that a
 * copy stalled on a page fault never holds up a netlink request (and
 * genetlink's cb_lock with it).
 */
static int kipc_pipe_lock_all(struct kipc_pipe *p, bool wait,
			      struct netlink_ext_ack *extack)
{
	if (wait) {
		mutex_lock(&p->open_mutex);
		mutex_lock(&p->wr_mutex);
		mutex_lock(&p->rd_mutex);
		return 0;
	}
	if (!mutex_trylock(&p->open_mutex))
		goto busy;
	if (!mutex_trylock(&p->wr_mutex))
		goto busy_open;
	if (!mutex_trylock(&p->rd_mutex))
		goto busy_wr;
	return 0;
busy_wr:
	mutex_unlock(&p->wr_mutex);
busy_open:
	mutex_unlock(&p->open_mutex);
busy:
	NL_SET_ERR_MSG(extack, "pipe busy: a read, write or open is under way");
	return -EBUSY;
}

static void kipc_pipe_unlock_all(struct kipc_pipe *p)
{
	mutex_unlock(&p->rd_mutex);
	mutex_unlock(&p->wr_mutex);
	mutex_unlock(&p->open_mutex);
}

static int kipc_pipe_apply(struct kipc_pipe *p, struct kipc_pipe_change *c,
			   bool wait, struct netlink_ext_ack *extack)
{
	unsigned int ev = 0, size, len = 0;
	char *old = NULL, *buf = NULL;
	bool had_room, wake_writer = false;
	int ret;

	if (c->resize) {
		if (!c->size || c->size > KIPC_PIPE_SIZE_LIMIT) {
			NL_SET_ERR_MSG(extack, "pipe size out of range");
			return -EINVAL;
		}
		c->size = round_up(c->size, PAGE_SIZE);
	}
	if (!c->resize && !c->flush)
		return kipc_pipe_apply_light(p, c, extack);

	ret = kipc_pipe_lock_all(p, wait, extack);
	if (ret)
		return ret;
	/*
	 * With the three mutexes held nothing but this changes buf, size,
	 * rpos or len: they are read without p->lock, which is taken only
	 * to publish.
	 */
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
		buf = kvmalloc(size, KIPC_PIPE_GFP);
		if (!buf) {
			NL_SET_ERR_MSG(extack, "no memory for the new ring");
			ret = -ENOMEM;
			goto out;
		}
		if (!c->flush) {
			unsigned int first = min(p->len, p->size - p->rpos);

			memcpy(buf, p->buf + p->rpos, first);
			memcpy(buf + first, p->buf, p->len - first);
		}
	}

	/* Checked: from here on nothing fails. */
	spin_lock(&p->lock);
	had_room = kipc_pipe_has_room(p->size, p->len);
	if (c->flush) {
		p->len = 0;
		p->rpos = 0;
		ev |= KIPC_PIPE_EV(KIPC_EVENT_FLUSHED);
	}
	if (c->resize && size != p->size) {
		if (buf) {
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
	spin_unlock(&p->lock);
out:
	c->size = p->size;
	kipc_pipe_unlock_all(p);
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
		ret = kipc_pipe_apply(p, &c, true, NULL);
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

	mutex_lock(&p->open_mutex);
	if (file->f_mode & FMODE_READ)
		ret = fasync_helper(fd, file, on, &p->fasync_readers);
	if ((file->f_mode & FMODE_WRITE) && ret >= 0) {
		rd_ret = ret;
		ret = fasync_helper(fd, file, on, &p->fasync_writers);
		/* Undo a reader entry added by this very call. */
		if (ret < 0 && rd_ret > 0)
			fasync_helper(-1, file, 0, &p->fasync_readers);
	}
	mutex_unlock(&p->open_mutex);
	return ret;
}

/*
 * One side less, under open_mutex.  Returns the ring to free once nobody
 * has the device open (like a FIFO, its data dies with the last file),
 * and in *wake whether the sleepers must be woken (after unlocking, by
 * kipc_pipe_wake_all()).
 */
static char *kipc_pipe_put(struct kipc_pipe *p, fmode_t mode, bool *wake)
{
	char *buf = NULL;

	spin_lock(&p->lock);
	if (mode & FMODE_READ)
		p->readers--;
	if (mode & FMODE_WRITE)
		p->writers--;

	/* The last reader or writer left, but not the other side. */
	*wake = !p->readers != !p->writers;
	if (!p->readers && !p->writers) {
		buf = p->buf;
		p->buf = NULL;
		p->len = 0;
		p->rpos = 0;
		p->poll_usage = false;
	}
	spin_unlock(&p->lock);
	return buf;
}

/* A side went away: EOF, EPIPE, EPOLLHUP, EPOLLERR for everyone. */
static void kipc_pipe_wake_all(struct kipc_pipe *p)
{
	wake_up_interruptible_all(&p->rd_wait);
	wake_up_interruptible_all(&p->wr_wait);
	kill_fasync(&p->fasync_readers, SIGIO, POLL_IN);
	kill_fasync(&p->fasync_writers, SIGIO, POLL_OUT);
}

/*
 * fifo_open's wait_for_partner: sleeps until *cnt moves, so a partner that
 * opens and closes again at once still lets this open complete.
 */
static int kipc_pipe_wait_partner(struct kipc_pipe *p, unsigned int *cnt,
				  bool *wake)
{
	unsigned int cur = *cnt;
	int ret;

	mutex_unlock(&p->open_mutex);
	if (*wake)
		wake_up_interruptible_all(&p->open_wait);
	*wake = false;
	ret = wait_event_interruptible(p->open_wait, READ_ONCE(*cnt) != cur);
	mutex_lock(&p->open_mutex);
	return ret ? -ERESTARTSYS : 0;
}

/* One more reader and/or writer; true if an opener must be woken. */
static bool kipc_pipe_add(struct kipc_pipe *p, fmode_t mode)
{
	bool wake = false;

	spin_lock(&p->lock);
	if (mode & FMODE_READ) {
		p->r_counter++;
		wake |= p->readers++ == 0;
	}
	if (mode & FMODE_WRITE) {
		p->w_counter++;
		wake |= p->writers++ == 0;
	}
	spin_unlock(&p->lock);
	return wake;
}

static int kipc_pipe_open(struct inode *inode, struct file *file)
{
	struct kipc_pipe *p =
		container_of(inode->i_cdev, struct kipc_pipe, base.cdev);
	fmode_t mode = file->f_mode & (FMODE_READ | FMODE_WRITE);
	struct kipc_pipe_file *pf;
	bool wake;
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
	/* read_iter and write_iter honour IOCB_NOWAIT (RWF_NOWAIT, io_uring). */
	file->f_mode |= FMODE_NOWAIT;

	mutex_lock(&p->open_mutex);
	/* POSIX: O_WRONLY | O_NONBLOCK with no reader fails at once. */
	if (mode == FMODE_WRITE && (file->f_flags & O_NONBLOCK) &&
	    !p->readers) {
		ret = -ENXIO;
		goto err;
	}
	if (!p->buf) {
		/* No file is open: nothing else uses the ring or its size. */
		char *buf = kvmalloc(p->size, KIPC_PIPE_GFP);

		if (!buf) {
			ret = -ENOMEM;
			goto err;
		}
		spin_lock(&p->lock);
		p->buf = buf;
		spin_unlock(&p->lock);
	}

	/* The openers waiting for this side are woken once it is unlocked. */
	wake = kipc_pipe_add(p, mode);
	switch (mode) {
	case FMODE_READ:
		if (!p->writers) {
			if (file->f_flags & O_NONBLOCK) {
				/* Opens at once, but no EPOLLHUP until a
				 * writer has come and gone.
				 */
				pf->w_seen = p->w_counter;
			} else if (kipc_pipe_wait_partner(p, &p->w_counter,
							  &wake)) {
				ret = -ERESTARTSYS;
				goto err_put;
			}
		}
		break;
	case FMODE_WRITE:
		if (!p->readers &&
		    kipc_pipe_wait_partner(p, &p->r_counter, &wake)) {
			ret = -ERESTARTSYS;
			goto err_put;
		}
		break;
	default:
		/* O_RDWR never blocks: the file can talk to itself. */
		break;
	}
	mutex_unlock(&p->open_mutex);
	if (wake)
		wake_up_interruptible_all(&p->open_wait);
	kipc_devbase_opened(&p->base);
	return 0;

err_put:
	old = kipc_pipe_put(p, mode, &wake);
	mutex_unlock(&p->open_mutex);
	if (wake)
		kipc_pipe_wake_all(p);
	kvfree(old);
	kfree(pf);
	return ret;
err:
	mutex_unlock(&p->open_mutex);
	kfree(pf);
	return ret;
}

static int kipc_pipe_release(struct inode *inode, struct file *file)
{
	struct kipc_pipe *p = kipc_pipe_of(file);
	bool wake;
	char *old;

	mutex_lock(&p->open_mutex);
	old = kipc_pipe_put(p, file->f_mode, &wake);
	mutex_unlock(&p->open_mutex);
	if (wake)
		kipc_pipe_wake_all(p);
	kvfree(old);
	kfree(file->private_data);
	kipc_devbase_closed(&p->base);
	return 0;
}

static const struct file_operations kipc_pipe_fops = {
	.owner = THIS_MODULE,
	.open = kipc_pipe_open,
	.release = kipc_pipe_release,
	.read_iter = kipc_pipe_read_iter,
	.write_iter = kipc_pipe_write_iter,
	.splice_read = kipc_pipe_splice_read,
	.splice_write = kipc_pipe_splice_write,
	.poll = kipc_pipe_poll,
	.unlocked_ioctl = kipc_pipe_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.fasync = kipc_pipe_fasync,
};

static void kipc_pipe_destroy_locks(struct kipc_pipe *p)
{
	mutex_destroy(&p->rd_mutex);
	mutex_destroy(&p->wr_mutex);
	mutex_destroy(&p->open_mutex);
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
		pr_err("pipe_size %u is out of range (1 to %llu)\n",
		       kipc_pipe_size, KIPC_PIPE_SIZE_LIMIT);
		return -EINVAL;
	}
	if (!count)
		return 0;

	kipc_pipes = kcalloc(count, sizeof(*kipc_pipes), GFP_KERNEL);
	if (!kipc_pipes)
		return -ENOMEM;

	for (i = 0; i < count; i++) {
		struct kipc_pipe *p = &kipc_pipes[i];

		mutex_init(&p->open_mutex);
		mutex_init(&p->wr_mutex);
		mutex_init(&p->rd_mutex);
		spin_lock_init(&p->lock);
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

	/* A snapshot: p->lock is never held across a copy or a sleep. */
	spin_lock(&p->lock);
	size = p->size;
	len = p->len;
	high_water = p->high_water;
	st = p->stats;
	spin_unlock(&p->lock);

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
	return kipc_pipe_apply(&kipc_pipes[index], &c, false, extack);
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
