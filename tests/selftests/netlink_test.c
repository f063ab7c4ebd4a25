// SPDX-License-Identifier: GPL-2.0
/*
 * The "kipc" generic netlink family, spoken directly with libmnl: info
 * against the module parameters, the device dump, exact counters after
 * a known workload, SET_DEV and its permissions, the extack message of
 * every malformed request, the events a scripted workload causes (in
 * order), rate limiting accounted for, and dumps racing with traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

#define MAX_DEVS (3 * 64)

/* A request of the family: a doit with an ack unless @flags say else. */
static struct nlmsghdr *kreq(struct kipc_nl *nl, uint8_t cmd, uint16_t flags)
{
	return kipc_nl_req(nl, nl->family, cmd, flags ? flags : NLM_F_ACK);
}

/* --- messages ----------------------------------------------------------- */

struct msg {
	uint8_t cmd;
	int bad;			/* attributes that failed validation */
	int dups;			/* attributes seen twice */
	bool has[KIPC_A_MAX + 1];
	uint64_t v[KIPC_A_MAX + 1];
	char str[KIPC_A_MAX + 1][32];
	bool has_st[KIPC_STAT_MAX + 1];
	uint64_t st[KIPC_STAT_MAX + 1];
};

static int stat_cb(const struct nlattr *a, void *data)
{
	struct msg *m = data;
	uint16_t t = mnl_attr_get_type(a);
	int ok = kipc_nl_stat_check(a);

	if (!ok)
		return MNL_CB_OK;
	if (ok < 0) {
		m->bad++;
		return MNL_CB_OK;
	}
	if (m->has_st[t])
		m->dups++;
	m->has_st[t] = true;
	m->st[t] = mnl_attr_get_u64(a);
	return MNL_CB_OK;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	struct msg *m = data;
	uint16_t t = mnl_attr_get_type(a);
	int ok = kipc_nl_attr_check(a);

	if (!ok)
		return MNL_CB_OK;
	if (ok < 0) {
		m->bad++;
		return MNL_CB_OK;
	}
	if (m->has[t])
		m->dups++;
	m->has[t] = true;
	switch (kipc_nl_attr_type[t]) {
	case MNL_TYPE_U32:
		m->v[t] = mnl_attr_get_u32(a);
		break;
	case MNL_TYPE_U64:
		m->v[t] = mnl_attr_get_u64(a);
		break;
	case MNL_TYPE_NUL_STRING:
		snprintf(m->str[t], sizeof(m->str[t]), "%s",
			 mnl_attr_get_str(a));
		break;
	case MNL_TYPE_NESTED:
		mnl_attr_parse_nested(a, stat_cb, m);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static void parse(const struct nlmsghdr *nlh, struct msg *m)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	memset(m, 0, sizeof(*m));
	m->cmd = g->cmd;
	mnl_attr_parse(nlh, sizeof(*g), attr_cb, m);
}

static int one_cb(const struct nlmsghdr *nlh, void *data)
{
	parse(nlh, data);
	return MNL_CB_OK;
}

struct list {
	int n;
	struct msg m[MAX_DEVS];
};

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list *l = data;

	if (l->n >= MAX_DEVS)
		return MNL_CB_ERROR;
	parse(nlh, &l->m[l->n++]);
	return MNL_CB_OK;
}

static int get_dev(struct kipc_nl *nl, uint32_t kind, uint32_t index,
		   struct msg *m)
{
	struct nlmsghdr *nlh = kreq(nl, KIPC_CMD_GET_DEV, 0);

	mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	return kipc_nl_rpc(nl, nlh, one_cb, m);
}

static int dump(struct kipc_nl *nl, struct list *l)
{
	l->n = 0;
	return kipc_nl_rpc(nl, kreq(nl, KIPC_CMD_GET_DEV, NLM_F_DUMP), list_cb,
			   l);
}

/* SET_DEV with one u64 or u32 attribute (or a flag: len 0). */
static int set_dev(struct kipc_nl *nl, uint32_t kind, uint32_t index, int attr,
		   size_t len, uint64_t value, struct msg *reply)
{
	struct nlmsghdr *nlh = kreq(nl, KIPC_CMD_SET_DEV, 0);
	uint32_t v32 = value;

	mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, index);
	mnl_attr_put(nlh, attr, len, len == 4 ? (void *)&v32 : &value);
	return kipc_nl_rpc(nl, nlh, reply ? one_cb : NULL, reply);
}

static unsigned long param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kipc/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return (unsigned long)-1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 10);
}

static const char *const kind_names[] = { NULL, "pipe", "mq", "shm" };
static const char *const count_params[] = { NULL, "npipes", "nmqs",
					    "nshms" };

/* A pipe device's two ends, both non-blocking. */
static int open_pipe(unsigned int index, int *rfd, int *wfd)
{
	char path[64];

	snprintf(path, sizeof(path), KIPC_DEV_DIR "/pipe%u", index);
	*rfd = open(path, O_RDONLY | O_NONBLOCK);
	if (*rfd < 0)
		return -1;
	*wfd = open(path, O_WRONLY | O_NONBLOCK);
	if (*wfd < 0) {
		close(*rfd);
		return -1;
	}
	return 0;
}

/* --- info and dump ------------------------------------------------------ */

TEST(info_matches_module_parameters)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg m;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, kipc_nl_rpc(nl, kreq(nl, KIPC_CMD_GET_INFO, 0), one_cb,
				 &m));
	EXPECT_EQ(KIPC_CMD_GET_INFO, m.cmd);
	EXPECT_EQ(0, m.bad);
	EXPECT_EQ(0, m.dups);
	EXPECT_STREQ(KIPC_VERSION_STRING, m.str[KIPC_A_VERSION]);
	ASSERT_TRUE(m.has[KIPC_A_NPIPES] && m.has[KIPC_A_NMQS] &&
		    m.has[KIPC_A_NSHMS] && m.has[KIPC_A_PIPE_MAX_SIZE] &&
		    m.has[KIPC_A_MQ_MAX_BYTES_LIMIT] &&
		    m.has[KIPC_A_SHM_MAX_SIZE] && m.has[KIPC_A_DEV_MODE]);
	EXPECT_EQ(param("npipes"), m.v[KIPC_A_NPIPES]);
	EXPECT_EQ(param("nmqs"), m.v[KIPC_A_NMQS]);
	EXPECT_EQ(param("nshms"), m.v[KIPC_A_NSHMS]);
	EXPECT_EQ(param("mode"), m.v[KIPC_A_DEV_MODE]);
	EXPECT_EQ(param("pipe_max_size"), m.v[KIPC_A_PIPE_MAX_SIZE]);
	EXPECT_EQ(param("mq_max_bytes"), m.v[KIPC_A_MQ_MAX_BYTES_LIMIT]);
	EXPECT_EQ(param("shm_max_size"), m.v[KIPC_A_SHM_MAX_SIZE]);
	kipc_nl_close(nl);
}

TEST(dump_lists_every_device)
{
	struct list *l = malloc(sizeof(*l));
	struct kipc_nl *nl = kipc_nl_open(false);
	unsigned int kind, i;
	int n = 0;

	ASSERT_NE(NULL, nl);
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, dump(nl, l));
	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		unsigned long count = param(count_params[kind]);

		for (i = 0; i < count; i++, n++) {
			struct msg *m = &l->m[n];
			char name[32], path[64];

			ASSERT_LT(n, l->n);
			snprintf(name, sizeof(name), "%s%u", kind_names[kind],
				 i);
			EXPECT_EQ(KIPC_CMD_GET_DEV, m->cmd);
			EXPECT_EQ(0, m->bad);
			EXPECT_EQ(0, m->dups);
			EXPECT_EQ(kind, m->v[KIPC_A_KIND]);
			EXPECT_EQ(i, m->v[KIPC_A_INDEX]);
			EXPECT_STREQ(name, m->str[KIPC_A_NAME]);
			EXPECT_TRUE(m->has[KIPC_A_OPEN_FILES]);
			EXPECT_TRUE(m->has[KIPC_A_CAPACITY]);
			EXPECT_TRUE(m->has[KIPC_A_FILL]);
			EXPECT_TRUE(m->has[KIPC_A_STATS]);
			/* Once, whoever puts it (the kind or the core). */
			EXPECT_TRUE(m->has_st[KIPC_STAT_EVENTS_DROPPED]);
			EXPECT_LE(m->v[KIPC_A_FILL], m->v[KIPC_A_CAPACITY]);
			snprintf(path, sizeof(path), KIPC_DEV_DIR "/%s", name);
			EXPECT_EQ(0, access(path, F_OK));
		}
	}
	EXPECT_EQ(n, l->n);

	/* A dump may select a kind; it then has exactly that kind's. */
	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		struct nlmsghdr *nlh = kreq(nl, KIPC_CMD_GET_DEV, NLM_F_DUMP);

		mnl_attr_put_u32(nlh, KIPC_A_KIND, kind);
		l->n = 0;
		ASSERT_EQ(0, kipc_nl_rpc(nl, nlh, list_cb, l));
		ASSERT_EQ(param(count_params[kind]), (unsigned long)l->n);
		for (i = 0; i < (unsigned int)l->n; i++) {
			EXPECT_EQ(kind, l->m[i].v[KIPC_A_KIND]);
			EXPECT_EQ(i, l->m[i].v[KIPC_A_INDEX]);
		}
	}
	free(l);
	kipc_nl_close(nl);
}

TEST(get_by_kind_index_and_by_name)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	unsigned int kind, i;

	ASSERT_NE(NULL, nl);
	for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++) {
		for (i = 0; i < param(count_params[kind]); i++) {
			struct nlmsghdr *nlh;
			struct msg a, b;
			char name[32];

			snprintf(name, sizeof(name), "%s%u", kind_names[kind],
				 i);
			ASSERT_EQ(0, get_dev(nl, kind, i, &a));
			EXPECT_EQ(KIPC_CMD_GET_DEV, a.cmd);
			EXPECT_STREQ(name, a.str[KIPC_A_NAME]);

			nlh = kreq(nl, KIPC_CMD_GET_DEV, 0);
			mnl_attr_put_strz(nlh, KIPC_A_NAME, name);
			ASSERT_EQ(0, kipc_nl_rpc(nl, nlh, one_cb, &b));
			EXPECT_EQ(kind, b.v[KIPC_A_KIND]);
			EXPECT_EQ(i, b.v[KIPC_A_INDEX]);
			EXPECT_EQ(a.v[KIPC_A_CAPACITY], b.v[KIPC_A_CAPACITY]);
		}
	}
	kipc_nl_close(nl);
}

/* --- counters ----------------------------------------------------------- */

TEST(pipe_counters_move_exactly)
{
	static const size_t rec[] = { 100, 200, 300 };
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg a, b, c;
	char buf[600];
	int rfd, wfd, i;

	ASSERT_NE(NULL, nl);
	/* Whatever an earlier test left behind. */
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_FLUSH, 0, 0, NULL));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &a));
	ASSERT_EQ(0, open_pipe(0, &rfd, &wfd));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &b));
	EXPECT_EQ(a.v[KIPC_A_OPEN_FILES] + 2, b.v[KIPC_A_OPEN_FILES]);

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 3; i++)
		ASSERT_EQ((ssize_t)rec[i], write(wfd, buf, rec[i]));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &b));
	EXPECT_EQ(600U, b.v[KIPC_A_FILL]);
	EXPECT_EQ(a.st[KIPC_STAT_BYTES_IN] + 600, b.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(a.st[KIPC_STAT_WRITES] + 3, b.st[KIPC_STAT_WRITES]);
	EXPECT_EQ(a.st[KIPC_STAT_BYTES_OUT], b.st[KIPC_STAT_BYTES_OUT]);
	EXPECT_EQ(a.st[KIPC_STAT_READS], b.st[KIPC_STAT_READS]);

	for (i = 0; i < 3; i++)
		ASSERT_EQ((ssize_t)rec[i], read(rfd, buf, rec[i]));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &c));
	EXPECT_EQ(0U, c.v[KIPC_A_FILL]);
	EXPECT_EQ(a.st[KIPC_STAT_BYTES_IN] + 600, c.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(a.st[KIPC_STAT_BYTES_OUT] + 600, c.st[KIPC_STAT_BYTES_OUT]);
	EXPECT_EQ(a.st[KIPC_STAT_WRITES] + 3, c.st[KIPC_STAT_WRITES]);
	EXPECT_EQ(a.st[KIPC_STAT_READS] + 3, c.st[KIPC_STAT_READS]);
	EXPECT_LE(600U, c.st[KIPC_STAT_PEAK_FILL]);

	close(rfd);
	close(wfd);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &c));
	EXPECT_EQ(a.v[KIPC_A_OPEN_FILES], c.v[KIPC_A_OPEN_FILES]);
	kipc_nl_close(nl);
}

TEST(mq_counters_move_exactly)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg a, b, c;
	char buf[512];
	int fd;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_MQ, 0, KIPC_A_FLUSH, 0, 0, NULL));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_MQ, 0, &a));
	fd = open(KIPC_DEV_DIR "/mq0", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	memset(buf, 'm', sizeof(buf));
	ASSERT_EQ(10, write(fd, buf, 10));
	ASSERT_EQ(20, write(fd, buf, 20));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_MQ, 0, &b));
	EXPECT_EQ(30U, b.v[KIPC_A_FILL]);
	EXPECT_EQ(2U, b.v[KIPC_A_MQ_MSGS]);
	EXPECT_EQ(a.st[KIPC_STAT_BYTES_IN] + 30, b.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(a.st[KIPC_STAT_WRITES] + 2, b.st[KIPC_STAT_WRITES]);
	EXPECT_EQ(a.v[KIPC_A_OPEN_FILES] + 1, b.v[KIPC_A_OPEN_FILES]);

	/* One read, one message, whatever the buffer size. */
	ASSERT_EQ(10, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(20, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_MQ, 0, &c));
	EXPECT_EQ(0U, c.v[KIPC_A_FILL]);
	EXPECT_EQ(0U, c.v[KIPC_A_MQ_MSGS]);
	EXPECT_EQ(a.st[KIPC_STAT_BYTES_OUT] + 30, c.st[KIPC_STAT_BYTES_OUT]);
	EXPECT_EQ(a.st[KIPC_STAT_READS] + 2, c.st[KIPC_STAT_READS]);
	close(fd);
	kipc_nl_close(nl);
}

/* --- SET_DEV ------------------------------------------------------------ */

TEST(set_resizes_a_pipe)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg a, r, b;
	uint32_t size;
	int rfd, wfd;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &a));
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_CAPACITY, 8,
			     131072, &r));
	/* The reply is the new state. */
	EXPECT_EQ(KIPC_CMD_SET_DEV, r.cmd);
	EXPECT_EQ(131072U, r.v[KIPC_A_CAPACITY]);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &b));
	EXPECT_EQ(131072U, b.v[KIPC_A_CAPACITY]);
	ASSERT_EQ(0, open_pipe(0, &rfd, &wfd));
	ASSERT_EQ(0, ioctl(rfd, KIPC_PIPE_GET_SIZE, &size));
	EXPECT_EQ(131072U, size);
	close(rfd);
	close(wfd);

	/* Rounded up to whole pages, as F_SETPIPE_SZ. */
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_CAPACITY, 8,
			     5000, &r));
	EXPECT_EQ(8192U, r.v[KIPC_A_CAPACITY]);

	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_CAPACITY, 8,
			     a.v[KIPC_A_CAPACITY], &r));
	EXPECT_EQ(a.v[KIPC_A_CAPACITY], r.v[KIPC_A_CAPACITY]);
	kipc_nl_close(nl);
}

TEST(set_changes_mq_limits)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct kipc_mq_stat st;
	struct nlmsghdr *nlh;
	struct msg a, r;
	int fd;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_MQ, 1, &a));
	nlh = kreq(nl, KIPC_CMD_SET_DEV, 0);
	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_MQ);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 1);
	mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, 32768);
	mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSG_SIZE, 4096);
	mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSGS, 100);
	ASSERT_EQ(0, kipc_nl_rpc(nl, nlh, one_cb, &r)) TH_LOG("%s", nl->msg);
	EXPECT_EQ(32768U, r.v[KIPC_A_CAPACITY]);
	EXPECT_EQ(4096U, r.v[KIPC_A_MQ_MAX_MSG_SIZE]);
	EXPECT_EQ(100U, r.v[KIPC_A_MQ_MAX_MSGS]);

	/* The device's own view agrees. */
	fd = open(KIPC_DEV_DIR "/mq1", O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, KIPC_MQ_STAT, &st));
	EXPECT_EQ(32768U, st.max_bytes);
	EXPECT_EQ(4096U, st.max_msg_size);
	EXPECT_EQ(100U, st.max_msgs);
	close(fd);

	nlh = kreq(nl, KIPC_CMD_SET_DEV, 0);
	mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_MQ);
	mnl_attr_put_u32(nlh, KIPC_A_INDEX, 1);
	mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, a.v[KIPC_A_CAPACITY]);
	mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSG_SIZE,
			 a.v[KIPC_A_MQ_MAX_MSG_SIZE]);
	mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSGS, a.v[KIPC_A_MQ_MAX_MSGS]);
	ASSERT_EQ(0, kipc_nl_rpc(nl, nlh, one_cb, &r)) TH_LOG("%s", nl->msg);
	EXPECT_EQ(a.v[KIPC_A_CAPACITY], r.v[KIPC_A_CAPACITY]);
	kipc_nl_close(nl);
}

TEST(set_by_name_resets_counters)
{
	static const char *const names[] = { "pipe0", "mq0", "shm0" };
	struct kipc_nl *nl = kipc_nl_open(false);
	struct nlmsghdr *nlh;
	struct msg r;
	int rfd, wfd;
	size_t i;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, open_pipe(0, &rfd, &wfd));
	ASSERT_EQ(3, write(wfd, "abc", 3));
	ASSERT_EQ(3, read(rfd, (char[3]){ 0 }, 3));
	close(rfd);
	close(wfd);
	for (i = 0; i < 3; i++) {
		nlh = kreq(nl, KIPC_CMD_SET_DEV, 0);
		mnl_attr_put_strz(nlh, KIPC_A_NAME, names[i]);
		mnl_attr_put(nlh, KIPC_A_RESET_STATS, 0, NULL);
		ASSERT_EQ(0, kipc_nl_rpc(nl, nlh, one_cb, &r))
		TH_LOG("%s: %s", names[i], nl->msg);
		EXPECT_STREQ(names[i], r.str[KIPC_A_NAME]);
		EXPECT_EQ(i + 1, r.v[KIPC_A_KIND]);
		EXPECT_TRUE(r.has[KIPC_A_STATS]);
	}
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &r));
	EXPECT_EQ(0U, r.st[KIPC_STAT_BYTES_IN]);
	EXPECT_EQ(0U, r.st[KIPC_STAT_READS]);
	kipc_nl_close(nl);
}

/*
 * Child exit codes: 0 as expected, 10 + step that went wrong.  Without
 * CAP_NET_ADMIN (uid 65534): no device state (GET_DEV, the dump), no
 * events, no changes; each refusal of the family's own says why.  The
 * module information (world-readable in sysfs anyway) stays public.
 */
TEST(device_state_needs_cap_net_admin)
{
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_nl *nl;
		struct list *l;
		struct msg m;

		l = calloc(1, sizeof(*l));
		if (!l)
			_exit(9);
		if (setgid(65534) || setuid(65534))
			_exit(10);
		nl = kipc_nl_open(false);
		if (!nl)
			_exit(11);
		if (kipc_nl_rpc(nl, kreq(nl, KIPC_CMD_GET_INFO, 0), one_cb,
				&m))
			_exit(12);
		if (get_dev(nl, KIPC_KIND_PIPE, 0, &m) != -EPERM)
			_exit(13);
		if (strcmp(nl->msg, "reading device state needs CAP_NET_ADMIN"))
			_exit(14);
		if (get_dev(nl, KIPC_KIND_SHM, 0, &m) != -EPERM)
			_exit(15);
		if (dump(nl, l) != -EPERM || l->n)
			_exit(16);
		if (!strstr(nl->msg, "CAP_NET_ADMIN"))
			_exit(17);
		if (set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_FLUSH, 0, 0,
			    NULL) != -EPERM)
			_exit(18);
		if (set_dev(nl, KIPC_KIND_MQ, 0, KIPC_A_RESET_STATS, 0, 0,
			    NULL) != -EPERM)
			_exit(19);
		if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP,
					  &nl->events, sizeof(nl->events)) != -1 ||
		    errno != EPERM)
			_exit(20);
		/* The same socket still works for what is public. */
		if (kipc_nl_rpc(nl, kreq(nl, KIPC_CMD_GET_INFO, 0), one_cb,
				&m))
			_exit(21);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST(set_above_maximum_needs_cap_sys_resource)
{
	unsigned long max = param("pipe_max_size");
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg a;
	pid_t pid;
	int status;

	ASSERT_NE(NULL, nl);
	ASSERT_NE((unsigned long)-1, max);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 1, &a));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_nl *cnl;
		struct msg r;

		if (drop_sys_resource())
			_exit(10);
		cnl = kipc_nl_open(false);
		if (!cnl)
			_exit(11);
		if (set_dev(cnl, KIPC_KIND_PIPE, 1, KIPC_A_CAPACITY, 8,
			    2 * max, &r) != -EPERM)
			_exit(12);
		/* The kernel names what is missing. */
		if (!strstr(cnl->msg, "CAP_SYS_RESOURCE"))
			_exit(13);
		/* Up to the maximum needs only CAP_NET_ADMIN. */
		if (set_dev(cnl, KIPC_KIND_PIPE, 1, KIPC_A_CAPACITY, 8, max,
			    &r) || r.v[KIPC_A_CAPACITY] != max)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 1, KIPC_A_CAPACITY, 8,
			     a.v[KIPC_A_CAPACITY], NULL));
	kipc_nl_close(nl);
}

/* --- malformed requests ------------------------------------------------- */

enum req_shape {
	R_NONE,
	R_KIND_ONLY,
	R_KIND_ZERO,
	R_KIND_TOO_BIG,
	R_INDEX_PAST_END,
	R_KIND_AS_U8,
	R_INDEX_AS_U64,
	R_NAME_TOO_LONG,
	R_NAME_NO_NUL,
	R_NAME_BOGUS,
	R_NAME_LEADING_ZERO,
	R_NAME_AND_KIND,
	R_UNKNOWN_ATTR,
	R_FOREIGN_ATTR,
	R_SET_READ_ONLY,
	R_SET_NOTHING,
	R_SET_FLAG_PAYLOAD,
	R_SET_CAPACITY_ZERO,
	R_SET_MQ_LIMIT_ON_PIPE,
	R_SET_NO_INDEX,
	R_SET_HUGE_PIPE,
	R_INFO_WITH_ATTR,
	R_DUMP_WITH_INDEX,
	R_NESTED_FLAG,
};

/*
 * The policy refuses a value out of its range, or a flag with a payload,
 * with ERANGE; everything else malformed is EINVAL.
 */
struct bad_req {
	const char *what;
	uint8_t cmd;
	uint16_t flags;
	enum req_shape shape;
	int err;
	int miss;		/* attribute the kernel reports missing, or -1 */
};

static const struct bad_req bad_reqs[] = {
	{ "no attributes", KIPC_CMD_GET_DEV, 0, R_NONE, EINVAL, KIPC_A_KIND },
	{ "kind without index", KIPC_CMD_GET_DEV, 0, R_KIND_ONLY, EINVAL,
	  KIPC_A_INDEX },
	{ "kind 0", KIPC_CMD_GET_DEV, 0, R_KIND_ZERO, ERANGE, -1 },
	{ "kind past the last", KIPC_CMD_GET_DEV, 0, R_KIND_TOO_BIG, ERANGE,
	  -1 },
	{ "index past the last", KIPC_CMD_GET_DEV, 0, R_INDEX_PAST_END,
	  ENODEV, -1 },
	{ "kind as u8", KIPC_CMD_GET_DEV, 0, R_KIND_AS_U8, EINVAL, -1 },
	{ "index as u64", KIPC_CMD_GET_DEV, 0, R_INDEX_AS_U64, EINVAL, -1 },
	{ "name too long", KIPC_CMD_GET_DEV, 0, R_NAME_TOO_LONG, EINVAL, -1 },
	{ "name without NUL", KIPC_CMD_GET_DEV, 0, R_NAME_NO_NUL, EINVAL, -1 },
	{ "name of no kind", KIPC_CMD_GET_DEV, 0, R_NAME_BOGUS, EINVAL, -1 },
	{ "name with a leading zero", KIPC_CMD_GET_DEV, 0,
	  R_NAME_LEADING_ZERO, EINVAL, -1 },
	{ "name and kind", KIPC_CMD_GET_DEV, 0, R_NAME_AND_KIND, EINVAL, -1 },
	{ "unknown attribute", KIPC_CMD_GET_DEV, 0, R_UNKNOWN_ATTR, EINVAL,
	  -1 },
	{ "attribute GET does not take", KIPC_CMD_GET_DEV, 0, R_FOREIGN_ATTR,
	  EINVAL, -1 },
	{ "nested flag on a u32", KIPC_CMD_GET_DEV, 0, R_NESTED_FLAG, EINVAL,
	  -1 },
	{ "set a read-only attribute", KIPC_CMD_SET_DEV, 0, R_SET_READ_ONLY,
	  EINVAL, -1 },
	{ "set nothing", KIPC_CMD_SET_DEV, 0, R_SET_NOTHING, EINVAL, -1 },
	{ "flag with a payload", KIPC_CMD_SET_DEV, 0, R_SET_FLAG_PAYLOAD,
	  ERANGE, -1 },
	{ "capacity 0", KIPC_CMD_SET_DEV, 0, R_SET_CAPACITY_ZERO, ERANGE, -1 },
	{ "mq limit on a pipe", KIPC_CMD_SET_DEV, 0, R_SET_MQ_LIMIT_ON_PIPE,
	  EINVAL, -1 },
	{ "set without index", KIPC_CMD_SET_DEV, 0, R_SET_NO_INDEX, EINVAL,
	  KIPC_A_INDEX },
	{ "pipe of 2^40 bytes", KIPC_CMD_SET_DEV, 0, R_SET_HUGE_PIPE, EINVAL,
	  -1 },
	{ "info with an attribute", KIPC_CMD_GET_INFO, 0, R_INFO_WITH_ATTR,
	  EINVAL, -1 },
	{ "dump with an index", KIPC_CMD_GET_DEV, NLM_F_DUMP,
	  R_DUMP_WITH_INDEX, EINVAL, -1 },
	{ "reserved nlmsg_flags bit", KIPC_CMD_GET_INFO, NLM_F_ACK | 0x400,
	  R_NONE, EINVAL, -1 },
};

static void build_bad(struct nlmsghdr *nlh, enum req_shape shape)
{
	char longname[64];
	uint8_t u8 = KIPC_KIND_PIPE;
	uint64_t u64 = 0;
	uint32_t u32 = 0;

	switch (shape) {
	case R_NONE:
		break;
	case R_KIND_ONLY:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		break;
	case R_KIND_ZERO:
	case R_KIND_TOO_BIG:
		mnl_attr_put_u32(nlh, KIPC_A_KIND,
				 shape == R_KIND_ZERO ? 0 : KIPC_KIND_MAX + 1);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		break;
	case R_INDEX_PAST_END:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, param("npipes"));
		break;
	case R_KIND_AS_U8:
		mnl_attr_put(nlh, KIPC_A_KIND, sizeof(u8), &u8);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		break;
	case R_INDEX_AS_U64:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put(nlh, KIPC_A_INDEX, sizeof(u64), &u64);
		break;
	case R_NAME_TOO_LONG:
		memset(longname, 'p', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		mnl_attr_put_strz(nlh, KIPC_A_NAME, longname);
		break;
	case R_NAME_NO_NUL:
		mnl_attr_put(nlh, KIPC_A_NAME, 5, "pipe0");
		break;
	case R_NAME_BOGUS:
		mnl_attr_put_strz(nlh, KIPC_A_NAME, "fifo0");
		break;
	case R_NAME_LEADING_ZERO:
		mnl_attr_put_strz(nlh, KIPC_A_NAME, "pipe01");
		break;
	case R_NAME_AND_KIND:
		mnl_attr_put_strz(nlh, KIPC_A_NAME, "pipe0");
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		break;
	case R_UNKNOWN_ATTR:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u32(nlh, KIPC_A_MAX + 1, 0);
		break;
	case R_FOREIGN_ATTR:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, 4096);
		break;
	case R_NESTED_FLAG:
		mnl_attr_put(nlh, KIPC_A_KIND | NLA_F_NESTED, sizeof(u32),
			     &u32);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		break;
	case R_SET_READ_ONLY:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u64(nlh, KIPC_A_FILL, 0);
		break;
	case R_SET_NOTHING:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		break;
	case R_SET_FLAG_PAYLOAD:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u32(nlh, KIPC_A_FLUSH, 1);
		break;
	case R_SET_CAPACITY_ZERO:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, 0);
		break;
	case R_SET_MQ_LIMIT_ON_PIPE:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u32(nlh, KIPC_A_MQ_MAX_MSGS, 10);
		break;
	case R_SET_NO_INDEX:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put(nlh, KIPC_A_FLUSH, 0, NULL);
		break;
	case R_SET_HUGE_PIPE:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		mnl_attr_put_u64(nlh, KIPC_A_CAPACITY, 1ULL << 40);
		break;
	case R_INFO_WITH_ATTR:
		mnl_attr_put_u32(nlh, KIPC_A_KIND, KIPC_KIND_PIPE);
		break;
	case R_DUMP_WITH_INDEX:
		mnl_attr_put_u32(nlh, KIPC_A_INDEX, 0);
		break;
	}
}

TEST(malformed_requests_get_errno_and_message)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	size_t i;

	ASSERT_NE(NULL, nl);
	for (i = 0; i < sizeof(bad_reqs) / sizeof(bad_reqs[0]); i++) {
		const struct bad_req *b = &bad_reqs[i];
		struct nlmsghdr *nlh;
		int ret;

		nlh = kipc_nl_req(nl, nl->family, b->cmd,
				  b->flags ? b->flags : NLM_F_ACK);
		build_bad(nlh, b->shape);
		ret = kipc_nl_rpc(nl, nlh, NULL, NULL);
		EXPECT_EQ(-b->err, ret) TH_LOG("%s: %s", b->what, nl->msg);
		/* Every refusal says why. */
		EXPECT_NE('\0', nl->msg[0]) TH_LOG("%s: no message", b->what);
		if (b->miss >= 0)
			EXPECT_EQ(b->miss, nl->miss_type) TH_LOG("%s", b->what);
		TH_LOG("%s: %s", b->what, nl->msg);
	}
	kipc_nl_close(nl);
}

TEST(reserved_header_field_is_refused)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	ASSERT_NE(NULL, nl);
	nlh = kreq(nl, KIPC_CMD_GET_INFO, 0);
	g = mnl_nlmsg_get_payload(nlh);
	g->reserved = 1;
	EXPECT_EQ(-EINVAL, kipc_nl_rpc(nl, nlh, NULL, NULL));
	EXPECT_NE('\0', nl->msg[0]);
	kipc_nl_close(nl);
}

/*
 * Commands the family does not have.  The genetlink core refuses them
 * before the family sees the request, so there is no message to check.
 */
TEST(unknown_commands_are_not_supported)
{
	static const uint8_t cmds[] = { KIPC_CMD_UNSPEC, KIPC_CMD_EVENT,
					KIPC_CMD_MAX + 1, 200 };
	struct kipc_nl *nl = kipc_nl_open(false);
	size_t i;

	ASSERT_NE(NULL, nl);
	for (i = 0; i < sizeof(cmds); i++) {
		int ret = kipc_nl_rpc(nl, kreq(nl, cmds[i], 0), NULL, NULL);

		EXPECT_EQ(-EOPNOTSUPP, ret) TH_LOG("cmd %u", cmds[i]);
	}
	/* GET_INFO is a doit only. */
	EXPECT_EQ(-EOPNOTSUPP,
		  kipc_nl_rpc(nl, kreq(nl, KIPC_CMD_GET_INFO, NLM_F_DUMP),
			      NULL, NULL));
	kipc_nl_close(nl);
}

/* --- events ------------------------------------------------------------- */

struct events {
	int n;
	uint32_t kind[256], index[256], event[256];
	uint64_t fill[256];
	char name[256][32];
};

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct events *e = data;
	struct msg m;

	parse(nlh, &m);
	if (m.cmd != KIPC_CMD_EVENT || e->n >= 256 || m.bad)
		return MNL_CB_ERROR;
	e->kind[e->n] = m.v[KIPC_A_KIND];
	e->index[e->n] = m.v[KIPC_A_INDEX];
	e->event[e->n] = m.v[KIPC_A_EVENT];
	e->fill[e->n] = m.v[KIPC_A_FILL];
	snprintf(e->name[e->n], sizeof(e->name[0]), "%s", m.str[KIPC_A_NAME]);
	e->n++;
	return MNL_CB_OK;
}

/* Writes 4 KiB chunks until the pipe is full; returns bytes written. */
static ssize_t fill_pipe(int wfd)
{
	static char chunk[KIPC_PIPE_BUF];
	ssize_t total = 0, n;

	while ((n = write(wfd, chunk, sizeof(chunk))) > 0)
		total += n;
	return errno == EAGAIN ? total : -1;
}

static ssize_t drain_pipe(int rfd)
{
	static char chunk[KIPC_PIPE_BUF];
	ssize_t total = 0, n;

	while ((n = read(rfd, chunk, sizeof(chunk))) > 0)
		total += n;
	return errno == EAGAIN ? total : -1;
}

TEST(events_follow_a_scripted_workload)
{
	struct events *e = calloc(1, sizeof(*e));
	struct kipc_nl *nl = kipc_nl_open(false);
	struct kipc_nl *mon = NULL;
	static const uint32_t want[] = { KIPC_EVENT_FULL, KIPC_EVENT_EMPTY,
					 KIPC_EVENT_FLUSHED,
					 KIPC_EVENT_RESIZED };
	char buf[100];
	struct msg a;
	int rfd, wfd, i;
	ssize_t full;

	ASSERT_NE(NULL, e);
	ASSERT_NE(NULL, nl);
	/* An empty pipe0 first, before anyone listens. */
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_FLUSH, 0, 0, NULL));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 0, &a));
	ASSERT_EQ(0, open_pipe(0, &rfd, &wfd));
	mon = kipc_nl_open(true);
	ASSERT_NE(NULL, mon);

	full = fill_pipe(wfd);
	ASSERT_EQ((ssize_t)a.v[KIPC_A_CAPACITY], full);
	ASSERT_EQ(full, drain_pipe(rfd));
	/* Something to flush. */
	memset(buf, 'f', sizeof(buf));
	ASSERT_EQ(100, write(wfd, buf, sizeof(buf)));
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_FLUSH, 0, 0, NULL));
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_CAPACITY, 8,
			     2 * a.v[KIPC_A_CAPACITY], NULL));
	ASSERT_EQ(0, kipc_nl_drain(mon, event_cb, e));

	for (i = 0; i < e->n; i++)
		TH_LOG("event %d: %s %u fill %" PRIu64, i, e->name[i],
		       e->event[i], e->fill[i]);
	ASSERT_EQ(4, e->n);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(want[i], e->event[i]);
		EXPECT_EQ((uint32_t)KIPC_KIND_PIPE, e->kind[i]);
		EXPECT_EQ(0U, e->index[i]);
		EXPECT_STREQ("pipe0", e->name[i]);
	}
	EXPECT_EQ((uint64_t)full, e->fill[0]);
	EXPECT_EQ(0U, e->fill[1]);
	EXPECT_EQ(0U, e->fill[2]);

	close(rfd);
	close(wfd);
	ASSERT_EQ(0, set_dev(nl, KIPC_KIND_PIPE, 0, KIPC_A_CAPACITY, 8,
			     a.v[KIPC_A_CAPACITY], NULL));
	kipc_nl_close(nl);
	kipc_nl_close(mon);
	free(e);
}

/*
 * 150 events in a burst: the per-device limit (100 a second, in bursts
 * of 100) drops some unless the burst takes longer than a second; every
 * event is either received or counted in EVENTS_DROPPED.
 */
TEST(rate_limited_events_are_counted)
{
	struct events *e = calloc(1, sizeof(*e));
	struct kipc_nl *mon = kipc_nl_open(true);
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg a, b;
	int rfd, wfd, i, got = 0;

	ASSERT_NE(NULL, e);
	ASSERT_NE(NULL, mon);
	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 1, &a));
	ASSERT_EQ(0, open_pipe(1, &rfd, &wfd));
	for (i = 0; i < 75; i++) {
		ASSERT_LT(0, fill_pipe(wfd));
		ASSERT_LT(0, drain_pipe(rfd));
	}
	ASSERT_EQ(0, kipc_nl_drain(mon, event_cb, e));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 1, &b));
	for (i = 0; i < e->n; i++)
		if (!strcmp(e->name[i], "pipe1"))
			got++;
	TH_LOG("received %d, dropped %" PRIu64, got,
	       b.st[KIPC_STAT_EVENTS_DROPPED] - a.st[KIPC_STAT_EVENTS_DROPPED]);
	EXPECT_LE(100, got);
	EXPECT_EQ(150U, got + b.st[KIPC_STAT_EVENTS_DROPPED] -
			      a.st[KIPC_STAT_EVENTS_DROPPED]);
	close(rfd);
	close(wfd);
	kipc_nl_close(nl);
	kipc_nl_close(mon);
	free(e);
}

TEST(no_events_without_listeners)
{
	struct kipc_nl *nl = kipc_nl_open(false);
	struct msg a, b;
	int rfd, wfd;

	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 1, &a));
	ASSERT_EQ(0, open_pipe(1, &rfd, &wfd));
	ASSERT_LT(0, fill_pipe(wfd));
	ASSERT_LT(0, drain_pipe(rfd));
	ASSERT_EQ(0, get_dev(nl, KIPC_KIND_PIPE, 1, &b));
	/* Nobody listened: nothing was sent, so nothing was dropped. */
	EXPECT_EQ(a.st[KIPC_STAT_EVENTS_DROPPED],
		  b.st[KIPC_STAT_EVENTS_DROPPED]);
	close(rfd);
	close(wfd);
	kipc_nl_close(nl);
}

/* --- dumps against traffic --------------------------------------------- */

static void traffic(int stop_fd, int ready_fd)
{
	char buf[3000];
	int rfd, wfd, mq, first = 1;

	memset(buf, 't', sizeof(buf));
	if (open_pipe(0, &rfd, &wfd))
		_exit(10);
	mq = open(KIPC_DEV_DIR "/mq0", O_RDWR | O_NONBLOCK);
	if (mq < 0)
		_exit(11);
	for (;;) {
		struct pollfd p = { .fd = stop_fd, .events = POLLIN };
		int i;

		for (i = 0; i < 8; i++) {
			if (write(wfd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
				_exit(12);
			if (write(mq, buf, 100 + i) < 0 && errno != EAGAIN)
				_exit(13);
		}
		for (i = 0; i < 8; i++) {
			if (read(rfd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
				_exit(14);
			if (read(mq, buf, sizeof(buf)) < 0 && errno != EAGAIN)
				_exit(15);
		}
		if (first && write(ready_fd, "r", 1) != 1)
			_exit(16);
		first = 0;
		if (poll(&p, 1, 0) > 0)
			break;
	}
	_exit(0);
}

TEST(dumps_stay_consistent_under_traffic)
{
	struct list *l = malloc(sizeof(*l));
	struct kipc_nl *nl = kipc_nl_open(false);
	uint64_t last_in = 0, last_msgs_in = 0;
	int stop[2], ready[2], status, d, i;
	unsigned long total = 0;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, nl);
	ASSERT_NE(NULL, l);
	total = param("npipes") + param("nmqs") + param("nshms");
	ASSERT_EQ(0, pipe(stop));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(stop[1]);
		close(ready[0]);
		traffic(stop[0], ready[1]);
	}
	close(stop[0]);
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	for (d = 0; d < 100; d++) {
		ASSERT_EQ(0, dump(nl, l)) TH_LOG("dump %d: %s", d, nl->msg);
		ASSERT_EQ(total, (unsigned long)l->n);
		for (i = 0; i < l->n; i++) {
			struct msg *m = &l->m[i];

			ASSERT_EQ(0, m->bad);
			ASSERT_EQ(0, m->dups);
			ASSERT_LE(m->v[KIPC_A_FILL], m->v[KIPC_A_CAPACITY]);
			if (m->v[KIPC_A_KIND] == KIPC_KIND_MQ)
				ASSERT_LE(m->v[KIPC_A_MQ_MSGS],
					  m->v[KIPC_A_MQ_MAX_MSGS]);
			if (i > 0)
				ASSERT_TRUE(m->v[KIPC_A_KIND] >
						    l->m[i - 1].v[KIPC_A_KIND] ||
					    m->v[KIPC_A_INDEX] ==
						    l->m[i - 1].v[KIPC_A_INDEX] + 1);
		}
		/* Counters only grow. */
		ASSERT_LE(last_in, l->m[0].st[KIPC_STAT_BYTES_IN]);
		last_in = l->m[0].st[KIPC_STAT_BYTES_IN];
		i = param("npipes");
		ASSERT_LE(last_msgs_in, l->m[i].st[KIPC_STAT_WRITES]);
		last_msgs_in = l->m[i].st[KIPC_STAT_WRITES];
	}
	close(stop[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(ready[0]);
	/* The traffic moved data while we looked. */
	EXPECT_LT(0U, last_in);
	free(l);
	kipc_nl_close(nl);
}

TEST_HARNESS_MAIN
