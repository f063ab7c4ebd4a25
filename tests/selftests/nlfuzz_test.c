// SPDX-License-Identifier: GPL-2.0
/*
 * The "kipc" generic netlink family under attack: thousands of requests
 * with random attributes, requests whose attributes run past the message,
 * a flood of requests nobody reads while another process keeps changing a
 * device; then proof that the family and the devices are unharmed.
 *
 * netlink_test.c checks each documented refusal one by one; this test
 * checks the rules that must hold for every request: exactly one answer,
 * a well-formed reply or an errno of a known set, an extack message with
 * every refusal, nothing applied by a refused request.
 *
 * Each case prints a figure line ("# <case>: N requests, E errors, M with
 * extack") for Documentation/testing.md.  The random case prints its seed;
 * KIPC_FUZZ_SEED replays it, KIPC_FUZZ_ROUNDS changes its length.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"
#include "kipc_caps.h"
#include "kipc_nl.h"

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define FUZZ_SEED	0x6b697063ULL	/* "kipc" */
#define FUZZ_ROUNDS	5000
#define FLOOD_REQS	20000
/* Large enough for any datagram the kernel sends (a dump's is <= 32 KiB). */
#define RX_SIZE		65536
#define MAX_ERRNO	256
/* A lost answer fails the test instead of hanging it. */
#define ANSWER_TIMEOUT	10

/* --- small helpers ------------------------------------------------------ */

static unsigned long param(const char *name, unsigned long dflt)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kipc/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return dflt;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtoul(buf, NULL, 10) : dflt;
}

static unsigned long env_or(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* splitmix64: tiny, and the same sequence everywhere for a seed. */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd_below(unsigned int n)
{
	return rnd() % n;
}

/* --- one request, one answer ------------------------------------------- */

/* What came back for one request. */
struct answer {
	int err;		/* 0, or the errno of the error ack / DONE */
	int terminals;		/* error acks and NLMSG_DONEs */
	int data;		/* data messages */
	int bad;		/* malformed data messages or attributes */
	int foreign;		/* messages of another sequence or port */
	int late;		/* messages after the end of the answer */
	uint8_t cmd;		/* of the last data message */
	bool dev;		/* it had kind, index and name */
	uint64_t capacity;	/* of the last device message */
	uint32_t kind, index;
	char msg[256];		/* extack message, or "" */
};

static int stat_cb(const struct nlattr *a, void *data)
{
	struct answer *ans = data;

	if (kipc_nl_stat_check(a) < 0)
		ans->bad++;
	return MNL_CB_OK;
}

struct seen {
	struct answer *ans;
	bool has[KIPC_A_MAX + 1];
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct seen *s = data;
	uint16_t t = mnl_attr_get_type(a);
	int ok = kipc_nl_attr_check(a);

	if (!ok)
		return MNL_CB_OK;
	if (ok < 0 || s->has[t]) {
		s->ans->bad++;
		return MNL_CB_OK;
	}
	s->has[t] = true;
	if (t == KIPC_A_STATS &&
	    mnl_attr_parse_nested(a, stat_cb, s->ans) < 0)
		s->ans->bad++;
	if (t == KIPC_A_CAPACITY)
		s->ans->capacity = mnl_attr_get_u64(a);
	if (t == KIPC_A_KIND)
		s->ans->kind = mnl_attr_get_u32(a);
	if (t == KIPC_A_INDEX)
		s->ans->index = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static void parse_data(const struct nlmsghdr *nlh, struct answer *ans)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	struct seen s = { .ans = ans };

	ans->data++;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
	    mnl_attr_parse(nlh, sizeof(*g), attr_cb, &s) < 0) {
		ans->bad++;
		return;
	}
	ans->cmd = g->cmd;
	ans->dev = s.has[KIPC_A_KIND] && s.has[KIPC_A_INDEX] &&
		   s.has[KIPC_A_NAME];
}

/* The extended ack attributes of an error ack or a DONE. */
static void parse_extack(const struct nlmsghdr *nlh, size_t off,
			 struct answer *ans)
{
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, nlh, off)
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(ans->msg, sizeof(ans->msg), "%s",
				 mnl_attr_get_str(a));
}

/* One message of the answer; true when it ends the answer. */
static bool take(const struct nlmsghdr *nlh, struct kipc_nl *nl,
		 uint32_t seq, struct answer *ans)
{
	if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid) {
		ans->foreign++;
		return false;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		ans->terminals++;
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
			ans->bad++;
			return true;
		}
		ans->err = -e->error;
		/* NETLINK_CAP_ACK: the request is not echoed. */
		parse_extack(nlh, sizeof(*e), ans);
		return true;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		int err = 0;

		ans->terminals++;
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
			memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		ans->err = -err;
		parse_extack(nlh, sizeof(err), ans);
		return true;
	}
	if (nlh->nlmsg_type == nl->family)
		parse_data(nlh, ans);
	else
		ans->bad++;
	return false;
}

static char rx[RX_SIZE];

/*
 * Sends @len bytes of @req and reads its answer: data messages up to the
 * ack or the end of the dump.  A doit must carry NLM_F_ACK, so that its
 * answer also ends in an ack.  Then the socket must be empty: anything
 * more would be a second answer.  0, or -errno of the socket itself.
 */
static int exchange(struct kipc_nl *nl, const struct nlmsghdr *req,
		    size_t len, struct answer *ans)
{
	int fd = mnl_socket_get_fd(nl->sock);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	bool done = false;

	memset(ans, 0, sizeof(*ans));
	if (sendto(fd, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	while (!done) {
		ssize_t got = recv(fd, rx, sizeof(rx), MSG_TRUNC);
		const struct nlmsghdr *nlh = (const void *)rx;
		int n = got;

		if (got < 0)
			return -errno;
		if (got > (ssize_t)sizeof(rx))
			return -EMSGSIZE;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
			if (done)
				ans->late++;
			else
				done = take(nlh, nl, req->nlmsg_seq, ans);
		}
		if (n)
			ans->bad++;
	}
	/* Exactly one answer: nothing follows it. */
	for (;;) {
		ssize_t n = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		ans->late++;
	}
}

/* A socket whose answers cannot go missing unnoticed. */
static struct kipc_nl *open_nl(void)
{
	struct timeval tv = { .tv_sec = ANSWER_TIMEOUT };
	struct kipc_nl *nl = kipc_nl_open(false);

	if (nl && setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET,
			     SO_RCVTIMEO, &tv, sizeof(tv))) {
		kipc_nl_close(nl);
		return NULL;
	}
	return nl;
}

static struct nlmsghdr *req(struct kipc_nl *nl, uint8_t cmd, uint16_t flags)
{
	return kipc_nl_req(nl, nl->family, cmd, flags);
}

static int get_dev(struct kipc_nl *nl, uint32_t kind, uint32_t index,
		   struct answer *ans)
{
	struct nlmsghdr *nlh = req(nl, KIPC_CMD_GET_DEV, NLM_F_ACK);
	int ret;

	mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	ret = exchange(nl, nlh, nlh->nlmsg_len, ans);
	return ret ?: -ans->err;
}

/* --- errnos ------------------------------------------------------------- */

/*
 * The errnos a request may be refused with, and why each is possible:
 *   EINVAL      malformed: lengths, unknown or foreign attributes, a
 *               stray NLA_F_NESTED, trailing bytes, a bad name, name with
 *               kind, nothing to change, mq limits on another kind
 *   ERANGE      a policy range: kind not 1..3, capacity or an mq limit 0,
 *               a flag with a payload
 *   ENODEV      an index past the kind's last device
 *   EPERM       a size above the module maximum (CAP_SYS_RESOURCE is
 *               dropped)
 *   EOPNOTSUPP  SET_DEV or GET_INFO as a dump: the genetlink core refuses
 *               it before the family sees it, without a message
 * The kinds' EBUSY (a pipe shrunk below what it buffers, a mapped shm)
 * and ENOMEM cannot happen here: the fuzz buffers and maps nothing, and
 * the sizes stay within the module maxima.
 */
static bool errno_allowed(int err)
{
	switch (err) {
	case EINVAL:
	case ERANGE:
	case ENODEV:
	case EPERM:
	case EOPNOTSUPP:
		return true;
	}
	return false;
}

struct tally {
	unsigned long reqs, errs, extack, ok[KIPC_CMD_MAX + 1], dumps;
	unsigned long by_errno[MAX_ERRNO];
	int failures;		/* requests that broke a rule */
};

static void print_errnos(const char *what, const struct tally *t)
{
	char line[512];
	size_t off = 0;
	int e;

	line[0] = '\0';
	for (e = 1; e < MAX_ERRNO; e++)
		if (t->by_errno[e])
			off += snprintf(line + off, sizeof(line) - off,
					" %s %lu", strerrorname_np(e) ?: "?",
					t->by_errno[e]);
	fprintf(stderr, "# %s: errnos:%s\n", what, line);
}

/*
 * The cases share nothing but a longer timeout than the harness default:
 * each opens its own sockets.
 */
FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

static int restore_defaults(struct kipc_nl *nl, struct answer *ans);

/* --- 1. random attributes ---------------------------------------------- */

/* The payload size the UAPI header gives a type, or -1 (string, nest). */
static int right_size(unsigned int type)
{
	if (type == KIPC_A_FLUSH || type == KIPC_A_RESET_STATS)
		return 0;
	if (type > KIPC_A_MAX || !kipc_nl_attr_type[type])
		return -1;
	switch (kipc_nl_attr_type[type]) {
	case MNL_TYPE_U32:
		return 4;
	case MNL_TYPE_U64:
		return 8;
	default:
		return -1;
	}
}

/* Values that reach the interesting branches more often than chance. */
static uint64_t some_value(unsigned int type)
{
	static const uint64_t sizes[] = {
		0, 1, 2, 100, 4095, 4096, 5000, 8192, 65536, 131072,
		1 << 20, (1 << 20) + 1, 64 << 20, 1ULL << 31, 1ULL << 32,
		1ULL << 40, UINT32_MAX, UINT64_MAX,
	};

	if (type == KIPC_A_KIND && rnd_below(4))
		return 1 + rnd_below(KIPC_KIND_MAX);
	if (type == KIPC_A_INDEX && rnd_below(4))
		return rnd_below(5);
	if (rnd_below(4))
		return sizes[rnd_below(ARRAY_SIZE(sizes))];
	return rnd();
}

static void put_name(struct nlmsghdr *nlh, uint16_t type)
{
	static const char *const names[] = {
		"pipe0", "pipe1", "mq0", "mq3", "shm0", "shm1", "pipe",
		"pipe00", "pipe99999", "mq-1", "", "shm0x", "fifo0",
		"pipe4294967296",
	};

	mnl_attr_put_strz(nlh, type,
			  names[rnd_below(ARRAY_SIZE(names))]);
}

/* One attribute of random type, length and payload. */
static void put_random_attr(struct nlmsghdr *nlh, unsigned int type)
{
	uint16_t wire = type | (rnd_below(16) ? 0 : NLA_F_NESTED);
	int size = right_size(type);
	uint8_t buf[40];
	size_t len, i;

	if (type == KIPC_A_NAME && rnd_below(2)) {
		put_name(nlh, wire);
		return;
	}
	if (size >= 0 && rnd_below(3)) {
		uint64_t v = some_value(type);
		uint32_t v32 = v;

		mnl_attr_put(nlh, wire, size, size == 4 ? (void *)&v32 : &v);
		return;
	}
	len = rnd_below(sizeof(buf) + 1);
	for (i = 0; i < len; i++)
		buf[i] = rnd();
	mnl_attr_put(nlh, wire, len, buf);
}

/*
 * A request of a random command with 0..6 attributes.  Half of them name
 * a device properly first (kind, then index), and then take three in four of
 * their attributes among those SET_DEV changes, so that the lookup passes and
 * what follows reaches the kinds' SET paths, not only the policy.
 */
static struct nlmsghdr *random_req(struct kipc_nl *nl, bool *dump)
{
	static const uint8_t cmds[] = { KIPC_CMD_GET_DEV, KIPC_CMD_SET_DEV,
					KIPC_CMD_GET_INFO };
	/* What SET_DEV changes: a device named is likely to be changed. */
	static const uint16_t settable[] = {
		KIPC_A_CAPACITY, KIPC_A_MQ_MAX_MSG_SIZE, KIPC_A_MQ_MAX_MSGS,
		KIPC_A_HIGH_WATER, KIPC_A_FLUSH, KIPC_A_RESET_STATS,
	};
	uint8_t cmd = cmds[rnd_below(3)];
	unsigned int n = rnd_below(7), i = 0;
	struct nlmsghdr *nlh;

	*dump = !rnd_below(5);
	nlh = req(nl, cmd, *dump ? NLM_F_DUMP : NLM_F_ACK);
	if (n >= 2 && rnd_below(2)) {
		mnl_attr_put_u32(nlh, KIPC_A_KIND,
				 1 + rnd_below(KIPC_KIND_MAX));
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, rnd_below(3));
		i = 2;
	}
	for (; i < n; i++)
		put_random_attr(nlh, i > 1 && rnd_below(4) ?
					     settable[rnd_below(6)] :
					     rnd_below(KIPC_A_MAX + 4));
	return nlh;
}

/* Prints a request that broke a rule, so it can be turned into a case. */
static void dump_req(const struct nlmsghdr *nlh, const char *why,
		     const struct answer *ans)
{
	const uint8_t *p = (const void *)nlh;
	char hex[3 * 512 + 1];
	size_t i, off = 0;

	for (i = 0; i < nlh->nlmsg_len && i < 512; i++)
		off += snprintf(hex + off, sizeof(hex) - off, "%02x ", p[i]);
	fprintf(stderr,
		"# FUZZ FAILURE: %s: cmd %u flags %#x err %d (%s) msg \"%s\" data %d terminals %d bad %d foreign %d late %d\n# request: %s\n",
		why, ((const struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd,
		nlh->nlmsg_flags, ans->err, strerror(ans->err), ans->msg,
		ans->data, ans->terminals, ans->bad, ans->foreign, ans->late,
		hex);
}

/* The rules every answer keeps; NULL, or the one it broke. */
static const char *check_answer(const struct nlmsghdr *sent, bool dump,
				const struct answer *ans, struct tally *t)
{
	uint8_t cmd = ((const struct genlmsghdr *)
			       mnl_nlmsg_get_payload(sent))->cmd;

	if (ans->terminals != 1 || ans->late || ans->foreign)
		return "not exactly one answer";
	if (ans->bad)
		return "malformed reply";
	if (ans->err) {
		t->errs++;
		t->by_errno[ans->err < MAX_ERRNO ? ans->err : 0]++;
		if (ans->msg[0])
			t->extack++;
		if (ans->data)
			return "data before an error";
		if (!errno_allowed(ans->err))
			return "errno not in the allowed set";
		/* The genetlink core's refusal, before the family. */
		if (ans->err != EOPNOTSUPP && !ans->msg[0])
			return "error without an extack message";
		return NULL;
	}
	t->ok[cmd]++;
	if (dump) {
		t->dumps++;
		/* Only GET_DEV dumps; every message is a device. */
		if (cmd != KIPC_CMD_GET_DEV || ans->cmd != KIPC_CMD_GET_DEV ||
		    !ans->data || !ans->dev)
			return "bad dump";
		return NULL;
	}
	if (ans->data != 1 || ans->cmd != cmd)
		return "a doit without exactly one reply";
	if (cmd != KIPC_CMD_GET_INFO && !ans->dev)
		return "a device reply without kind, index and name";
	return NULL;
}

TEST_F_TIMEOUT(fuzz, random_attributes, 120)
{
	unsigned long seed = env_or("KIPC_FUZZ_SEED", FUZZ_SEED);
	unsigned long rounds = env_or("KIPC_FUZZ_ROUNDS", FUZZ_ROUNDS);
	struct tally *t = calloc(1, sizeof(*t));
	struct timespec t0, t1;
	struct answer ans;
	struct kipc_nl *nl;
	unsigned long i;

	ASSERT_NE(NULL, t);
	/* CAP_NET_ADMIN stays: SET_DEV really runs, within the maxima. */
	ASSERT_EQ(0, drop_sys_resource());
	nl = open_nl();
	ASSERT_NE(NULL, nl);
	fprintf(stderr,
		"# random attributes: seed %#lx (KIPC_FUZZ_SEED), %lu rounds\n",
		seed, rounds);
	rnd_state = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		static uint8_t sent[8192];
		struct nlmsghdr *nlh;
		const char *why;
		bool dump;

		nlh = random_req(nl, &dump);
		/* Replies overwrite nl->buf; the request is kept for a report. */
		memcpy(sent, nlh, nlh->nlmsg_len);
		ASSERT_EQ(0, exchange(nl, nlh, nlh->nlmsg_len, &ans))
		TH_LOG("request %lu: the socket failed", i);
		t->reqs++;
		why = check_answer((const void *)sent, dump, &ans, t);
		if (!why)
			continue;
		t->failures++;
		if (t->failures <= 10)
			dump_req((const void *)sent, why, &ans);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
		"# random attributes: %lu requests, %lu errors, %lu with extack\n",
		t->reqs, t->errs, t->extack);
	fprintf(stderr, "# random attributes: %.1f s\n",
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr,
		"# random attributes: accepted GET_DEV %lu, SET_DEV %lu, GET_INFO %lu (%lu dumps)\n",
		t->ok[KIPC_CMD_GET_DEV], t->ok[KIPC_CMD_SET_DEV],
		t->ok[KIPC_CMD_GET_INFO], t->dumps);
	print_errnos("random attributes", t);
	EXPECT_EQ(0, t->failures)
	TH_LOG("requests that broke a rule: see FUZZ FAILURE above (seed %#lx)",
	       seed);
	/* The fuzz reached the SET paths, not just the policy. */
	EXPECT_LT(0U, t->ok[KIPC_CMD_SET_DEV]);
	/* Also when this case runs alone (-r): the next test finds defaults. */
	ASSERT_EQ(0, restore_defaults(nl, &ans))
	TH_LOG("kind %u index %u: %s", ans.kind, ans.index, ans.msg);
	kipc_nl_close(nl);
	free(t);
}

/* --- 2. truncated attributes ------------------------------------------- */

enum cut {
	CUT_PAYLOAD,	/* message ends inside the last attribute */
	CUT_SHORT_LEN,	/* last nla_len below NLA_HDRLEN */
	CUT_LONG_LEN,	/* last nla_len past nlmsg_len */
};

static const char *const cut_names[] = { "payload cut", "nla_len < 4",
					 "nla_len > nlmsg_len" };

/* The last attribute of @nlh (built with mnl_attr_put, so aligned). */
static struct nlattr *last_attr(struct nlmsghdr *nlh)
{
	struct nlattr *a, *last = NULL;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		last = a;
	return last;
}

/* Breaks @nlh as @cut says; returns the bytes to send. */
static size_t cut_req(struct nlmsghdr *nlh, enum cut cut, uint16_t short_len)
{
	struct nlattr *a = last_attr(nlh);

	switch (cut) {
	case CUT_PAYLOAD:
		/* Keep nla_len; send 2 bytes fewer than it covers. */
		nlh->nlmsg_len -= 2;
		break;
	case CUT_SHORT_LEN:
		a->nla_len = short_len;
		break;
	case CUT_LONG_LEN:
		a->nla_len = nlh->nlmsg_len + 4;
		break;
	}
	return nlh->nlmsg_len;
}

enum good_req { G_GET_DEV, G_SET_DEV, G_GET_INFO };

static const char *const good_names[] = { "GET_DEV pipe0", "SET_DEV pipe0",
					  "GET_INFO" };

static struct nlmsghdr *good_req(struct kipc_nl *nl, enum good_req g,
				 uint64_t capacity)
{
	struct nlmsghdr *nlh;

	switch (g) {
	case G_GET_DEV:
		nlh = req(nl, KIPC_CMD_GET_DEV, NLM_F_ACK);
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		return nlh;
	case G_SET_DEV:
		nlh = req(nl, KIPC_CMD_SET_DEV, NLM_F_ACK);
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, capacity);
		return nlh;
	case G_GET_INFO:
	default:
		/* GET_INFO takes none: the cut must win over the policy. */
		nlh = req(nl, KIPC_CMD_GET_INFO, NLM_F_ACK);
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		return nlh;
	}
}

/* Each cut; nla_len < NLA_HDRLEN in three variants. */
static const struct {
	enum cut cut;
	uint16_t short_len;
} cuts[] = {
	{ CUT_PAYLOAD, 0 },  { CUT_SHORT_LEN, 0 }, { CUT_SHORT_LEN, 1 },
	{ CUT_SHORT_LEN, 3 }, { CUT_LONG_LEN, 0 },
};

TEST_F_TIMEOUT(fuzz, truncated_attributes, 120)
{
	unsigned long reqs = 0, errs = 0, extack = 0;
	struct kipc_nl *nl = open_nl();
	struct nlmsghdr *nlh;
	struct answer ans;
	uint64_t before, other;
	size_t i;
	int g;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &ans)) TH_LOG("%s", ans.msg);
	before = ans.capacity;
	/* A size the SET would really change the pipe to, if applied. */
	other = before == 131072 ? 65536 : 131072;

	/* Uncut, the GET works: what is refused below is the cut. */
	nlh = good_req(nl, G_GET_DEV, 0);
	ASSERT_EQ(0, exchange(nl, nlh, nlh->nlmsg_len, &ans));
	ASSERT_EQ(0, ans.err) TH_LOG("%s", ans.msg);

	for (g = G_GET_DEV; g <= G_GET_INFO; g++) {
		for (i = 0; i < ARRAY_SIZE(cuts); i++) {
			const char *what = cut_names[cuts[i].cut];
			size_t len;

			nlh = good_req(nl, g, other);
			len = cut_req(nlh, cuts[i].cut, cuts[i].short_len);
			ASSERT_EQ(0, exchange(nl, nlh, len, &ans));
			reqs++;
			errs += !!ans.err;
			extack += !!ans.msg[0];
			/* One answer, an error ack, nothing else. */
			EXPECT_EQ(1, ans.terminals);
			EXPECT_EQ(0, ans.late + ans.foreign + ans.bad);
			EXPECT_EQ(0, ans.data)
			TH_LOG("%s, %s: answered with data", good_names[g],
			       what);
			EXPECT_EQ(EINVAL, ans.err)
			TH_LOG("%s, %s (%u): %s", good_names[g], what,
			       cuts[i].short_len, ans.msg);
			EXPECT_NE('\0', ans.msg[0])
			TH_LOG("%s, %s: no extack message", good_names[g],
			       what);
			TH_LOG("%s, %s: %s", good_names[g], what, ans.msg);

			/* Nothing applied: the pipe keeps its size. */
			ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &ans));
			EXPECT_EQ(before, ans.capacity)
			TH_LOG("%s, %s: applied", good_names[g], what);
		}
	}
	fprintf(stderr,
		"# truncated: %lu requests, %lu errors, %lu with extack\n",
		reqs, errs, extack);
	kipc_nl_close(nl);
}

/* --- 3. flood ----------------------------------------------------------- */

/* Child: SET_DEV RESET_STATS on pipe1 until @stop_fd is readable. */
static void reset_loop(int stop_fd, int ready_fd)
{
	struct kipc_nl *nl;
	unsigned long n = 0;
	bool first = true;

	/* However the parent fares, this child ends. */
	alarm(120);
	nl = open_nl();
	if (!nl)
		_exit(10);
	for (;;) {
		struct nlmsghdr *nlh = req(nl, KIPC_CMD_SET_DEV, NLM_F_ACK);
		struct answer ans;
		char c;

		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 1);
		mnl_attr_put(nlh, KIPC_A_RESET_STATS, 0, NULL);
		if (exchange(nl, nlh, nlh->nlmsg_len, &ans) || ans.err ||
		    ans.data != 1 || ans.terminals != 1 || ans.late)
			_exit(11);
		n++;
		if (first && write(ready_fd, "r", 1) != 1)
			_exit(12);
		first = false;
		if (read(stop_fd, &c, 1) == 0)
			break;
	}
	fprintf(stderr, "# flood: meanwhile %lu SET_DEV RESET_STATS on pipe1, all answered\n",
		n);
	_exit(0);
}

struct flood {
	unsigned long answered, data, errs, extack, enobufs, twice;
	unsigned long by_errno[MAX_ERRNO];
	uint8_t *seen;		/* per request: answered */
	uint32_t first_seq;
};

/* Counts what one drained datagram answers. */
static void flood_take(struct flood *f, const struct nlmsghdr *nlh, int n)
{
	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		uint32_t i = nlh->nlmsg_seq - f->first_seq;
		bool end = false;

		if (i >= FLOOD_REQS)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR ||
		    nlh->nlmsg_type == NLMSG_DONE) {
			struct answer ans = { 0 };
			int err = 0;

			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(nlh);

				err = -e->error;
				parse_extack(nlh, sizeof(*e), &ans);
			} else {
				memcpy(&err, mnl_nlmsg_get_payload(nlh),
				       sizeof(err));
				err = -err;
				parse_extack(nlh, sizeof(err), &ans);
			}
			if (err) {
				f->errs++;
				f->by_errno[err < MAX_ERRNO ? err : 0]++;
				f->extack += !!ans.msg[0];
			}
			end = true;
		} else {
			f->data++;
			/* A doit (even index) ends with its one reply. */
			end = !(i & 1);
		}
		if (!end)
			continue;
		if (f->seen[i])
			f->twice++;
		else
			f->answered++;
		f->seen[i] = 1;
	}
}

/*
 * Reads everything queued, as a slow client finally would: each read also
 * lets a pending dump go on.  ENOBUFS says answers were lost, and is not
 * the end of the socket.
 */
static int flood_drain(struct kipc_nl *nl, struct flood *f)
{
	int fd = mnl_socket_get_fd(nl->sock);

	for (;;) {
		ssize_t n = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);

		if (n < 0 && errno == ENOBUFS) {
			f->enobufs++;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		flood_take(f, (const void *)rx, n);
	}
}

TEST_F_TIMEOUT(fuzz, flood, 180)
{
	struct kipc_nl *nl = open_nl(), *fresh;
	unsigned long total, i;
	int stop[2], ready[2], status, fd;
	struct flood f = { 0 };
	struct answer ans;
	struct nlmsghdr *nlh;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, nl);
	f.seen = calloc(FLOOD_REQS, 1);
	ASSERT_NE(NULL, f.seen);
	ASSERT_EQ(0, pipe(stop));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(stop[1]);
		close(ready[0]);
		fcntl(stop[0], F_SETFL, O_NONBLOCK);
		reset_loop(stop[0], ready[1]);
	}
	close(stop[0]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	/*
	 * Even requests: GET_DEV of pipe0 without NLM_F_ACK (one reply
	 * each); odd ones: dumps.  Nobody reads until all are sent.
	 */
	fd = mnl_socket_get_fd(nl->sock);
	f.first_seq = nl->seq + 1;
	for (i = 0; i < FLOOD_REQS; i++) {
		nlh = req(nl, KIPC_CMD_GET_DEV, i & 1 ? NLM_F_DUMP : 0);
		if (!(i & 1)) {
			mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
			mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		}
		/* The kernel answers in send(): it never blocks. */
		ASSERT_EQ((ssize_t)nlh->nlmsg_len,
			  send(fd, nlh, nlh->nlmsg_len, 0))
		TH_LOG("request %lu: %s", i, strerror(errno));
	}
	ASSERT_EQ(0, flood_drain(nl, &f));

	/* The other process never saw a refusal, and stops. */
	close(stop[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(ready[0]);

	fprintf(stderr,
		"# flood: %d requests, %lu errors, %lu with extack; %lu answered (%lu data messages), %lu lost, ENOBUFS %lu times\n",
		FLOOD_REQS, f.errs, f.extack, f.answered, f.data,
		FLOOD_REQS - f.answered, f.enobufs);
	for (i = 1; i < MAX_ERRNO; i++)
		if (f.by_errno[i])
			fprintf(stderr, "# flood: %s %lu\n",
				strerrorname_np(i) ?: "?", f.by_errno[i]);
	/* Nothing answered twice; a lost answer was reported as lost. */
	EXPECT_EQ(0U, f.twice);
	if (f.answered < FLOOD_REQS)
		EXPECT_LT(0U, f.enobufs);
	/*
	 * The only refusal a flood earns: a dump asked for while this
	 * socket's previous dump still waits for the reader (the netlink
	 * core's EBUSY, without a message).
	 */
	for (i = 1; i < MAX_ERRNO; i++)
		if (i != EBUSY)
			EXPECT_EQ(0U, f.by_errno[i])
			TH_LOG("flood: %s", strerror(i));

	/* The flooded socket works again once read. */
	nlh = req(nl, KIPC_CMD_GET_INFO, NLM_F_ACK);
	ASSERT_EQ(0, exchange(nl, nlh, nlh->nlmsg_len, &ans));
	EXPECT_EQ(0, ans.err);
	EXPECT_EQ(1, ans.data);

	/* A fresh one: info, a full dump, every device on its own. */
	fresh = open_nl();
	ASSERT_NE(NULL, fresh);
	nlh = req(fresh, KIPC_CMD_GET_INFO, NLM_F_ACK);
	ASSERT_EQ(0, exchange(fresh, nlh, nlh->nlmsg_len, &ans));
	ASSERT_EQ(0, ans.err) TH_LOG("%s", ans.msg);
	ASSERT_EQ(1, ans.data);
	ASSERT_EQ(0, ans.bad);
	total = param("npipes", 0) + param("nmqs", 0) + param("nshms", 0);
	nlh = req(fresh, KIPC_CMD_GET_DEV, NLM_F_DUMP);
	ASSERT_EQ(0, exchange(fresh, nlh, nlh->nlmsg_len, &ans));
	ASSERT_EQ(0, ans.err) TH_LOG("%s", ans.msg);
	ASSERT_EQ(0, ans.bad);
	ASSERT_EQ(total, (unsigned long)ans.data);
	for (i = 0; i < total; i++) {
		unsigned long np = param("npipes", 0), nm = param("nmqs", 0);
		uint32_t kind = i < np ? KIPC_KIND_PIPE :
			       i < np + nm ? KIPC_KIND_MQ : KIPC_KIND_SHM;
		uint32_t index = i < np ? i : i < np + nm ? i - np : i - np - nm;

		ASSERT_EQ(0, get_dev(fresh, kind, index, &ans))
		TH_LOG("kind %u index %u: %s", kind, index, ans.msg);
		EXPECT_EQ(kind, ans.kind);
		EXPECT_EQ(index, ans.index);
	}
	kipc_nl_close(fresh);
	kipc_nl_close(nl);
	free(f.seen);
}

/* --- 4. after it all ---------------------------------------------------- */

static int set(struct kipc_nl *nl, uint32_t kind, uint32_t index,
	       uint64_t capacity, bool high_water, bool flush,
	       struct answer *ans)
{
	struct nlmsghdr *nlh = req(nl, KIPC_CMD_SET_DEV, NLM_F_ACK);
	int ret;

	mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	if (capacity)
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, capacity);
	if (high_water)
		mnl_attr_put_u64(nlh, KIPC_A_HIGH_WATER, 0);
	if (flush)
		mnl_attr_put(nlh, KIPC_A_FLUSH, 0, NULL);
	if (kind == KIPC_KIND_MQ && capacity) {
		mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSG_SIZE,
				 KIPC_MQ_DEF_MSG_SIZE);
		mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSGS, KIPC_MQ_DEF_MSGS);
	}
	ret = exchange(nl, nlh, nlh->nlmsg_len, ans);
	return ret ?: -ans->err;
}

/*
 * Module defaults for every device, empty: the tests after this one
 * assume them.  Flushed first, so a smaller size never meets data.
 */
static int restore_defaults(struct kipc_nl *nl, struct answer *ans)
{
	static const char *const counts[] = { NULL, "npipes", "nmqs",
					      "nshms" };
	uint64_t def[] = { 0, param("pipe_size", KIPC_PIPE_DEF_SIZE),
			   KIPC_MQ_DEF_BYTES,
			   param("shm_size", KIPC_SHM_DEF_SIZE) };
	uint32_t kind, i;
	int ret;

	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		for (i = 0; i < param(counts[kind], 0); i++) {
			/* shm has no high-water mark. */
			bool hw = kind != KIPC_KIND_SHM;

			ret = set(nl, kind, i, 0, false, true, ans);
			if (!ret)
				ret = set(nl, kind, i, def[kind], hw, false,
					  ans);
			if (!ret && ans->capacity != def[kind])
				ret = -EIO;
			if (ret)
				return ret;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(fuzz, devices_still_work, 120)
{
	struct kipc_nl *nl = open_nl();
	char buf[16] = "";
	struct answer ans;
	int fd;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, restore_defaults(nl, &ans))
	TH_LOG("kind %u index %u: %s", ans.kind, ans.index, ans.msg);

	fd = open(KIPC_DEV_DIR "/pipe0", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd) TH_LOG("pipe0: %s", strerror(errno));
	ASSERT_EQ(5, write(fd, "hello", 5));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(fd);

	fd = open(KIPC_DEV_DIR "/mq0", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd) TH_LOG("mq0: %s", strerror(errno));
	ASSERT_EQ(5, write(fd, "world", 5));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	close(fd);

	/* Both empty again, at their defaults. */
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &ans));
	EXPECT_EQ(param("pipe_size", KIPC_PIPE_DEF_SIZE), ans.capacity);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_MQ, 0, &ans));
	EXPECT_EQ((uint64_t)KIPC_MQ_DEF_BYTES, ans.capacity);
	fprintf(stderr, "# after it all: every device back at its defaults, pipe0 and mq0 move data\n");
	kipc_nl_close(nl);
}

TEST_HARNESS_MAIN
