// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: the two loops every mechanism runs (ping-pong round trips
 * and one-way streaming), the payload stamps and checks, and one
 * repetition of one point: set up, fork, pin, attach, warm up, measure,
 * reap, tear down.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#include "bench.h"

/* A command no kipc device has: its drivers refuse it with ENOTTY. */
#define KB_NULL_IOCTL _IO(KIPC_IOC_MAGIC, 0x7f)

struct kb_opts kb_opts = {
	.batch = 64,
	.timeout = 60,
};

/* --- payload -------------------------------------------------------------
 *
 * The body of every message is a fixed pattern (a function of the byte
 * offset only).  The sender stamps the sequence number at the head, a
 * derived word at the start of every 4 KiB page and the complement at
 * the tail; the receiver checks all stamps of every message (a lost,
 * reordered, stale or torn message or page fails) and compares the whole
 * body with the pattern for every 64th message and all warm-up messages
 * (--verify-full: every message).
 *
 * A zero-copy ring (KB_F_TOUCH_ALL) is held to what zero copy means: the
 * producer builds every byte of each message in place and the consumer
 * reads every byte where it lies (kb_payload_write_all/read_all), so the
 * bytes a stream copies twice are at least written and read once here.
 */

static uint8_t *kb_template;

void kb_payload_fill(uint8_t *buf, size_t len)
{
	if (!kb_template) {
		kb_template = malloc(KB_MAX_SIZE);
		if (!kb_template)
			abort();
		for (size_t i = 0; i < KB_MAX_SIZE; i++)
			kb_template[i] = (uint8_t)(i * 0x9d + (i >> 8) * 0x3b +
						   (i >> 16) + 0x5a);
	}
	if (buf)
		memcpy(buf, kb_template, len);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t page_stamp(uint64_t seq, size_t off)
{
	return seq * 0x9e3779b97f4a7c15ull + off;
}

void kb_payload_stamp(uint8_t *buf, size_t len, uint64_t seq)
{
	put64(buf, seq);
	for (size_t off = KB_STAMP_STRIDE; off + 16 <= len;
	     off += KB_STAMP_STRIDE)
		put64(buf + off, page_stamp(seq, off));
	if (len >= 16)
		put64(buf + len - 8, ~seq);
}

/* Every 64-bit word a function of the sequence number and its offset. */
#define KB_WORD_MUL	0x9e3779b97f4a7c15ull
#define KB_WORD_STEP	0x100000001b3ull

void kb_payload_write_all(uint8_t *buf, size_t len, uint64_t seq)
{
	uint64_t v = seq * KB_WORD_MUL;
	size_t off;

	for (off = 0; off + 8 <= len; off += 8) {
		v += KB_WORD_STEP;
		put64(buf + off, v);
	}
	v += KB_WORD_STEP;
	for (; off < len; off++, v >>= 8)
		buf[off] = (uint8_t)v;
}

int kb_payload_read_all(const uint8_t *buf, size_t len, uint64_t seq,
			char *why, size_t whylen)
{
	uint64_t v = seq * KB_WORD_MUL, bad = 0;
	size_t off;

	/* No early exit in the loop: every byte is read, as a consumer would. */
	for (off = 0; off + 8 <= len; off += 8) {
		v += KB_WORD_STEP;
		bad |= get64(buf + off) ^ v;
	}
	v += KB_WORD_STEP;
	for (; off < len; off++, v >>= 8)
		bad |= buf[off] ^ (uint8_t)v;
	if (!bad)
		return 0;
	v = seq * KB_WORD_MUL;
	for (off = 0; off + 8 <= len; off += 8) {
		v += KB_WORD_STEP;
		if (get64(buf + off) != v)
			break;
	}
	snprintf(why, whylen, "message %llu: byte range at %zu is stale or torn",
		 (unsigned long long)seq, off);
	return -1;
}

static int body_check(const uint8_t *buf, size_t from, size_t to,
		      char *why, size_t whylen)
{
	if (to <= from || !memcmp(buf + from, kb_template + from, to - from))
		return 0;
	for (size_t i = from; i < to; i++) {
		if (buf[i] != kb_template[i]) {
			snprintf(why, whylen,
				 "payload byte %zu is %#x, expected %#x", i,
				 buf[i], kb_template[i]);
			break;
		}
	}
	return -1;
}

int kb_payload_check(const uint8_t *buf, size_t len, uint64_t seq, bool full,
		     char *why, size_t whylen)
{
	size_t off, tail = len >= 16 ? len - 8 : len;
	uint64_t v = get64(buf);

	if (v != seq) {
		snprintf(why, whylen, "message %llu: sequence number %llu",
			 (unsigned long long)seq, (unsigned long long)v);
		return -1;
	}
	for (off = KB_STAMP_STRIDE; off + 16 <= len; off += KB_STAMP_STRIDE) {
		if (get64(buf + off) != page_stamp(seq, off)) {
			snprintf(why, whylen,
				 "message %llu: stale or torn page at %zu",
				 (unsigned long long)seq, off);
			return -1;
		}
	}
	if (len >= 16 && get64(buf + tail) != ~seq) {
		snprintf(why, whylen, "message %llu: bad tail",
			 (unsigned long long)seq);
		return -1;
	}
	if (!full)
		return 0;
	for (off = 0; off < tail; off += KB_STAMP_STRIDE) {
		size_t end = off + KB_STAMP_STRIDE;

		if (end + 16 > len || end > tail)
			end = tail;
		if (body_check(buf, off + 8, end, why, whylen))
			return -1;
	}
	return 0;
}

/* --- sizing -------------------------------------------------------------
 *
 * The same buffering for everyone: a byte stream may hold 16 messages, as
 * a pipe holds 16 pages (at least the 64 KiB pipe default, at most 1 MiB,
 * pipe-max-size's default); queues and rings hold as many messages as fit
 * in that, at least 2 and at most 1024.
 */
void kb_sizing(struct kb_ctx *c, size_t size, enum kb_workload wl)
{
	size_t b = KB_DEPTH_MSGS * kb_pow2_ceil(size);

	if (b < 65536)
		b = 65536;
	if (b > KB_MAX_SIZE)
		b = KB_MAX_SIZE;
	c->size = size;
	c->wl = wl;
	c->bufsize = b;
	c->depth = b / size;
	if (c->depth < 2)
		c->depth = 2;
	if (c->depth > KB_MAX_BATCH)
		c->depth = KB_MAX_BATCH;
	c->batch = kb_opts.batch < c->depth ? kb_opts.batch : c->depth;
	/* io_uring: the submissions per io_uring_enter() are the variant's. */
	if (c->m && c->m->uring_depth)
		c->batch = c->m->uring_depth;
}

/* --- the loops ------------------------------------------------------------ */

struct kb_loop {
	struct kb_ctx *c;
	const struct kb_mech *m;
	size_t len;
	unsigned long warm, n;
	uint8_t *sbuf, *rbuf;
	uint8_t *bmem;
	void *bufs[KB_MAX_BATCH];
	uint64_t verified, verified_full;
	uint64_t batch_calls;	/* RECV_BATCH calls of the measured phase */
	uint64_t cpu0, cpu1;
	uint64_t calls;		/* system calls of the timed phase, ~0: unknown */
	uint64_t *samples;
	uint64_t t0, t1;
	int ctl_in, ctl_out;
	bool child_failed;	/* the parent read the child's 'E' */
};

static int check(struct kb_loop *l, const void *p, uint64_t seq)
{
	bool full = kb_opts.verify_full || seq < l->warm ||
		    seq % KB_FULL_EVERY == 0;
	char why[160];

	if (l->m->flags & KB_F_TOUCH_ALL) {
		if (kb_payload_read_all(p, l->len, seq, why, sizeof(why)))
			return kb_fail(l->c, "payload check failed: %s", why);
		l->verified++;
		l->verified_full++;
		return 0;
	}
	if (kb_payload_check(p, l->len, seq, full, why, sizeof(why)))
		return kb_fail(l->c, "payload check failed: %s", why);
	l->verified++;
	l->verified_full += full;
	return 0;
}

/* Receive one message and check it; *pp is where it lies. */
static int recv_msg(struct kb_loop *l, int ch, uint64_t seq, void **pp)
{
	struct kb_ctx *c = l->c;

	if (l->m->recv_begin) {
		*pp = l->m->recv_begin(c, ch);
		if (!*pp)
			return -1;
	} else {
		if (l->m->recv(c, ch, l->rbuf, l->len))
			return -1;
		*pp = l->rbuf;
	}
	return check(l, *pp, seq);
}

static int recv_done(struct kb_loop *l, int ch)
{
	return l->m->recv_end ? l->m->recv_end(l->c, ch) : 0;
}

/* Write message seq where it is sent from: every byte, or the stamps. */
static void build(struct kb_loop *l, void *p, uint64_t seq)
{
	if (l->m->flags & KB_F_TOUCH_ALL)
		kb_payload_write_all(p, l->len, seq);
	else
		kb_payload_stamp(p, l->len, seq);
}

/* Send message seq: built in place, or stamped in sbuf (or echoed). */
static int send_msg(struct kb_loop *l, int ch, uint64_t seq, void *echo)
{
	struct kb_ctx *c = l->c;
	void *p;

	if (l->m->send_begin) {
		p = l->m->send_begin(c, ch);
		if (!p)
			return -1;
		build(l, p, seq);
		return l->m->send_end(c, ch);
	}
	if (!echo) {
		kb_payload_stamp(l->sbuf, l->len, seq);
		echo = l->sbuf;
	}
	return l->m->send(c, ch, echo, l->len);
}

static int ctl_wait(struct kb_loop *l, char want)
{
	char b;

	if (kb_read_full(l->c, l->ctl_in, &b, 1))
		return -1;
	if (b == 'E') {
		l->child_failed = true;
		return kb_fail(l->c, "child failed");
	}
	if (b != want)
		return kb_fail(l->c, "control: got '%c', expected '%c'", b,
			       want);
	return 0;
}

static int ctl_send(struct kb_loop *l, char b)
{
	return kb_write_full(l->c, l->ctl_out, &b, 1);
}

static int latency_parent(struct kb_loop *l)
{
	const struct kb_mech *m = l->m;
	struct kb_ctx *c = l->c;
	uint64_t t0, t1;
	void *p;

	if (ctl_send(l, 'G'))
		return -1;
	for (unsigned long i = 0; i < l->warm + l->n; i++) {
		if (kb_timed_out)
			return kb_fail(c, "timed out after %lu round trips", i);
		if (i == l->warm) {
			l->cpu0 = kb_cpu_ns();
			l->t0 = kb_now_ns();
			kb_calls_start();
		}
		if (m->send_begin) {
			p = m->send_begin(c, KB_CH_P2C);
			if (!p)
				return -1;
			build(l, p, i);
			t0 = kb_now_ns();
			if (m->send_end(c, KB_CH_P2C))
				return -1;
		} else {
			kb_payload_stamp(l->sbuf, l->len, i);
			t0 = kb_now_ns();
			if (m->send(c, KB_CH_P2C, l->sbuf, l->len))
				return -1;
		}
		if (m->recv_begin) {
			p = m->recv_begin(c, KB_CH_C2P);
			if (!p)
				return -1;
		} else {
			if (m->recv(c, KB_CH_C2P, l->rbuf, l->len))
				return -1;
			p = l->rbuf;
		}
		t1 = kb_now_ns();
		if (check(l, p, i) || recv_done(l, KB_CH_C2P))
			return -1;
		if (i >= l->warm)
			l->samples[i - l->warm] = t1 - t0;
	}
	l->calls = kb_calls_stop();
	/* The two clock readings per round trip are the benchmark's. */
	if (l->calls != ~0ull)
		l->calls -= (uint64_t)(2 * l->n * kb_clock_calls + 0.5);
	l->t1 = kb_now_ns();
	l->cpu1 = kb_cpu_ns();
	return 0;
}

static int latency_child(struct kb_loop *l)
{
	void *p;

	if (ctl_wait(l, 'G'))
		return -1;
	for (unsigned long i = 0; i < l->warm + l->n; i++) {
		if (i == l->warm) {
			l->cpu0 = kb_cpu_ns();
			kb_calls_start();
		}
		if (recv_msg(l, KB_CH_P2C, i, &p) ||
		    send_msg(l, KB_CH_C2P, i, p) || recv_done(l, KB_CH_P2C))
			return -1;
	}
	l->calls = kb_calls_stop();
	l->cpu1 = kb_cpu_ns();
	return 0;
}

static int send_range(struct kb_loop *l, unsigned long a, unsigned long b)
{
	unsigned long i, k;

	if (!l->m->send_batch) {
		for (i = a; i < b; i++)
			if (send_msg(l, KB_CH_C2P, i, NULL))
				return -1;
		return 0;
	}
	for (i = a; i < b; i += k) {
		k = b - i < l->c->batch ? b - i : l->c->batch;
		for (unsigned long j = 0; j < k; j++)
			build(l, l->bufs[j], i + j);
		if (l->m->send_batch(l->c, KB_CH_C2P, l->bufs, k, l->len))
			return -1;
	}
	return 0;
}

static int recv_range(struct kb_loop *l, unsigned long a, unsigned long b)
{
	unsigned long i, k;
	void *p;
	int got;

	if (!l->m->recv_batch) {
		for (i = a; i < b; i++) {
			if (kb_timed_out)
				return kb_fail(l->c, "timed out after %lu messages",
					       i);
			if (recv_msg(l, KB_CH_C2P, i, &p) ||
			    recv_done(l, KB_CH_C2P))
				return -1;
		}
		return 0;
	}
	for (i = a; i < b; i += got) {
		if (kb_timed_out)
			return kb_fail(l->c, "timed out after %lu messages", i);
		k = b - i < l->c->batch ? b - i : l->c->batch;
		got = l->m->recv_batch(l->c, KB_CH_C2P, l->bufs, k, l->len);
		if (got <= 0)
			return -1;
		l->batch_calls += i >= l->warm;
		for (int j = 0; j < got; j++)
			if (check(l, l->bufs[j], i + j))
				return -1;
	}
	return 0;
}

/* Streaming: the child sends, the parent receives and keeps the clock. */
static int stream_parent(struct kb_loop *l)
{
	if (ctl_send(l, 'G') || recv_range(l, 0, l->warm))
		return -1;
	l->cpu0 = kb_cpu_ns();
	l->t0 = kb_now_ns();
	if (ctl_send(l, 'T'))
		return -1;
	kb_calls_start();
	if (recv_range(l, l->warm, l->warm + l->n))
		return -1;
	l->calls = kb_calls_stop();
	l->t1 = kb_now_ns();
	l->cpu1 = kb_cpu_ns();
	return 0;
}

static int stream_child(struct kb_loop *l)
{
	if (ctl_wait(l, 'G') || send_range(l, 0, l->warm) || ctl_wait(l, 'T'))
		return -1;
	l->cpu0 = kb_cpu_ns();
	kb_calls_start();
	if (send_range(l, l->warm, l->warm + l->n))
		return -1;
	l->calls = kb_calls_stop();
	l->cpu1 = kb_cpu_ns();
	return 0;
}

/* --- one repetition ------------------------------------------------------- */

/* Sent by the child at the end, after its 'R'. */
struct kb_child_res {
	char tag;		/* 'D' done, 'E' error */
	int status;
	char err[240];
	uint64_t cpu_ns;
	uint64_t calls;
	uint64_t verified, verified_full;
};

static int loop_alloc(struct kb_loop *l)
{
	size_t stride = (l->len + KB_HEADROOM + 63) & ~(size_t)63;
	unsigned int nb = l->m->send_batch || l->m->recv_batch ?
			  l->c->batch : 0;

	l->sbuf = aligned_alloc(64, stride);
	l->rbuf = aligned_alloc(64, stride);
	if (!l->sbuf || !l->rbuf)
		return kb_fail(l->c, "out of memory");
	l->sbuf += KB_HEADROOM;
	l->rbuf += KB_HEADROOM;
	kb_payload_fill(l->sbuf, l->len);
	kb_payload_fill(l->rbuf, l->len);
	if (nb) {
		l->bmem = aligned_alloc(64, stride * nb);
		if (!l->bmem)
			return kb_fail(l->c, "out of memory");
		for (unsigned int j = 0; j < nb; j++) {
			l->bufs[j] = l->bmem + j * stride + KB_HEADROOM;
			kb_payload_fill(l->bufs[j], l->len);
		}
	}
	return 0;
}

static void loop_free(struct kb_loop *l)
{
	if (l->sbuf)
		free(l->sbuf - KB_HEADROOM);
	if (l->rbuf)
		free(l->rbuf - KB_HEADROOM);
	free(l->bmem);
	free(l->samples);
}

static void child_main(struct kb_loop *l, int cpu)
{
	struct kb_child_res res = { 0 };
	struct kb_ctx *c = l->c;
	int rc;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	kb_pin(cpu);
	rc = loop_alloc(l);
	if (!rc)
		rc = c->m->attach(c);
	if (!rc)
		rc = ctl_send(l, 'R');
	if (!rc)
		rc = l->c->wl == KB_LATENCY ? latency_child(l) :
					      stream_child(l);
	res.tag = rc ? 'E' : 'D';
	res.status = rc;
	snprintf(res.err, sizeof(res.err), "%s", rc ? c->err : "");
	res.cpu_ns = l->cpu1 - l->cpu0;
	res.calls = l->calls;
	res.verified = l->verified;
	res.verified_full = l->verified_full;
	if (write(l->ctl_out, &res, sizeof(res)) != sizeof(res))
		_exit(2);
	/* Wake the parent if it waits for a message that will not come. */
	if (rc)
		kill(getppid(), SIGALRM);
	_exit(rc ? 1 : 0);
}

static int read_report(int fd, struct kb_child_res *r, bool tag_read)
{
	size_t off = tag_read ? 1 : 0;
	char *p = (char *)r;

	while (off < sizeof(*r)) {
		ssize_t n = read(fd, p + off, sizeof(*r) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

/*
 * The parent's watchdog: SIGALRM after s seconds sets kb_timed_out, which
 * the loops check, and interrupts a blocked call (no SA_RESTART).  It
 * fires again every second, so a signal that came just before a call
 * blocked cannot leave it blocked.  s == 0 disarms it.
 */
static void watchdog(unsigned int s)
{
	struct itimerval it = {
		.it_value = { .tv_sec = s },
		.it_interval = { .tv_sec = s ? 1 : 0 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *s, unsigned long n, double p)
{
	unsigned long k = (unsigned long)(p * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)s[k - 1];
}

void kb_run_rep(const struct kb_mech *m, enum kb_workload wl,
		enum kb_placement pl, size_t size, const struct kb_work *w,
		struct kb_rep *out)
{
	int to_child[2] = { -1, -1 }, to_parent[2] = { -1, -1 };
	struct kb_child_res cres = { .status = -1 };
	struct kb_loop l = { 0 };
	struct kb_ctx c;
	cpu_set_t saved;
	pid_t pid = -1;
	int rc, st;

	memset(out, 0, sizeof(*out));
	kb_ctx_init(&c);
	c.m = m;
	kb_sizing(&c, size, wl);
	l.c = &c;
	l.m = m;
	l.len = size;
	l.warm = wl == KB_LATENCY ? w->lat_warm : w->st_warm;
	l.n = wl == KB_LATENCY ? w->lat_iters : w->st_msgs;
	kb_timed_out = 0;
	sched_getaffinity(0, sizeof(saved), &saved);

	rc = m->setup(&c);
	if (rc == KB_SKIP) {
		out->status = KB_SKIP;
		snprintf(out->note, sizeof(out->note), "%s", c.err);
		return;
	}
	if (rc)
		goto done;
	if (wl == KB_LATENCY) {
		l.samples = calloc(l.n, sizeof(*l.samples));
		if (!l.samples) {
			rc = kb_fail(&c, "out of memory");
			goto done;
		}
	}
	if (pipe2(to_child, O_CLOEXEC) || pipe2(to_parent, O_CLOEXEC)) {
		rc = kb_fail_errno(&c, "pipe");
		goto done;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = kb_fail_errno(&c, "fork");
		goto done;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(to_child[1]);
		close(to_parent[0]);
		l.ctl_in = to_child[0];
		l.ctl_out = to_parent[1];
		c.role = KB_CHILD;
		c.peer = getppid();
		child_main(&l, kb_sys.cpu[pl == KB_SPLIT ? 1 : 0]);
	}
	kb_child = pid;
	close(to_child[0]);
	close(to_parent[1]);
	to_child[0] = to_parent[1] = -1;
	l.ctl_in = to_parent[0];
	l.ctl_out = to_child[1];
	c.role = KB_PARENT;
	c.peer = pid;
	kb_pin(kb_sys.cpu[0]);
	watchdog(kb_opts.timeout);

	rc = loop_alloc(&l);
	if (!rc)
		rc = m->attach(&c);
	if (!rc)
		rc = ctl_wait(&l, 'R');
	if (!rc)
		rc = wl == KB_LATENCY ? latency_parent(&l) : stream_parent(&l);
	/* A child blocked on us would never report: stop it first. */
	if (rc)
		kill(pid, SIGKILL);
	/* The child's report (its tag may be read already), or EOF. */
	if (read_report(to_parent[0], &cres, l.child_failed))
		cres.status = -1, cres.err[0] = 0;
	if (cres.status && cres.err[0]) {
		rc = -1;
		snprintf(c.err, sizeof(c.err), "child: %s", cres.err);
	} else if (!rc && cres.status) {
		rc = kb_fail(&c, "child failed");
	}
	if (rc)
		kill(pid, SIGKILL);
done:
	watchdog(0);
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		kb_child = 0;
		if (!rc && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			rc = kb_fail(&c, "child exited with status %#x", st);
	}
	kb_close(&to_child[0]);
	kb_close(&to_child[1]);
	kb_close(&to_parent[0]);
	kb_close(&to_parent[1]);
	if (m->teardown)
		m->teardown(&c);
	sched_setaffinity(0, sizeof(saved), &saved);

	/* How full the receiver's batches were: a hint where time goes. */
	if (!rc && l.batch_calls)
		kb_cfg_add(&c, "%.1f messages per receive call",
			   (double)l.n / l.batch_calls);
	snprintf(out->config, sizeof(out->config), "%s", c.config);
	if (rc) {
		out->status = -1;
		snprintf(out->note, sizeof(out->note), "%s", c.err);
		loop_free(&l);
		return;
	}
	out->count = l.n;
	out->elapsed_ns = l.t1 - l.t0;
	out->cpu_ns = (l.cpu1 - l.cpu0) + cres.cpu_ns;
	out->calls = l.calls == ~0ull || cres.calls == ~0ull ? ~0ull :
		     l.calls + cres.calls;
	out->verified = l.verified + cres.verified;
	out->verified_full = l.verified_full + cres.verified_full;
	if (wl == KB_LATENCY) {
		qsort(l.samples, l.n, sizeof(*l.samples), cmp_u64);
		out->min = (double)l.samples[0];
		out->p50 = pct(l.samples, l.n, 0.50);
		out->p90 = pct(l.samples, l.n, 0.90);
		out->p99 = pct(l.samples, l.n, 0.99);
		out->p999 = pct(l.samples, l.n, 0.999);
		out->max = (double)l.samples[l.n - 1];
	}
	loop_free(&l);
}

/* --- the system call reference ------------------------------------------- */

/*
 * Nanoseconds per call when the kernel does no work: getppid(); an
 * ioctl() that @fd's driver refuses with ENOTTY, which passes the same
 * descriptor lookup and security hooks as its real commands; a read(2)
 * of @fd that returns 0 at once (/dev/null), which passes those of every
 * read(2) of a device.  -1 if @fd does not answer so.
 */
double kb_call_ns(enum kb_call call, int fd, unsigned long loops)
{
	uint64_t t0, t1;
	char b;

	if ((call == KB_CALL_IOCTL &&
	     (ioctl(fd, KB_NULL_IOCTL) != -1 || errno != ENOTTY)) ||
	    (call == KB_CALL_READ && read(fd, &b, 1) != 0))
		return -1;
	t0 = kb_now_ns();
	for (unsigned long i = 0; i < loops; i++) {
		if (call == KB_CALL_GETPPID)
			syscall(SYS_getppid);
		else if (call == KB_CALL_IOCTL)
			ioctl(fd, KB_NULL_IOCTL);
		else
			(void)!read(fd, &b, 1);
	}
	t1 = kb_now_ns();
	return (double)(t1 - t0) / loops;
}

/* --- the memcpy reference ------------------------------------------------- */

double kb_memcpy_mbps(size_t size, unsigned long long bytes)
{
	unsigned long long loops = bytes / size;
	uint8_t *src, *dst;
	uint64_t t0, t1;

	if (loops < 16)
		loops = 16;
	src = aligned_alloc(64, (size + 63) & ~(size_t)63);
	dst = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!src || !dst) {
		free(src);
		free(dst);
		return 0;
	}
	kb_payload_fill(src, size);
	memcpy(dst, src, size);
	t0 = kb_now_ns();
	for (unsigned long long i = 0; i < loops; i++) {
		memcpy(dst, src, size);
		/* Keep every copy: the compiler may not merge or drop them. */
		__asm__ __volatile__("" : : "r"(dst), "r"(src) : "memory");
	}
	t1 = kb_now_ns();
	free(src);
	free(dst);
	return (double)loops * size / ((t1 - t0) / 1e9) / 1e6;
}
