// SPDX-License-Identifier: GPL-2.0
/*
 * kipcctl: look at and tune the kipc devices over the "kipc" generic
 * netlink family.  "kipcctl --help" and Documentation/netlink.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <linux/genetlink.h>

#include <linux/kipc.h>

#include "nl.h"

/* Exit codes, as documented in --help and Documentation/netlink.md. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		/* bad command line */
	EXIT_KERNEL = 2,	/* the kernel refused, or another failure */
	EXIT_NOMODULE = 3,	/* kipc is not loaded */
	EXIT_NODEV = 4,		/* no such device */
	EXIT_PERM = 5,		/* permission denied */
};

static bool json;

static const char *const kind_names[] = {
	[KIPC_KIND_PIPE] = "pipe",
	[KIPC_KIND_MQ] = "mq",
	[KIPC_KIND_SHM] = "shm",
};

static const char *const event_names[] = {
	[KIPC_EVENT_FULL] = "full",
	[KIPC_EVENT_EMPTY] = "empty",
	[KIPC_EVENT_HIGH_WATER] = "high-water",
	[KIPC_EVENT_FLUSHED] = "flushed",
	[KIPC_EVENT_RESIZED] = "resized",
};

static const char *kind_name(uint64_t kind)
{
	if (kind >= 1 && kind <= KIPC_KIND_MAX)
		return kind_names[kind];
	return "unknown";
}

static const char *event_name(uint64_t event)
{
	if (event >= 1 && event <= KIPC_EVENT_MAX)
		return event_names[event];
	return "unknown";
}

/* --- attributes --------------------------------------------------------- */

struct field {
	const char *key;	/* JSON key */
	const char *label;	/* text label */
	enum mnl_attr_data_type type;
};

/* What each attribute is, for validation and printing.  */
static const struct field attr_fields[KIPC_A_MAX + 1] = {
	[KIPC_A_KIND] = { "kind", "kind", MNL_TYPE_U32 },
	[KIPC_A_INDEX] = { "index", "index", MNL_TYPE_U32 },
	[KIPC_A_NAME] = { "name", "name", MNL_TYPE_NUL_STRING },
	[KIPC_A_OPEN_FILES] = { "open_files", "open files", MNL_TYPE_U32 },
	[KIPC_A_CAPACITY] = { "capacity", "capacity", MNL_TYPE_U64 },
	[KIPC_A_FILL] = { "fill", "fill", MNL_TYPE_U64 },
	[KIPC_A_READERS_WAITING] = { "readers_waiting", "readers waiting",
				     MNL_TYPE_U32 },
	[KIPC_A_WRITERS_WAITING] = { "writers_waiting", "writers waiting",
				     MNL_TYPE_U32 },
	[KIPC_A_MQ_MAX_MSG_SIZE] = { "mq_max_msg_size", "max message size",
				     MNL_TYPE_U32 },
	[KIPC_A_MQ_MAX_MSGS] = { "mq_max_msgs", "max messages", MNL_TYPE_U32 },
	[KIPC_A_MQ_MSGS] = { "mq_msgs", "messages", MNL_TYPE_U32 },
	[KIPC_A_HIGH_WATER] = { "high_water", "high water", MNL_TYPE_U64 },
	[KIPC_A_FLUSH] = { "flush", "flush", MNL_TYPE_FLAG },
	[KIPC_A_RESET_STATS] = { "reset_stats", "reset stats", MNL_TYPE_FLAG },
	[KIPC_A_STATS] = { "stats", "stats", MNL_TYPE_NESTED },
	[KIPC_A_EVENT] = { "event", "event", MNL_TYPE_U32 },
	[KIPC_A_VERSION] = { "version", "version", MNL_TYPE_NUL_STRING },
	[KIPC_A_NPIPES] = { "npipes", "pipes", MNL_TYPE_U32 },
	[KIPC_A_NMQS] = { "nmqs", "message queues", MNL_TYPE_U32 },
	[KIPC_A_NSHMS] = { "nshms", "shared memory regions", MNL_TYPE_U32 },
	[KIPC_A_PIPE_MAX_SIZE] = { "pipe_max_size", "pipe max size",
				   MNL_TYPE_U32 },
	[KIPC_A_MQ_MAX_BYTES_LIMIT] = { "mq_max_bytes_limit",
					"mq max bytes limit", MNL_TYPE_U32 },
	[KIPC_A_SHM_MAX_SIZE] = { "shm_max_size", "shm max size",
				  MNL_TYPE_U64 },
	[KIPC_A_DEV_MODE] = { "dev_mode", "device mode", MNL_TYPE_U32 },
	[KIPC_A_PAD] = { "pad", "pad", MNL_TYPE_UNSPEC },
};

static const char *const stat_keys[KIPC_STAT_MAX + 1] = {
	[KIPC_STAT_BYTES_IN] = "bytes_in",
	[KIPC_STAT_BYTES_OUT] = "bytes_out",
	[KIPC_STAT_WRITES] = "writes",
	[KIPC_STAT_READS] = "reads",
	[KIPC_STAT_WRITE_WAITS] = "write_waits",
	[KIPC_STAT_READ_WAITS] = "read_waits",
	[KIPC_STAT_PEAK_FILL] = "peak_fill",
	[KIPC_STAT_PEAK_MSGS] = "peak_msgs",
	[KIPC_STAT_SEM_P] = "sem_p",
	[KIPC_STAT_SEM_V] = "sem_v",
	[KIPC_STAT_SEM_WAITS] = "sem_waits",
	[KIPC_STAT_SEM_TIMEOUTS] = "sem_timeouts",
	[KIPC_STAT_MAPS] = "maps",
	[KIPC_STAT_EVENTS_DROPPED] = "events_dropped",
};

/* One message's attributes, as parsed. */
struct msg {
	bool has[KIPC_A_MAX + 1];
	uint64_t val[KIPC_A_MAX + 1];
	const char *str[KIPC_A_MAX + 1];
	bool has_stat[KIPC_STAT_MAX + 1];
	uint64_t stat[KIPC_STAT_MAX + 1];
};

static int stat_cb(const struct nlattr *attr, void *data)
{
	struct msg *m = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* Counters a newer module has and this kipcctl does not know. */
	if (type > KIPC_STAT_MAX || !stat_keys[type])
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
		return MNL_CB_ERROR;
	m->has_stat[type] = true;
	m->stat[type] = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct msg *m = data;
	uint16_t type = mnl_attr_get_type(attr);
	const struct field *f;

	if (type > KIPC_A_MAX || !attr_fields[type].key)
		return MNL_CB_OK;
	f = &attr_fields[type];
	if (f->type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, f->type) < 0)
		return MNL_CB_ERROR;
	m->has[type] = true;
	switch (f->type) {
	case MNL_TYPE_U32:
		m->val[type] = mnl_attr_get_u32(attr);
		break;
	case MNL_TYPE_U64:
		m->val[type] = mnl_attr_get_u64(attr);
		break;
	case MNL_TYPE_NUL_STRING:
		m->str[type] = mnl_attr_get_str(attr);
		break;
	case MNL_TYPE_NESTED:
		return mnl_attr_parse_nested(attr, stat_cb, m);
	default:
		break;
	}
	return MNL_CB_OK;
}

static int parse_msg(const struct nlmsghdr *nlh, struct msg *m)
{
	memset(m, 0, sizeof(*m));
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, m) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* --- output ------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_key(bool *first, const char *key)
{
	printf("%s", *first ? "" : ",");
	*first = false;
	json_string(key);
	putchar(':');
}

/* The order a device's attributes are shown in. */
static const int dev_order[] = {
	KIPC_A_OPEN_FILES,	KIPC_A_CAPACITY,	KIPC_A_FILL,
	KIPC_A_READERS_WAITING, KIPC_A_WRITERS_WAITING, KIPC_A_HIGH_WATER,
	KIPC_A_MQ_MSGS,		KIPC_A_MQ_MAX_MSG_SIZE, KIPC_A_MQ_MAX_MSGS,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void print_dev_json(const struct msg *m)
{
	bool first = true, sfirst = true;
	size_t i;

	putchar('{');
	json_key(&first, "name");
	json_string(m->str[KIPC_A_NAME] ? m->str[KIPC_A_NAME] : "");
	json_key(&first, "kind");
	json_string(kind_name(m->val[KIPC_A_KIND]));
	json_key(&first, "index");
	printf("%" PRIu64, m->val[KIPC_A_INDEX]);
	for (i = 0; i < ARRAY_SIZE(dev_order); i++) {
		int a = dev_order[i];

		if (!m->has[a])
			continue;
		json_key(&first, attr_fields[a].key);
		printf("%" PRIu64, m->val[a]);
	}
	json_key(&first, "stats");
	putchar('{');
	for (i = 1; i <= KIPC_STAT_MAX; i++) {
		if (!m->has_stat[i])
			continue;
		json_key(&sfirst, stat_keys[i]);
		printf("%" PRIu64, m->stat[i]);
	}
	printf("}}");
}

static void print_dev_text(const struct msg *m)
{
	size_t i;

	printf("%s: %s %" PRIu64 "\n",
	       m->str[KIPC_A_NAME] ? m->str[KIPC_A_NAME] : "?",
	       kind_name(m->val[KIPC_A_KIND]), m->val[KIPC_A_INDEX]);
	for (i = 0; i < ARRAY_SIZE(dev_order); i++) {
		int a = dev_order[i];

		if (m->has[a])
			printf("  %-18s %" PRIu64 "%s\n", attr_fields[a].label,
			       m->val[a],
			       a == KIPC_A_HIGH_WATER && !m->val[a] ? " (off)" :
								      "");
	}
	printf("  stats:\n");
	for (i = 1; i <= KIPC_STAT_MAX; i++)
		if (m->has_stat[i])
			printf("    %-16s %" PRIu64 "\n", stat_keys[i],
			       m->stat[i]);
}

static void print_list_header(void)
{
	printf("%-8s %5s %12s %12s %7s %7s\n", "DEVICE", "OPEN", "CAPACITY",
	       "FILL", "RD-WAIT", "WR-WAIT");
}

static void print_list_row(const struct msg *m)
{
	printf("%-8s %5" PRIu64 " %12" PRIu64 " %12" PRIu64 " %7" PRIu64
	       " %7" PRIu64 "\n",
	       m->str[KIPC_A_NAME] ? m->str[KIPC_A_NAME] : "?",
	       m->val[KIPC_A_OPEN_FILES], m->val[KIPC_A_CAPACITY],
	       m->val[KIPC_A_FILL], m->val[KIPC_A_READERS_WAITING],
	       m->val[KIPC_A_WRITERS_WAITING]);
}

/* --- errors ------------------------------------------------------------- */

static int open_error(int err)
{
	if (err == -ENOENT) {
		fprintf(stderr,
			"kipcctl: the kipc module is not loaded (no generic netlink family \"%s\")\n",
			KIPC_GENL_NAME);
		return EXIT_NOMODULE;
	}
	fprintf(stderr, "kipcctl: cannot reach the kernel: %s\n",
		strerror(-err));
	return EXIT_KERNEL;
}

/* A request failed: say what the kernel said, in words a person reads. */
static int request_error(const struct knl *nl, const char *what, int err)
{
	const char *sep = nl->errmsg[0] ? ": " : "";

	switch (-err) {
	case ENODEV:
		fprintf(stderr, "kipcctl: %s: no such device\n", what);
		return EXIT_NODEV;
	case EPERM:
	case EACCES:
		/* The core refuses a missing CAP_NET_ADMIN without a word. */
		fprintf(stderr, "kipcctl: %s: permission denied: %s\n", what,
			nl->errmsg[0] ? nl->errmsg : "it needs CAP_NET_ADMIN");
		return EXIT_PERM;
	default:
		fprintf(stderr, "kipcctl: %s: %s%s%s\n", what, strerror(-err),
			sep, nl->errmsg);
		return EXIT_KERNEL;
	}
}

/* --- commands ----------------------------------------------------------- */

/* Opened once the command line is known to be good. */
static int need_nl(struct knl *nl)
{
	int ret = knl_open(nl);

	return ret < 0 ? open_error(ret) : EXIT_OK;
}

/* "pipe0", "mq1", "shm0", or the same under /dev/kipc/. */
static int parse_dev(const char *arg, uint32_t *kind, uint32_t *index)
{
	const char *prefix = KIPC_DEV_DIR "/";
	unsigned long v;
	uint32_t k;
	char *end;

	if (!strncmp(arg, prefix, strlen(prefix)))
		arg += strlen(prefix);
	for (k = 1; k <= KIPC_KIND_MAX; k++) {
		size_t len = strlen(kind_names[k]);
		const char *p = arg + len;

		if (strncmp(arg, kind_names[k], len))
			continue;
		if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]))
			return -1;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || *end || v > UINT32_MAX)
			return -1;
		*kind = k;
		*index = v;
		return 0;
	}
	return -1;
}

static int bad_dev(const char *arg)
{
	fprintf(stderr,
		"kipcctl: %s: no such device (devices are pipeN, mqN and shmN, or %s/NAME)\n",
		arg, KIPC_DEV_DIR);
	return EXIT_NODEV;
}

static struct nlmsghdr *dev_request(struct knl *nl, uint8_t cmd,
				    uint32_t kind, uint32_t index)
{
	struct nlmsghdr *nlh = knl_request(nl, cmd, 0);

	mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	return nlh;
}

struct list_ctx {
	bool first;
	int count;
};

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *ctx = data;
	struct msg m;

	if (parse_msg(nlh, &m) < 0)
		return MNL_CB_ERROR;
	if (json) {
		printf("%s", ctx->first ? "" : ",");
		print_dev_json(&m);
	} else {
		print_list_row(&m);
	}
	ctx->first = false;
	ctx->count++;
	return MNL_CB_OK;
}

static int cmd_list(struct knl *nl, int argc, char **argv)
{
	struct list_ctx ctx = { .first = true };
	struct nlmsghdr *nlh;
	uint32_t kind = 0;
	int ret;

	if (argc > 1) {
		fprintf(stderr, "usage: kipcctl list [pipe|mq|shm]\n");
		return EXIT_USAGE;
	}
	if (argc == 1) {
		for (kind = 1; kind <= KIPC_KIND_MAX; kind++)
			if (!strcmp(argv[0], kind_names[kind]))
				break;
		if (kind > KIPC_KIND_MAX) {
			fprintf(stderr, "kipcctl: %s: not a kind (pipe, mq, shm)\n",
				argv[0]);
			return EXIT_USAGE;
		}
	}
	ret = need_nl(nl);
	if (ret)
		return ret;
	nlh = knl_request(nl, KIPC_CMD_GET_DEV, NLM_F_DUMP);
	if (kind)
		mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	if (json)
		putchar('[');
	else
		print_list_header();
	ret = knl_run(nl, nlh, list_cb, &ctx);
	if (json)
		printf("]\n");
	if (ret < 0)
		return request_error(nl, "list", ret);
	return EXIT_OK;
}

static int show_cb(const struct nlmsghdr *nlh, void *data)
{
	struct msg m;

	(void)data;
	if (parse_msg(nlh, &m) < 0)
		return MNL_CB_ERROR;
	if (json) {
		print_dev_json(&m);
		putchar('\n');
	} else {
		print_dev_text(&m);
	}
	return MNL_CB_OK;
}

static int cmd_show(struct knl *nl, int argc, char **argv)
{
	uint32_t kind, index;
	char what[160];
	int ret;

	if (argc != 1) {
		fprintf(stderr, "usage: kipcctl show DEVICE\n");
		return EXIT_USAGE;
	}
	if (parse_dev(argv[0], &kind, &index))
		return bad_dev(argv[0]);
	ret = need_nl(nl);
	if (ret)
		return ret;
	ret = knl_run(nl, dev_request(nl, KIPC_CMD_GET_DEV, kind, index),
		      show_cb, NULL);
	snprintf(what, sizeof(what), "%s", argv[0]);
	return ret < 0 ? request_error(nl, what, ret) : EXIT_OK;
}

/* Decimal, with an optional binary suffix: 64k, 1M, 2G. */
static int parse_value(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1])
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static const struct set_key {
	const char *key;
	int attr;
	bool u32;
} set_keys[] = {
	{ "size", KIPC_A_CAPACITY, false },
	{ "capacity", KIPC_A_CAPACITY, false },
	{ "max-bytes", KIPC_A_CAPACITY, false },
	{ "max-msg-size", KIPC_A_MQ_MAX_MSG_SIZE, true },
	{ "max-msgs", KIPC_A_MQ_MAX_MSGS, true },
	{ "high-water", KIPC_A_HIGH_WATER, false },
};

static int cmd_set(struct knl *nl, int argc, char **argv)
{
	const struct set_key *keys[ARRAY_SIZE(set_keys)];
	uint64_t vals[ARRAY_SIZE(set_keys)];
	bool seen[KIPC_A_MAX + 1] = { false };
	struct nlmsghdr *nlh;
	uint32_t kind, index;
	size_t n = 0, j;
	char what[160];
	int i, ret;

	if (argc < 3 || (argc - 1) % 2) {
		fprintf(stderr,
			"usage: kipcctl set DEVICE KEY VALUE [KEY VALUE]...\n"
			"keys: size (or capacity, max-bytes), max-msg-size, max-msgs, high-water\n");
		return EXIT_USAGE;
	}
	if (parse_dev(argv[0], &kind, &index))
		return bad_dev(argv[0]);
	for (i = 1; i < argc; i += 2) {
		const struct set_key *k = NULL;

		for (j = 0; j < ARRAY_SIZE(set_keys); j++)
			if (!strcmp(argv[i], set_keys[j].key))
				k = &set_keys[j];
		if (!k) {
			fprintf(stderr,
				"kipcctl: %s: unknown key (size, capacity, max-bytes, max-msg-size, max-msgs, high-water)\n",
				argv[i]);
			return EXIT_USAGE;
		}
		if (seen[k->attr]) {
			fprintf(stderr, "kipcctl: %s: given twice\n", argv[i]);
			return EXIT_USAGE;
		}
		seen[k->attr] = true;
		if (parse_value(argv[i + 1], &vals[n]) ||
		    (k->u32 && vals[n] > UINT32_MAX)) {
			fprintf(stderr,
				"kipcctl: %s %s: invalid value (a number%s, optionally with k, M or G)\n",
				argv[i], argv[i + 1],
				k->u32 ? " below 2^32" : "");
			return EXIT_USAGE;
		}
		keys[n++] = k;
	}

	ret = need_nl(nl);
	if (ret)
		return ret;
	nlh = dev_request(nl, KIPC_CMD_SET_DEV, kind, index);
	for (j = 0; j < n; j++) {
		if (keys[j]->u32)
			mnl_attr_put_u32(nlh, keys[j]->attr, vals[j]);
		else
			mnl_attr_put_u64(nlh, keys[j]->attr, vals[j]);
	}
	/* The reply is the device's new state: show what was granted. */
	ret = knl_run(nl, nlh, show_cb, NULL);
	snprintf(what, sizeof(what), "set %s", argv[0]);
	return ret < 0 ? request_error(nl, what, ret) : EXIT_OK;
}

static int cmd_flag(struct knl *nl, int argc, char **argv, const char *name,
		    int attr)
{
	struct nlmsghdr *nlh;
	uint32_t kind, index;
	char what[160];
	int ret;

	if (argc != 1) {
		fprintf(stderr, "usage: kipcctl %s DEVICE\n", name);
		return EXIT_USAGE;
	}
	if (parse_dev(argv[0], &kind, &index))
		return bad_dev(argv[0]);
	ret = need_nl(nl);
	if (ret)
		return ret;
	nlh = dev_request(nl, KIPC_CMD_SET_DEV, kind, index);
	mnl_attr_put(nlh, attr, 0, NULL);
	ret = knl_run(nl, nlh, NULL, NULL);
	snprintf(what, sizeof(what), "%s %s", name, argv[0]);
	return ret < 0 ? request_error(nl, what, ret) : EXIT_OK;
}

static int info_cb(const struct nlmsghdr *nlh, void *data)
{
	static const int order[] = {
		KIPC_A_NPIPES,	       KIPC_A_NMQS,
		KIPC_A_NSHMS,	       KIPC_A_PIPE_MAX_SIZE,
		KIPC_A_MQ_MAX_BYTES_LIMIT, KIPC_A_SHM_MAX_SIZE,
	};
	struct knl *nl = data;
	bool first = true;
	struct msg m;
	size_t i;

	if (parse_msg(nlh, &m) < 0)
		return MNL_CB_ERROR;
	if (json) {
		putchar('{');
		json_key(&first, "version");
		json_string(m.str[KIPC_A_VERSION] ? m.str[KIPC_A_VERSION] : "");
		json_key(&first, "family_id");
		printf("%u", nl->family);
		for (i = 0; i < ARRAY_SIZE(order); i++) {
			if (!m.has[order[i]])
				continue;
			json_key(&first, attr_fields[order[i]].key);
			printf("%" PRIu64, m.val[order[i]]);
		}
		json_key(&first, "dev_mode");
		printf("\"%04" PRIo64 "\"}\n", m.val[KIPC_A_DEV_MODE]);
		return MNL_CB_OK;
	}
	printf("kipc %s (generic netlink family \"%s\", id %u)\n",
	       m.str[KIPC_A_VERSION] ? m.str[KIPC_A_VERSION] : "?",
	       KIPC_GENL_NAME, nl->family);
	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (m.has[order[i]])
			printf("  %-22s %" PRIu64 "\n",
			       attr_fields[order[i]].label, m.val[order[i]]);
	printf("  %-22s %04" PRIo64 "\n", attr_fields[KIPC_A_DEV_MODE].label,
	       m.val[KIPC_A_DEV_MODE]);
	return MNL_CB_OK;
}

static int cmd_info(struct knl *nl, int argc, char **argv)
{
	int ret;

	(void)argv;
	if (argc) {
		fprintf(stderr, "usage: kipcctl info\n");
		return EXIT_USAGE;
	}
	ret = need_nl(nl);
	if (ret)
		return ret;
	ret = knl_run(nl, knl_request(nl, KIPC_CMD_GET_INFO, 0), info_cb, nl);
	return ret < 0 ? request_error(nl, "info", ret) : EXIT_OK;
}

struct monitor_ctx {
	long count;	/* events still to print; < 0: no limit */
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);
	struct monitor_ctx *ctx = data;
	bool first = true;
	struct msg m;

	if (genl->cmd != KIPC_CMD_EVENT || !ctx->count)
		return MNL_CB_OK;
	if (parse_msg(nlh, &m) < 0)
		return MNL_CB_ERROR;
	if (json) {
		putchar('{');
		json_key(&first, "name");
		json_string(m.str[KIPC_A_NAME] ? m.str[KIPC_A_NAME] : "");
		json_key(&first, "kind");
		json_string(kind_name(m.val[KIPC_A_KIND]));
		json_key(&first, "index");
		printf("%" PRIu64, m.val[KIPC_A_INDEX]);
		json_key(&first, "event");
		json_string(event_name(m.val[KIPC_A_EVENT]));
		json_key(&first, "fill");
		printf("%" PRIu64 "}\n", m.val[KIPC_A_FILL]);
	} else {
		printf("%s %s fill %" PRIu64 "\n",
		       m.str[KIPC_A_NAME] ? m.str[KIPC_A_NAME] : "?",
		       event_name(m.val[KIPC_A_EVENT]), m.val[KIPC_A_FILL]);
	}
	fflush(stdout);
	if (ctx->count > 0)
		ctx->count--;
	return MNL_CB_OK;
}

static int cmd_monitor(struct knl *nl, int argc, char **argv)
{
	struct monitor_ctx ctx = { .count = -1 };
	struct pollfd pfd[2];
	bool stop = false;
	sigset_t mask;
	char *end;
	int ret;

	if (argc == 2 && !strcmp(argv[0], "--count")) {
		ctx.count = strtol(argv[1], &end, 10);
		if (*end || ctx.count <= 0 || argv[1][0] == '\0')
			argc = -1;
		else
			argc = 0;
	}
	if (argc) {
		fprintf(stderr, "usage: kipcctl monitor [--count N]\n");
		return EXIT_USAGE;
	}
	ret = need_nl(nl);
	if (ret)
		return ret;

	/* Signals become a readable fd: no race between a check and poll. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return EXIT_KERNEL;
	pfd[1].fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (pfd[1].fd < 0) {
		perror("kipcctl: signalfd");
		return EXIT_KERNEL;
	}
	pfd[1].events = POLLIN;
	pfd[0].fd = mnl_socket_get_fd(nl->sock);
	pfd[0].events = POLLIN;

	ret = knl_join_events(nl);
	if (ret == -EPERM) {
		fprintf(stderr,
			"kipcctl: monitor: permission denied: the \"%s\" group needs CAP_NET_ADMIN\n",
			KIPC_GENL_MCGRP_EVENTS);
		return EXIT_PERM;
	}
	if (ret < 0) {
		fprintf(stderr, "kipcctl: cannot join the \"%s\" group: %s\n",
			KIPC_GENL_MCGRP_EVENTS, strerror(-ret));
		return EXIT_KERNEL;
	}
	fprintf(stderr, "kipcctl: listening for kipc events\n");

	while (ctx.count) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("kipcctl: poll");
			return EXIT_KERNEL;
		}
		/*
		 * On a signal, print what is already queued, then stop: an
		 * event sent before the signal is not lost.
		 */
		stop = pfd[1].revents != 0;
		if (!pfd[0].revents && !stop)
			continue;
		do {
			ret = knl_recv_events(nl, event_cb, &ctx, true);
			if (ret == -ENOBUFS)
				fprintf(stderr,
					"kipcctl: events were lost (receive buffer full)\n");
			else if (ret < 0 && ret != -EAGAIN)
				break;
		} while (ret != -EAGAIN && ctx.count);
		if (ret < 0 && ret != -EAGAIN) {
			fprintf(stderr, "kipcctl: receiving events: %s\n",
				strerror(-ret));
			return EXIT_KERNEL;
		}
		if (stop)
			break;
	}
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kipcctl [-j] COMMAND [ARGS]\n"
		"\n"
		"Look at and tune the kipc devices (generic netlink family \"kipc\").\n"
		"\n"
		"commands:\n"
		"  list [pipe|mq|shm]     every device, one line each\n"
		"  show DEVICE            a device's state and counters\n"
		"  set DEVICE KEY VALUE...  change a device (CAP_NET_ADMIN), keys:\n"
		"      size | capacity | max-bytes   pipe ring, queue bytes or shm size\n"
		"      max-msg-size | max-msgs       message queue limits\n"
		"      high-water                    fill that raises an event (0: off)\n"
		"    values: decimal, optionally with k, M or G (x1024);\n"
		"    above the module maxima also needs CAP_SYS_RESOURCE\n"
		"  flush DEVICE           drop everything buffered (CAP_NET_ADMIN)\n"
		"  reset DEVICE           zero the counters (CAP_NET_ADMIN)\n"
		"  monitor [--count N]    print events until SIGINT or SIGTERM\n"
		"  info                   module version, device counts, maxima\n"
		"  help                   this text\n"
		"\n"
		"DEVICE: pipe0, mq1, shm0, ... or /dev/kipc/pipe0\n"
		"options:\n"
		"  -j, --json             JSON output\n"
		"  -h, --help             this text\n"
		"  -V, --version          the version of kipcctl\n"
		"exit status: 0 ok, 1 usage, 2 the kernel refused (or other failure),\n"
		"  3 module not loaded, 4 no such device, 5 permission denied\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* getopt's own messages name argv[0]: the same name as ours. */
	static char prog[] = "kipcctl";
	static struct knl nl;
	const char *cmd;
	int c, i, ret;

	/* "+": options end at the command; its own arguments follow. */
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("kipcctl %s\n", KIPC_VERSION_STRING);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "list") && strcmp(cmd, "show") && strcmp(cmd, "set") &&
	    strcmp(cmd, "flush") && strcmp(cmd, "reset") &&
	    strcmp(cmd, "monitor") && strcmp(cmd, "info")) {
		fprintf(stderr, "kipcctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}

	/* -j may also follow the command: "kipcctl show pipe0 -j". */
	for (c = 0, i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		else
			argv[c++] = argv[i];
	}
	argc = c;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(cmd, "list"))
		ret = cmd_list(&nl, argc, argv);
	else if (!strcmp(cmd, "show"))
		ret = cmd_show(&nl, argc, argv);
	else if (!strcmp(cmd, "set"))
		ret = cmd_set(&nl, argc, argv);
	else if (!strcmp(cmd, "flush"))
		ret = cmd_flag(&nl, argc, argv, "flush", KIPC_A_FLUSH);
	else if (!strcmp(cmd, "reset"))
		ret = cmd_flag(&nl, argc, argv, "reset", KIPC_A_RESET_STATS);
	else if (!strcmp(cmd, "monitor"))
		ret = cmd_monitor(&nl, argc, argv);
	else
		ret = cmd_info(&nl, argc, argv);
	knl_close(&nl);
	return ret;
}
