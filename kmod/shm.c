// SPDX-License-Identifier: GPL-2.0
/*
 * kipc shared memory devices /dev/kipc/shmN: an mmap()able region plus
 * KIPC_SEM_NSEMS counting semaphores, the pair SysV shm and sem give.
 *
 * The region is a zeroed, memcg-accounted vmalloc buffer that lives from
 * module load (or the last resize) to unload; mappings fault its pages in
 * one by one.  Live mappings are counted through vm_operations open and
 * close, so a resize can be refused while any exists, whether or not a
 * file is still open.
 *
 * Each semaphore has its own spinlock and FIFO list of sleeping P callers.
 * V adds its units to the value and wakes one waiter per unit, oldest
 * first, and only when someone waits.  A running P may take a unit before
 * the woken waiter gets to it (as with a futex): handing units over
 * instead forces every contended P to sleep and turns a busy mutex
 * semaphore into a convoy.  A woken waiter takes a unit whenever one is
 * there, even past its timeout or with a signal pending, and goes back to
 * the head of the list when a running P was faster; so every unit added
 * while tasks sleep has a woken task on its way to it, and none is left
 * unseen.  Documentation/shm.md has the rules and their reasons.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/hrtimer.h>
#include <linux/capability.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#include "kipc.h"
#include "compat.h"

unsigned long kipc_shm_max_size = 64UL << 20;
module_param_named(shm_max_size, kipc_shm_max_size, ulong, 0444);
MODULE_PARM_DESC(shm_max_size,
		 "Largest region without CAP_SYS_RESOURCE (default 64 MiB)");

static unsigned long kipc_shm_size = KIPC_SHM_DEF_SIZE;
module_param_named(shm_size, kipc_shm_size, ulong, 0444);
MODULE_PARM_DESC(shm_size,
		 "Initial size of each shm region, bytes (default 1 MiB)");

/* A task sleeping in P, on its own stack; owned by sem->lock. */
struct kipc_sem_waiter {
	struct list_head node; /* in sem->waiters unless woken */
	struct task_struct *task;
	bool woken; /* taken off the list by a wake-up */
};

/* One cache line each, so unrelated semaphores do not share one. */
struct kipc_sem {
	spinlock_t lock; /* all fields below, the undo records */
	unsigned int value;
	unsigned int nwaiters; /* tasks in P's slow path */
	/* Bumped by INIT: undo records taken before it are void (SETVAL). */
	unsigned int gen;
	struct list_head waiters; /* FIFO of unwoken waiters */
	u64 nr_p;
	u64 nr_v;
	u64 nr_waits;
	u64 nr_timeouts;
} ____cacheline_aligned_in_smp;

struct kipc_shm_dev {
	struct kipc_devbase base;
	/* Serialises buf and size changes against mmap(). */
	struct mutex lock;
	void *buf;
	unsigned long size;
	/* Live vmas; cannot go 0 -> 1 without lock (only mmap() does that). */
	atomic_t nmaps;
	atomic64_t nr_maps;
	wait_queue_head_t poll_wq;
	struct fasync_struct *fasync;
	struct kipc_sem sems[KIPC_SEM_NSEMS];
};

/* SEM_UNDO adjustment of one file for one semaphore, under sem->lock. */
struct kipc_sem_undo {
	int adj;
	unsigned int gen;
};

struct kipc_shm_file {
	struct kipc_shm_dev *dev;
	u32 poll_sem;
	struct kipc_sem_undo undo[KIPC_SEM_NSEMS];
};

static struct kipc_shm_dev **kipc_shm_devs;
static unsigned int kipc_shm_ndevs;

/* --- semaphores --------------------------------------------------------- */

/*
 * Tasks to wake once sem->lock is dropped, as ipc/sem.c does with its
 * wake_q (not exported to modules): a task woken under the lock would
 * first spin on it, for as long as the waker's CPU holds it (long, when
 * a hypervisor preempts that vCPU).
 */
#define KIPC_SEM_WAKE_MAX 8
struct kipc_sem_wakeups {
	unsigned int n;
	struct task_struct *task[KIPC_SEM_WAKE_MAX];
};

/*
 * Wake up to n waiters, oldest first, each to look for a unit.  Each
 * task is pinned before the lock is dropped: once w->woken is set and the
 * lock is free, the waiter may leave P and even exit before it is woken.
 * Past KIPC_SEM_WAKE_MAX (a V of more than 8 units) the rest are woken
 * at once, which is merely slower.
 */
static void kipc_sem_wake(struct kipc_sem *sem, unsigned int n,
			  struct kipc_sem_wakeups *wk) __must_hold(&sem->lock)
{
	struct kipc_sem_waiter *w;

	while (n-- && !list_empty(&sem->waiters)) {
		w = list_first_entry(&sem->waiters, struct kipc_sem_waiter,
				     node);
		list_del(&w->node);
		w->woken = true;
		if (wk->n < KIPC_SEM_WAKE_MAX) {
			get_task_struct(w->task);
			wk->task[wk->n++] = w->task;
		} else {
			wake_up_process(w->task);
		}
	}
}

/* Add n units (the caller checked the maximum); true if any. */
static bool kipc_sem_give(struct kipc_sem *sem, unsigned int n,
			  struct kipc_sem_wakeups *wk) __must_hold(&sem->lock)
{
	sem->value += n;
	kipc_sem_wake(sem, n, wk);
	return n > 0;
}

/* After a give, with no lock held: the wake-ups, then poll and SIGIO. */
static void kipc_sem_notify(struct kipc_shm_dev *dev, bool raised,
			    struct kipc_sem_wakeups *wk)
{
	unsigned int i;

	for (i = 0; i < wk->n; i++) {
		wake_up_process(wk->task[i]);
		put_task_struct(wk->task[i]);
	}
	wk->n = 0;
	if (!raised)
		return;
	/* Pairs with the smp_mb() after poll_wait() in kipc_shm_poll(). */
	if (wq_has_sleeper(&dev->poll_wq))
		wake_up_interruptible_poll(&dev->poll_wq,
					   EPOLLIN | EPOLLRDNORM);
	kill_fasync(&dev->fasync, SIGIO, POLL_IN);
}

static struct kipc_sem_undo *kipc_sem_undo_rec(struct kipc_shm_file *sf,
					       struct kipc_sem *sem, u32 index)
	__must_hold(&sem->lock)
{
	struct kipc_sem_undo *u = &sf->undo[index];

	if (u->gen != sem->gen) {
		u->gen = sem->gen;
		u->adj = 0;
	}
	return u;
}

/* Sleep until woken, or until *expires if given: true if it passed. */
static bool kipc_sem_sleep(ktime_t *expires)
{
	if (!expires) {
		schedule();
		return false;
	}
	return !schedule_hrtimeout_range(expires, current->timer_slack_ns,
					 HRTIMER_MODE_ABS);
}

/* True if a P with UNDO may not take a unit: this file's record is full. */
static bool kipc_sem_undo_full(struct kipc_shm_file *sf, struct kipc_sem *sem,
			       u32 index) __must_hold(&sem->lock)
{
	return sf &&
	       kipc_sem_undo_rec(sf, sem, index)->adj >= KIPC_SEM_VALUE_MAX;
}

/*
 * Sleep until a unit can be taken, the timeout passes or a signal comes.
 * A unit that is there wins over both, so a waiter never leaves behind a
 * unit it was woken for: it fails only when the value is 0, that is when
 * a running P took that unit.  The one exception is a P with UNDO (@sf
 * set) whose record another user of the file filled while it slept: the
 * bound is checked when the unit would be taken, under the lock, and the
 * refused waiter passes its wake-up on to the next.  Returns with
 * sem->lock held.
 */
static int kipc_sem_wait(struct kipc_sem *sem, s64 timeout_ns,
			 struct kipc_shm_file *sf, u32 index,
			 struct kipc_sem_wakeups *wk) __must_hold(&sem->lock)
{
	struct kipc_sem_waiter w = { .task = current };
	ktime_t expires = 0;
	int ret;

	if (timeout_ns)
		expires = ktime_add_safe(ktime_get(), ns_to_ktime(timeout_ns));
	list_add_tail(&w.node, &sem->waiters);
	sem->nwaiters++;
	sem->nr_waits++;
	for (;;) {
		bool expired;

		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&sem->lock);
		expired = kipc_sem_sleep(timeout_ns ? &expires : NULL);
		spin_lock(&sem->lock);
		if (sem->value) {
			if (kipc_sem_undo_full(sf, sem, index)) {
				ret = -ERANGE;
				break;
			}
			sem->value--;
			ret = 0;
			break;
		}
		if (signal_pending(current)) {
			/* As semtimedop(2): a timed wait is not restarted. */
			ret = timeout_ns ? -EINTR : -ERESTARTSYS;
			break;
		}
		if (expired) {
			sem->nr_timeouts++;
			ret = -ETIMEDOUT;
			break;
		}
		/* Woken, but a running P took the unit: first in line again. */
		if (w.woken) {
			w.woken = false;
			list_add(&w.node, &sem->waiters);
		}
	}
	if (!w.woken)
		list_del(&w.node);
	sem->nwaiters--;
	/* Off the list now: the unit left behind goes to the next waiter. */
	if (ret == -ERANGE)
		kipc_sem_wake(sem, 1, wk);
	return ret;
}

static int kipc_sem_p(struct kipc_shm_file *sf, const struct kipc_sem_op *op)
{
	struct kipc_sem_wakeups wk = { .n = 0 };
	bool undo = op->flags & KIPC_SEM_UNDO;
	struct kipc_sem *sem;
	int ret = 0;

	if (op->index >= KIPC_SEM_NSEMS || op->flags & ~KIPC_SEM_FLAGS_ALL ||
	    op->value > 1 || op->__reserved || op->timeout_ns < 0)
		return -EINVAL;
	sem = &sf->dev->sems[op->index];

	spin_lock(&sem->lock);
	if (undo && kipc_sem_undo_full(sf, sem, op->index))
		ret = -ERANGE;
	else if (likely(sem->value))
		sem->value--;
	else if (op->flags & KIPC_SEM_NOWAIT)
		ret = -EAGAIN;
	else
		ret = kipc_sem_wait(sem, op->timeout_ns, undo ? sf : NULL,
				    op->index, &wk);
	if (!ret) {
		sem->nr_p++;
		/*
		 * Looked up again: an INIT while we slept voids the record.
		 * The bound was checked under this hold of the lock.
		 */
		if (undo)
			kipc_sem_undo_rec(sf, sem, op->index)->adj++;
	}
	spin_unlock(&sem->lock);
	kipc_sem_notify(sf->dev, false, &wk);
	return ret;
}

static int kipc_sem_v(struct kipc_shm_file *sf, const struct kipc_sem_op *op)
{
	struct kipc_sem_wakeups wk = { .n = 0 };
	struct kipc_shm_dev *dev = sf->dev;
	struct kipc_sem_undo *u = NULL;
	struct kipc_sem *sem;
	bool raised;

	if (op->index >= KIPC_SEM_NSEMS || op->flags & ~KIPC_SEM_FLAGS_ALL ||
	    !op->value || op->__reserved || op->timeout_ns)
		return -EINVAL;
	sem = &dev->sems[op->index];

	spin_lock(&sem->lock);
	/* The value never exceeds KIPC_SEM_VALUE_MAX, so this cannot wrap. */
	if (op->value > KIPC_SEM_VALUE_MAX - sem->value)
		goto range;
	if (op->flags & KIPC_SEM_UNDO) {
		u = kipc_sem_undo_rec(sf, sem, op->index);
		if (u->adj - (s64)op->value < -KIPC_SEM_VALUE_MAX)
			goto range;
		u->adj -= op->value;
	}
	sem->nr_v++;
	raised = kipc_sem_give(sem, op->value, &wk);
	spin_unlock(&sem->lock);
	kipc_sem_notify(dev, raised, &wk);
	return 0;

range:
	spin_unlock(&sem->lock);
	return -ERANGE;
}

static int kipc_sem_init(struct kipc_shm_dev *dev, const struct kipc_sem_op *op)
{
	struct kipc_sem_wakeups wk = { .n = 0 };
	struct kipc_sem *sem;
	bool raised;

	if (op->index >= KIPC_SEM_NSEMS || op->flags ||
	    op->value > KIPC_SEM_VALUE_MAX || op->__reserved || op->timeout_ns)
		return -EINVAL;
	sem = &dev->sems[op->index];

	spin_lock(&sem->lock);
	sem->gen++;
	sem->value = 0;
	raised = kipc_sem_give(sem, op->value, &wk);
	spin_unlock(&sem->lock);
	kipc_sem_notify(dev, raised, &wk);
	return 0;
}

static int kipc_sem_get(struct kipc_shm_dev *dev, void __user *argp)
{
	struct kipc_sem_info info;
	struct kipc_sem *sem;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.index >= KIPC_SEM_NSEMS || info.__reserved)
		return -EINVAL;
	sem = &dev->sems[info.index];
	spin_lock(&sem->lock);
	info.value = sem->value;
	info.waiters = sem->nwaiters;
	spin_unlock(&sem->lock);
	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

/* Release: give back what this file took with UNDO, as exit_sem() does. */
static void kipc_sem_undo_all(struct kipc_shm_file *sf)
{
	struct kipc_shm_dev *dev = sf->dev;
	unsigned int i, n;

	for (i = 0; i < KIPC_SEM_NSEMS; i++) {
		struct kipc_sem_wakeups wk = { .n = 0 };
		struct kipc_sem *sem = &dev->sems[i];
		struct kipc_sem_undo *u = &sf->undo[i];
		bool raised = false;

		/* Unlocked peek: no other user of the file is left. */
		if (!u->adj)
			continue;
		spin_lock(&sem->lock);
		if (u->gen == sem->gen && u->adj > 0) {
			/* Clamped at the maximum, as exit_sem() does. */
			n = min_t(unsigned int, u->adj,
				  KIPC_SEM_VALUE_MAX - sem->value);
			raised = kipc_sem_give(sem, n, &wk);
		} else if (u->gen == sem->gen) {
			/* Taking back what V gave; never below 0. */
			sem->value -= min_t(unsigned int, -u->adj, sem->value);
		}
		spin_unlock(&sem->lock);
		kipc_sem_notify(dev, raised, &wk);
	}
}

/* --- region ------------------------------------------------------------- */

/* Sizes: page-rounded; 0 or absurd EINVAL; above the module limit EPERM. */
static int kipc_shm_check_size(u64 want, unsigned long *size,
			       struct netlink_ext_ack *extack)
{
	if (!want || want > (ULONG_MAX & PAGE_MASK)) {
		NL_SET_ERR_MSG(extack, "shm size out of range");
		return -EINVAL;
	}
	*size = PAGE_ALIGN(want);
	if (*size > READ_ONCE(kipc_shm_max_size) &&
	    !capable(CAP_SYS_RESOURCE)) {
		NL_SET_ERR_MSG(extack,
			       "above shm_max_size: needs CAP_SYS_RESOURCE");
		return -EPERM;
	}
	if ((*size >> PAGE_SHIFT) > totalram_pages()) {
		NL_SET_ERR_MSG(extack, "shm size is larger than RAM");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Zeroed: a fresh region must not leak old kernel memory to users.  A
 * region may be a large part of RAM: the allocation fails with ENOMEM
 * rather than wake the OOM killer (__GFP_RETRY_MAYFAIL, which also keeps
 * a memory cgroup's OOM killer out of it) or warn.
 */
static void *kipc_shm_alloc(unsigned long size)
{
	return __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
				       __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

/*
 * Resize to want bytes (0: keep the size), keeping the first min(old, new)
 * bytes and zeroing the rest, then zero everything if flush.  Both or
 * neither: one hold of the lock.  Refused while mapped: the vmas hold
 * pages of the buffer.  The new buffer is allocated before the lock is
 * taken, so dev->lock, which SET_DEV takes under the genetlink core's
 * locks, is never held across an allocation that may sleep in reclaim;
 * under it only memcpy() and memset() run, and nothing can touch the
 * buffer then (no mapping exists, and only mmap() makes one, under the
 * lock).
 */
static int kipc_shm_change(struct kipc_shm_dev *dev, u64 want, bool flush,
			   struct netlink_ext_ack *extack)
{
	unsigned long size = 0;
	void *buf = NULL, *old = NULL;
	bool resized = false;
	int ret;

	if (want) {
		ret = kipc_shm_check_size(want, &size, extack);
		if (ret)
			return ret;
		/* Unlocked looks, to refuse early; both are checked again. */
		if (atomic_read(&dev->nmaps)) {
			NL_SET_ERR_MSG(extack, "shm region is mapped");
			return -EBUSY;
		}
		if (size != READ_ONCE(dev->size)) {
			buf = kipc_shm_alloc(size);
			if (!buf) {
				NL_SET_ERR_MSG(extack,
					       "no memory for the shm region");
				return -ENOMEM;
			}
		}
	}

	mutex_lock(&dev->lock);
	if (atomic_read(&dev->nmaps)) {
		mutex_unlock(&dev->lock);
		vfree(buf);
		NL_SET_ERR_MSG(extack, "shm region is mapped");
		return -EBUSY;
	}
	/* A concurrent resize may have made the size what we want. */
	if (buf && size != dev->size) {
		memcpy(buf, dev->buf, min(size, dev->size));
		old = dev->buf;
		dev->buf = buf;
		WRITE_ONCE(dev->size, size);
		resized = true;
	} else {
		old = buf;
	}
	if (flush)
		memset(dev->buf, 0, dev->size);
	mutex_unlock(&dev->lock);

	vfree(old);
	if (resized)
		kipc_nl_notify(&dev->base, KIPC_EVENT_RESIZED, size);
	if (flush)
		kipc_nl_notify(&dev->base, KIPC_EVENT_FLUSHED, 0);
	return 0;
}

static void kipc_shm_vm_open(struct vm_area_struct *vma)
{
	struct kipc_shm_dev *dev = vma->vm_private_data;

	atomic_inc(&dev->nmaps);
}

static void kipc_shm_vm_close(struct vm_area_struct *vma)
{
	struct kipc_shm_dev *dev = vma->vm_private_data;

	atomic_dec(&dev->nmaps);
}

/* The buffer cannot change under a live vma (resize needs nmaps == 0). */
static vm_fault_t kipc_shm_vm_fault(struct vm_fault *vmf)
{
	struct kipc_shm_dev *dev = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= READ_ONCE(dev->size) >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	page = vmalloc_to_page(dev->buf + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct kipc_shm_vm_ops = {
	.open = kipc_shm_vm_open,
	.close = kipc_shm_vm_close,
	.fault = kipc_shm_vm_fault,
};

static int kipc_shm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kipc_shm_file *sf = file->private_data;
	struct kipc_shm_dev *dev = sf->dev;
	unsigned long pages = vma_pages(vma), npages;
	int ret = 0;

	/*
	 * Private copies of shared memory would silently stop sharing on
	 * the first write: only read-only private mappings are allowed,
	 * and without VM_MAYWRITE mprotect() cannot make them writable.
	 */
	if (!(vma->vm_flags & VM_SHARED)) {
		if (vma->vm_flags & VM_WRITE)
			return -EINVAL;
		kipc_vm_flags_clear(vma, VM_MAYWRITE);
	}

	mutex_lock(&dev->lock);
	npages = dev->size >> PAGE_SHIFT;
	if (vma->vm_pgoff >= npages || pages > npages - vma->vm_pgoff) {
		ret = -EINVAL;
		goto unlock;
	}
	vma->vm_ops = &kipc_shm_vm_ops;
	vma->vm_private_data = dev;
	/* No mremap() growth past the region; no vma merging either. */
	kipc_vm_flags_set(vma, VM_DONTEXPAND);
	atomic_inc(&dev->nmaps);
	atomic64_inc(&dev->nr_maps);
unlock:
	mutex_unlock(&dev->lock);
	return ret;
}

/* --- file operations ---------------------------------------------------- */

static int kipc_shm_open(struct inode *inode, struct file *file)
{
	struct kipc_shm_dev *dev =
		container_of(inode->i_cdev, struct kipc_shm_dev, base.cdev);
	struct kipc_shm_file *sf;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return -ENOMEM;
	sf->dev = dev;
	file->private_data = sf;
	/* No file position: the region is reached through mmap() only. */
	nonseekable_open(inode, file);
	kipc_devbase_opened(&dev->base);
	return 0;
}

static int kipc_shm_release(struct inode *inode, struct file *file)
{
	struct kipc_shm_file *sf = file->private_data;
	struct kipc_shm_dev *dev = sf->dev;

	kipc_sem_undo_all(sf);
	kfree(sf);
	kipc_devbase_closed(&dev->base);
	return 0;
}

static __poll_t kipc_shm_poll(struct file *file, poll_table *wait)
{
	struct kipc_shm_file *sf = file->private_data;
	struct kipc_shm_dev *dev = sf->dev;
	/* V never blocks. */
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &dev->poll_wq, wait);
	/* Queued before reading the value; pairs with wq_has_sleeper(). */
	smp_mb();
	if (READ_ONCE(dev->sems[READ_ONCE(sf->poll_sem)].value))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int kipc_shm_fasync(int fd, struct file *file, int on)
{
	struct kipc_shm_file *sf = file->private_data;

	return fasync_helper(fd, file, on, &sf->dev->fasync);
}

static long kipc_shm_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct kipc_shm_file *sf = file->private_data;
	struct kipc_shm_dev *dev = sf->dev;
	void __user *argp = (void __user *)arg;
	struct kipc_sem_op op;
	u64 size;
	u32 index;

	/*
	 * As write(2) on a file not opened for writing: whatever changes the
	 * device (a unit taken or given, a value set, a resize) needs a file
	 * opened for writing.  The getters and this file's own poll choice
	 * work on any open file.
	 */
	switch (cmd) {
	case KIPC_SEM_P:
	case KIPC_SEM_V:
	case KIPC_SEM_INIT:
	case KIPC_SHM_SET_SIZE:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		break;
	}

	switch (cmd) {
	case KIPC_SEM_P:
	case KIPC_SEM_V:
	case KIPC_SEM_INIT:
		if (copy_from_user(&op, argp, sizeof(op)))
			return -EFAULT;
		if (cmd == KIPC_SEM_P)
			return kipc_sem_p(sf, &op);
		if (cmd == KIPC_SEM_V)
			return kipc_sem_v(sf, &op);
		return kipc_sem_init(dev, &op);
	case KIPC_SEM_GET:
		return kipc_sem_get(dev, argp);
	case KIPC_SEM_SET_POLL:
		if (get_user(index, (u32 __user *)argp))
			return -EFAULT;
		if (index >= KIPC_SEM_NSEMS)
			return -EINVAL;
		WRITE_ONCE(sf->poll_sem, index);
		return 0;
	case KIPC_SHM_GET_SIZE:
		size = READ_ONCE(dev->size);
		return put_user(size, (u64 __user *)argp);
	case KIPC_SHM_SET_SIZE:
		if (get_user(size, (u64 __user *)argp))
			return -EFAULT;
		/* 0 is a request here, not "keep the size". */
		if (!size)
			return -EINVAL;
		return kipc_shm_change(dev, size, false, NULL);
	}
	return -ENOTTY;
}

static const struct file_operations kipc_shm_fops = {
	.owner = THIS_MODULE,
	.open = kipc_shm_open,
	.release = kipc_shm_release,
	.mmap = kipc_shm_mmap,
	.poll = kipc_shm_poll,
	.fasync = kipc_shm_fasync,
	.unlocked_ioctl = kipc_shm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* --- kind operations ---------------------------------------------------- */

static void kipc_shm_free(struct kipc_shm_dev *dev)
{
	vfree(dev->buf);
	mutex_destroy(&dev->lock);
	kfree(dev);
}

static void kipc_shm_destroy(void)
{
	unsigned int i;

	for (i = 0; i < kipc_shm_ndevs; i++) {
		kipc_devbase_del(&kipc_shm_devs[i]->base);
		kipc_shm_free(kipc_shm_devs[i]);
	}
	kfree(kipc_shm_devs);
	kipc_shm_devs = NULL;
	kipc_shm_ndevs = 0;
}

static int kipc_shm_create(unsigned int count)
{
	unsigned long size, avail;
	unsigned int i, j;
	int ret;

	if (!kipc_shm_size || kipc_shm_size > (ULONG_MAX & PAGE_MASK) ||
	    PAGE_ALIGN(kipc_shm_size) > kipc_shm_max_size) {
		pr_err("shm_size must be between 1 and shm_max_size (%lu)\n",
		       kipc_shm_max_size);
		return -EINVAL;
	}
	size = PAGE_ALIGN(kipc_shm_size);
	/*
	 * All regions are allocated now, whoever opens them: refuse a load
	 * whose regions do not fit in the memory the kernel estimates it
	 * can give without swapping, instead of reclaiming hard and failing
	 * (or worse) half way.  Each allocation can still fail, cleanly.
	 */
	avail = max(si_mem_available(), 0L);
	if ((u64)count * (size >> PAGE_SHIFT) > avail) {
		pr_err("%u shm regions of %lu bytes do not fit in the available memory (%lu MiB)\n",
		       count, size, avail >> (20 - PAGE_SHIFT));
		return -ENOMEM;
	}

	kipc_shm_devs = kcalloc(count, sizeof(*kipc_shm_devs), GFP_KERNEL);
	if (count && !kipc_shm_devs)
		return -ENOMEM;

	for (i = 0; i < count; i++) {
		struct kipc_shm_dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);

		if (!dev) {
			ret = -ENOMEM;
			goto err;
		}
		mutex_init(&dev->lock);
		init_waitqueue_head(&dev->poll_wq);
		for (j = 0; j < KIPC_SEM_NSEMS; j++) {
			spin_lock_init(&dev->sems[j].lock);
			INIT_LIST_HEAD(&dev->sems[j].waiters);
		}
		dev->size = size;
		dev->buf = kipc_shm_alloc(size);
		if (!dev->buf) {
			kipc_shm_free(dev);
			ret = -ENOMEM;
			goto err;
		}
		ret = kipc_devbase_add(&dev->base, KIPC_KIND_SHM, i,
				       &kipc_shm_fops);
		if (ret) {
			kipc_shm_free(dev);
			goto err;
		}
		kipc_shm_devs[i] = dev;
		kipc_shm_ndevs = i + 1;
	}
	return 0;

err:
	kipc_shm_destroy();
	return ret;
}

static unsigned int kipc_shm_count(void)
{
	return kipc_shm_ndevs;
}

static struct kipc_devbase *kipc_shm_get(unsigned int index)
{
	if (index >= kipc_shm_ndevs)
		return NULL;
	return &kipc_shm_devs[index]->base;
}

static int kipc_shm_fill(struct sk_buff *skb, unsigned int index)
{
	struct kipc_nl_stat stats[] = {
		{ .attr = KIPC_STAT_SEM_P },
		{ .attr = KIPC_STAT_SEM_V },
		{ .attr = KIPC_STAT_SEM_WAITS },
		{ .attr = KIPC_STAT_SEM_TIMEOUTS },
		{ .attr = KIPC_STAT_MAPS },
	};
	struct kipc_shm_dev *dev;
	u32 waiting = 0;
	unsigned int i;

	if (index >= kipc_shm_ndevs)
		return -ENODEV;
	dev = kipc_shm_devs[index];
	/* A snapshot: counters are read without stopping the semaphores. */
	for (i = 0; i < KIPC_SEM_NSEMS; i++) {
		struct kipc_sem *sem = &dev->sems[i];

		stats[0].value += READ_ONCE(sem->nr_p);
		stats[1].value += READ_ONCE(sem->nr_v);
		stats[2].value += READ_ONCE(sem->nr_waits);
		stats[3].value += READ_ONCE(sem->nr_timeouts);
		waiting += READ_ONCE(sem->nwaiters);
	}
	stats[4].value = atomic64_read(&dev->nr_maps);

	if (nla_put_u64_64bit(skb, KIPC_A_CAPACITY, READ_ONCE(dev->size),
			      KIPC_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_A_FILL, atomic_read(&dev->nmaps),
			      KIPC_A_PAD) ||
	    nla_put_u32(skb, KIPC_A_READERS_WAITING, waiting) ||
	    nla_put_u32(skb, KIPC_A_WRITERS_WAITING, 0))
		return -EMSGSIZE;

	return kipc_nl_put_stats(skb, &dev->base, NULL, stats,
				 ARRAY_SIZE(stats));
}

static void kipc_shm_reset_stats(struct kipc_shm_dev *dev)
{
	unsigned int i;

	for (i = 0; i < KIPC_SEM_NSEMS; i++) {
		struct kipc_sem *sem = &dev->sems[i];

		spin_lock(&sem->lock);
		sem->nr_p = 0;
		sem->nr_v = 0;
		sem->nr_waits = 0;
		sem->nr_timeouts = 0;
		spin_unlock(&sem->lock);
	}
	atomic64_set(&dev->nr_maps, 0);
}

static int kipc_shm_set(unsigned int index, struct nlattr **attrs,
			struct netlink_ext_ack *extack)
{
	struct kipc_shm_dev *dev;
	int i, ret;

	if (index >= kipc_shm_ndevs) {
		NL_SET_ERR_MSG(extack, "no such shm device");
		return -ENODEV;
	}
	dev = kipc_shm_devs[index];

	/* Check everything first, so a bad request changes nothing. */
	for (i = 1; i <= KIPC_A_MAX; i++) {
		switch (i) {
		case KIPC_A_KIND:
		case KIPC_A_INDEX:
		case KIPC_A_NAME:
		case KIPC_A_CAPACITY:
		case KIPC_A_FLUSH:
		case KIPC_A_RESET_STATS:
			continue;
		}
		if (attrs[i]) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[i],
					    "not settable on shm devices");
			return -EINVAL;
		}
	}

	if (attrs[KIPC_A_CAPACITY] || attrs[KIPC_A_FLUSH]) {
		u64 want = 0;

		if (attrs[KIPC_A_CAPACITY]) {
			want = nla_get_u64(attrs[KIPC_A_CAPACITY]);
			if (!want) {
				NL_SET_ERR_MSG_ATTR(extack,
						    attrs[KIPC_A_CAPACITY],
						    "shm size must be above 0");
				return -EINVAL;
			}
		}
		ret = kipc_shm_change(dev, want, !!attrs[KIPC_A_FLUSH], extack);
		if (ret)
			return ret;
	}
	if (attrs[KIPC_A_RESET_STATS])
		kipc_shm_reset_stats(dev);
	return 0;
}

const struct kipc_kind_ops kipc_shm_ops = {
	.name = "shm",
	.create = kipc_shm_create,
	.destroy = kipc_shm_destroy,
	.count = kipc_shm_count,
	.get = kipc_shm_get,
	.fill = kipc_shm_fill,
	.set = kipc_shm_set,
};
