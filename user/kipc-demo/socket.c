// SPDX-License-Identifier: GPL-2.0
/*
 * Section 6, socket: unix stream and datagram sockets, TCP on loopback,
 * and TCP between two network namespaces joined by a veth pair, standing
 * in for two hosts.  Everything network-wide happens inside namespaces
 * this program creates: the namespace it started in is never touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "demo.h"

static socklen_t abstract_addr(struct sockaddr_un *a, const char *what)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* Abstract: a leading NUL, no file to remove afterwards. */
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "kipc-demo-%d-%s",
		 (int)getpid(), what);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1);
}

/* --- unix stream --------------------------------------------------------- */

struct unix_peer {
	struct sockaddr_un addr;
	socklen_t len;
	struct gate sent;
};

static int stream_client(void *arg)
{
	struct unix_peer *u = arg;
	char buf[16];
	ssize_t n;
	int s;

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&u->addr, u->len) < 0) {
		fail_errno("client: connect");
		return 1;
	}
	/* Two writes... */
	if (write(s, "abc", 3) != 3 || write(s, "def", 3) != 3) {
		fail_errno("client: write");
		return 2;
	}
	gate_post(&u->sent);
	n = read_full(s, buf, 2);
	check(n == 2 && !memcmp(buf, "ok", 2), "client %d read the reply \"%.*s\"",
	      (int)getpid(), n > 0 ? (int)n : 0, buf);
	close(s);
	return demo_failures != 0;
}

static void unix_stream(void)
{
	struct unix_peer u;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int ls = -1, s = -1, rfd;
	char buf[64];
	pid_t pid;
	ssize_t n;

	out_part("unix stream socket: a connection, a byte stream");
	out_say("socket(AF_UNIX, SOCK_STREAM), bind() to a name, listen(), accept(); the");
	out_say("client connects and write()s \"abc\" then \"def\". Like a pipe, but two-way,");
	out_say("and the kernel tells the server who connected (SO_PEERCRED).");
	u.len = abstract_addr(&u.addr, "stream");
	if (gate_init(&u.sent) < 0)
		return;
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&u.addr, u.len) < 0 ||
	    listen(ls, 1) < 0) {
		fail_errno("unix stream socket");
		goto out;
	}
	sock_timeout(ls, 20);
	pid = spawn_report(stream_client, &u, &rfd);
	if (pid < 0)
		goto out;
	s = accept_from(ls, pid, NULL, NULL);
	if (s < 0 || gate_wait_from(&u.sent, pid) < 0) {
		fail_errno("accept");
		kill_child(pid);
		report_collect(&rfd);
		goto out;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		check(cred.pid == pid, "SO_PEERCRED: the peer is pid %d, uid %d",
		      (int)cred.pid, (int)cred.uid);
	sock_timeout(s, 20);
	n = read(s, buf, sizeof(buf));
	check(n == 6 && !memcmp(buf, "abcdef", 6),
	      "one read() returned %zd bytes \"%.*s\": a stream keeps no message boundaries",
	      n, n > 0 ? (int)n : 0, buf);
	if (write_all(s, "ok", 2) != 2)
		fail_errno("write");
	report_wait(pid, &rfd, "stream client");
out:
	close_fd(&s);
	close_fd(&ls);
	gate_close(&u.sent);
}

/* --- unix datagram -------------------------------------------------------- */

static int dgram_client(void *arg)
{
	struct unix_peer *u = arg;
	int s;

	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 1;
	if (sendto(s, "abc", 3, 0, (struct sockaddr *)&u->addr, u->len) != 3 ||
	    sendto(s, "def", 3, 0, (struct sockaddr *)&u->addr, u->len) != 3)
		return 2;
	close(s);
	return 0;
}

static void unix_dgram(void)
{
	struct unix_peer u;
	char buf[64], buf2[64];
	ssize_t n, n2;
	int s = -1;
	pid_t pid;

	out_part("unix datagram socket: messages, boundaries kept");
	out_say("SOCK_DGRAM: no connection; each sendto() is one message, each recv()");
	out_say("returns exactly one. The client sends \"abc\" then \"def\" and exits.");
	u.len = abstract_addr(&u.addr, "dgram");
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&u.addr, u.len) < 0) {
		fail_errno("unix datagram socket");
		goto out;
	}
	pid = spawn(dgram_client, &u);
	if (!wait_ok(pid, "datagram client"))
		goto out;
	n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	n2 = recv(s, buf2, sizeof(buf2), MSG_DONTWAIT);
	check(n == 3 && !memcmp(buf, "abc", 3) && n2 == 3 && !memcmp(buf2, "def", 3),
	      "two recv() calls: \"%.*s\" and \"%.*s\", after the sender exited",
	      n > 0 ? (int)n : 0, buf, n2 > 0 ? (int)n2 : 0, buf2);
out:
	close_fd(&s);
}

/* --- TCP ------------------------------------------------------------------ */

struct tcp_peer {
	const char *label;
	struct sockaddr_in addr;
	const char *hello;
	struct gate go;		/* NULL fd: connect at once */
};

/* Connects, sends hello, expects the server's answer; reports. */
static int tcp_client(void *arg)
{
	struct tcp_peer *t = arg;
	struct sockaddr_in me;
	socklen_t mlen = sizeof(me);
	char buf[128], ip[INET_ADDRSTRLEN], want[160];
	unsigned int tries;
	ssize_t n;
	int s = -1;

	if (t->go.fd[0] >= 0 && gate_wait(&t->go) < 0)
		return 1;
	for (tries = 0; tries < 50; tries++) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return 2;
		if (connect(s, (struct sockaddr *)&t->addr, sizeof(t->addr)) == 0)
			break;
		/* The link may need a moment to come up. */
		if (errno != ENETUNREACH && errno != EHOSTUNREACH && errno != ECONNREFUSED)
			break;
		close(s);
		s = -1;
		sleep_ms(20);
	}
	if (s < 0 || getsockname(s, (struct sockaddr *)&me, &mlen) < 0) {
		fail_errno("connect");
		return 1;
	}
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	n = snprintf(buf, sizeof(buf), "%s from %s", t->hello, ip);
	if (write_all(s, buf, n) != n || shutdown(s, SHUT_WR) < 0) {
		fail_errno("write");
		return 1;
	}
	n = read_full(s, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	inet_ntop(AF_INET, &t->addr.sin_addr, ip, sizeof(ip));
	snprintf(want, sizeof(want), "answer from %s:%u", ip, ntohs(t->addr.sin_port));
	check(!strcmp(buf, want), "%s: client got \"%s\"", t->label, buf);
	close(s);
	return demo_failures != 0;
}

/* Accepts one connection on ls, reads the hello to EOF, answers. */
static bool tcp_serve(int ls, pid_t client, const char *label, const char *hello)
{
	struct sockaddr_in me, peer;
	socklen_t mlen = sizeof(me), plen = sizeof(peer);
	char buf[160], ip[INET_ADDRSTRLEN], pip[INET_ADDRSTRLEN];
	ssize_t n;
	int s;
	bool good;

	sock_timeout(ls, 20);
	s = accept_from(ls, client, (struct sockaddr *)&peer, &plen);
	if (s < 0) {
		fail_errno("accept");
		return false;
	}
	sock_timeout(s, 20);
	getsockname(s, (struct sockaddr *)&me, &mlen);
	inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	inet_ntop(AF_INET, &peer.sin_addr, pip, sizeof(pip));
	n = read_full(s, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	good = check(n > 0 && !strncmp(buf, hello, strlen(hello)) && strstr(buf, pip),
		     "%s: server %s:%u accepted %s:%u and read \"%s\"", label, ip,
		     ntohs(me.sin_port), pip, ntohs(peer.sin_port), buf);
	n = snprintf(buf, sizeof(buf), "answer from %s:%u", ip, ntohs(me.sin_port));
	if (write_all(s, buf, n) != n)
		good = false;
	close(s);
	return good;
}

static void tcp_loopback(void)
{
	struct tcp_peer t = { "loopback", .hello = "hello", .go = { { -1, -1 } } };
	socklen_t len = sizeof(t.addr);
	int ls, rfd, one = 1;
	pid_t pid;

	out_part("TCP on loopback");
	out_say("The same calls with AF_INET: a server on 127.0.0.1 and a port the kernel");
	out_say("picks (bind to port 0), a client that connects to it.");
	memset(&t.addr, 0, sizeof(t.addr));
	t.addr.sin_family = AF_INET;
	t.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		goto err;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&t.addr, sizeof(t.addr)) < 0 ||
	    listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&t.addr, &len) < 0)
		goto err;
	pid = spawn_report(tcp_client, &t, &rfd);
	if (pid < 0)
		goto out;
	if (!tcp_serve(ls, pid, "loopback", "hello"))
		kill_child(pid);
	report_wait(pid, &rfd, "TCP client");
	goto out;
err:
	fail_errno("TCP socket on 127.0.0.1");
out:
	close_fd(&ls);
}

/* --- two hosts: network namespaces and a veth pair ------------------------ */

#define VETH_A	"kipc-a"
#define VETH_B	"kipc-b"
#define ADDR_A	"10.77.0.1"
#define ADDR_B	"10.77.0.2"
#define PORT_B	7700

/* One rtnetlink request, answered by an ACK; -1 with errno on failure. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	unsigned int seq = (unsigned int)time(NULL);
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, n, seq, portid, NULL, NULL);
	} while (ret > 0);
	return ret < 0 ? -1 : 0;
}

/* ip link add VETH_A type veth peer name VETH_B netns peer_pid */
static int veth_add(struct mnl_socket *nl, pid_t peer_pid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *info, *data, *peer;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, VETH_A);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's own ifinfomsg, then its attributes. */
	ifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(ifm, 0, sizeof(*ifm));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*ifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, VETH_B);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, peer_pid);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh);
}

/* ip addr add ADDR/24 dev NAME; ip link set NAME up */
static int if_config(const char *name, const char *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct ifinfomsg *ifm;
	struct in_addr in;
	unsigned int idx;
	int ret = -1;

	idx = if_nametoindex(name);
	if (!idx || inet_pton(AF_INET, addr, &in) != 1)
		return -1;
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = idx;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(in), &in);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(in), &in);
	if (nl_talk(nl, nlh) < 0)
		goto out;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = idx;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	ret = nl_talk(nl, nlh);
out:
	mnl_socket_close(nl);
	return ret;
}

/*
 * Waits (at most 5 s) until the link is operational: only then has the
 * kernel swapped in a working qdisc, and a packet sent earlier would be
 * dropped, costing a SYN retransmit a second later.
 */
static int wait_running(const char *name)
{
	struct ifreq ifr;
	unsigned int i;
	int s, ret = -1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	for (i = 0; i < 1000; i++) {
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			break;
		if (ifr.ifr_flags & IFF_RUNNING) {
			ret = 0;
			break;
		}
		sleep_ms(5);
	}
	if (ret < 0 && i == 1000)
		errno = ETIMEDOUT;
	close(s);
	return ret;
}

/* The status a host child reports on its "ready" gate. */
enum { NS_OK = 'y', NS_NO_NETNS = 'n', NS_NO_VETH = 'v', NS_ERROR = 'e' };

struct hosts {
	struct gate a_ready, a_go, b_ready, b_go;
	pid_t b_pid;
	int err;		/* errno behind a failure, from the children */
	struct gate err_gate;
};

static int host_b(void *arg)
{
	struct hosts *h = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT_B) };
	int ls;

	if (unshare(CLONE_NEWNET) < 0) {
		gate_post_val(&h->err_gate, errno);
		gate_post_val(&h->b_ready, NS_NO_NETNS);
		return 0;
	}
	gate_post_val(&h->b_ready, NS_OK);
	/* Host A creates the pair and moves our end here. */
	if (gate_wait(&h->b_go) < 0)
		return 0;
	inet_pton(AF_INET, ADDR_B, &sa.sin_addr);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (if_config(VETH_B, ADDR_B) < 0 || wait_running(VETH_B) < 0 || ls < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
		fail_errno("host B: set-up");
		gate_post_val(&h->b_ready, NS_ERROR);
		return 1;
	}
	gate_post_val(&h->b_ready, NS_OK);
	tcp_serve(ls, 0, "host B", "hello");
	close(ls);
	return demo_failures != 0;
}

static int host_a(void *arg)
{
	struct hosts *h = arg;
	struct tcp_peer t = { "host A", .hello = "hello", .go = h->a_go };
	struct mnl_socket *nl;
	int err;

	if (unshare(CLONE_NEWNET) < 0) {
		gate_post_val(&h->err_gate, errno);
		gate_post_val(&h->a_ready, NS_NO_NETNS);
		return 0;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fail_errno("host A: rtnetlink");
		gate_post_val(&h->a_ready, NS_ERROR);
		return 1;
	}
	if (veth_add(nl, h->b_pid) < 0) {
		err = errno;
		mnl_socket_close(nl);
		gate_post_val(&h->err_gate, err);
		if (err == EOPNOTSUPP || err == ENODEV || err == ENOENT) {
			gate_post_val(&h->a_ready, NS_NO_VETH);
			return 0;
		}
		errno = err;
		fail_errno("host A: create the veth pair");
		gate_post_val(&h->a_ready, NS_ERROR);
		return 1;
	}
	mnl_socket_close(nl);
	if (if_config(VETH_A, ADDR_A) < 0) {
		fail_errno("host A: configure " VETH_A);
		gate_post_val(&h->a_ready, NS_ERROR);
		return 1;
	}
	gate_post_val(&h->a_ready, NS_OK);
	/* B's end is up once B says it listens: then ours runs too. */
	if (gate_wait(&t.go) < 0)
		return 1;
	if (wait_running(VETH_A) < 0) {
		fail_errno("host A: " VETH_A " never came up");
		return 1;
	}
	t.go.fd[0] = -1;
	memset(&t.addr, 0, sizeof(t.addr));
	t.addr.sin_family = AF_INET;
	t.addr.sin_port = htons(PORT_B);
	inet_pton(AF_INET, ADDR_B, &t.addr.sin_addr);
	return tcp_client(&t);
}

static void netns_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void two_hosts(void)
{
	struct hosts h;
	char ns0[64], nsa[64], nsb[64];
	pid_t a = -1, b = -1;
	int ra = -1, rb = -1, st, err;

	out_part("two hosts: TCP between two network namespaces over a veth pair");
	out_say("Sockets also work between machines. Two children each get a network stack");
	out_say("of their own, unshare(CLONE_NEWNET). A creates a veth pair (a virtual");
	out_say("cable): " VETH_A " " ADDR_A "/24 in its namespace, " VETH_B " " ADDR_B
		"/24 in B's.");
	out_say("B listens on port %d, A connects. Our own namespace is not touched.", PORT_B);
	memset(&h, 0, sizeof(h));
	if (gate_init(&h.a_ready) < 0 || gate_init(&h.a_go) < 0 ||
	    gate_init(&h.b_ready) < 0 || gate_init(&h.b_go) < 0 ||
	    gate_init(&h.err_gate) < 0)
		goto out;

	b = spawn_report(host_b, &h, &rb);
	st = b > 0 ? gate_wait_val_from(&h.b_ready, b) : -1;
	if (st != NS_OK)
		goto fail;
	h.b_pid = b;
	a = spawn_report(host_a, &h, &ra);
	st = a > 0 ? gate_wait_val_from(&h.a_ready, a) : -1;
	if (st != NS_OK)
		goto fail;

	netns_of(getpid(), ns0, sizeof(ns0));
	netns_of(a, nsa, sizeof(nsa));
	netns_of(b, nsb, sizeof(nsb));
	check(strcmp(ns0, nsa) && strcmp(ns0, nsb) && strcmp(nsa, nsb),
	      "three network namespaces: ours %s, A %s, B %s", ns0, nsa, nsb);
	out_ok("A made the pair " VETH_A " <-> " VETH_B " and moved " VETH_B " into B's namespace");

	gate_post(&h.b_go);
	st = gate_wait_val_from(&h.b_ready, b);
	if (st != NS_OK)
		goto fail;
	gate_post(&h.a_go);
	report_wait(b, &rb, "host B");
	report_wait(a, &ra, "host A");
	check(!if_nametoindex(VETH_A) && !if_nametoindex(VETH_B),
	      "our namespace has no " VETH_A " or " VETH_B
	      ": the pair lives and dies with the two namespaces");
	goto out;

fail:
	/* A child that could not go on says why on err_gate. */
	err = st == NS_NO_NETNS || st == NS_NO_VETH ? gate_wait_val(&h.err_gate) : 0;
	if (st == NS_NO_NETNS)
		out_skip("network namespaces unavailable here (unshare: %s)", strerror(err));
	else if (st == NS_NO_VETH)
		out_skip("veth unavailable (no veth module? %s): two-host part skipped",
			 strerror(err));
	else
		out_fail("the two-host set-up failed");
	kill_child(a);
	kill_child(b);
	report_collect(&ra);
	report_collect(&rb);
out:
	gate_close(&h.a_ready);
	gate_close(&h.a_go);
	gate_close(&h.b_ready);
	gate_close(&h.b_go);
	gate_close(&h.err_gate);
}

void demo_socket(void)
{
	out_say("A socket is an endpoint: the same calls reach a process on this machine");
	out_say("(unix domain) or on another host (TCP/IP). Two-way, stream or datagram.");
	unix_stream();
	unix_dgram();
	tcp_loopback();
	two_hosts();
}
