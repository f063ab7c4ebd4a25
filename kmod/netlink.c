// SPDX-License-Identifier: GPL-2.0
/*
 * kipc control plane: the generic netlink family "kipc".
 *
 *   KIPC_CMD_GET_DEV   one device (kind + index, or name), or a dump of
 *                      all of them (optionally of one kind) (CAP_NET_ADMIN)
 *   KIPC_CMD_SET_DEV   resize, change limits, flush, reset counters
 *                      (CAP_NET_ADMIN; the kinds ask for CAP_SYS_RESOURCE
 *                      above the module maxima)
 *   KIPC_CMD_GET_INFO  version, device counts, module maxima
 *   KIPC_CMD_EVENT     multicast to the "events" group (CAP_NET_ADMIN
 *                      to join)
 *
 * A device's state and its events say when other users' processes fill,
 * drain and wait on it; the kernel cannot tell from a request whether
 * the caller may open the node (its mode is udev's or chmod's, per mount
 * namespace), so they are for the administrator, as SET_DEV is.  The
 * module parameters of GET_INFO are world-readable in sysfs anyway.
 *
 * The devices are global, not per network namespace, so the family lives
 * in init_net only (netnsok is false): a container in its own network
 * namespace cannot see or change them.
 *
 * Every command is validated strictly (resv_start_op is 0): reserved
 * header bits, unknown attributes, wrong lengths and attributes a command
 * does not take are all rejected with an extack message.  Documentation:
 * Documentation/netlink.md and Documentation/netlink/specs/kipc.yaml.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/ctype.h>
#include <linux/ratelimit.h>
#include <net/genetlink.h>

#include "kipc.h"
#include "compat.h"

/* "pipe63": a kind's name and an index; longer names are refused. */
#define KIPC_NL_NAME_MAX 15

enum kipc_nl_mcgrp {
	KIPC_NL_MCGRP_EVENTS,
};

static struct genl_family kipc_nl_family;

/* Set once the family is registered, cleared before it goes away. */
static bool kipc_nl_registered;

#define KIPC_NL_REJECT(msg)                                 \
	{                                                   \
		.type = NLA_REJECT, .reject_message = (msg) \
	}
#define KIPC_NL_RO KIPC_NL_REJECT("read-only attribute")
#define KIPC_NL_INFO KIPC_NL_REJECT("not a device attribute")

/* GET_DEV: kind and index, or a name.  A dump takes an optional kind. */
static const struct nla_policy kipc_nl_get_dev_policy[KIPC_A_NAME + 1] = {
	[KIPC_A_KIND] =
		NLA_POLICY_RANGE(NLA_U32, KIPC_KIND_PIPE, KIPC_KIND_MAX),
	[KIPC_A_INDEX] = { .type = NLA_U32 },
	[KIPC_A_NAME] = { .type = NLA_NUL_STRING, .len = KIPC_NL_NAME_MAX },
};

/* SET_DEV: the device, then what to change; all else is refused. */
static const struct nla_policy kipc_nl_set_dev_policy[KIPC_A_MAX + 1] = {
	[KIPC_A_KIND] =
		NLA_POLICY_RANGE(NLA_U32, KIPC_KIND_PIPE, KIPC_KIND_MAX),
	[KIPC_A_INDEX] = { .type = NLA_U32 },
	[KIPC_A_NAME] = { .type = NLA_NUL_STRING, .len = KIPC_NL_NAME_MAX },
	[KIPC_A_CAPACITY] = NLA_POLICY_MIN(NLA_U64, 1),
	[KIPC_A_FILL] = KIPC_NL_RO,
	[KIPC_A_OPEN_FILES] = KIPC_NL_RO,
	[KIPC_A_READERS_WAITING] = KIPC_NL_RO,
	[KIPC_A_WRITERS_WAITING] = KIPC_NL_RO,
	[KIPC_A_MQ_MAX_MSG_SIZE] = NLA_POLICY_MIN(NLA_U32, 1),
	[KIPC_A_MQ_MAX_MSGS] = NLA_POLICY_MIN(NLA_U32, 1),
	[KIPC_A_MQ_MSGS] = KIPC_NL_RO,
	[KIPC_A_HIGH_WATER] = { .type = NLA_U64 },
	[KIPC_A_FLUSH] = { .type = NLA_FLAG },
	[KIPC_A_RESET_STATS] = { .type = NLA_FLAG },
	[KIPC_A_STATS] = KIPC_NL_RO,
	[KIPC_A_EVENT] = KIPC_NL_REJECT("events are sent, not set"),
	[KIPC_A_VERSION] = KIPC_NL_INFO,
	[KIPC_A_NPIPES] = KIPC_NL_INFO,
	[KIPC_A_NMQS] = KIPC_NL_INFO,
	[KIPC_A_NSHMS] = KIPC_NL_INFO,
	[KIPC_A_PIPE_MAX_SIZE] = KIPC_NL_INFO,
	[KIPC_A_MQ_MAX_BYTES_LIMIT] = KIPC_NL_INFO,
	[KIPC_A_SHM_MAX_SIZE] = KIPC_NL_INFO,
	[KIPC_A_DEV_MODE] = KIPC_NL_INFO,
	[KIPC_A_PAD] = KIPC_NL_REJECT("padding is not a request"),
};

/*
 * GET_INFO takes no attributes: the one entry names the first attribute
 * type, strict validation refuses every type above it as unknown.
 */
static const struct nla_policy kipc_nl_get_info_policy[KIPC_A_KIND + 1] = {
	[KIPC_A_KIND] = KIPC_NL_REJECT("GET_INFO takes no attributes"),
};

/* An event: KIND, INDEX, NAME, EVENT, FILL. */
static size_t kipc_nl_event_size(void)
{
	return nla_total_size(sizeof(u32)) * 3 +
	       nla_total_size(KIPC_NL_NAME_MAX + 1) +
	       nla_total_size_64bit(sizeof(u64));
}

static int kipc_nl_put_stat(struct sk_buff *skb, int attr, u64 value)
{
	return nla_put_u64_64bit(skb, attr, value, KIPC_STAT_PAD);
}

int kipc_nl_put_stats(struct sk_buff *skb, struct kipc_devbase *base,
		      const struct kipc_io_stats *io,
		      const struct kipc_nl_stat *more, unsigned int n)
{
	struct nlattr *nest = nla_nest_start(skb, KIPC_A_STATS);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	if (io &&
	    (kipc_nl_put_stat(skb, KIPC_STAT_BYTES_IN, io->bytes_in) ||
	     kipc_nl_put_stat(skb, KIPC_STAT_BYTES_OUT, io->bytes_out) ||
	     kipc_nl_put_stat(skb, KIPC_STAT_WRITES, io->writes) ||
	     kipc_nl_put_stat(skb, KIPC_STAT_READS, io->reads) ||
	     kipc_nl_put_stat(skb, KIPC_STAT_WRITE_WAITS, io->write_waits) ||
	     kipc_nl_put_stat(skb, KIPC_STAT_READ_WAITS, io->read_waits) ||
	     kipc_nl_put_stat(skb, KIPC_STAT_PEAK_FILL, io->peak_fill)))
		goto cancel;
	for (i = 0; i < n; i++)
		if (kipc_nl_put_stat(skb, more[i].attr, more[i].value))
			goto cancel;
	if (kipc_nl_put_stat(skb, KIPC_STAT_EVENTS_DROPPED,
			     atomic64_read(&base->events_dropped)))
		goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kipc_nl_put_name(struct sk_buff *skb,
			    const struct kipc_kind_ops *ops, unsigned int index)
{
	char name[KIPC_NL_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s%u", ops->name, index);
	return nla_put_string(skb, KIPC_A_NAME, name);
}

/* One device message: what every device has, then the kind's part. */
static int kipc_nl_fill_dev(struct sk_buff *skb,
			    const struct kipc_kind_ops *ops, unsigned int index,
			    struct kipc_devbase *base, u32 portid, u32 seq,
			    int flags, u8 cmd)
{
	void *hdr;
	int ret;

	hdr = genlmsg_put(skb, portid, seq, &kipc_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;

	ret = -EMSGSIZE;
	if (nla_put_u32(skb, KIPC_A_KIND, base->kind) ||
	    nla_put_u32(skb, KIPC_A_INDEX, index) ||
	    kipc_nl_put_name(skb, ops, index) ||
	    nla_put_u32(skb, KIPC_A_OPEN_FILES, atomic_read(&base->open_files)))
		goto cancel;

	ret = ops->fill(skb, index);
	if (ret)
		goto cancel;

	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return ret;
}

/* "pipe0" -> kind and index; only plain decimal, no sign, no zero pad. */
static int kipc_nl_parse_name(const char *name, enum kipc_kind *kindp,
			      unsigned int *indexp)
{
	enum kipc_kind kind;

	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		const char *kname = kipc_kind_ops(kind)->name;
		size_t len = strlen(kname);
		const char *p = name + len;
		unsigned int index = 0;

		if (strncmp(name, kname, len))
			continue;
		if (!*p || (p[0] == '0' && p[1]))
			return -EINVAL;
		for (; *p; p++) {
			if (!isdigit(*p) || index > 9999)
				return -EINVAL;
			index = index * 10 + (*p - '0');
		}
		*kindp = kind;
		*indexp = index;
		return 0;
	}
	return -EINVAL;
}

/*
 * The device a GET_DEV or SET_DEV request names.  An index past the
 * kind's last device is -ENODEV, so callers can tell "no such device"
 * from a malformed request (-EINVAL).
 */
static struct kipc_devbase *kipc_nl_lookup(struct genl_info *info,
					   const struct kipc_kind_ops **opsp,
					   unsigned int *indexp)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	const struct kipc_kind_ops *ops;
	struct kipc_devbase *base;
	struct nlattr *bad;
	enum kipc_kind kind;
	unsigned int index;

	if (attrs[KIPC_A_NAME]) {
		if (attrs[KIPC_A_KIND] || attrs[KIPC_A_INDEX]) {
			NL_SET_ERR_MSG_ATTR(
				extack, attrs[KIPC_A_NAME],
				"give a device name or a kind and an index, not both");
			return ERR_PTR(-EINVAL);
		}
		bad = attrs[KIPC_A_NAME];
		if (kipc_nl_parse_name(nla_data(bad), &kind, &index)) {
			NL_SET_ERR_MSG_ATTR(
				extack, bad,
				"device name is not <pipe|mq|shm><index>");
			return ERR_PTR(-EINVAL);
		}
	} else {
		if (GENL_REQ_ATTR_CHECK(info, KIPC_A_KIND)) {
			NL_SET_ERR_MSG(extack, "missing device kind (or name)");
			return ERR_PTR(-EINVAL);
		}
		if (GENL_REQ_ATTR_CHECK(info, KIPC_A_INDEX)) {
			NL_SET_ERR_MSG(extack, "missing device index");
			return ERR_PTR(-EINVAL);
		}
		bad = attrs[KIPC_A_INDEX];
		kind = nla_get_u32(attrs[KIPC_A_KIND]);
		index = nla_get_u32(attrs[KIPC_A_INDEX]);
	}

	ops = kipc_kind_ops(kind);
	base = index < ops->count() ? ops->get(index) : NULL;
	if (!base) {
		NL_SET_ERR_MSG_ATTR(extack, bad, "no such device");
		return ERR_PTR(-ENODEV);
	}
	*opsp = ops;
	*indexp = index;
	return base;
}

/* Fills msg with the device and sends it; consumes msg. */
static int kipc_nl_send_dev(struct sk_buff *msg, struct genl_info *info,
			    const struct kipc_kind_ops *ops, unsigned int index,
			    struct kipc_devbase *base)
{
	int ret;

	ret = kipc_nl_fill_dev(msg, ops, index, base, info->snd_portid,
			       info->snd_seq, 0, info->genlhdr->cmd);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int kipc_nl_reply_dev(struct genl_info *info,
			     const struct kipc_kind_ops *ops,
			     unsigned int index, struct kipc_devbase *base)
{
	struct sk_buff *msg;

	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	return kipc_nl_send_dev(msg, info, ops, index, base);
}

#define KIPC_NL_GET_PERM_MSG "reading device state needs CAP_NET_ADMIN"

static int kipc_nl_get_dev_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct kipc_kind_ops *ops;
	struct kipc_devbase *base;
	unsigned int index;

	/*
	 * Checked here rather than with GENL_ADMIN_PERM, whose refusal
	 * carries no message.
	 */
	if (!netlink_capable(skb, CAP_NET_ADMIN)) {
		GENL_SET_ERR_MSG(info, KIPC_NL_GET_PERM_MSG);
		return -EPERM;
	}
	base = kipc_nl_lookup(info, &ops, &index);
	if (IS_ERR(base))
		return PTR_ERR(base);
	return kipc_nl_reply_dev(info, ops, index, base);
}

/*
 * The first round reads the request: a dump selects by kind only.  This
 * is not done in a .start callback because before 6.2 that one has no
 * extack to explain a refusal; a dumpit's error and message reach the
 * caller in NLMSG_DONE on both kernels.
 */
static int kipc_nl_get_dev_dump_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = kipc_genl_dump_attrs(cb);
	struct nlattr *bad;

	/* The first round runs in the requester's sendmsg(). */
	if (!netlink_capable(cb->skb, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(cb->extack, KIPC_NL_GET_PERM_MSG);
		return -EPERM;
	}
	if (!attrs)
		return 0;
	bad = attrs[KIPC_A_INDEX] ?: attrs[KIPC_A_NAME];
	if (bad) {
		NL_SET_ERR_MSG_ATTR(
			cb->extack, bad,
			"a dump selects by kind only; ask for one device without NLM_F_DUMP");
		return -EINVAL;
	}
	if (attrs[KIPC_A_KIND])
		cb->args[2] = nla_get_u32(attrs[KIPC_A_KIND]);
	return 0;
}

/*
 * cb->args[0]: kind to resume at (0: first round), [1]: index to resume
 * at, [2]: the kind filter (0: all kinds).
 */
static int kipc_nl_get_dev_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	enum kipc_kind kind = cb->args[0];
	unsigned int index = cb->args[1];
	int ret = 0;

	if (!kind) {
		ret = kipc_nl_get_dev_dump_start(cb);
		if (ret)
			return ret;
		kind = KIPC_KIND_PIPE;
	}
	for (; kind <= KIPC_KIND_MAX; kind++, index = 0) {
		const struct kipc_kind_ops *ops = kipc_kind_ops(kind);

		if (cb->args[2] && cb->args[2] != kind)
			continue;
		for (; index < ops->count(); index++) {
			struct kipc_devbase *base = ops->get(index);

			if (!base)
				continue;
			ret = kipc_nl_fill_dev(skb, ops, index, base,
					       NETLINK_CB(cb->skb).portid,
					       cb->nlh->nlmsg_seq, NLM_F_MULTI,
					       KIPC_CMD_GET_DEV);
			if (ret)
				goto out;
		}
	}
out:
	cb->args[0] = kind;
	cb->args[1] = index;
	/* A full skb resumes in the next round; one device too big fails. */
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

static int kipc_nl_set_dev_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	const struct kipc_kind_ops *ops;
	struct kipc_devbase *base;
	struct nlattr *mq_limit;
	struct sk_buff *msg;
	unsigned int index;
	int ret;

	base = kipc_nl_lookup(info, &ops, &index);
	if (IS_ERR(base))
		return PTR_ERR(base);

	if (!attrs[KIPC_A_CAPACITY] && !attrs[KIPC_A_MQ_MAX_MSG_SIZE] &&
	    !attrs[KIPC_A_MQ_MAX_MSGS] && !attrs[KIPC_A_HIGH_WATER] &&
	    !attrs[KIPC_A_FLUSH] && !attrs[KIPC_A_RESET_STATS]) {
		GENL_SET_ERR_MSG(info, "nothing to change");
		return -EINVAL;
	}
	mq_limit = attrs[KIPC_A_MQ_MAX_MSG_SIZE] ?: attrs[KIPC_A_MQ_MAX_MSGS];
	if (mq_limit && base->kind != KIPC_KIND_MQ) {
		NL_SET_ERR_MSG_ATTR(info->extack, mq_limit,
				    "only message queues have message limits");
		return -EINVAL;
	}

	/*
	 * The reply, with the new state so a caller need not ask again (and
	 * race), is allocated first: a change is never applied and then
	 * reported as failed for want of memory.
	 */
	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = ops->set(index, attrs, info->extack);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return kipc_nl_send_dev(msg, info, ops, index, base);
}

static int kipc_nl_get_info_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kipc_nl_family, 0,
				KIPC_CMD_GET_INFO);
	if (!hdr)
		goto nospace;
	if (nla_put_string(msg, KIPC_A_VERSION, KIPC_VERSION_STRING) ||
	    nla_put_u32(msg, KIPC_A_NPIPES, kipc_npipes) ||
	    nla_put_u32(msg, KIPC_A_NMQS, kipc_nmqs) ||
	    nla_put_u32(msg, KIPC_A_NSHMS, kipc_nshms) ||
	    nla_put_u32(msg, KIPC_A_PIPE_MAX_SIZE,
			READ_ONCE(kipc_pipe_max_size)) ||
	    nla_put_u32(msg, KIPC_A_MQ_MAX_BYTES_LIMIT,
			READ_ONCE(kipc_mq_max_bytes_limit)) ||
	    nla_put_u64_64bit(msg, KIPC_A_SHM_MAX_SIZE,
			      READ_ONCE(kipc_shm_max_size), KIPC_A_PAD) ||
	    nla_put_u32(msg, KIPC_A_DEV_MODE, kipc_dev_mode))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_ops kipc_nl_ops[] = {
	{
		.cmd = KIPC_CMD_GET_DEV,
		.doit = kipc_nl_get_dev_doit,
		.dumpit = kipc_nl_get_dev_dumpit,
		.policy = kipc_nl_get_dev_policy,
		.maxattr = ARRAY_SIZE(kipc_nl_get_dev_policy) - 1,
	},
	{
		.cmd = KIPC_CMD_SET_DEV,
		.flags = GENL_ADMIN_PERM,
		.doit = kipc_nl_set_dev_doit,
		.policy = kipc_nl_set_dev_policy,
		.maxattr = ARRAY_SIZE(kipc_nl_set_dev_policy) - 1,
	},
	{
		.cmd = KIPC_CMD_GET_INFO,
		.doit = kipc_nl_get_info_doit,
		.policy = kipc_nl_get_info_policy,
		.maxattr = ARRAY_SIZE(kipc_nl_get_info_policy) - 1,
	},
};

/*
 * Joining needs CAP_NET_ADMIN, as GET_DEV does: events tell when a device
 * fills and drains.  (Debian's 6.1 has the flag too, from stable.)
 */
static const struct genl_multicast_group kipc_nl_mcgrps[] = {
	[KIPC_NL_MCGRP_EVENTS] = {
		.name = KIPC_GENL_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family kipc_nl_family __ro_after_init = {
	.name = KIPC_GENL_NAME,
	.version = KIPC_GENL_VERSION,
	.netnsok = false,
	/* The kinds lock their devices; no need for the global genl_mutex. */
	.parallel_ops = true,
	/* 0: strict header and attribute checks for every command. */
	.resv_start_op = 0,
	.module = THIS_MODULE,
	.ops = kipc_nl_ops,
	.n_ops = ARRAY_SIZE(kipc_nl_ops),
	.mcgrps = kipc_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kipc_nl_mcgrps),
};

/*
 * Callers run in process context with no locks held (GFP_KERNEL).  Before
 * registration and after unregistration it does nothing: devices exist
 * (and can be opened) a little before the family and after it.  While
 * registered, the family cannot go away under a caller: callers are file
 * operations, which pin the module, or SET_DEV requests, which
 * genl_unregister_family() waits for.
 */
void kipc_nl_notify(struct kipc_devbase *base, enum kipc_event_type event,
		    u64 fill)
{
	const struct kipc_kind_ops *ops;
	struct sk_buff *msg;
	void *hdr;

	/* Pairs with the release in kipc_nl_init(): the family is ready. */
	if (!smp_load_acquire(&kipc_nl_registered))
		return;
	/* The common case on a busy device: nobody listens. */
	if (!genl_has_listeners(&kipc_nl_family, &init_net,
				KIPC_NL_MCGRP_EVENTS))
		return;
	ops = kipc_kind_ops(base->kind);
	if (!__ratelimit(&base->event_rs))
		goto dropped;

	msg = genlmsg_new(kipc_nl_event_size(), GFP_KERNEL);
	if (!msg)
		goto dropped;
	hdr = genlmsg_put(msg, 0, 0, &kipc_nl_family, 0, KIPC_CMD_EVENT);
	if (!hdr)
		goto free;
	if (nla_put_u32(msg, KIPC_A_KIND, base->kind) ||
	    nla_put_u32(msg, KIPC_A_INDEX, base->index) ||
	    kipc_nl_put_name(msg, ops, base->index) ||
	    nla_put_u32(msg, KIPC_A_EVENT, event) ||
	    nla_put_u64_64bit(msg, KIPC_A_FILL, fill, KIPC_A_PAD))
		goto free;
	genlmsg_end(msg, hdr);
	/* -ESRCH: the last listener left meanwhile; nothing was lost. */
	genlmsg_multicast(&kipc_nl_family, msg, 0, KIPC_NL_MCGRP_EVENTS,
			  GFP_KERNEL);
	return;

free:
	nlmsg_free(msg);
dropped:
	atomic64_inc(&base->events_dropped);
}

int kipc_nl_init(void)
{
	int ret;

	ret = genl_register_family(&kipc_nl_family);
	if (ret) {
		pr_err("cannot register generic netlink family %s: %d\n",
		       KIPC_GENL_NAME, ret);
		return ret;
	}
	/* Pairs with the acquire in kipc_nl_notify(). */
	smp_store_release(&kipc_nl_registered, true);
	return 0;
}

void kipc_nl_exit(void)
{
	/* New events stop here; see kipc_nl_notify() for those in flight. */
	smp_store_release(&kipc_nl_registered, false);
	genl_unregister_family(&kipc_nl_family);
}
