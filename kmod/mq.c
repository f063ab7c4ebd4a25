// SPDX-License-Identifier: GPL-2.0
/*
 * kipc message queues, the queue itself: messages, counts, limits, blocked
 * tasks and wake-ups.  mq.h has the map of the three files; this one is
 * the only one that changes what q->lock guards.
 *
 * The model is ipc/msg.c:
 * - One way in, kipc_mq_send(), for every send (write, writev, ioctl,
 *   batch, io_uring).  A message is first handed to a blocked receiver
 *   that wants it (pipelined_send()), else queued if it fits, else the
 *   sender waits for room (or fails with EAGAIN).
 * - One way out, kipc_mq_recv(), for every receive; a peek is a flag of it
 *   and takes a private copy instead of the message.
 * - Blocked receivers wait with their selector on q->receivers; a sender
 *   gives its message to the first one that matches and wakes only that
 *   task.  Blocked senders wait with their size on q->senders and are
 *   woken, oldest first, only when their message fits.
 * - Nothing is copied from or to user space, allocated or slept on under
 *   q->lock: payloads are copied in before a send and out after a
 *   receive (mq_file.c).  A receive whose copy-out fails puts the message
 *   back in its place by sequence number (kipc_mq_requeue()): nothing is
 *   lost and no sender's order changes.
 * - Tasks are woken, pollers and SIGIO owners notified and netlink events
 *   sent after q->lock is dropped: struct kipc_mq_wake collects that work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/pid.h>
#include <linux/capability.h>
#include <linux/overflow.h>
#include <linux/timekeeping.h>

#include "mq.h"

unsigned int kipc_mq_max_bytes_limit = 1048576;
module_param_named(mq_max_bytes, kipc_mq_max_bytes_limit, uint, 0644);
MODULE_PARM_DESC(mq_max_bytes, "Byte limit maximum (default 1 MiB)");

unsigned int kipc_mq_max_msg_size_limit = 65536;
module_param_named(mq_max_msg_size, kipc_mq_max_msg_size_limit, uint, 0644);
MODULE_PARM_DESC(mq_max_msg_size, "Message size limit maximum");

unsigned int kipc_mq_max_msgs_limit = 65536;
module_param_named(mq_max_msgs, kipc_mq_max_msgs_limit, uint, 0644);
MODULE_PARM_DESC(mq_max_msgs, "Message count limit maximum");

struct kipc_mq *kipc_mqs;
unsigned int kipc_mq_n;

/* --- messages --------------------------------------------------------------- */

/* Charged to the sender's memory cgroup; a failure is ENOMEM, not a splat. */
struct kipc_mq_kmsg *kipc_mq_alloc(u32 len)
{
	struct kipc_mq_kmsg *m;

	m = kvmalloc(struct_size(m, data, len),
		     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (m) {
		m->len = len;
		m->flags = 0;
	}
	return m;
}

void kipc_mq_free(struct kipc_mq_kmsg *m)
{
	kvfree(m);
}

/* --- deferred work ---------------------------------------------------------- */

/* A waiter's state; negative values are errors handed to it. */
enum {
	KIPC_MQ_WAITING = 1,
	KIPC_MQ_GOT, /* receiver: w->msg is its message */
	KIPC_MQ_RETRY, /* look again: room, or a message to peek at */
};

/* A blocked receiver or sender, on its own stack. */
struct kipc_mq_waiter {
	struct list_head link;
	struct task_struct *task;
	int state; /* written last by the waker, with release */
	const struct kipc_mq_sel *sel; /* receivers */
	struct kipc_mq_kmsg *msg; /* receivers: the message handed over */
	u32 size; /* senders */
};

/*
 * Work found under q->lock and done after dropping it, as ipc/msg.c's
 * wake_q (not exported to modules): tasks to wake, with a reference so
 * they may return before we get to them; readiness for pollers and SIGIO;
 * netlink events; flushed messages to free.
 */
#define KIPC_MQ_WAKE_MAX 8

struct kipc_mq_wake {
	unsigned int ntasks;
	struct task_struct *tasks[KIPC_MQ_WAKE_MAX];
	__poll_t ready;
	unsigned int events; /* BIT(enum kipc_event_type) */
	u64 fill[KIPC_EVENT_MAX + 1];
	struct list_head free;
};

static void kipc_mq_wake_init(struct kipc_mq_wake *wk)
{
	wk->ntasks = 0;
	wk->ready = 0;
	wk->events = 0;
	INIT_LIST_HEAD(&wk->free);
}

static void kipc_mq_event(struct kipc_mq_wake *wk, enum kipc_event_type ev,
			  u64 fill)
{
	wk->events |= BIT(ev);
	wk->fill[ev] = fill;
}

/*
 * Remove @w from its list and hand it @state.  After the release store
 * the waiter may return and its stack is gone, so the task is taken
 * first.  The task is woken after the lock is dropped, or now if @wk is
 * full, which is merely slower.
 */
static void kipc_mq_wake_waiter(struct kipc_mq_waiter *w, int state,
				struct kipc_mq_wake *wk)
{
	struct task_struct *task = w->task;

	list_del(&w->link);
	get_task_struct(task);
	/* Last touch of @w: pairs with the acquire in kipc_mq_wait(). */
	smp_store_release(&w->state, state);
	if (wk->ntasks < KIPC_MQ_WAKE_MAX) {
		wk->tasks[wk->ntasks++] = task;
		return;
	}
	wake_up_process(task);
	put_task_struct(task);
}

/* Drop q->lock, then do what @wk collected; @wk is empty again after. */
static void kipc_mq_unlock(struct kipc_mq *q, struct kipc_mq_wake *wk)
	__releases(&q->lock)
{
	struct kipc_mq_kmsg *m, *tmp;
	unsigned int i;

	spin_unlock(&q->lock);

	for (i = 0; i < wk->ntasks; i++) {
		wake_up_process(wk->tasks[i]);
		put_task_struct(wk->tasks[i]);
	}
	wk->ntasks = 0;

	if (wk->ready) {
		/* wq_has_sleeper() pairs with the barrier in kipc_mq_poll(). */
		if (wq_has_sleeper(&q->pollwq))
			wake_up_interruptible_poll(&q->pollwq, wk->ready);
		if (wk->ready & EPOLLIN)
			kill_fasync(&q->fasync, SIGIO, POLL_IN);
		if (wk->ready & EPOLLOUT)
			kill_fasync(&q->fasync, SIGIO, POLL_OUT);
		wk->ready = 0;
	}

	for (i = KIPC_EVENT_UNSPEC + 1; wk->events && i <= KIPC_EVENT_MAX;
	     i++) {
		if (wk->events & BIT(i))
			kipc_nl_notify(&q->base, i, wk->fill[i]);
	}
	wk->events = 0;

	list_for_each_entry_safe(m, tmp, &wk->free, link)
		kipc_mq_free(m);
	INIT_LIST_HEAD(&wk->free);
}

/* --- counts and predicates -------------------------------------------------- */

/*
 * q->nmsgs, q->bytes and the limits change under q->lock, with
 * WRITE_ONCE(), so that poll and netlink may read them without it.
 */
bool kipc_mq_room(const struct kipc_mq *q, u32 len)
{
	u32 max_bytes = READ_ONCE(q->max_bytes);

	/* As msg_fits_inqueue(), with a separate count limit. */
	return READ_ONCE(q->nmsgs) < READ_ONCE(q->max_msgs) &&
	       len <= max_bytes && READ_ONCE(q->bytes) <= max_bytes - len;
}

/* Nothing with a payload fits: the condition of KIPC_EVENT_FULL. */
static bool kipc_mq_full(const struct kipc_mq *q)
{
	return q->nmsgs >= q->max_msgs || q->bytes >= q->max_bytes;
}

void kipc_mq_sel_init(struct kipc_mq_sel *sel, s64 type, u32 flags, u32 bufsize)
{
	sel->maxsize = flags & KIPC_MQ_NOERROR ? U32_MAX : bufsize;
	sel->peek = flags & KIPC_MQ_PEEK;
	sel->nowait = flags & KIPC_MQ_NOWAIT;
	/* As ipc/msg.c's convert_mode(). */
	if (type == 0) {
		sel->mode = KIPC_MQ_ANY;
	} else if (type < 0) {
		sel->mode = KIPC_MQ_LESSEQUAL;
		/* -S64_MIN does not exist; every type is <= S64_MAX. */
		type = type == S64_MIN ? S64_MAX : -type;
	} else {
		sel->mode = flags & KIPC_MQ_EXCEPT ? KIPC_MQ_NOTEQUAL :
						     KIPC_MQ_EQUAL;
	}
	sel->type = type;
}

static bool kipc_mq_match(const struct kipc_mq_kmsg *m,
			  const struct kipc_mq_sel *sel)
{
	switch (sel->mode) {
	case KIPC_MQ_ANY:
		return true;
	case KIPC_MQ_EQUAL:
		return m->type == sel->type;
	case KIPC_MQ_NOTEQUAL:
		return m->type != sel->type;
	case KIPC_MQ_LESSEQUAL:
		return m->type <= sel->type;
	}
	return false;
}

/* As ipc/msg.c's find_msg(): the first match, or the first lowest type. */
static struct kipc_mq_kmsg *kipc_mq_find(struct kipc_mq *q,
					 const struct kipc_mq_sel *sel)
{
	struct kipc_mq_kmsg *m, *found = NULL;
	s64 below = sel->type;

	if (sel->mode != KIPC_MQ_LESSEQUAL) {
		list_for_each_entry(m, &q->msgs, link) {
			if (kipc_mq_match(m, sel))
				return m;
		}
		return NULL;
	}
	list_for_each_entry(m, &q->msgs, link) {
		if (m->type > below)
			continue;
		found = m;
		if (m->type == 1)
			break;
		/* Only a strictly lower type can beat this one. */
		below = m->type - 1;
	}
	return found;
}

bool kipc_mq_readable(struct kipc_mq *q, const struct kipc_mq_sel *sel)
{
	bool found;

	if (sel->mode == KIPC_MQ_ANY)
		return READ_ONCE(q->nmsgs);
	spin_lock(&q->lock);
	found = kipc_mq_find(q, sel);
	spin_unlock(&q->lock);
	return found;
}

/* --- statistics --------------------------------------------------------------- */

/* put_pid() under a spinlock is fine: ipc/msg.c does the same. */
static void kipc_mq_set_pid(struct pid **slot, struct pid *pid)
{
	if (*slot == pid)
		return;
	put_pid(*slot);
	*slot = get_pid(pid);
}

/*
 * The times of KIPC_MQ_STAT come from the coarse clock, as msgsnd()'s
 * msg_stime (in seconds) does: it reads no clocksource, which where the
 * clocksource is not the TSC (HPET, ACPI PM timer) costs more than the
 * rest of a small send.  Its resolution is a jiffy.
 */
static void kipc_mq_account_send(struct kipc_mq *q, u32 len)
{
	q->io.writes++;
	q->io.bytes_in += len;
	q->send_time = ktime_get_coarse_real_ns();
	kipc_mq_set_pid(&q->send_pid, task_tgid(current));
}

/* A receive of @len bytes by @task: the caller, or a receiver handed it. */
static void kipc_mq_account_recv(struct kipc_mq *q, u32 len,
				 struct task_struct *task)
{
	q->io.reads++;
	q->io.bytes_out += len;
	q->recv_time = ktime_get_coarse_real_ns();
	kipc_mq_set_pid(&q->recv_pid, task_tgid(task));
}

/* --- the queue ---------------------------------------------------------------- */

/* Link @m before @pos (the tail: &q->msgs) and count it in. */
static void kipc_mq_link(struct kipc_mq *q, struct kipc_mq_kmsg *m,
			 struct list_head *pos, struct kipc_mq_wake *wk)
{
	bool was_full = kipc_mq_full(q);
	u64 before = q->bytes;

	list_add_tail(&m->link, pos);
	WRITE_ONCE(q->nmsgs, q->nmsgs + 1);
	WRITE_ONCE(q->bytes, q->bytes + m->len);
	if (q->bytes > q->io.peak_fill)
		q->io.peak_fill = q->bytes;
	if (q->nmsgs > q->peak_msgs)
		q->peak_msgs = q->nmsgs;
	if (!was_full && kipc_mq_full(q))
		kipc_mq_event(wk, KIPC_EVENT_FULL, q->bytes);
	if (q->high_water && before < q->high_water &&
	    q->bytes >= q->high_water)
		kipc_mq_event(wk, KIPC_EVENT_HIGH_WATER, q->bytes);
	wk->ready |= EPOLLIN | EPOLLRDNORM;
}

static void kipc_mq_unlink(struct kipc_mq *q, struct kipc_mq_kmsg *m,
			   struct kipc_mq_wake *wk)
{
	list_del(&m->link);
	WRITE_ONCE(q->nmsgs, q->nmsgs - 1);
	WRITE_ONCE(q->bytes, q->bytes - m->len);
	if (!q->nmsgs)
		kipc_mq_event(wk, KIPC_EVENT_EMPTY, 0);
	wk->ready |= EPOLLOUT | EPOLLWRNORM;
}

/*
 * As ipc/msg.c's pipelined_send(): give @m to the first blocked receiver
 * that wants it.  Receivers it matches but that cannot take it are woken
 * on the way: a peeker to look at the queue again, one whose buffer is
 * too small with E2BIG, as msgrcv() gets there.
 */
static bool kipc_mq_pipelined_send(struct kipc_mq *q, struct kipc_mq_kmsg *m,
				   struct kipc_mq_wake *wk)
{
	struct kipc_mq_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, &q->receivers, link) {
		if (!kipc_mq_match(m, w->sel))
			continue;
		q->nr_receivers--;
		if (w->sel->peek) {
			kipc_mq_wake_waiter(w, KIPC_MQ_RETRY, wk);
			continue;
		}
		if (m->len > w->sel->maxsize) {
			kipc_mq_wake_waiter(w, -E2BIG, wk);
			continue;
		}
		kipc_mq_account_recv(q, m->len, w->task);
		w->msg = m;
		kipc_mq_wake_waiter(w, KIPC_MQ_GOT, wk);
		return true;
	}
	return false;
}

/* Whether a blocked receiver would take @m, were it handed over now. */
static bool kipc_mq_taker_waits(const struct kipc_mq *q,
				const struct kipc_mq_kmsg *m)
{
	const struct kipc_mq_waiter *w;

	list_for_each_entry(w, &q->receivers, link) {
		if (kipc_mq_match(m, w->sel) && !w->sel->peek &&
		    m->len <= w->sel->maxsize)
			return true;
	}
	return false;
}

/*
 * Put @m on the queue, the one way every message enters it.  It goes if
 * it fits, or if a blocked receiver takes it even though the queue is
 * full; otherwise nothing changes and the caller waits for room (or
 * fails).  Then, in this order: stamp its sequence number; hand it to
 * the first blocked receiver that takes it (waking on the way those it
 * matches but that cannot, which is right only for a message that is
 * sent, hence the check first), or link and count it; account the send.
 *
 * Nothing reads @m once it is handed off or linked: a receiver handed it
 * returns without the lock as soon as it sees its state, one that finds
 * it linked as soon as we unlock, and either may free it.  Hence the
 * length is read first.
 */
static bool kipc_mq_enqueue(struct kipc_mq *q, struct kipc_mq_kmsg *m,
			    struct kipc_mq_wake *wk)
{
	u32 len = m->len;

	if (!kipc_mq_room(q, len) && !kipc_mq_taker_waits(q, m))
		return false;
	m->seq = q->next_seq++;
	if (!kipc_mq_pipelined_send(q, m, wk))
		kipc_mq_link(q, m, &q->msgs, wk);
	kipc_mq_account_send(q, len);
	return true;
}

/* Wake the blocked senders whose messages fit now, in the order they came. */
static void kipc_mq_wake_senders(struct kipc_mq *q, struct kipc_mq_wake *wk)
{
	struct kipc_mq_waiter *w, *tmp;
	u64 room_bytes;
	u32 room_msgs;

	if (!q->nr_senders || q->nmsgs >= q->max_msgs ||
	    q->bytes > q->max_bytes)
		return;
	room_msgs = q->max_msgs - q->nmsgs;
	room_bytes = q->max_bytes - q->bytes;
	list_for_each_entry_safe(w, tmp, &q->senders, link) {
		if (w->size > room_bytes)
			continue;
		room_bytes -= w->size;
		q->nr_senders--;
		kipc_mq_wake_waiter(w, KIPC_MQ_RETRY, wk);
		if (!--room_msgs)
			break;
	}
}

/*
 * Sleep on @list until a waker hands @w a state.  Called with q->lock
 * held, returns without it, having done the work in @wk before sleeping.
 * A waker unlinks @w, writes the state last and never touches @w again,
 * so a woken task that sees the state needs no lock: a receiver handed
 * its message returns without touching the queue.  A signal first gives
 * -ERESTARTSYS to read(2)/write(2), which a FIFO restarts after a
 * handler, and -ERESTARTNOHAND to the msgop(2) twins, which never are.
 */
static int kipc_mq_wait(struct kipc_mq *q, struct kipc_mq_waiter *w,
			struct list_head *list, u32 *nr, unsigned int io,
			struct kipc_mq_wake *wk) __releases(&q->lock)
{
	int state;

	w->task = current;
	w->state = KIPC_MQ_WAITING;
	list_add_tail(&w->link, list);
	(*nr)++;
	for (;;) {
		kipc_mq_unlock(q, wk);

		/* The waker stores the state, then wakes: none is lost. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(w->state) == KIPC_MQ_WAITING &&
		    !signal_pending(current))
			schedule();
		__set_current_state(TASK_RUNNING);

		/* Pairs with the release in kipc_mq_wake_waiter(). */
		state = smp_load_acquire(&w->state);
		if (state != KIPC_MQ_WAITING)
			return state;

		spin_lock(&q->lock);
		state = w->state;
		if (state == KIPC_MQ_WAITING && signal_pending(current)) {
			list_del(&w->link);
			(*nr)--;
			state = io & KIPC_MQ_IO_FILE ? -ERESTARTSYS :
						       -ERESTARTNOHAND;
		}
		if (state != KIPC_MQ_WAITING) {
			spin_unlock(&q->lock);
			return state;
		}
		/* Woken for nothing: sleep again, still in line. */
	}
}

/*
 * Send @msgs[0..n), in order, waiting for room where the call and each
 * message's flags allow.  Returns how many were sent; *err says why it
 * stopped short.  Sent messages belong to the queue, the others still to
 * the caller.
 */
unsigned int kipc_mq_send(struct kipc_mq *q, struct kipc_mq_kmsg **msgs,
			  unsigned int n, unsigned int io, int *err)
{
	struct kipc_mq_waiter w;
	struct kipc_mq_wake wk;
	bool waited = false;
	unsigned int i = 0;
	int ret = 0;

	kipc_mq_wake_init(&wk);
	spin_lock(&q->lock);
	while (i < n) {
		struct kipc_mq_kmsg *m = msgs[i];

		/* Checked here too: the limit may have changed meanwhile. */
		if (unlikely(m->len > q->max_msg_size)) {
			ret = -EINVAL;
			break;
		}
		if (kipc_mq_enqueue(q, m, &wk)) {
			i++;
			waited = false;
			continue;
		}
		if ((io & (KIPC_MQ_IO_NONBLOCK | KIPC_MQ_IO_NOSLEEP)) ||
		    (m->flags & KIPC_MQ_NOWAIT)) {
			ret = -EAGAIN;
			break;
		}
		if (!waited) {
			q->io.write_waits++;
			waited = true;
		}
		w.size = m->len;
		ret = kipc_mq_wait(q, &w, &q->senders, &q->nr_senders, io, &wk);
		if (ret < 0)
			goto out;
		ret = 0;
		spin_lock(&q->lock);
	}
	kipc_mq_unlock(q, &wk);
out:
	*err = ret;
	return i;
}

/*
 * Receive into @msgs[i] what @sels[i] asks for, for i in [0, n), taking
 * the lock once.  Only the first may wait.  A peek gets a private copy,
 * which the caller frees; the other messages are the caller's, to free
 * or to put back with kipc_mq_requeue().  Returns how many were received;
 * *err says why it stopped short: no message (ENOMSG, or EAGAIN for the
 * file interface), one too big for its buffer (E2BIG, or EMSGSIZE; it
 * stays queued), a signal, or no memory for a peek.
 */
unsigned int kipc_mq_recv(struct kipc_mq *q, const struct kipc_mq_sel *sels,
			  struct kipc_mq_kmsg **msgs, unsigned int n,
			  unsigned int io, int *err)
{
	struct kipc_mq_kmsg *m, *copy = NULL;
	unsigned int i = 0;
	bool waited = false;
	struct kipc_mq_waiter w;
	struct kipc_mq_wake wk;
	int ret = 0;

	kipc_mq_wake_init(&wk);
	spin_lock(&q->lock);
	while (i < n) {
		const struct kipc_mq_sel *sel = &sels[i];

		m = kipc_mq_find(q, sel);
		if (m && m->len > sel->maxsize) {
			ret = -E2BIG;
			break;
		}
		if (m && sel->peek) {
			if (!copy || copy->len < m->len) {
				u32 need = m->len;

				/* The message may go meanwhile: look again. */
				kipc_mq_unlock(q, &wk);
				kipc_mq_free(copy);
				copy = kipc_mq_alloc(need);
				if (!copy) {
					ret = -ENOMEM;
					goto out;
				}
				spin_lock(&q->lock);
				continue;
			}
			memcpy(copy->data, m->data, m->len);
			copy->len = m->len;
			copy->type = m->type;
			msgs[i++] = copy;
			copy = NULL;
			continue;
		}
		if (m) {
			kipc_mq_unlink(q, m, &wk);
			kipc_mq_account_recv(q, m->len, current);
			msgs[i++] = m;
			continue;
		}
		if (i || sel->nowait || (io & KIPC_MQ_IO_NONBLOCK)) {
			ret = -ENOMSG;
			break;
		}
		if (io & KIPC_MQ_IO_NOSLEEP) {
			ret = -EAGAIN;
			break;
		}
		if (!waited) {
			q->io.read_waits++;
			waited = true;
		}
		w.sel = sel;
		ret = kipc_mq_wait(q, &w, &q->receivers, &q->nr_receivers, io,
				   &wk);
		if (ret < 0)
			goto out;
		if (ret == KIPC_MQ_GOT)
			msgs[i++] = w.msg;
		ret = 0;
		spin_lock(&q->lock);
	}
	kipc_mq_wake_senders(q, &wk);
	kipc_mq_unlock(q, &wk);
out:
	kipc_mq_free(copy);
	if (io & KIPC_MQ_IO_FILE) {
		/* As read(2) of a FIFO and mq_receive(). */
		if (ret == -ENOMSG)
			ret = -EAGAIN;
		else if (ret == -E2BIG)
			ret = -EMSGSIZE;
	}
	*err = ret;
	return i;
}

/*
 * Copying received messages out failed: undo the receives and put each
 * back where it was by its sequence number (or to a receiver that waits
 * for it now), even if the queue filled up in between.
 */
void kipc_mq_requeue(struct kipc_mq *q, struct kipc_mq_kmsg **msgs,
		     unsigned int n)
{
	struct kipc_mq_kmsg *m, *pos;
	struct kipc_mq_wake wk;
	unsigned int i;

	kipc_mq_wake_init(&wk);
	spin_lock(&q->lock);
	for (i = 0; i < n; i++) {
		m = msgs[i];
		/* Not below 0 if the counters were reset meanwhile. */
		q->io.reads -= min_t(u64, q->io.reads, 1);
		q->io.bytes_out -= min_t(u64, q->io.bytes_out, m->len);
		if (kipc_mq_pipelined_send(q, m, &wk))
			continue;
		list_for_each_entry(pos, &q->msgs, link) {
			if (pos->seq > m->seq)
				break;
		}
		kipc_mq_link(q, m, &pos->link, &wk);
	}
	kipc_mq_unlock(q, &wk);
}

/* --- limits, flush, statistics ------------------------------------------------ */

int kipc_mq_check_limits(const struct kipc_mq_new_limits *nl, unsigned int *bad)
{
	unsigned int max[KIPC_MQ_NR_LIMITS] = {
		[KIPC_MQ_LIMIT_BYTES] = READ_ONCE(kipc_mq_max_bytes_limit),
		[KIPC_MQ_LIMIT_MSG_SIZE] =
			READ_ONCE(kipc_mq_max_msg_size_limit),
		[KIPC_MQ_LIMIT_MSGS] = READ_ONCE(kipc_mq_max_msgs_limit),
	};
	unsigned int i;

	/* As msgctl(IPC_SET): EINVAL for any limit before EPERM for any. */
	for (i = 0; i < KIPC_MQ_NR_LIMITS; i++) {
		*bad = i;
		if (!(nl->mask & BIT(i)))
			continue;
		/* Sizes stay valid ints; a queue holds at least a message. */
		if (nl->val[i] > KIPC_MQ_HARD_LIMIT ||
		    (!nl->val[i] && i == KIPC_MQ_LIMIT_MSGS))
			return -EINVAL;
	}
	for (i = 0; i < KIPC_MQ_NR_LIMITS; i++) {
		*bad = i;
		if ((nl->mask & BIT(i)) && nl->val[i] > max[i] &&
		    !capable(CAP_SYS_RESOURCE))
			return -EPERM;
	}
	return 0;
}

/* Below what is queued is fine: senders wait until it fits again. */
void kipc_mq_set_limits(struct kipc_mq *q, const struct kipc_mq_new_limits *nl)
{
	u32 *limit[KIPC_MQ_NR_LIMITS] = {
		[KIPC_MQ_LIMIT_BYTES] = &q->max_bytes,
		[KIPC_MQ_LIMIT_MSG_SIZE] = &q->max_msg_size,
		[KIPC_MQ_LIMIT_MSGS] = &q->max_msgs,
	};
	struct kipc_mq_waiter *w, *tmp;
	struct kipc_mq_wake wk;
	bool changed = false;
	unsigned int i;

	kipc_mq_wake_init(&wk);
	spin_lock(&q->lock);
	for (i = 0; i < KIPC_MQ_NR_LIMITS; i++) {
		if ((nl->mask & BIT(i)) && *limit[i] != nl->val[i]) {
			WRITE_ONCE(*limit[i], nl->val[i]);
			changed = true;
		}
	}
	if (changed) {
		/* Every blocked sender looks again: EINVAL now, or it fits. */
		list_for_each_entry_safe(w, tmp, &q->senders, link) {
			q->nr_senders--;
			kipc_mq_wake_waiter(w, KIPC_MQ_RETRY, &wk);
		}
		wk.ready |= EPOLLOUT | EPOLLWRNORM;
		kipc_mq_event(&wk, KIPC_EVENT_RESIZED, q->bytes);
	}
	kipc_mq_unlock(q, &wk);
}

/* Discard every queued message.  Returns how many there were. */
u32 kipc_mq_flush(struct kipc_mq *q)
{
	struct kipc_mq_wake wk;
	u32 n;

	kipc_mq_wake_init(&wk);
	spin_lock(&q->lock);
	n = q->nmsgs;
	if (n) {
		list_splice_init(&q->msgs, &wk.free);
		WRITE_ONCE(q->nmsgs, 0);
		WRITE_ONCE(q->bytes, 0);
		kipc_mq_event(&wk, KIPC_EVENT_FLUSHED, 0);
		wk.ready |= EPOLLOUT | EPOLLWRNORM;
		kipc_mq_wake_senders(q, &wk);
	}
	kipc_mq_unlock(q, &wk);
	return n;
}

void kipc_mq_reset_stats(struct kipc_mq *q)
{
	spin_lock(&q->lock);
	q->io = (struct kipc_io_stats){ .peak_fill = q->bytes };
	q->peak_msgs = q->nmsgs;
	spin_unlock(&q->lock);
}

void kipc_mq_set_high_water(struct kipc_mq *q, u64 high_water)
{
	spin_lock(&q->lock);
	q->high_water = high_water;
	spin_unlock(&q->lock);
}

void kipc_mq_stat(struct kipc_mq *q, struct kipc_mq_stat *st)
{
	memset(st, 0, sizeof(*st));
	spin_lock(&q->lock);
	st->msgs = q->nmsgs;
	st->bytes = min_t(u64, q->bytes, U32_MAX);
	st->max_bytes = q->max_bytes;
	st->max_msg_size = q->max_msg_size;
	st->max_msgs = q->max_msgs;
	/* pid_vnr(NULL) is 0; a pid from outside our namespace too. */
	st->last_send_pid = pid_vnr(q->send_pid);
	st->last_recv_pid = pid_vnr(q->recv_pid);
	st->last_send_time = q->send_time;
	st->last_recv_time = q->recv_time;
	spin_unlock(&q->lock);
}

/* --- kind operations ---------------------------------------------------------- */

static void kipc_mq_init_queue(struct kipc_mq *q)
{
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->msgs);
	INIT_LIST_HEAD(&q->receivers);
	INIT_LIST_HEAD(&q->senders);
	init_waitqueue_head(&q->pollwq);
	/* The SysV defaults, unless the module maxima are lower. */
	q->max_bytes =
		min_t(unsigned int, KIPC_MQ_DEF_BYTES, kipc_mq_max_bytes_limit);
	q->max_msg_size = min_t(unsigned int, KIPC_MQ_DEF_MSG_SIZE,
				kipc_mq_max_msg_size_limit);
	q->max_msgs = max(1U, min_t(unsigned int, KIPC_MQ_DEF_MSGS,
				    kipc_mq_max_msgs_limit));
}

/* No file is open any more: free what is queued. */
static void kipc_mq_free_queue(struct kipc_mq *q)
{
	struct kipc_mq_kmsg *m, *tmp;

	list_for_each_entry_safe(m, tmp, &q->msgs, link)
		kipc_mq_free(m);
	put_pid(q->send_pid);
	put_pid(q->recv_pid);
}

static void kipc_mq_teardown(unsigned int n)
{
	while (n--) {
		kipc_devbase_del(&kipc_mqs[n].base);
		kipc_mq_free_queue(&kipc_mqs[n]);
	}
	kfree(kipc_mqs);
	kipc_mqs = NULL;
}

static int kipc_mq_create(unsigned int count)
{
	unsigned int i;
	int ret;

	kipc_mqs = kcalloc(count, sizeof(*kipc_mqs), GFP_KERNEL);
	if (count && !kipc_mqs)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		kipc_mq_init_queue(&kipc_mqs[i]);
		ret = kipc_devbase_add(&kipc_mqs[i].base, KIPC_KIND_MQ, i,
				       &kipc_mq_fops);
		if (ret) {
			kipc_mq_teardown(i);
			return ret;
		}
	}
	kipc_mq_n = count;
	return 0;
}

static void kipc_mq_destroy(void)
{
	kipc_mq_teardown(kipc_mq_n);
	kipc_mq_n = 0;
}

static unsigned int kipc_mq_count(void)
{
	return kipc_mq_n;
}

static struct kipc_devbase *kipc_mq_get(unsigned int index)
{
	return index < kipc_mq_n ? &kipc_mqs[index].base : NULL;
}

const struct kipc_kind_ops kipc_mq_ops = {
	.name = "mq",
	.create = kipc_mq_create,
	.destroy = kipc_mq_destroy,
	.count = kipc_mq_count,
	.get = kipc_mq_get,
	.fill = kipc_mq_fill,
	.set = kipc_mq_set,
};
