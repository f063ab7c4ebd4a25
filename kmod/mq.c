// SPDX-License-Identifier: GPL-2.0
/*
 * kipc message queues: /dev/kipc/mqN.
 *
 * Typed, bounded messages kept in the kernel until received, with the
 * semantics of SysV msgsnd()/msgrcv() (msgop(2)): ioctls mirror the two
 * calls, write(2) and read(2) send and receive one whole message each.
 *
 * Locking and wake-ups (Documentation/mq.md has the reasons):
 * - Each queue has a lock per side.  Senders take q->send_lock and add
 *   their message to q->inbox, a lock-less list; receivers take
 *   q->recv_lock and take from q->msgs, moving the inbox over (oldest
 *   first) when q->msgs runs dry.  So a sender and a receiver of the
 *   same queue never wait for each other's lock: they meet only in one
 *   atomic exchange on the inbox.  Each side counts what it has done
 *   (q->tx, q->rx); what is queued is the difference, exact under both
 *   locks, and an upper bound for a sender that reads q->rx alone.
 * - Everything else takes both locks, send_lock first (kipc_mq_lock()),
 *   which also empties the inbox into q->msgs: typed and peeking
 *   receives, blocking, hand-offs to blocked receivers, limits, flush,
 *   statistics.  The waiter lists, their counts and the limits change
 *   only under both locks, so either side reads them under its own.
 * - No lock is held across copy_{from,to}_user(): a sender copies the
 *   payload into its message buffer first, a receiver unlinks the
 *   message and copies out after unlocking.  A failed copy-out puts the
 *   message back where it was, by sequence number, so nothing is lost
 *   and no sender's order changes.
 * - Blocked receivers wait on q->rwaiters with their selector, as in
 *   ipc/msg.c: a sender hands its message straight to the first waiting
 *   receiver that wants it, and only that task is woken.  Blocked senders
 *   wait on q->swaiters with their size and are woken only when it fits.
 * - Tasks are woken, pids released and netlink events sent only after the
 *   locks are dropped (struct kipc_mq_ctx collects that work).
 * - Small messages come from a per-queue cache of buffers in front of a
 *   kmem_cache, so the steady state allocates nothing: senders take from
 *   it under send_lock, receivers give back through a lock-less list.
 * - A small message is sent under send_lock alone, start to end: its
 *   buffer taken, the payload copied in with page faults disabled (at 64
 *   bytes the lock costs more than the copy), queued.  If the copy would
 *   fault, the send takes the long way, copying before it locks.
 * - The helpers of a single send or receive are __always_inline, and what
 *   only a rare case needs is out of line (kipc_mq_queued_peak(),
 *   kipc_mq_post_work(), kipc_mq_room_made()): for a small message the
 *   calls and returns cost more than the work.
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
#include <linux/uaccess.h>
#include <linux/overflow.h>
#include <linux/timekeeping.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/atomic.h>
#include <net/netlink.h>

#include "kipc.h"
#include "compat.h"

unsigned int kipc_mq_max_bytes_limit = 1048576;
module_param_named(mq_max_bytes, kipc_mq_max_bytes_limit, uint, 0644);
MODULE_PARM_DESC(mq_max_bytes, "Byte limit maximum (default 1 MiB)");

static unsigned int kipc_mq_max_msg_size_limit = 65536;
module_param_named(mq_max_msg_size, kipc_mq_max_msg_size_limit, uint, 0644);
MODULE_PARM_DESC(mq_max_msg_size, "Message size limit maximum");

static unsigned int kipc_mq_max_msgs_limit = 65536;
module_param_named(mq_max_msgs, kipc_mq_max_msgs_limit, uint, 0644);
MODULE_PARM_DESC(mq_max_msgs, "Message count limit maximum");

/* No limit may exceed this, whoever asks: sizes stay valid ints. */
#define KIPC_MQ_HARD_LIMIT INT_MAX

/* One queued message; data[] holds len bytes. */
struct kipc_mq_kmsg {
	union {
		struct list_head link; /* on q->msgs or a private list */
		struct llist_node lnode; /* on q->inbox or q->returned */
	};
	u64 seq; /* order of arrival, to put a message back */
	s64 type;
	u32 len;
	u32 __pad;
	char data[];
};

/*
 * Messages up to KIPC_MQ_SMALL_MAX bytes live in fixed objects from
 * kipc_mq_cachep, recycled through a per-queue list of free buffers (a
 * receive gives back, a send takes, batches a chunk at a time); larger
 * ones get exactly their size from kvmalloc(), so a queue's memory
 * follows its payload, not its limits.
 */
#define KIPC_MQ_SMALL_OBJ 256
#define KIPC_MQ_DATA_OFF offsetof(struct kipc_mq_kmsg, data)
#define KIPC_MQ_SMALL_MAX (KIPC_MQ_SMALL_OBJ - KIPC_MQ_DATA_OFF)
/*
 * At most this many free buffers per queue (256 KiB): enough to absorb a
 * default queue swinging from full to empty without touching the slab.
 */
#define KIPC_MQ_CACHE_MAX 1024
/* Large buffers: a failure is ENOMEM for the caller, not a splat. */
#define KIPC_MQ_GFP_BIG (GFP_KERNEL_ACCOUNT | __GFP_NOWARN)

/* Searches, as ipc/msg.c's convert_mode(). */
enum kipc_mq_mode {
	KIPC_MQ_ANY,
	KIPC_MQ_EQUAL,
	KIPC_MQ_NOTEQUAL,
	KIPC_MQ_LESSEQUAL,
};

/* A waiter's state; negative values are errors handed to it. */
enum {
	KIPC_MQ_WAITING = 1,
	KIPC_MQ_GOT, /* receiver: w->msg is its message */
	KIPC_MQ_RETRY, /* look again: space or a peekable message */
};

/* A blocked receiver or sender, on its own stack. */
struct kipc_mq_waiter {
	struct list_head link;
	struct task_struct *task;
	int state; /* written last by the waker, with release */
	/* receivers */
	s64 type;
	enum kipc_mq_mode mode;
	bool peek;
	u32 maxsize; /* largest message it accepts */
	struct kipc_mq_kmsg *msg;
	/* senders */
	u32 size;
};

/* What senders have done: under q->send_lock. */
struct kipc_mq_tx {
	u64 seq; /* the next message's */
	u64 msgs; /* messages queued, ever (not those handed over) */
	u64 bytes;
	u64 writes; /* the statistics: every message sent */
	u64 bytes_in;
	u64 waits;
	u64 peak_fill;
	u64 peak_msgs;
	u64 time;
	struct pid *pid;
	/*
	 * q->rx.msgs and q->rx.bytes as last read.  They only grow under
	 * send_lock, so what these say is queued is an upper bound, good
	 * enough for most sends; reading the receivers' cache line for
	 * every message would make the two sides take turns with it.
	 */
	u64 rx_msgs;
	u64 rx_bytes;
};

/* What receivers have done: under q->recv_lock. */
struct kipc_mq_rx {
	u64 msgs; /* messages taken off the queue, ever */
	u64 bytes;
	u64 reads;
	u64 bytes_out;
	u64 waits;
	u64 time;
	struct pid *pid;
};

struct kipc_mq {
	struct kipc_devbase base;

	/*
	 * Changed under both locks, read under either: the limits, the
	 * high-water mark, the blocked tasks, whether anybody polled.
	 */
	u32 max_bytes;
	u32 max_msg_size;
	u32 max_msgs;
	u32 nr_rwait;
	u32 nr_swait;
	bool poll_used; /* someone polled: wake pollwq */
	u64 high_water;
	struct list_head rwaiters;
	struct list_head swaiters;

	/* Pollers and SIGIO owners: locked by their own helpers. */
	wait_queue_head_t pollwq;
	struct fasync_struct *fasync;

	/* The senders' side, on cache lines of its own. */
	spinlock_t send_lock ____cacheline_aligned_in_smp;
	struct kipc_mq_tx tx;

	/* Sent, not yet seen by a receiver: newest first.  Both sides. */
	struct llist_head inbox ____cacheline_aligned_in_smp;

	/* The receivers' side. */
	spinlock_t recv_lock ____cacheline_aligned_in_smp;
	struct list_head msgs; /* in arrival (seq) order, older than inbox */
	struct kipc_mq_rx rx;

	/*
	 * Free small buffers.  Senders pop them from an array under
	 * send_lock; receivers push them onto q->returned without a lock,
	 * and a sender moves that list into the array when it runs dry.
	 * nreturned bounds the list (it may count a push in progress).
	 */
	struct llist_head returned ____cacheline_aligned_in_smp;
	atomic_t nreturned;
	unsigned int ncached ____cacheline_aligned_in_smp;
	struct kipc_mq_kmsg *cached[KIPC_MQ_CACHE_MAX];
};

/* Per open file: what write(2) and read(2) use. */
struct kipc_mq_file {
	struct kipc_mq *q;
	s64 send_type;
	s64 recv_type;
	u32 recv_flags;
};

#define KIPC_MQ_READ_FLAGS (KIPC_MQ_NOERROR | KIPC_MQ_EXCEPT)

/*
 * Work found under the lock and done after dropping it: tasks to wake
 * (with a reference so they may leave before we get to them), pid
 * references to drop, pollers and SIGIO owners to notify, events to send
 * and messages to free.  On the stack of every send and receive, so it is
 * declared __uninitialized: kipc_mq_ctx_init() sets what is read before
 * it is written, and CONFIG_INIT_STACK_ALL_ZERO would otherwise clear
 * the arrays with a string instruction on every call.
 */
#define KIPC_MQ_CTX_WAKE 4

#define KIPC_MQ_CTX_IN 0x01 /* a message became readable */
#define KIPC_MQ_CTX_OUT 0x02 /* room was made */
#define KIPC_MQ_CTX_POLL 0x04 /* q->poll_used was seen */

struct kipc_mq_ctx {
	unsigned int nwake;
	unsigned int flags;
	unsigned int events; /* BIT(enum kipc_event_type) */
	u64 now; /* coarse time, read once per locked section */
	struct pid *put_pid[2];
	struct list_head free;
	struct task_struct *wake[KIPC_MQ_CTX_WAKE];
	u64 ev_fill[KIPC_EVENT_MAX + 1];
};

static struct kmem_cache *kipc_mq_cachep;
static struct kipc_mq *kipc_mqs;
static unsigned int kipc_mq_n;

static inline void kipc_mq_ctx_init(struct kipc_mq_ctx *ctx)
{
	ctx->nwake = 0;
	ctx->flags = 0;
	ctx->events = 0;
	ctx->now = 0;
	ctx->put_pid[0] = NULL;
	ctx->put_pid[1] = NULL;
	INIT_LIST_HEAD(&ctx->free);
}

/*
 * The time for last_{send,recv}_time: the coarse clock (jiffy
 * resolution) cannot move within one locked section worth of messages,
 * so a batch reads it once.  kipc_mq_post() forgets it.
 */
static inline u64 kipc_mq_now(struct kipc_mq_ctx *ctx)
{
	if (!ctx->now)
		ctx->now = ktime_get_coarse_real_ns();
	return ctx->now;
}

/* --- message buffers ------------------------------------------------------ */

/*
 * Move the buffers receivers gave back into the array, as far as it has
 * room; the rest go back to the slab.  send_lock held.
 */
static void kipc_mq_cache_refill(struct kipc_mq *q)
{
	struct llist_node *node = llist_del_all(&q->returned);
	struct kipc_mq_kmsg *m, *tmp;
	int n = 0;

	llist_for_each_entry_safe(m, tmp, node, lnode) {
		if (q->ncached < KIPC_MQ_CACHE_MAX)
			q->cached[q->ncached++] = m;
		else
			kmem_cache_free(kipc_mq_cachep, m);
		n++;
	}
	atomic_sub(n, &q->nreturned);
}

/* A free small buffer, or NULL.  send_lock held. */
static inline struct kipc_mq_kmsg *kipc_mq_cache_pop(struct kipc_mq *q)
{
	if (!q->ncached && !llist_empty(&q->returned))
		kipc_mq_cache_refill(q);
	return q->ncached ? q->cached[--q->ncached] : NULL;
}

/* Take up to @n free small buffers into @out; returns how many. */
static unsigned int
kipc_mq_cache_take(struct kipc_mq *q, struct kipc_mq_kmsg **out, unsigned int n)
{
	unsigned int got = 0;

	spin_lock(&q->send_lock);
	while (got < n && (out[got] = kipc_mq_cache_pop(q)))
		got++;
	spin_unlock(&q->send_lock);
	return got;
}

/*
 * Give back small buffers @msgs[0..n) without taking a lock: one atomic
 * add reserves their places, one cmpxchg links them all.  What does not
 * fit under KIPC_MQ_CACHE_MAX goes back to the slab.
 */
static __always_inline void kipc_mq_cache_give(struct kipc_mq *q,
					       struct kipc_mq_kmsg **msgs,
					       unsigned int n)
{
	unsigned int keep = n, i;
	int over;

	if (!n)
		return;
	over = atomic_add_return(n, &q->nreturned) - KIPC_MQ_CACHE_MAX;
	if (over > 0) {
		keep = n - min_t(unsigned int, n, over);
		atomic_sub(n - keep, &q->nreturned);
	}
	for (i = keep; i < n; i++)
		kmem_cache_free(kipc_mq_cachep, msgs[i]);
	if (!keep)
		return;
	for (i = 0; i + 1 < keep; i++)
		msgs[i]->lnode.next = &msgs[i + 1]->lnode;
	llist_add_batch(&msgs[0]->lnode, &msgs[keep - 1]->lnode, &q->returned);
}

/* A buffer for @len bytes, from the queue's cache when it is small. */
static struct kipc_mq_kmsg *kipc_mq_alloc(struct kipc_mq *q, u32 len)
{
	struct kipc_mq_kmsg *m;

	if (len > KIPC_MQ_SMALL_MAX)
		return kvmalloc(struct_size(m, data, len), KIPC_MQ_GFP_BIG);
	if (kipc_mq_cache_take(q, &m, 1))
		return m;
	return kmem_cache_alloc(kipc_mq_cachep, GFP_KERNEL_ACCOUNT);
}

/* m->len must still be the length it was allocated for. */
static __always_inline void kipc_mq_free(struct kipc_mq *q,
					 struct kipc_mq_kmsg *m)
{
	if (m->len > KIPC_MQ_SMALL_MAX)
		kvfree(m);
	else
		kipc_mq_cache_give(q, &m, 1);
}

/* Free the messages on @list (a flush), small ones a group at a time. */
static void kipc_mq_free_list(struct kipc_mq *q, struct list_head *list)
{
	struct kipc_mq_kmsg *m, *tmp, *small[16];
	unsigned int n = 0;

	list_for_each_entry_safe(m, tmp, list, link) {
		if (m->len > KIPC_MQ_SMALL_MAX) {
			kvfree(m);
			continue;
		}
		small[n++] = m;
		if (n == ARRAY_SIZE(small)) {
			kipc_mq_cache_give(q, small, n);
			n = 0;
		}
	}
	kipc_mq_cache_give(q, small, n);
	INIT_LIST_HEAD(list);
}

/*
 * The payload of a small message lies in a kipc_mq_cachep object, whose
 * whitelisted data holds KIPC_MQ_SMALL_MAX bytes: the bound hardened
 * usercopy would check holds by construction, so it is copied with
 * kipc_copy_{from,to}_user_small().
 */
static_assert(KIPC_MQ_SMALL_MAX <= KIPC_SMALL_COPY);

static int kipc_mq_copy_in(struct kipc_mq_kmsg *m, const void __user *from,
			   u32 len)
{
	if (len > KIPC_MQ_SMALL_MAX)
		return copy_from_user(m->data, from, len) ? -EFAULT : 0;
	return kipc_copy_from_user_small(m->data, from, len);
}

/* A message of @len bytes from @buf; @m is a buffer already taken, or NULL. */
static struct kipc_mq_kmsg *kipc_mq_fill_msg(struct kipc_mq *q,
					     struct kipc_mq_kmsg *m, s64 type,
					     const void __user *buf, u32 len)
{
	if (!m)
		m = kipc_mq_alloc(q, len);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->len = len;
	m->type = type;
	if (kipc_mq_copy_in(m, buf, len)) {
		kipc_mq_free(q, m);
		return ERR_PTR(-EFAULT);
	}
	return m;
}

/* --- deferred work -------------------------------------------------------- */

static void kipc_mq_event(struct kipc_mq_ctx *ctx, enum kipc_event_type ev,
			  u64 fill)
{
	ctx->events |= BIT(ev);
	ctx->ev_fill[ev] = fill;
}

static void kipc_mq_ready(struct kipc_mq *q, struct kipc_mq_ctx *ctx,
			  unsigned int what)
{
	ctx->flags |= what;
	if (q->poll_used)
		ctx->flags |= KIPC_MQ_CTX_POLL;
}

/*
 * Remove a waiter from its list and hand it @state.  After the release
 * store the waiter may return and its stack is gone, so the task is
 * taken first.  Normally the task is woken after the lock is dropped; if
 * the context is full it is woken now, which is merely slower.
 */
static void kipc_mq_wake_waiter(struct kipc_mq_waiter *w, int state,
				struct kipc_mq_ctx *ctx)
{
	struct task_struct *task = w->task;

	list_del(&w->link);
	get_task_struct(task);
	/* Last touch of @w: pairs with the acquires in kipc_mq_wait(). */
	smp_store_release(&w->state, state);
	if (likely(ctx->nwake < KIPC_MQ_CTX_WAKE)) {
		ctx->wake[ctx->nwake++] = task;
	} else {
		wake_up_process(task);
		put_task_struct(task);
	}
}

/*
 * Record the last sender or receiver.  Dropping the old pid may free it
 * (its process is gone), so the first two old pids of a locked section
 * are put after unlocking, to keep that free out of the lock; put_pid()
 * is safe under a spinlock too, so a third is put at once.
 */
static __always_inline void kipc_mq_set_pid(struct pid **slot, struct pid *pid,
					    struct kipc_mq_ctx *ctx)
{
	struct pid *old = *slot;

	if (old == pid)
		return;
	*slot = get_pid(pid);
	if (!old)
		return;
	if (!ctx->put_pid[0])
		ctx->put_pid[0] = old;
	else if (!ctx->put_pid[1])
		ctx->put_pid[1] = old;
	else
		put_pid(old);
}

/* The work of kipc_mq_post(), when there is some. */
static void kipc_mq_post_work(struct kipc_mq *q, struct kipc_mq_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->nwake; i++) {
		wake_up_process(ctx->wake[i]);
		put_task_struct(ctx->wake[i]);
	}
	ctx->nwake = 0;

	if (unlikely(ctx->put_pid[0])) {
		put_pid(ctx->put_pid[0]);
		put_pid(ctx->put_pid[1]);
		ctx->put_pid[0] = NULL;
		ctx->put_pid[1] = NULL;
	}

	if (ctx->flags) {
		if ((ctx->flags & KIPC_MQ_CTX_POLL) &&
		    wq_has_sleeper(&q->pollwq)) {
			__poll_t mask = 0;

			if (ctx->flags & KIPC_MQ_CTX_IN)
				mask |= EPOLLIN | EPOLLRDNORM;
			if (ctx->flags & KIPC_MQ_CTX_OUT)
				mask |= EPOLLOUT | EPOLLWRNORM;
			wake_up_interruptible_poll(&q->pollwq, mask);
		}
		if (READ_ONCE(q->fasync)) {
			if (ctx->flags & KIPC_MQ_CTX_IN)
				kill_fasync(&q->fasync, SIGIO, POLL_IN);
			if (ctx->flags & KIPC_MQ_CTX_OUT)
				kill_fasync(&q->fasync, SIGIO, POLL_OUT);
		}
		ctx->flags = 0;
	}

	if (unlikely(ctx->events)) {
		for (i = KIPC_EVENT_UNSPEC + 1; i <= KIPC_EVENT_MAX; i++) {
			if (ctx->events & BIT(i))
				kipc_nl_notify(&q->base, i, ctx->ev_fill[i]);
		}
		ctx->events = 0;
	}

	if (unlikely(!list_empty(&ctx->free)))
		kipc_mq_free_list(q, &ctx->free);
}

/*
 * Everything kipc_mq_ctx collected.  No lock held; leaves ctx reusable.
 * Most calls have nothing to do but say that nobody polls.
 */
static inline void kipc_mq_post(struct kipc_mq *q, struct kipc_mq_ctx *ctx)
{
	ctx->now = 0;
	if (ctx->nwake || ctx->put_pid[0] || ctx->events ||
	    (ctx->flags & KIPC_MQ_CTX_POLL) ||
	    (ctx->flags && READ_ONCE(q->fasync)) || !list_empty(&ctx->free))
		kipc_mq_post_work(q, ctx);
	ctx->flags = 0;
}

/* --- the queue ------------------------------------------------------------ */

/*
 * Messages and bytes queued: exact under both locks, and an upper bound
 * under send_lock alone, since receivers can only have taken more.  The
 * receivers' count is read first: the senders' can only have grown since,
 * so the difference is never negative, even without a lock.
 */
static inline u32 kipc_mq_nmsgs(const struct kipc_mq *q)
{
	u64 taken = READ_ONCE(q->rx.msgs);

	smp_rmb(); /* pairs with the full barrier of llist_add() */
	return READ_ONCE(q->tx.msgs) - taken;
}

static inline u64 kipc_mq_bytes(const struct kipc_mq *q)
{
	u64 taken = READ_ONCE(q->rx.bytes);

	smp_rmb(); /* as in kipc_mq_nmsgs() */
	return READ_ONCE(q->tx.bytes) - taken;
}

/* The senders' view: at least what is queued.  send_lock held. */
static inline u32 kipc_mq_tx_nmsgs(const struct kipc_mq *q)
{
	return q->tx.msgs - q->tx.rx_msgs;
}

static inline u64 kipc_mq_tx_bytes(const struct kipc_mq *q)
{
	return q->tx.bytes - q->tx.rx_bytes;
}

/* Make it exact, or as exact as it gets without recv_lock. */
static inline void kipc_mq_tx_refresh(struct kipc_mq *q)
{
	q->tx.rx_msgs = READ_ONCE(q->rx.msgs);
	q->tx.rx_bytes = READ_ONCE(q->rx.bytes);
}

/* Nothing with a payload fits: the condition of KIPC_EVENT_FULL. */
static inline bool kipc_mq_full(const struct kipc_mq *q, u32 nmsgs, u64 bytes)
{
	return nmsgs >= q->max_msgs || bytes >= q->max_bytes;
}

/* As msg_fits_inqueue(), with a separate count limit. */
static inline bool kipc_mq_fits_in(const struct kipc_mq *q, u32 nmsgs,
				   u64 bytes, u32 len)
{
	return nmsgs < q->max_msgs && len <= q->max_bytes &&
	       bytes <= q->max_bytes - len;
}

/* Whether @len bytes fit; the senders' view first.  send_lock held. */
static __always_inline bool kipc_mq_fits(struct kipc_mq *q, u32 len)
{
	if (kipc_mq_fits_in(q, kipc_mq_tx_nmsgs(q), kipc_mq_tx_bytes(q), len))
		return true;
	kipc_mq_tx_refresh(q);
	return kipc_mq_fits_in(q, kipc_mq_tx_nmsgs(q), kipc_mq_tx_bytes(q),
			       len);
}

/*
 * Move what senders published since the last look onto q->msgs, oldest
 * first (the inbox is a stack).  recv_lock held; false if there was none.
 */
static bool kipc_mq_drain_inbox(struct kipc_mq *q)
{
	struct kipc_mq_kmsg *m, *tmp;
	struct llist_node *node;

	if (llist_empty(&q->inbox))
		return false;
	node = llist_reverse_order(llist_del_all(&q->inbox));
	llist_for_each_entry_safe(m, tmp, node, lnode)
		list_add_tail(&m->link, &q->msgs);
	return true;
}

/* Both sides, send_lock first; what the inbox holds moves onto q->msgs. */
static void kipc_mq_lock(struct kipc_mq *q) __acquires(&q->send_lock)
	__acquires(&q->recv_lock)
{
	spin_lock(&q->send_lock);
	spin_lock(&q->recv_lock);
	kipc_mq_drain_inbox(q);
}

static void kipc_mq_unlock(struct kipc_mq *q) __releases(&q->recv_lock)
	__releases(&q->send_lock)
{
	spin_unlock(&q->recv_lock);
	spin_unlock(&q->send_lock);
}

/* The oldest message, or NULL.  recv_lock held. */
static __always_inline struct kipc_mq_kmsg *kipc_mq_first(struct kipc_mq *q)
{
	if (list_empty(&q->msgs) && !kipc_mq_drain_inbox(q))
		return NULL;
	return list_first_entry(&q->msgs, struct kipc_mq_kmsg, link);
}

static enum kipc_mq_mode kipc_mq_convert_mode(s64 *type, u32 flags)
{
	if (*type == 0)
		return KIPC_MQ_ANY;
	if (*type < 0) {
		/* -S64_MIN does not exist; every type is <= S64_MAX. */
		*type = *type == S64_MIN ? S64_MAX : -*type;
		return KIPC_MQ_LESSEQUAL;
	}
	if (flags & KIPC_MQ_EXCEPT)
		return KIPC_MQ_NOTEQUAL;
	return KIPC_MQ_EQUAL;
}

static inline bool kipc_mq_match(const struct kipc_mq_kmsg *m, s64 type,
				 enum kipc_mq_mode mode)
{
	switch (mode) {
	case KIPC_MQ_ANY:
		return true;
	case KIPC_MQ_EQUAL:
		return m->type == type;
	case KIPC_MQ_NOTEQUAL:
		return m->type != type;
	case KIPC_MQ_LESSEQUAL:
		return m->type <= type;
	}
	return false;
}

/*
 * As ipc/msg.c's find_msg(): the first match, or the first lowest type.
 * Both locks held, so q->msgs is the whole queue.
 */
static struct kipc_mq_kmsg *kipc_mq_find(struct kipc_mq *q, s64 type,
					 enum kipc_mq_mode mode)
{
	struct kipc_mq_kmsg *m, *found = NULL;

	if (mode == KIPC_MQ_ANY)
		return list_first_entry_or_null(&q->msgs, struct kipc_mq_kmsg,
						link);
	list_for_each_entry(m, &q->msgs, link) {
		if (!kipc_mq_match(m, type, mode))
			continue;
		if (mode != KIPC_MQ_LESSEQUAL || m->type == 1)
			return m;
		/* Only a strictly lower type can beat this one. */
		type = m->type - 1;
		found = m;
	}
	return found;
}

/*
 * Wake the blocked senders whose messages fit in the room there is now,
 * in the order they came, counting the room each will take.  Both locks.
 */
static void kipc_mq_wake_senders(struct kipc_mq *q, struct kipc_mq_ctx *ctx)
{
	u32 nmsgs = kipc_mq_nmsgs(q);
	u64 bytes = kipc_mq_bytes(q);
	struct kipc_mq_waiter *w, *tmp;
	u64 room_bytes;
	u32 room_msgs;

	if (nmsgs >= q->max_msgs || bytes > q->max_bytes)
		return;
	room_msgs = q->max_msgs - nmsgs;
	room_bytes = q->max_bytes - bytes;
	list_for_each_entry_safe(w, tmp, &q->swaiters, link) {
		if (w->size > room_bytes)
			continue;
		room_bytes -= w->size;
		q->nr_swait--;
		kipc_mq_wake_waiter(w, KIPC_MQ_RETRY, ctx);
		if (!--room_msgs)
			break;
	}
}

/* Limits changed: every blocked sender looks again (EINVAL, or fits). */
static void kipc_mq_wake_all_senders(struct kipc_mq *q, struct kipc_mq_ctx *ctx)
{
	struct kipc_mq_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, &q->swaiters, link) {
		q->nr_swait--;
		kipc_mq_wake_waiter(w, KIPC_MQ_RETRY, ctx);
	}
}

/* What kipc_mq_queued() leaves to the exact counts.  send_lock held. */
static noinline void kipc_mq_queued_peak(struct kipc_mq *q,
					 const struct kipc_mq_kmsg *m,
					 struct kipc_mq_ctx *ctx)
{
	u32 nmsgs;
	u64 bytes;

	kipc_mq_tx_refresh(q);
	nmsgs = kipc_mq_tx_nmsgs(q);
	bytes = kipc_mq_tx_bytes(q);
	if (bytes > q->tx.peak_fill)
		q->tx.peak_fill = bytes;
	if (nmsgs > q->tx.peak_msgs)
		q->tx.peak_msgs = nmsgs;
	if (kipc_mq_full(q, nmsgs, bytes) &&
	    !kipc_mq_full(q, nmsgs - 1, bytes - m->len))
		kipc_mq_event(ctx, KIPC_EVENT_FULL, bytes);
	if (q->high_water && bytes - m->len < q->high_water &&
	    bytes >= q->high_water)
		kipc_mq_event(ctx, KIPC_EVENT_HIGH_WATER, bytes);
}

/*
 * @m was just counted in: peaks, events, readiness.  send_lock held.
 * The senders' view is refreshed only if it says a peak, a full queue or
 * the high-water mark was reached: what it says is an upper bound, so
 * none of them can have been reached when it says no.  Even refreshed,
 * without recv_lock the counts may include messages receivers have taken
 * meanwhile, which places this send before those receives.
 */
static inline void kipc_mq_queued(struct kipc_mq *q,
				  const struct kipc_mq_kmsg *m,
				  struct kipc_mq_ctx *ctx)
{
	u32 nmsgs = kipc_mq_tx_nmsgs(q);
	u64 bytes = kipc_mq_tx_bytes(q);

	if (unlikely(bytes > q->tx.peak_fill || nmsgs > q->tx.peak_msgs ||
		     kipc_mq_full(q, nmsgs, bytes) ||
		     (q->high_water && bytes >= q->high_water)))
		kipc_mq_queued_peak(q, m, ctx);
	kipc_mq_ready(q, ctx, KIPC_MQ_CTX_IN);
}

/* Count @m in as queued.  send_lock held. */
static void kipc_mq_count_in(struct kipc_mq *q, struct kipc_mq_kmsg *m,
			     struct kipc_mq_ctx *ctx)
{
	WRITE_ONCE(q->tx.msgs, q->tx.msgs + 1);
	WRITE_ONCE(q->tx.bytes, q->tx.bytes + m->len);
	kipc_mq_queued(q, m, ctx);
}

/*
 * Queue @m: count it, then publish it on the inbox, where a receiver may
 * take it at once.  send_lock held.  The counts are raised first, and
 * llist_add() is a full barrier, so no receiver takes @m before it is
 * counted: the receivers' count never passes the senders'.
 */
static void kipc_mq_publish(struct kipc_mq *q, struct kipc_mq_kmsg *m,
			    struct kipc_mq_ctx *ctx)
{
	kipc_mq_count_in(q, m, ctx);
	llist_add(&m->lnode, &q->inbox);
}

/*
 * Account a send of @len bytes by the caller.  send_lock held.  It takes
 * the length, not the message: a message handed to a waiting receiver
 * may already be received and freed.
 */
static __always_inline void kipc_mq_account_send(struct kipc_mq *q, u32 len,
						 struct kipc_mq_ctx *ctx)
{
	q->tx.writes++;
	q->tx.bytes_in += len;
	q->tx.time = kipc_mq_now(ctx);
	kipc_mq_set_pid(&q->tx.pid, task_tgid(current), ctx);
}

/*
 * Account a receive of @m by @task (the caller, or a waiter handed @m).
 * recv_lock held.
 */
static __always_inline void kipc_mq_account_recv(struct kipc_mq *q,
						 struct kipc_mq_kmsg *m,
						 struct task_struct *task,
						 struct kipc_mq_ctx *ctx)
{
	q->rx.reads++;
	q->rx.bytes_out += m->len;
	q->rx.time = kipc_mq_now(ctx);
	kipc_mq_set_pid(&q->rx.pid, task_tgid(task), ctx);
}

/*
 * As ipc/msg.c's pipelined_send(): give @m to the first waiting receiver
 * that wants it.  Receivers it matches but that cannot take it are woken
 * on the way: a peeker to look at the queue again, one whose buffer is
 * too small with its error, as msgrcv() gets E2BIG there.  Both locks.
 */
static bool kipc_mq_pipelined_send(struct kipc_mq *q, struct kipc_mq_kmsg *m,
				   struct kipc_mq_ctx *ctx)
{
	struct kipc_mq_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, &q->rwaiters, link) {
		if (!kipc_mq_match(m, w->type, w->mode))
			continue;
		q->nr_rwait--;
		if (w->peek) {
			kipc_mq_wake_waiter(w, KIPC_MQ_RETRY, ctx);
			continue;
		}
		if (m->len > w->maxsize) {
			kipc_mq_wake_waiter(w, -E2BIG, ctx);
			continue;
		}
		kipc_mq_account_recv(q, m, w->task, ctx);
		w->msg = m;
		kipc_mq_wake_waiter(w, KIPC_MQ_GOT, ctx);
		return true;
	}
	return false;
}

/*
 * Send @m if it fits or a receiver takes it; false if it must wait.
 * Both locks held.  Once handed over, @m is the receiver's: it returns
 * without a lock as soon as it sees its state, and may free @m before
 * this returns, so nothing here reads @m after the hand-off.
 */
static bool kipc_mq_deliver(struct kipc_mq *q, struct kipc_mq_kmsg *m,
			    struct kipc_mq_ctx *ctx)
{
	u32 len = m->len;

	m->seq = q->tx.seq++;
	if (list_empty(&q->rwaiters) || !kipc_mq_pipelined_send(q, m, ctx)) {
		if (!kipc_mq_fits(q, len))
			return false;
		kipc_mq_publish(q, m, ctx);
	}
	kipc_mq_account_send(q, len, ctx);
	return true;
}

/*
 * Take @m off the queue for the caller.  recv_lock held; blocked senders
 * are the caller's to wake, under both locks.
 */
static __always_inline void kipc_mq_unlink(struct kipc_mq *q,
					   struct kipc_mq_kmsg *m,
					   struct kipc_mq_ctx *ctx)
{
	list_del(&m->link);
	WRITE_ONCE(q->rx.msgs, q->rx.msgs + 1);
	WRITE_ONCE(q->rx.bytes, q->rx.bytes + m->len);
	/* Only then look at the senders' count, on their cache line. */
	if (list_empty(&q->msgs) && !kipc_mq_nmsgs(q))
		kipc_mq_event(ctx, KIPC_EVENT_EMPTY, 0);
	kipc_mq_account_recv(q, m, current, ctx);
	kipc_mq_ready(q, ctx, KIPC_MQ_CTX_OUT);
}

/*
 * Copying a received message out failed: undo the receive and put it
 * back where it was by its sequence number (or to a receiver that waits
 * for it now), even if the queue filled up in between.  Takes and drops
 * both locks.
 */
static void kipc_mq_requeue(struct kipc_mq *q, struct kipc_mq_kmsg **msgs,
			    unsigned int n)
{
	struct kipc_mq_kmsg *m, *pos;
	struct kipc_mq_ctx ctx __uninitialized;
	unsigned int i;

	kipc_mq_ctx_init(&ctx);
	kipc_mq_lock(q);
	for (i = 0; i < n; i++) {
		m = msgs[i];
		/* Not below 0 if the counters were reset meanwhile. */
		q->rx.reads -= min_t(u64, q->rx.reads, 1);
		q->rx.bytes_out -= min_t(u64, q->rx.bytes_out, m->len);
		if (!list_empty(&q->rwaiters) &&
		    kipc_mq_pipelined_send(q, m, &ctx))
			continue;
		list_for_each_entry(pos, &q->msgs, link) {
			if (pos->seq > m->seq)
				break;
		}
		list_add_tail(&m->link, &pos->link);
		WRITE_ONCE(q->rx.msgs, q->rx.msgs - 1);
		WRITE_ONCE(q->rx.bytes, q->rx.bytes - m->len);
		/* The one place rx goes down: the senders' view must follow. */
		kipc_mq_tx_refresh(q);
		kipc_mq_queued(q, m, &ctx);
	}
	kipc_mq_unlock(q);
	kipc_mq_post(q, &ctx);
}

/*
 * Sleep on @list until a waker hands @w a state.  Called with both locks
 * held, returns without them; pending work in @ctx is done before
 * sleeping.  A waker unlinks @w, writes the state last and never touches
 * @w again, so a woken task that sees the state needs no lock at all: a
 * receiver handed its message returns without touching the queue.
 * Returns the state, or -ERESTARTSYS if a signal came first.
 */
static int kipc_mq_wait(struct kipc_mq *q, struct kipc_mq_waiter *w,
			struct list_head *list, u32 *nr,
			struct kipc_mq_ctx *ctx) __releases(&q->recv_lock)
	__releases(&q->send_lock)
{
	int state;

	w->task = current;
	w->state = KIPC_MQ_WAITING;
	list_add_tail(&w->link, list);
	(*nr)++;
	for (;;) {
		kipc_mq_unlock(q);
		kipc_mq_post(q, ctx);

		/* The waker stores the state, then wakes: no wake-up is lost. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(w->state) == KIPC_MQ_WAITING &&
		    !signal_pending(current))
			schedule();
		__set_current_state(TASK_RUNNING);

		/* Pairs with the release in kipc_mq_wake_waiter(). */
		state = smp_load_acquire(&w->state);
		if (state != KIPC_MQ_WAITING)
			return state;

		kipc_mq_lock(q);
		state = w->state;
		if (state == KIPC_MQ_WAITING && signal_pending(current)) {
			list_del(&w->link);
			(*nr)--;
			state = -ERESTARTSYS;
		}
		if (state != KIPC_MQ_WAITING) {
			kipc_mq_unlock(q);
			return state;
		}
		/* Woken for nothing: sleep again, still in line. */
	}
}

/*
 * The waiter lives on the stack of these two, out of line, so that the
 * calls that never wait do not pay for initialising it.
 */
static noinline int kipc_mq_wait_send(struct kipc_mq *q, u32 size,
				      struct kipc_mq_ctx *ctx)
	__releases(&q->recv_lock) __releases(&q->send_lock)
{
	struct kipc_mq_waiter w;

	w.size = size;
	return kipc_mq_wait(q, &w, &q->swaiters, &q->nr_swait, ctx);
}

static noinline int kipc_mq_wait_recv(struct kipc_mq *q, s64 type,
				      enum kipc_mq_mode mode, u32 maxsize,
				      bool peek, struct kipc_mq_kmsg **msg,
				      struct kipc_mq_ctx *ctx)
	__releases(&q->recv_lock) __releases(&q->send_lock)
{
	struct kipc_mq_waiter w;
	int ret;

	w.type = type;
	w.mode = mode;
	w.peek = peek;
	w.maxsize = maxsize;
	ret = kipc_mq_wait(q, &w, &q->rwaiters, &q->nr_rwait, ctx);
	if (ret == KIPC_MQ_GOT)
		*msg = w.msg;
	return ret;
}

/* --- send ----------------------------------------------------------------- */

/*
 * Whether a message of @len bytes may be queued under send_lock alone: no
 * receiver is blocked (a receiver registers under both locks, so that
 * cannot change under send_lock) and it fits by counts receivers can only
 * have made smaller.  send_lock held.
 */
static inline bool kipc_mq_may_queue(struct kipc_mq *q, u32 len)
{
	return len <= q->max_msg_size && !q->nr_rwait && kipc_mq_fits(q, len);
}

/* Number, count and account @m, not yet published.  send_lock held. */
static inline void kipc_mq_queue(struct kipc_mq *q, struct kipc_mq_kmsg *m,
				 struct kipc_mq_ctx *ctx)
{
	m->seq = q->tx.seq++;
	kipc_mq_count_in(q, m, ctx);
	kipc_mq_account_send(q, m->len, ctx);
}

/*
 * The common case, under send_lock alone: send @msgs[0..n) as far as
 * kipc_mq_may_queue() allows.  Returns how many were sent; the others are
 * for kipc_mq_send_msgs() to send, refuse or wait for, under both locks.
 */
static unsigned int kipc_mq_send_fast(struct kipc_mq *q,
				      struct kipc_mq_kmsg **msgs,
				      unsigned int n, struct kipc_mq_ctx *ctx)
{
	struct llist_node *newest = NULL;
	unsigned int i;

	spin_lock(&q->send_lock);
	for (i = 0; i < n; i++) {
		struct kipc_mq_kmsg *m = msgs[i];

		if (!kipc_mq_may_queue(q, m->len))
			break;
		kipc_mq_queue(q, m, ctx);
		/* Chained newest first, as the inbox keeps them. */
		m->lnode.next = newest;
		newest = &m->lnode;
	}
	/* All at once: one atomic operation on the inbox per call. */
	if (i)
		llist_add_batch(newest, &msgs[0]->lnode, &q->inbox);
	spin_unlock(&q->send_lock);
	return i;
}

/*
 * Send the prepared messages @msgs[0..n), blocking for room where their
 * flags allow.  Returns how many were sent; *err says why it stopped
 * short.  Sent messages belong to the queue, the others to the caller.
 */
static unsigned int kipc_mq_send_msgs(struct kipc_mq *q,
				      struct kipc_mq_kmsg **msgs,
				      const u32 *flags, unsigned int n,
				      bool nonblock, int *err)
{
	struct kipc_mq_ctx ctx __uninitialized;
	bool waited = false;
	unsigned int i;
	int ret = 0;

	kipc_mq_ctx_init(&ctx);
	i = kipc_mq_send_fast(q, msgs, n, &ctx);
	if (i == n)
		goto out_unlocked;

	kipc_mq_lock(q);
	while (i < n) {
		struct kipc_mq_kmsg *m = msgs[i];

		/* Rechecked here: the limits may have changed meanwhile. */
		if (unlikely(m->len > q->max_msg_size)) {
			ret = -EINVAL;
			break;
		}
		if (likely(kipc_mq_deliver(q, m, &ctx))) {
			i++;
			waited = false;
			continue;
		}
		if (nonblock || (flags && (flags[i] & KIPC_MQ_NOWAIT))) {
			ret = -EAGAIN;
			break;
		}
		if (!waited) {
			q->tx.waits++;
			waited = true;
		}
		ret = kipc_mq_wait_send(q, m->len, &ctx);
		if (ret < 0)
			goto out_unlocked;
		ret = 0;
		kipc_mq_lock(q);
	}
	kipc_mq_unlock(q);
out_unlocked:
	kipc_mq_post(q, &ctx);
	*err = ret;
	return i;
}

/*
 * A small message start to end under send_lock (see the top of the file),
 * when kipc_mq_may_queue() and a cached buffer is there.  False, having
 * done nothing, otherwise: the caller takes the long way.
 */
static bool kipc_mq_send_small(struct kipc_mq *q, s64 type,
			       const void __user *buf, u32 len)
{
	struct kipc_mq_kmsg *m;
	struct kipc_mq_ctx ctx __uninitialized;
	int err;

	kipc_mq_ctx_init(&ctx);
	spin_lock(&q->send_lock);
	if (!kipc_mq_may_queue(q, len))
		goto out_unlock;
	m = kipc_mq_cache_pop(q);
	if (!m)
		goto out_unlock;
	pagefault_disable();
	err = kipc_copy_from_user_small(m->data, buf, len);
	pagefault_enable();
	if (err) {
		/* Where it came from, so there is room. */
		q->cached[q->ncached++] = m;
		goto out_unlock;
	}
	m->len = len;
	m->type = type;
	kipc_mq_queue(q, m, &ctx);
	llist_add(&m->lnode, &q->inbox);
	spin_unlock(&q->send_lock);
	kipc_mq_post(q, &ctx);
	return true;
out_unlock:
	spin_unlock(&q->send_lock);
	return false;
}

static int kipc_mq_send_one(struct kipc_mq *q, s64 type, u32 flags,
			    const void __user *buf, u32 len, bool nonblock)
{
	struct kipc_mq_kmsg *m;
	int err;

	if (len > READ_ONCE(q->max_msg_size))
		return -EINVAL;
	if (len <= KIPC_MQ_SMALL_MAX && kipc_mq_send_small(q, type, buf, len))
		return 0;
	m = kipc_mq_fill_msg(q, NULL, type, buf, len);
	if (IS_ERR(m))
		return PTR_ERR(m);
	if (!kipc_mq_send_msgs(q, &m, &flags, 1, nonblock, &err))
		kipc_mq_free(q, m);
	return err;
}

/* --- receive -------------------------------------------------------------- */

struct kipc_mq_sel {
	s64 type; /* selector */
	u32 flags;
	u32 bufsize;
	void __user *buf;
};

/* The largest message a receive with @flags and @bufsize accepts. */
static inline u32 kipc_mq_maxsize(u32 flags, u32 bufsize)
{
	return flags & KIPC_MQ_NOERROR ? U32_MAX : bufsize;
}

/* The file interface reports as read(2) and mq_receive() do. */
static inline int kipc_mq_err(int err, bool file_api)
{
	if (!file_api)
		return err;
	if (err == -E2BIG)
		return -EMSGSIZE;
	if (err == -ENOMSG)
		return -EAGAIN;
	return err;
}

/*
 * The message @sel asks for, unlinked, or an error: -E2BIG if it does not
 * fit (it stays queued), -ENOMSG if there is none.  Both locks held.
 */
static struct kipc_mq_kmsg *kipc_mq_take(struct kipc_mq *q, s64 type,
					 enum kipc_mq_mode mode, u32 maxsize,
					 struct kipc_mq_ctx *ctx)
{
	struct kipc_mq_kmsg *m = kipc_mq_find(q, type, mode);

	if (!m)
		return ERR_PTR(-ENOMSG);
	if (m->len > maxsize)
		return ERR_PTR(-E2BIG);
	kipc_mq_unlink(q, m, ctx);
	if (!list_empty(&q->swaiters))
		kipc_mq_wake_senders(q, ctx);
	return m;
}

/* Receivers made room under recv_lock alone: wake the senders it fits. */
static noinline void kipc_mq_room_made(struct kipc_mq *q,
				       struct kipc_mq_ctx *ctx)
{
	kipc_mq_lock(q);
	kipc_mq_wake_senders(q, ctx);
	kipc_mq_unlock(q);
}

/*
 * The common case, under recv_lock alone: take the oldest messages, as
 * many as there are and fit @maxsize[i], up to @n.  Returns how many
 * were taken into @msgs; *why says why it stopped short: -ENOMSG (the
 * queue is empty) or -E2BIG (the next message does not fit).  Waiting
 * is for the caller, under both locks.
 */
static __always_inline unsigned int
kipc_mq_take_fast(struct kipc_mq *q, struct kipc_mq_kmsg **msgs,
		  const u32 *maxsize, unsigned int n, int *why,
		  struct kipc_mq_ctx *ctx)
{
	struct kipc_mq_kmsg *m;
	bool senders;
	unsigned int i;

	*why = 0;
	if (!n)
		return 0;
	spin_lock(&q->recv_lock);
	for (i = 0; i < n; i++) {
		m = kipc_mq_first(q);
		if (!m || m->len > maxsize[i]) {
			*why = m ? -E2BIG : -ENOMSG;
			break;
		}
		kipc_mq_unlink(q, m, ctx);
		msgs[i] = m;
	}
	/* Senders block under both locks, so none is missed here. */
	senders = i && q->nr_swait;
	spin_unlock(&q->recv_lock);
	if (senders)
		kipc_mq_room_made(q, ctx);
	return i;
}

/*
 * As kipc_mq_take(), waiting for a message when there is none (unless
 * !@wait).  Called with both locks held, returns without them.
 */
static struct kipc_mq_kmsg *
kipc_mq_take_wait(struct kipc_mq *q, const struct kipc_mq_sel *sel, bool wait,
		  struct kipc_mq_ctx *ctx) __releases(&q->recv_lock)
	__releases(&q->send_lock)
{
	u32 maxsize = kipc_mq_maxsize(sel->flags, sel->bufsize);
	s64 type = sel->type;
	enum kipc_mq_mode mode = kipc_mq_convert_mode(&type, sel->flags);
	struct kipc_mq_kmsg *m;
	bool waited = false;
	int ret;

	for (;;) {
		m = kipc_mq_take(q, type, mode, maxsize, ctx);
		if (!wait || m != ERR_PTR(-ENOMSG)) {
			kipc_mq_unlock(q);
			return m;
		}
		if (!waited) {
			q->rx.waits++;
			waited = true;
		}
		ret = kipc_mq_wait_recv(q, type, mode, maxsize, false, &m, ctx);
		if (ret == KIPC_MQ_GOT)
			return m;
		if (ret < 0)
			return ERR_PTR(ret);
		kipc_mq_lock(q);
	}
}

/* Write back the type and length of a received message. */
static int kipc_mq_put_desc(struct kipc_mq_msg __user *um, s64 type, u32 len)
{
	if (!user_access_begin(um, sizeof(*um)))
		return -EFAULT;
	unsafe_put_user(type, &um->type, efault);
	unsafe_put_user(len, &um->len, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * PEEK: copy the message into a kernel buffer under the lock, since it
 * may be received and freed once the lock is dropped.
 */
static int kipc_mq_peek(struct kipc_mq *q, struct kipc_mq_sel *sel,
			struct kipc_mq_msg __user *um, bool wait)
{
	s64 mtype = 0;
	u32 maxsize = kipc_mq_maxsize(sel->flags, sel->bufsize);
	s64 type = sel->type;
	enum kipc_mq_mode mode = kipc_mq_convert_mode(&type, sel->flags);
	struct kipc_mq_kmsg *m;
	struct kipc_mq_ctx ctx __uninitialized;
	bool waited = false;
	u32 tmpsize = 0, n;
	void *tmp = NULL;
	int ret;

	kipc_mq_ctx_init(&ctx);
	kipc_mq_lock(q);
	for (;;) {
		m = kipc_mq_find(q, type, mode);
		if (m) {
			if (m->len > maxsize) {
				ret = -E2BIG;
				break;
			}
			n = min(m->len, sel->bufsize);
			if (n > tmpsize) {
				kipc_mq_unlock(q);
				kvfree(tmp);
				tmp = kvmalloc(n, KIPC_MQ_GFP_BIG);
				if (!tmp)
					return -ENOMEM;
				tmpsize = n;
				kipc_mq_lock(q);
				continue;
			}
			memcpy(tmp, m->data, n);
			mtype = m->type;
			ret = n;
			break;
		}
		if (!wait) {
			ret = -ENOMSG;
			break;
		}
		if (!waited) {
			q->rx.waits++;
			waited = true;
		}
		ret = kipc_mq_wait_recv(q, type, mode, maxsize, true, &m, &ctx);
		if (ret < 0)
			goto out_unlocked;
		kipc_mq_lock(q);
	}
	kipc_mq_unlock(q);
	if (ret > 0 && copy_to_user(sel->buf, tmp, ret))
		ret = -EFAULT;
	if (ret >= 0 && um && kipc_mq_put_desc(um, mtype, ret))
		ret = -EFAULT;
out_unlocked:
	kipc_mq_post(q, &ctx);
	kvfree(tmp);
	return kipc_mq_err(ret, !um);
}

/* Copy @n bytes (n <= m->len) of the received @m out to @to. */
static __always_inline int kipc_mq_copy_out(void __user *to,
					    const struct kipc_mq_kmsg *m, u32 n)
{
	if (m->len > KIPC_MQ_SMALL_MAX)
		return copy_to_user(to, m->data, n) ? -EFAULT : 0;
	return kipc_copy_to_user_small(to, m->data, n);
}

/*
 * Receive one message into @sel->buf and, for the ioctl, its type and
 * length into @um.  Returns the bytes copied.  If any of that faults the
 * message goes back to its place.
 */
static int kipc_mq_recv_one(struct kipc_mq *q, struct kipc_mq_sel *sel,
			    struct kipc_mq_msg __user *um, bool nonblock)
{
	bool file_api = !um;
	bool wait = !nonblock && !(sel->flags & KIPC_MQ_NOWAIT);
	u32 maxsize = kipc_mq_maxsize(sel->flags, sel->bufsize);
	struct kipc_mq_kmsg *m;
	struct kipc_mq_ctx ctx __uninitialized;
	int why;
	u32 n;

	if (sel->flags & KIPC_MQ_PEEK)
		return kipc_mq_peek(q, sel, um, wait);

	kipc_mq_ctx_init(&ctx);
	if (!sel->type && kipc_mq_take_fast(q, &m, &maxsize, 1, &why, &ctx)) {
		kipc_mq_post(q, &ctx);
	} else {
		kipc_mq_lock(q);
		m = kipc_mq_take_wait(q, sel, wait, &ctx);
		kipc_mq_post(q, &ctx);
		if (IS_ERR(m))
			return kipc_mq_err(PTR_ERR(m), file_api);
	}

	n = min(m->len, sel->bufsize);
	if (unlikely(kipc_mq_copy_out(sel->buf, m, n) ||
		     (um && kipc_mq_put_desc(um, m->type, n)))) {
		kipc_mq_requeue(q, &m, 1);
		return -EFAULT;
	}
	kipc_mq_free(q, m);
	return n;
}

/* --- batches -------------------------------------------------------------- */

/* Messages prepared or received per turn of the lock. */
#define KIPC_MQ_CHUNK 64
/* Payload prepared per turn at most, beyond the first message. */
#define KIPC_MQ_CHUNK_BYTES 65536

struct kipc_mq_chunk {
	struct kipc_mq_msg desc[KIPC_MQ_CHUNK];
	struct kipc_mq_kmsg *msg[KIPC_MQ_CHUNK];
	u32 flags[KIPC_MQ_CHUNK]; /* send */
	u32 maxsize[KIPC_MQ_CHUNK]; /* receive */
	/* small buffers taken from or given back to the cache at once */
	struct kipc_mq_kmsg *small[KIPC_MQ_CHUNK];
	unsigned int nsmall;
};

/* Give back the chunk's small buffers, free its large ones. */
static void kipc_mq_chunk_free(struct kipc_mq *q, struct kipc_mq_chunk *c,
			       struct kipc_mq_kmsg **msgs, unsigned int n)
{
	while (n--) {
		if (msgs[n]->len > KIPC_MQ_SMALL_MAX)
			kvfree(msgs[n]);
		else
			c->small[c->nsmall++] = msgs[n];
	}
	kipc_mq_cache_give(q, c->small, c->nsmall);
	c->nsmall = 0;
}

static int kipc_mq_batch_begin(struct kipc_mq_batch __user *ub,
			       struct kipc_mq_batch *b,
			       struct kipc_mq_chunk **chunk)
{
	if (copy_from_user(b, ub, sizeof(*b)))
		return -EFAULT;
	if (b->count > KIPC_MQ_BATCH_MAX)
		return -EINVAL;
	if (!b->count)
		return 0;
	*chunk = kmalloc(sizeof(**chunk), GFP_KERNEL);
	if (!*chunk)
		return -ENOMEM;
	(*chunk)->nsmall = 0;
	return 0;
}

static int kipc_mq_batch_end(struct kipc_mq_batch __user *ub, u32 done, int err)
{
	if (put_user(done, &ub->done))
		return -EFAULT;
	return done ? 0 : err;
}

static int kipc_mq_send_batch(struct kipc_mq *q,
			      struct kipc_mq_batch __user *ub, bool nonblock)
{
	struct kipc_mq_msg __user *umsgs;
	struct kipc_mq_chunk *c = NULL;
	struct kipc_mq_batch b;
	u32 done = 0;
	int err;

	err = kipc_mq_batch_begin(ub, &b, &c);
	if (err || !b.count)
		return err ?: kipc_mq_batch_end(ub, 0, 0);
	umsgs = u64_to_user_ptr(b.msgs);

	while (done < b.count && !err) {
		unsigned int n = min_t(u32, b.count - done, KIPC_MQ_CHUNK);
		u32 max_size = READ_ONCE(q->max_msg_size);
		unsigned int i, sent, nsmall = 0;
		size_t bytes = 0;
		int serr;

		if (copy_from_user(c->desc, umsgs + done,
				   n * sizeof(c->desc[0]))) {
			err = -EFAULT;
			break;
		}
		/* Vet the chunk, then copy payloads in before the lock. */
		for (i = 0; i < n; i++) {
			struct kipc_mq_msg *d = &c->desc[i];

			if (d->type <= 0 || (d->flags & ~KIPC_MQ_NOWAIT) ||
			    d->len > max_size) {
				err = -EINVAL;
				break;
			}
			if (i && bytes + d->len > KIPC_MQ_CHUNK_BYTES)
				break;
			bytes += d->len;
			nsmall += d->len <= KIPC_MQ_SMALL_MAX;
		}
		n = i;
		c->nsmall = kipc_mq_cache_take(q, c->small, nsmall);
		for (i = 0; i < n; i++) {
			struct kipc_mq_msg *d = &c->desc[i];
			struct kipc_mq_kmsg *m = NULL;

			if (d->len <= KIPC_MQ_SMALL_MAX && c->nsmall)
				m = c->small[--c->nsmall];
			m = kipc_mq_fill_msg(q, m, d->type,
					     u64_to_user_ptr(d->buf), d->len);
			if (IS_ERR(m)) {
				err = PTR_ERR(m);
				break;
			}
			c->msg[i] = m;
			c->flags[i] = d->flags;
		}
		n = i;
		sent = 0;
		if (n)
			sent = kipc_mq_send_msgs(q, c->msg, c->flags, n,
						 nonblock, &serr);
		done += sent;
		/* Unused buffers go back with the messages not sent. */
		kipc_mq_chunk_free(q, c, c->msg + sent, n - sent);
		if (!n)
			break;
		if (sent < n)
			err = serr;
	}
	kfree(c);
	return kipc_mq_batch_end(ub, done, err);
}

/*
 * Receive up to n messages as @c->desc[] asks, taking the locks once.
 * Only the first of the whole batch may wait.  Returns how many were
 * taken into @c->msg[]; *err says why it stopped short.
 */
static unsigned int kipc_mq_take_chunk(struct kipc_mq *q,
				       struct kipc_mq_chunk *c, unsigned int n,
				       bool may_wait, int *err)
{
	struct kipc_mq_kmsg *m;
	struct kipc_mq_ctx ctx __uninitialized;
	unsigned int i;

	kipc_mq_ctx_init(&ctx);
	*err = 0;
	/* Those that take the oldest message go first, under recv_lock. */
	for (i = 0; i < n && !c->desc[i].type; i++)
		c->maxsize[i] =
			kipc_mq_maxsize(c->desc[i].flags, c->desc[i].len);
	i = kipc_mq_take_fast(q, c->msg, c->maxsize, i, err, &ctx);
	/*
	 * Stopped after taking some: the reason is final, as only the
	 * first may wait.  Otherwise what is left (waiting, typed
	 * receives) is decided under both locks.
	 */
	if (i == n || (i && *err))
		goto out_unlocked;
	*err = 0;

	kipc_mq_lock(q);
	for (; i < n; i++) {
		struct kipc_mq_msg *d = &c->desc[i];
		struct kipc_mq_sel sel = {
			.type = d->type,
			.flags = d->flags,
			.bufsize = d->len,
		};

		if (!i && may_wait && !(d->flags & KIPC_MQ_NOWAIT)) {
			m = kipc_mq_take_wait(q, &sel, true, &ctx);
			kipc_mq_lock(q);
		} else {
			s64 type = d->type;
			enum kipc_mq_mode mode;

			mode = kipc_mq_convert_mode(&type, d->flags);
			m = kipc_mq_take(q, type, mode,
					 kipc_mq_maxsize(d->flags, d->len),
					 &ctx);
		}
		if (IS_ERR(m)) {
			*err = PTR_ERR(m);
			break;
		}
		c->msg[i] = m;
	}
	kipc_mq_unlock(q);
out_unlocked:
	kipc_mq_post(q, &ctx);
	return i;
}

static int kipc_mq_recv_batch(struct kipc_mq *q,
			      struct kipc_mq_batch __user *ub, bool nonblock)
{
	struct kipc_mq_msg __user *umsgs;
	struct kipc_mq_chunk *c = NULL;
	struct kipc_mq_batch b;
	u32 done = 0;
	int err;

	err = kipc_mq_batch_begin(ub, &b, &c);
	if (err || !b.count)
		return err ?: kipc_mq_batch_end(ub, 0, 0);
	umsgs = u64_to_user_ptr(b.msgs);

	while (done < b.count && !err) {
		unsigned int n = min_t(u32, b.count - done, KIPC_MQ_CHUNK);
		unsigned int i, got;
		int terr;

		if (copy_from_user(c->desc, umsgs + done,
				   n * sizeof(c->desc[0]))) {
			err = -EFAULT;
			break;
		}
		for (i = 0; i < n; i++) {
			if (c->desc[i].flags &
			    ~(KIPC_MQ_FLAGS_ALL & ~KIPC_MQ_PEEK)) {
				err = -EINVAL;
				break;
			}
		}
		n = i;
		if (!n)
			break;
		got = kipc_mq_take_chunk(q, c, n, !done && !nonblock, &terr);
		/* Copy out outside the lock; on a fault put the rest back. */
		for (i = 0; i < got; i++) {
			struct kipc_mq_kmsg *m = c->msg[i];
			u32 len = min(m->len, c->desc[i].len);

			if (kipc_mq_copy_out(u64_to_user_ptr(c->desc[i].buf), m,
					     len)) {
				kipc_mq_requeue(q, &c->msg[i], got - i);
				err = -EFAULT;
				break;
			}
			c->desc[i].type = m->type;
			c->desc[i].len = len;
		}
		/*
		 * type and len of the received ones, in one copy; if they
		 * cannot be written, those receives are undone too.
		 */
		if (i && copy_to_user(umsgs + done, c->desc,
				      i * sizeof(c->desc[0]))) {
			kipc_mq_requeue(q, c->msg, i);
			err = -EFAULT;
			i = 0;
		}
		kipc_mq_chunk_free(q, c, c->msg, i);
		done += i;
		if (!err && got < n)
			err = terr;
	}
	kfree(c);
	return kipc_mq_batch_end(ub, done, err);
}

/* --- limits, flush, stats ------------------------------------------------- */

#define KIPC_MQ_SET_BYTES 0x1
#define KIPC_MQ_SET_MSG_SIZE 0x2
#define KIPC_MQ_SET_MSGS 0x4

static bool kipc_mq_limit_valid(u64 value, bool count)
{
	return value <= KIPC_MQ_HARD_LIMIT && (value || !count);
}

/* Above its module maximum, a limit needs CAP_SYS_RESOURCE. */
static bool kipc_mq_limit_allowed(u64 value, unsigned int max)
{
	return value <= max || capable(CAP_SYS_RESOURCE);
}

/* Apply the limits selected by @mask; below what is queued is fine. */
static void kipc_mq_set_limits(struct kipc_mq *q,
			       const struct kipc_mq_limits *l,
			       unsigned int mask)
{
	struct kipc_mq_ctx ctx __uninitialized;
	bool changed = false;

	kipc_mq_ctx_init(&ctx);
	kipc_mq_lock(q);
	if ((mask & KIPC_MQ_SET_BYTES) && q->max_bytes != l->max_bytes) {
		q->max_bytes = l->max_bytes;
		changed = true;
	}
	if ((mask & KIPC_MQ_SET_MSG_SIZE) &&
	    q->max_msg_size != l->max_msg_size) {
		q->max_msg_size = l->max_msg_size;
		changed = true;
	}
	if ((mask & KIPC_MQ_SET_MSGS) && q->max_msgs != l->max_msgs) {
		q->max_msgs = l->max_msgs;
		changed = true;
	}
	if (changed) {
		kipc_mq_wake_all_senders(q, &ctx);
		kipc_mq_ready(q, &ctx, KIPC_MQ_CTX_OUT);
		kipc_mq_event(&ctx, KIPC_EVENT_RESIZED, kipc_mq_bytes(q));
	}
	kipc_mq_unlock(q);
	kipc_mq_post(q, &ctx);
}

/* Discard every queued message.  Returns how many there were. */
static u32 kipc_mq_flush(struct kipc_mq *q)
{
	struct kipc_mq_ctx ctx __uninitialized;
	u32 n;

	kipc_mq_ctx_init(&ctx);
	kipc_mq_lock(q);
	n = kipc_mq_nmsgs(q);
	if (n) {
		list_splice_init(&q->msgs, &ctx.free);
		WRITE_ONCE(q->rx.msgs, q->tx.msgs);
		WRITE_ONCE(q->rx.bytes, q->tx.bytes);
		kipc_mq_event(&ctx, KIPC_EVENT_FLUSHED, 0);
		kipc_mq_ready(q, &ctx, KIPC_MQ_CTX_OUT);
		kipc_mq_wake_senders(q, &ctx);
	}
	kipc_mq_unlock(q);
	kipc_mq_post(q, &ctx);
	return n;
}

static void kipc_mq_reset_stats(struct kipc_mq *q)
{
	kipc_mq_lock(q);
	q->tx.writes = 0;
	q->tx.bytes_in = 0;
	q->tx.waits = 0;
	q->tx.peak_fill = kipc_mq_bytes(q);
	q->tx.peak_msgs = kipc_mq_nmsgs(q);
	q->rx.reads = 0;
	q->rx.bytes_out = 0;
	q->rx.waits = 0;
	kipc_mq_unlock(q);
}

static noinline long kipc_mq_ioctl_stat(struct kipc_mq *q,
					struct kipc_mq_stat __user *us)
{
	struct kipc_mq_stat st, *s = &st;

	memset(s, 0, sizeof(*s));
	kipc_mq_lock(q);
	s->msgs = kipc_mq_nmsgs(q);
	s->bytes = min_t(u64, kipc_mq_bytes(q), U32_MAX);
	s->max_bytes = q->max_bytes;
	s->max_msg_size = q->max_msg_size;
	s->max_msgs = q->max_msgs;
	/* pid_vnr(NULL) is 0; a pid from outside our namespace too. */
	s->last_send_pid = pid_vnr(q->tx.pid);
	s->last_recv_pid = pid_vnr(q->rx.pid);
	s->last_send_time = q->tx.time;
	s->last_recv_time = q->rx.time;
	kipc_mq_unlock(q);
	return copy_to_user(us, s, sizeof(*s)) ? -EFAULT : 0;
}

/* --- file operations ------------------------------------------------------ */

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
	file->private_data = f;
	stream_open(inode, file);
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

static ssize_t kipc_mq_read(struct file *file, char __user *buf, size_t count,
			    loff_t *ppos)
{
	struct kipc_mq_file *f = file->private_data;
	struct kipc_mq_sel sel = {
		.type = READ_ONCE(f->recv_type),
		.flags = READ_ONCE(f->recv_flags),
		.bufsize = min_t(size_t, count, U32_MAX),
		.buf = buf,
	};

	return kipc_mq_recv_one(f->q, &sel, NULL, file->f_flags & O_NONBLOCK);
}

/* One write(2), one message; over the size limit is EINVAL, as msgsnd(). */
static ssize_t kipc_mq_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct kipc_mq_file *f = file->private_data;
	int ret;

	if (count > KIPC_MQ_HARD_LIMIT)
		return -EINVAL;
	ret = kipc_mq_send_one(f->q, READ_ONCE(f->send_type), 0, buf, count,
			       file->f_flags & O_NONBLOCK);
	return ret ? ret : count;
}

static __poll_t kipc_mq_poll(struct file *file, poll_table *wait)
{
	struct kipc_mq_file *f = file->private_data;
	struct kipc_mq *q = f->q;
	__poll_t mask = 0;

	/* Set under both locks, so every later state change sees it. */
	if (!READ_ONCE(q->poll_used)) {
		kipc_mq_lock(q);
		q->poll_used = true;
		kipc_mq_unlock(q);
	}
	poll_wait(file, &q->pollwq, wait);
	/* Pairs with wq_has_sleeper() in kipc_mq_post(), as sock_poll_wait(). */
	smp_mb();

	if ((file->f_mode & FMODE_READ) && kipc_mq_nmsgs(q))
		mask |= EPOLLIN | EPOLLRDNORM;
	if ((file->f_mode & FMODE_WRITE) &&
	    kipc_mq_nmsgs(q) < READ_ONCE(q->max_msgs) &&
	    kipc_mq_bytes(q) <= READ_ONCE(q->max_bytes))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int kipc_mq_fasync(int fd, struct file *file, int on)
{
	struct kipc_mq_file *f = file->private_data;

	return fasync_helper(fd, file, on, &f->q->fasync);
}

/*
 * The descriptor of a single send or receive, read field by field inside
 * one user access window: cheaper than a generic copy of 24 bytes, and
 * this is the hot path.
 */
static int kipc_mq_get_desc(struct kipc_mq_msg *d,
			    const struct kipc_mq_msg __user *um)
{
	if (!user_access_begin(um, sizeof(*um)))
		return -EFAULT;
	unsafe_get_user(d->type, &um->type, efault);
	unsafe_get_user(d->buf, &um->buf, efault);
	unsafe_get_user(d->len, &um->len, efault);
	unsafe_get_user(d->flags, &um->flags, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

static long kipc_mq_ioctl_send(struct kipc_mq *q, struct file *file,
			       struct kipc_mq_msg __user *um)
{
	struct kipc_mq_msg d;

	if (kipc_mq_get_desc(&d, um))
		return -EFAULT;
	if (d.type <= 0 || (d.flags & ~KIPC_MQ_NOWAIT))
		return -EINVAL;
	return kipc_mq_send_one(q, d.type, d.flags, u64_to_user_ptr(d.buf),
				d.len, file->f_flags & O_NONBLOCK);
}

static long kipc_mq_ioctl_recv(struct kipc_mq *q, struct file *file,
			       struct kipc_mq_msg __user *um)
{
	struct kipc_mq_msg d;
	struct kipc_mq_sel sel;

	if (kipc_mq_get_desc(&d, um))
		return -EFAULT;
	if (d.flags & ~KIPC_MQ_FLAGS_ALL)
		return -EINVAL;
	sel.type = d.type;
	sel.flags = d.flags;
	sel.bufsize = d.len;
	sel.buf = u64_to_user_ptr(d.buf);
	return kipc_mq_recv_one(q, &sel, um, file->f_flags & O_NONBLOCK);
}

static long kipc_mq_ioctl_limits(struct kipc_mq *q,
				 struct kipc_mq_limits __user *ul)
{
	struct kipc_mq_limits l;

	if (copy_from_user(&l, ul, sizeof(l)))
		return -EFAULT;
	if (l.__reserved)
		return -EINVAL;
	/* As msgctl(IPC_SET): EINVAL before EPERM. */
	if (l.__reserved || !kipc_mq_limit_valid(l.max_bytes, false) ||
	    !kipc_mq_limit_valid(l.max_msg_size, false) ||
	    !kipc_mq_limit_valid(l.max_msgs, true))
		return -EINVAL;
	if (!kipc_mq_limit_allowed(l.max_bytes,
				   READ_ONCE(kipc_mq_max_bytes_limit)) ||
	    !kipc_mq_limit_allowed(l.max_msg_size,
				   READ_ONCE(kipc_mq_max_msg_size_limit)) ||
	    !kipc_mq_limit_allowed(l.max_msgs,
				   READ_ONCE(kipc_mq_max_msgs_limit)))
		return -EPERM;
	kipc_mq_set_limits(q, &l,
			   KIPC_MQ_SET_BYTES | KIPC_MQ_SET_MSG_SIZE |
				   KIPC_MQ_SET_MSGS);
	return 0;
}

static noinline long
kipc_mq_ioctl_get_fileopts(struct kipc_mq_file *f,
			   struct kipc_mq_fileopts __user *uo)
{
	struct kipc_mq_fileopts o = {
		.send_type = READ_ONCE(f->send_type),
		.recv_type = READ_ONCE(f->recv_type),
		.recv_flags = READ_ONCE(f->recv_flags),
	};

	return copy_to_user(uo, &o, sizeof(o)) ? -EFAULT : 0;
}

static long kipc_mq_ioctl_fileopts(struct kipc_mq_file *f,
				   struct kipc_mq_fileopts __user *uo)
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
	bool nonblock = file->f_flags & O_NONBLOCK;
	void __user *uarg = (void __user *)arg;
	struct kipc_mq *q = f->q;

	/* As read(2) and write(2) on a file not opened for them. */
	switch (cmd) {
	case KIPC_MQ_RECV:
	case KIPC_MQ_RECV_BATCH:
		if (!(file->f_mode & FMODE_READ))
			return -EBADF;
		break;
	case KIPC_MQ_SEND:
	case KIPC_MQ_SEND_BATCH:
	case KIPC_MQ_SET_LIMITS:
	case KIPC_MQ_FLUSH:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		break;
	}

	switch (cmd) {
	case KIPC_MQ_SEND:
		return kipc_mq_ioctl_send(q, file, uarg);
	case KIPC_MQ_RECV:
		return kipc_mq_ioctl_recv(q, file, uarg);
	case KIPC_MQ_SEND_BATCH:
		return kipc_mq_send_batch(q, uarg, nonblock);
	case KIPC_MQ_RECV_BATCH:
		return kipc_mq_recv_batch(q, uarg, nonblock);
	case KIPC_MQ_STAT:
		return kipc_mq_ioctl_stat(q, uarg);
	case KIPC_MQ_SET_LIMITS:
		return kipc_mq_ioctl_limits(q, uarg);
	case KIPC_MQ_FLUSH:
		return kipc_mq_flush(q);
	case KIPC_MQ_GET_FILEOPTS:
		return kipc_mq_ioctl_get_fileopts(f, uarg);
	case KIPC_MQ_SET_FILEOPTS:
		return kipc_mq_ioctl_fileopts(f, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations kipc_mq_fops = {
	.owner = THIS_MODULE,
	.open = kipc_mq_open,
	.release = kipc_mq_release,
	.read = kipc_mq_read,
	.write = kipc_mq_write,
	.poll = kipc_mq_poll,
	.fasync = kipc_mq_fasync,
	.unlocked_ioctl = kipc_mq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* --- kind operations ------------------------------------------------------ */

static void kipc_mq_init_queue(struct kipc_mq *q)
{
	spin_lock_init(&q->send_lock);
	spin_lock_init(&q->recv_lock);
	INIT_LIST_HEAD(&q->msgs);
	init_llist_head(&q->inbox);
	init_llist_head(&q->returned);
	atomic_set(&q->nreturned, 0);
	INIT_LIST_HEAD(&q->rwaiters);
	INIT_LIST_HEAD(&q->swaiters);
	init_waitqueue_head(&q->pollwq);
	q->ncached = 0;
	/* The SysV defaults, unless the module maxima are lower. */
	q->max_bytes =
		min_t(unsigned int, KIPC_MQ_DEF_BYTES, kipc_mq_max_bytes_limit);
	q->max_msg_size = min_t(unsigned int, KIPC_MQ_DEF_MSG_SIZE,
				kipc_mq_max_msg_size_limit);
	q->max_msgs = max(1U, min_t(unsigned int, KIPC_MQ_DEF_MSGS,
				    kipc_mq_max_msgs_limit));
}

/* No file is open: free every message and cached buffer. */
static void kipc_mq_free_queue(struct kipc_mq *q)
{
	struct kipc_mq_kmsg *m, *tmp;

	kipc_mq_drain_inbox(q);
	list_for_each_entry_safe(m, tmp, &q->msgs, link) {
		list_del(&m->link);
		if (m->len > KIPC_MQ_SMALL_MAX)
			kvfree(m);
		else
			kmem_cache_free(kipc_mq_cachep, m);
	}
	llist_for_each_entry_safe(m, tmp, llist_del_all(&q->returned), lnode)
		kmem_cache_free(kipc_mq_cachep, m);
	atomic_set(&q->nreturned, 0);
	while (q->ncached)
		kmem_cache_free(kipc_mq_cachep, q->cached[--q->ncached]);
	put_pid(q->tx.pid);
	put_pid(q->rx.pid);
	q->tx.pid = NULL;
	q->rx.pid = NULL;
}

static void kipc_mq_teardown(unsigned int n)
{
	while (n--) {
		kipc_devbase_del(&kipc_mqs[n].base);
		kipc_mq_free_queue(&kipc_mqs[n]);
	}
	kfree(kipc_mqs);
	kipc_mqs = NULL;
	kmem_cache_destroy(kipc_mq_cachep);
	kipc_mq_cachep = NULL;
}

static int kipc_mq_create(unsigned int count)
{
	struct kmem_cache *c;
	unsigned int i;
	int ret;

	/* Only the payload is ever copied to or from user space. */
	c = kmem_cache_create_usercopy("kipc_mq_msg", KIPC_MQ_SMALL_OBJ, 0,
				       SLAB_ACCOUNT | SLAB_HWCACHE_ALIGN,
				       KIPC_MQ_DATA_OFF, KIPC_MQ_SMALL_MAX,
				       NULL);
	kipc_mq_cachep = c;
	if (!kipc_mq_cachep)
		return -ENOMEM;
	kipc_mqs = kcalloc(count, sizeof(*kipc_mqs), GFP_KERNEL);
	if (count && !kipc_mqs) {
		kipc_mq_teardown(0);
		return -ENOMEM;
	}
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

static int kipc_mq_fill(struct sk_buff *skb, unsigned int index)
{
	struct kipc_nl_stat peak_msgs = { .attr = KIPC_STAT_PEAK_MSGS };
	struct kipc_io_stats io;
	struct kipc_mq *q;
	u32 max_msg_size, max_msgs, nmsgs, nr_rwait, nr_swait;
	u64 max_bytes, bytes, high_water;

	if (index >= kipc_mq_n)
		return -ENODEV;
	q = &kipc_mqs[index];

	kipc_mq_lock(q);
	io = (struct kipc_io_stats){
		.bytes_in = q->tx.bytes_in,
		.bytes_out = q->rx.bytes_out,
		.writes = q->tx.writes,
		.reads = q->rx.reads,
		.write_waits = q->tx.waits,
		.read_waits = q->rx.waits,
		.peak_fill = q->tx.peak_fill,
	};
	peak_msgs.value = q->tx.peak_msgs;
	max_bytes = q->max_bytes;
	bytes = kipc_mq_bytes(q);
	max_msg_size = q->max_msg_size;
	max_msgs = q->max_msgs;
	nmsgs = kipc_mq_nmsgs(q);
	nr_rwait = q->nr_rwait;
	nr_swait = q->nr_swait;
	high_water = q->high_water;
	kipc_mq_unlock(q);

	if (nla_put_u64_64bit(skb, KIPC_A_CAPACITY, max_bytes, KIPC_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_A_FILL, bytes, KIPC_A_PAD) ||
	    nla_put_u32(skb, KIPC_A_MQ_MAX_MSG_SIZE, max_msg_size) ||
	    nla_put_u32(skb, KIPC_A_MQ_MAX_MSGS, max_msgs) ||
	    nla_put_u32(skb, KIPC_A_MQ_MSGS, nmsgs) ||
	    nla_put_u32(skb, KIPC_A_READERS_WAITING, nr_rwait) ||
	    nla_put_u32(skb, KIPC_A_WRITERS_WAITING, nr_swait) ||
	    nla_put_u64_64bit(skb, KIPC_A_HIGH_WATER, high_water, KIPC_A_PAD))
		return -EMSGSIZE;

	return kipc_nl_put_stats(skb, &q->base, &io, &peak_msgs, 1);
}

/* The limits a netlink request may set, with their attributes. */
struct kipc_mq_nl_limit {
	int attr;
	bool is_u64;
	bool count;
	unsigned int mask;
	unsigned int *max;
};

static const struct kipc_mq_nl_limit kipc_mq_nl_limits[] = {
	{ KIPC_A_CAPACITY, true, false, KIPC_MQ_SET_BYTES,
	  &kipc_mq_max_bytes_limit },
	{ KIPC_A_MQ_MAX_MSG_SIZE, false, false, KIPC_MQ_SET_MSG_SIZE,
	  &kipc_mq_max_msg_size_limit },
	{ KIPC_A_MQ_MAX_MSGS, false, true, KIPC_MQ_SET_MSGS,
	  &kipc_mq_max_msgs_limit },
};

enum kipc_mq_nl_why { KIPC_MQ_NL_ATTR, KIPC_MQ_NL_SIZE, KIPC_MQ_NL_RANGE };

static int kipc_mq_nl_einval(struct netlink_ext_ack *extack,
			     const struct nlattr *attr, enum kipc_mq_nl_why why)
{
	switch (why) {
	case KIPC_MQ_NL_ATTR:
		NL_SET_ERR_MSG_ATTR(extack, attr, "not settable on a queue");
		break;
	case KIPC_MQ_NL_SIZE:
		NL_SET_ERR_MSG_ATTR(extack, attr, "wrong attribute size");
		break;
	case KIPC_MQ_NL_RANGE:
		NL_SET_ERR_MSG_ATTR(extack, attr, "limit out of range");
		break;
	}
	return -EINVAL;
}

static int kipc_mq_nl_eperm(struct netlink_ext_ack *extack,
			    const struct nlattr *attr)
{
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "CAP_SYS_RESOURCE needed above module maximum");
	return -EPERM;
}

static bool kipc_mq_nl_settable(int type)
{
	switch (type) {
	case KIPC_A_KIND:
	case KIPC_A_INDEX:
	case KIPC_A_NAME:
	case KIPC_A_CAPACITY:
	case KIPC_A_MQ_MAX_MSG_SIZE:
	case KIPC_A_MQ_MAX_MSGS:
	case KIPC_A_FLUSH:
	case KIPC_A_RESET_STATS:
	case KIPC_A_HIGH_WATER:
		return true;
	}
	return false;
}

/*
 * Vet the limits in @attrs into @l and *mask; EINVAL before EPERM, as
 * the ioctl, and nothing is applied unless everything is right.
 */
static int kipc_mq_nl_vet(struct nlattr **attrs, struct kipc_mq_limits *l,
			  unsigned int *mask, struct netlink_ext_ack *extack)
{
	u32 *val[] = { &l->max_bytes, &l->max_msg_size, &l->max_msgs };
	const struct kipc_mq_nl_limit *nl;
	struct nlattr *attr;
	unsigned int i;
	u64 v;

	for (i = 0; i < ARRAY_SIZE(kipc_mq_nl_limits); i++) {
		nl = &kipc_mq_nl_limits[i];
		attr = attrs[nl->attr];
		if (!attr)
			continue;
		if (nla_len(attr) != (nl->is_u64 ? sizeof(u64) : sizeof(u32)))
			return kipc_mq_nl_einval(extack, attr, KIPC_MQ_NL_SIZE);
		v = nl->is_u64 ? nla_get_u64(attr) : nla_get_u32(attr);
		if (!kipc_mq_limit_valid(v, nl->count))
			return kipc_mq_nl_einval(extack, attr,
						 KIPC_MQ_NL_RANGE);
		*val[i] = v;
		*mask |= nl->mask;
	}
	attr = attrs[KIPC_A_HIGH_WATER];
	if (attr && nla_len(attr) != sizeof(u64))
		return kipc_mq_nl_einval(extack, attr, KIPC_MQ_NL_SIZE);

	for (i = 0; i < ARRAY_SIZE(kipc_mq_nl_limits); i++) {
		nl = &kipc_mq_nl_limits[i];
		attr = attrs[nl->attr];
		if (attr &&
		    !kipc_mq_limit_allowed(*val[i], READ_ONCE(*nl->max)))
			return kipc_mq_nl_eperm(extack, attr);
	}
	return 0;
}

static int kipc_mq_set(unsigned int index, struct nlattr **attrs,
		       struct netlink_ext_ack *extack)
{
	struct kipc_mq_limits l = {};
	unsigned int mask = 0;
	struct kipc_mq *q;
	int i, ret;

	if (index >= kipc_mq_n) {
		NL_SET_ERR_MSG(extack, "no such message queue");
		return -ENODEV;
	}
	q = &kipc_mqs[index];

	for (i = KIPC_A_UNSPEC + 1; i <= KIPC_A_MAX; i++) {
		if (attrs[i] && !kipc_mq_nl_settable(i))
			return kipc_mq_nl_einval(extack, attrs[i],
						 KIPC_MQ_NL_ATTR);
	}
	ret = kipc_mq_nl_vet(attrs, &l, &mask, extack);
	if (ret)
		return ret;

	if (mask)
		kipc_mq_set_limits(q, &l, mask);
	if (attrs[KIPC_A_FLUSH])
		kipc_mq_flush(q);
	if (attrs[KIPC_A_RESET_STATS])
		kipc_mq_reset_stats(q);
	if (attrs[KIPC_A_HIGH_WATER]) {
		kipc_mq_lock(q);
		q->high_water = nla_get_u64(attrs[KIPC_A_HIGH_WATER]);
		kipc_mq_unlock(q);
	}
	return 0;
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
