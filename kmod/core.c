// SPDX-License-Identifier: GPL-2.0
/*
 * kipc core: module parameters, the "kipc" class, the char device region
 * and the nodes /dev/kipc/<kind><index>.  The kinds live in pipe.c, mq.c
 * and shm.c; the control plane in netlink.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "kipc.h"
#include "compat.h"

unsigned int kipc_npipes = 2;
module_param_named(npipes, kipc_npipes, uint, 0444);
MODULE_PARM_DESC(npipes, "Number of pipe devices /dev/kipc/pipeN (default 2)");

unsigned int kipc_nmqs = 2;
module_param_named(nmqs, kipc_nmqs, uint, 0444);
MODULE_PARM_DESC(nmqs,
		 "Number of message queue devices /dev/kipc/mqN (default 2)");

unsigned int kipc_nshms = 2;
module_param_named(nshms, kipc_nshms, uint, 0444);
MODULE_PARM_DESC(nshms,
		 "Number of shared memory devices /dev/kipc/shmN (default 2)");

unsigned short kipc_dev_mode = 0660;
module_param_named(mode, kipc_dev_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Mode of the nodes, not 0, at most 0777 (default 0660)");

/* Keeps minor numbers and the class within sane bounds. */
#define KIPC_MAX_PER_KIND 64

static const struct kipc_kind_ops *const kipc_kinds[] = {
	[KIPC_KIND_PIPE] = &kipc_pipe_ops,
	[KIPC_KIND_MQ] = &kipc_mq_ops,
	[KIPC_KIND_SHM] = &kipc_shm_ops,
};

static dev_t kipc_devt;
static struct class *kipc_class;

const struct kipc_kind_ops *kipc_kind_ops(enum kipc_kind kind)
{
	if (kind < KIPC_KIND_PIPE || kind > KIPC_KIND_MAX)
		return NULL;
	return kipc_kinds[kind];
}

static char *kipc_devnode(KIPC_DEVNODE_CONST struct device *dev, umode_t *mode)
{
	if (mode)
		*mode = kipc_dev_mode & 0777;
	return kasprintf(GFP_KERNEL, "kipc/%s", dev_name(dev));
}

/* Minors: KIPC_MAX_PER_KIND per kind, in kind order. */
static dev_t kipc_devt_of(enum kipc_kind kind, unsigned int index)
{
	return MKDEV(MAJOR(kipc_devt), (kind - 1) * KIPC_MAX_PER_KIND + index);
}

int kipc_devbase_add(struct kipc_devbase *base, enum kipc_kind kind,
		     unsigned int index, const struct file_operations *fops)
{
	dev_t devt = kipc_devt_of(kind, index);
	int ret;

	base->kind = kind;
	base->index = index;
	atomic_set(&base->open_files, 0);
	atomic64_set(&base->events_dropped, 0);
	/*
	 * At most KIPC_EVENT_BURST events a second per device: enough for
	 * every state change a person or a test makes, not for a flood
	 * from a pipe that fills and drains thousands of times a second.
	 */
	ratelimit_state_init(&base->event_rs, HZ, KIPC_EVENT_BURST);
	ratelimit_set_flags(&base->event_rs, RATELIMIT_MSG_ON_RELEASE);

	cdev_init(&base->cdev, fops);
	base->cdev.owner = fops->owner;
	ret = cdev_add(&base->cdev, devt, 1);
	if (ret)
		return ret;

	base->dev = device_create(kipc_class, NULL, devt, base, "%s%u",
				  kipc_kinds[kind]->name, index);
	if (IS_ERR(base->dev)) {
		ret = PTR_ERR(base->dev);
		cdev_del(&base->cdev);
		return ret;
	}
	return 0;
}

void kipc_devbase_del(struct kipc_devbase *base)
{
	device_destroy(kipc_class, base->cdev.dev);
	cdev_del(&base->cdev);
}

void kipc_devbase_opened(struct kipc_devbase *base)
{
	atomic_inc(&base->open_files);
}

void kipc_devbase_closed(struct kipc_devbase *base)
{
	atomic_dec(&base->open_files);
}

static void kipc_destroy_kinds(enum kipc_kind last)
{
	enum kipc_kind kind;

	for (kind = last; kind >= KIPC_KIND_PIPE; kind--)
		kipc_kinds[kind]->destroy();
}

static int __init kipc_init(void)
{
	unsigned int counts[] = {
		[KIPC_KIND_PIPE] = kipc_npipes,
		[KIPC_KIND_MQ] = kipc_nmqs,
		[KIPC_KIND_SHM] = kipc_nshms,
	};
	enum kipc_kind kind;
	int ret;

	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		if (counts[kind] > KIPC_MAX_PER_KIND) {
			pr_err("at most %u devices of a kind\n",
			       KIPC_MAX_PER_KIND);
			return -EINVAL;
		}
	}
	if (kipc_dev_mode & ~0777) {
		pr_err("mode %#o has bits outside 0777\n", kipc_dev_mode);
		return -EINVAL;
	}
	/*
	 * devtmpfs takes a mode of 0 to mean its default, 0600: the nodes
	 * would not have the mode GET_INFO reports.  Root opens a node
	 * whatever its mode, so 0 would not keep anyone more out than 0600.
	 */
	if (!kipc_dev_mode) {
		pr_err("mode 0 would give nodes of mode 0600 (devtmpfs' default): give 0600 or another mode\n");
		return -EINVAL;
	}

	ret = alloc_chrdev_region(&kipc_devt, 0,
				  KIPC_KIND_MAX * KIPC_MAX_PER_KIND, "kipc");
	if (ret)
		return ret;

	kipc_class = kipc_class_create("kipc");
	if (IS_ERR(kipc_class)) {
		ret = PTR_ERR(kipc_class);
		goto err_region;
	}
	kipc_class->devnode = kipc_devnode;

	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		ret = kipc_kinds[kind]->create(counts[kind]);
		if (ret)
			goto err_kinds;
	}

	ret = kipc_nl_init();
	if (ret)
		goto err_kinds;

	pr_info("version %s: %u pipes, %u queues, %u shm regions\n",
		KIPC_VERSION_STRING, kipc_npipes, kipc_nmqs, kipc_nshms);
	return 0;

err_kinds:
	kipc_destroy_kinds(kind - 1);
	class_destroy(kipc_class);
err_region:
	unregister_chrdev_region(kipc_devt, KIPC_KIND_MAX * KIPC_MAX_PER_KIND);
	return ret;
}

static void __exit kipc_exit(void)
{
	/* No netlink request may reach a device being torn down. */
	kipc_nl_exit();
	kipc_destroy_kinds(KIPC_KIND_MAX);
	class_destroy(kipc_class);
	unregister_chrdev_region(kipc_devt, KIPC_KIND_MAX * KIPC_MAX_PER_KIND);
}

module_init(kipc_init);
module_exit(kipc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kipc developers");
MODULE_DESCRIPTION("IPC lab: pipe, message queue and shared memory devices");
MODULE_VERSION(KIPC_VERSION_STRING);
