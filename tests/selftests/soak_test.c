// SPDX-License-Identifier: GPL-2.0
/*
 * Soak: 8 producers and 8 consumers (threads, each with its own file) on
 * each kind of device for a bounded time, every record checked: a
 * checksum over its payload, and per producer a sequence number, so that
 * nothing is lost (all sent were received), duplicated (a bitmap per
 * producer), corrupted (checksum, length) or reordered (each consumer
 * sees each producer's numbers rising: the devices are FIFO).
 *
 *   pipe   fixed-size records (<= PIPE_BUF, so each write is atomic and
 *          each read of that size takes exactly one), sizes that do not
 *          divide the ring so records wrap around its end; a variant
 *          moves them through io_uring (batches of linked reads and
 *          writes) and splice (vmsplice into a pipe(2), then splice into
 *          the device; splice out of it into a pipe(2), then read)
 *   mq     messages of random size up to the limit, sent one by one,
 *          through write(2) and in batches, received the same three ways
 *          and, for some consumers, lowest type first
 *   mq_uring  the same records through io_uring: each producer submits
 *          linked chains of IORING_OP_WRITE and KIPC_MQ_SEND uring_cmds,
 *          each consumer hard-linked chains of IORING_OP_READ and
 *          KIPC_MQ_RECV uring_cmds (a chain runs in order, so each
 *          producer's records still arrive rising)
 *   shm    a ring of slots in the mapped region, guarded by four kipc
 *          semaphores (free slots, filled slots, two mutexes)
 *
 * KIPC_SOAK_SECONDS (default 5) is the time per device kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <liburing.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"

/* TEST_F()'s wrapper keeps a local across setjmp(); it never changes. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define NPROD		8
#define NCONS		8
/* Sequence numbers a producer may use: the bitmap's size. */
#define MAX_SEQ		(1U << 22)
#define POISON		0xffffffffU
#define REC_MAGIC	0x6b697063U	/* "kipc" */

static const char *const pipe_path = KIPC_DEV_DIR "/pipe0";
static const char *const mq_path = KIPC_DEV_DIR "/mq0";
static const char *const shm_path = KIPC_DEV_DIR "/shm0";

/* The head of every record. */
struct rec {
	__u32 magic;
	__u32 producer;		/* POISON: the consumer stops */
	__u32 seq;
	__u32 len;		/* payload bytes after the head */
	__u32 csum;		/* FNV-1a of the payload */
	__u32 pad;
};

struct soak {
	double seconds;
	/* What the producers did. */
	atomic_uint sent[NPROD];
	/* What the consumers saw: one bit per (producer, seq). */
	_Atomic unsigned long *seen[NPROD];
	atomic_ulong received, bytes;
	atomic_uint lost_order, dups, corrupt, bad_seq;
	atomic_int errors;
	char first_error[256];
	pthread_mutex_t err_lock;
	atomic_bool stop;
};

static struct soak S;

static void soak_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void soak_error(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&S.errors, 1))
		return;
	pthread_mutex_lock(&S.err_lock);
	va_start(ap, fmt);
	vsnprintf(S.first_error, sizeof(S.first_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&S.err_lock);
}

static double soak_seconds(void)
{
	const char *s = getenv("KIPC_SOAK_SECONDS");
	double v = s ? atof(s) : 5;

	return v > 0 ? v : 5;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u32 fnv(const unsigned char *p, size_t n)
{
	__u32 h = 2166136261U;

	while (n--)
		h = (h ^ *p++) * 16777619U;
	return h;
}

/* xorshift: each thread its own. */
static __u32 rnd(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A record of @len bytes in all (head included) from producer p. */
static void rec_make(void *buf, size_t len, __u32 p, __u32 seq)
{
	struct rec *r = buf;
	unsigned char *d = (unsigned char *)(r + 1);
	__u32 x = (p + 1) * 2654435761U ^ seq;
	size_t i;

	r->magic = REC_MAGIC;
	r->producer = p;
	r->seq = seq;
	r->len = len - sizeof(*r);
	r->pad = 0;
	for (i = 0; i < r->len; i++) {
		x = x * 1103515245U + 12345U;
		d[i] = x >> 16;
	}
	r->csum = fnv(d, r->len);
}

static void soak_reset(void)
{
	int p;

	for (p = 0; p < NPROD; p++) {
		atomic_store(&S.sent[p], 0);
		if (!S.seen[p])
			S.seen[p] = calloc(MAX_SEQ / 64, sizeof(unsigned long));
		else
			memset((void *)S.seen[p], 0, MAX_SEQ / 8);
	}
	S.received = S.bytes = 0;
	S.lost_order = S.dups = S.corrupt = S.bad_seq = 0;
	S.errors = 0;
	S.first_error[0] = '\0';
	S.stop = false;
	S.seconds = soak_seconds();
	pthread_mutex_init(&S.err_lock, NULL);
}

/*
 * Check one received record of @n bytes; @last[] is this consumer's
 * latest sequence number per producer (+1, 0: none yet).  Returns false
 * for a poison record.
 */
static bool rec_check(const void *buf, size_t n, __u32 *last)
{
	const struct rec *r = buf;
	unsigned long bit, old;
	__u32 p, seq;

	if (n < sizeof(*r) || r->magic != REC_MAGIC ||
	    r->len != n - sizeof(*r)) {
		atomic_fetch_add(&S.corrupt, 1);
		soak_error("bad record: %zu bytes, magic %#x, len %u", n,
			   n >= 8 ? r->magic : 0, n >= 16 ? r->len : 0);
		return true;
	}
	if (r->producer == POISON)
		return false;
	p = r->producer;
	seq = r->seq;
	if (p >= NPROD || seq >= MAX_SEQ) {
		atomic_fetch_add(&S.bad_seq, 1);
		soak_error("bad producer %u or seq %u", p, seq);
		return true;
	}
	if (fnv((const unsigned char *)(r + 1), r->len) != r->csum) {
		atomic_fetch_add(&S.corrupt, 1);
		soak_error("checksum of producer %u seq %u", p, seq);
	}
	if (last[p] && seq < last[p]) {
		atomic_fetch_add(&S.lost_order, 1);
		soak_error("producer %u: seq %u after %u", p, seq, last[p] - 1);
	}
	last[p] = seq + 1;
	bit = 1UL << (seq % 64);
	old = atomic_fetch_or(&S.seen[p][seq / 64], bit);
	if (old & bit) {
		atomic_fetch_add(&S.dups, 1);
		soak_error("producer %u: seq %u twice", p, seq);
	}
	atomic_fetch_add(&S.received, 1);
	atomic_fetch_add(&S.bytes, n);
	return true;
}

/* Everything sent was received, once. */
static void soak_verify(struct __test_metadata *_metadata, const char *what)
{
	unsigned long total = 0;
	__u32 p, seq;

	for (p = 0; p < NPROD; p++) {
		__u32 n = atomic_load(&S.sent[p]);

		total += n;
		for (seq = 0; seq < n; seq++) {
			if (!(S.seen[p][seq / 64] & (1UL << (seq % 64)))) {
				soak_error("producer %u: seq %u lost", p, seq);
				break;
			}
		}
	}
	fprintf(stderr, "# %s: %lu records (%lu bytes) in %.1f s, 8 producers x 8 consumers\n",
		what, (unsigned long)S.received, (unsigned long)S.bytes,
		S.seconds);
	EXPECT_EQ(0, S.errors) TH_LOG("%s: %d errors, first: %s", what,
				      S.errors, S.first_error);
	EXPECT_EQ(total, (unsigned long)S.received);
	EXPECT_EQ(0U, S.corrupt);
	EXPECT_EQ(0U, S.dups);
	EXPECT_EQ(0U, S.lost_order);
	EXPECT_LT(0UL, total);
}

struct worker {
	pthread_t thread;
	int id;
	int fd;
	size_t len;		/* pipe: record size */
	char *region;		/* shm */
};

static bool time_up(double end, __u32 seq)
{
	return atomic_load(&S.stop) || seq + 64 >= MAX_SEQ || now() >= end;
}

/* --- pipe ---------------------------------------------------------------- */

static void *pipe_producer(void *arg)
{
	struct worker *w = arg;
	double end = now() + S.seconds;
	char buf[KIPC_PIPE_BUF];
	__u32 seq;

	for (seq = 0; !time_up(end, seq); seq++) {
		rec_make(buf, w->len, w->id, seq);
		if (write(w->fd, buf, w->len) != (ssize_t)w->len) {
			soak_error("pipe write: %s", strerror(errno));
			break;
		}
		atomic_store(&S.sent[w->id], seq + 1);
	}
	close(w->fd);
	return NULL;
}

static void *pipe_consumer(void *arg)
{
	struct worker *w = arg;
	__u32 last[NPROD] = { 0 };
	char buf[KIPC_PIPE_BUF];
	ssize_t n;

	/* Until every writer is gone and the ring is empty: EOF. */
	while ((n = read(w->fd, buf, w->len)) > 0) {
		if (n != (ssize_t)w->len)
			soak_error("pipe read %zd of %zu bytes", n, w->len);
		rec_check(buf, n, last);
	}
	if (n < 0)
		soak_error("pipe read: %s", strerror(errno));
	close(w->fd);
	return NULL;
}

static void pipe_soak(struct __test_metadata *_metadata, size_t len)
{
	struct worker prod[NPROD], cons[NCONS];
	char what[64];
	int i, fl;

	soak_reset();
	/* Readers first, without blocking: the writers' opens need them. */
	for (i = 0; i < NCONS; i++) {
		cons[i] = (struct worker){ .id = i, .len = len };
		cons[i].fd = open(pipe_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		ASSERT_LE(0, cons[i].fd);
	}
	for (i = 0; i < NPROD; i++) {
		prod[i] = (struct worker){ .id = i, .len = len };
		prod[i].fd = open(pipe_path, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, prod[i].fd);
	}
	for (i = 0; i < NCONS; i++) {
		fl = fcntl(cons[i].fd, F_GETFL);
		ASSERT_EQ(0, fcntl(cons[i].fd, F_SETFL, fl & ~O_NONBLOCK));
	}
	for (i = 0; i < NCONS; i++)
		ASSERT_EQ(0, pthread_create(&cons[i].thread, NULL,
					    pipe_consumer, &cons[i]));
	for (i = 0; i < NPROD; i++)
		ASSERT_EQ(0, pthread_create(&prod[i].thread, NULL,
					    pipe_producer, &prod[i]));
	for (i = 0; i < NPROD; i++)
		pthread_join(prod[i].thread, NULL);
	for (i = 0; i < NCONS; i++)
		pthread_join(cons[i].thread, NULL);
	snprintf(what, sizeof(what), "pipe, %zu-byte records", len);
	soak_verify(_metadata, what);
}

/*
 * The io_uring and splice variant: even producers submit their records in
 * batches of URING_BATCH linked writes (linked, so that they land in
 * order), odd ones vmsplice each record into a pipe(2) of their own and
 * splice it into the device (one atomic write_iter of the record); even
 * consumers receive in batches of linked reads (a read of exactly one
 * record's size takes one record), odd ones splice one record at a time
 * out of the device into a pipe(2) and read it from there.
 */
#define URING_BATCH 8

static void *pipe_uring_producer(void *arg)
{
	struct worker *w = arg;
	double end = now() + S.seconds;
	static __thread char buf[URING_BATCH][KIPC_PIPE_BUF];
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	__u32 seq = 0, k;
	int ret;

	ret = io_uring_queue_init(URING_BATCH, &ring, 0);
	if (ret) {
		soak_error("io_uring_queue_init: %s", strerror(-ret));
		goto out;
	}
	while (!time_up(end, seq)) {
		for (k = 0; k < URING_BATCH; k++) {
			rec_make(buf[k], w->len, w->id, seq + k);
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_write(sqe, w->fd, buf[k], w->len, 0);
			if (k < URING_BATCH - 1)
				sqe->flags |= IOSQE_IO_LINK;
		}
		if (io_uring_submit(&ring) != URING_BATCH) {
			soak_error("io_uring_submit of writes failed");
			break;
		}
		for (k = 0; k < URING_BATCH; k++) {
			if (io_uring_wait_cqe(&ring, &cqe)) {
				soak_error("io_uring_wait_cqe failed");
				goto done;
			}
			ret = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			if (ret != (int)w->len)
				soak_error("uring write: %d", ret);
		}
		seq += URING_BATCH;
		atomic_store(&S.sent[w->id], seq);
	}
done:
	io_uring_queue_exit(&ring);
out:
	close(w->fd);
	return NULL;
}

static void *pipe_splice_producer(void *arg)
{
	struct worker *w = arg;
	double end = now() + S.seconds;
	char buf[KIPC_PIPE_BUF];
	struct iovec iov = { buf, w->len };
	__u32 seq;
	int p[2];

	if (pipe2(p, O_CLOEXEC)) {
		soak_error("pipe2: %s", strerror(errno));
		goto out;
	}
	for (seq = 0; !time_up(end, seq); seq++) {
		rec_make(buf, w->len, w->id, seq);
		/* vmsplice maps the buffer: it must not change until read. */
		if (vmsplice(p[1], &iov, 1, 0) != (ssize_t)w->len ||
		    splice(p[0], NULL, w->fd, NULL, w->len, 0) !=
			    (ssize_t)w->len) {
			soak_error("vmsplice/splice in: %s", strerror(errno));
			break;
		}
		atomic_store(&S.sent[w->id], seq + 1);
	}
	close(p[0]);
	close(p[1]);
out:
	close(w->fd);
	return NULL;
}

static void *pipe_uring_consumer(void *arg)
{
	struct worker *w = arg;
	static __thread char buf[URING_BATCH][KIPC_PIPE_BUF];
	__u32 last[NPROD] = { 0 };
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	bool eof = false;
	int ret, k;

	ret = io_uring_queue_init(URING_BATCH, &ring, 0);
	if (ret) {
		soak_error("io_uring_queue_init: %s", strerror(-ret));
		goto out;
	}
	while (!eof) {
		for (k = 0; k < URING_BATCH; k++) {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read(sqe, w->fd, buf[k], w->len, 0);
			io_uring_sqe_set_data64(sqe, k);
			if (k < URING_BATCH - 1)
				sqe->flags |= IOSQE_IO_LINK;
		}
		if (io_uring_submit(&ring) != URING_BATCH) {
			soak_error("io_uring_submit of reads failed");
			break;
		}
		/* Linked: they complete in order; EOF cancels the rest. */
		for (k = 0; k < URING_BATCH; k++) {
			if (io_uring_wait_cqe(&ring, &cqe)) {
				soak_error("io_uring_wait_cqe failed");
				eof = true;
				break;
			}
			ret = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			if (ret == 0 || (eof && ret == -ECANCELED)) {
				eof = true;
				continue;
			}
			if (ret != (int)w->len)
				soak_error("uring read %d of %zu bytes", ret,
					   w->len);
			if (ret > 0)
				rec_check(buf[k], ret, last);
		}
	}
	io_uring_queue_exit(&ring);
out:
	close(w->fd);
	return NULL;
}

static void *pipe_splice_consumer(void *arg)
{
	struct worker *w = arg;
	__u32 last[NPROD] = { 0 };
	char buf[KIPC_PIPE_BUF];
	ssize_t n;
	int p[2];

	if (pipe2(p, O_CLOEXEC)) {
		soak_error("pipe2: %s", strerror(errno));
		goto out;
	}
	while ((n = splice(w->fd, NULL, p[1], NULL, w->len, 0)) > 0) {
		if (n != (ssize_t)w->len)
			soak_error("splice out %zd of %zu bytes", n, w->len);
		if (read(p[0], buf, n) != n) {
			soak_error("read from the pipe(2): %s",
				   strerror(errno));
			break;
		}
		rec_check(buf, n, last);
	}
	if (n < 0)
		soak_error("splice out: %s", strerror(errno));
	close(p[0]);
	close(p[1]);
out:
	close(w->fd);
	return NULL;
}

static void pipe_uring_splice_soak(struct __test_metadata *_metadata,
				   size_t len)
{
	struct worker prod[NPROD], cons[NCONS];
	struct io_uring probe;
	bool uring;
	char what[96];
	int i, fl;

	/* A kernel without io_uring (the debug kernel's): splice only. */
	i = io_uring_queue_init(1, &probe, 0);
	uring = !i;
	if (uring)
		io_uring_queue_exit(&probe);
	else
		fprintf(stderr, "# io_uring unavailable (%s): splice only\n",
			strerror(-i));
	soak_reset();
	for (i = 0; i < NCONS; i++) {
		cons[i] = (struct worker){ .id = i, .len = len };
		cons[i].fd = open(pipe_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		ASSERT_LE(0, cons[i].fd);
	}
	for (i = 0; i < NPROD; i++) {
		prod[i] = (struct worker){ .id = i, .len = len };
		prod[i].fd = open(pipe_path, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, prod[i].fd);
	}
	for (i = 0; i < NCONS; i++) {
		fl = fcntl(cons[i].fd, F_GETFL);
		ASSERT_EQ(0, fcntl(cons[i].fd, F_SETFL, fl & ~O_NONBLOCK));
	}
	for (i = 0; i < NCONS; i++)
		ASSERT_EQ(0, pthread_create(&cons[i].thread, NULL,
					    i % 2 || !uring ?
						    pipe_splice_consumer :
						    pipe_uring_consumer,
					    &cons[i]));
	for (i = 0; i < NPROD; i++)
		ASSERT_EQ(0, pthread_create(&prod[i].thread, NULL,
					    i % 2 || !uring ?
						    pipe_splice_producer :
						    pipe_uring_producer,
					    &prod[i]));
	for (i = 0; i < NPROD; i++)
		pthread_join(prod[i].thread, NULL);
	for (i = 0; i < NCONS; i++)
		pthread_join(cons[i].thread, NULL);
	snprintf(what, sizeof(what), "pipe via %s, %zu-byte records",
		 uring ? "io_uring and splice" : "splice", len);
	soak_verify(_metadata, what);
}

FIXTURE(soak)
{
	int unused;
};

FIXTURE_SETUP(soak)
{
}

FIXTURE_TEARDOWN(soak)
{
}

/* Sizes that do not divide the 64 KiB ring: records wrap its end. */
TEST_F_TIMEOUT(soak, pipe_small_records, 3600)
{
	pipe_soak(_metadata, 100);
}

TEST_F_TIMEOUT(soak, pipe_page_records, 3600)
{
	pipe_soak(_metadata, KIPC_PIPE_BUF);
}

TEST_F_TIMEOUT(soak, pipe_uring_splice_small_records, 3600)
{
	pipe_uring_splice_soak(_metadata, 100);
}

TEST_F_TIMEOUT(soak, pipe_uring_splice_page_records, 3600)
{
	pipe_uring_splice_soak(_metadata, KIPC_PIPE_BUF);
}

/* --- message queue ------------------------------------------------------- */

#define MQ_MAX	KIPC_MQ_DEF_MSG_SIZE

static size_t mq_len(__u32 *seed)
{
	__u32 r = rnd(seed);

	/* Mostly small (the buffer cache), sometimes up to the limit. */
	if (r % 4)
		return sizeof(struct rec) + r % 200;
	return sizeof(struct rec) + r % (MQ_MAX - sizeof(struct rec) + 1);
}

static void *mq_producer(void *arg)
{
	struct worker *w = arg;
	double end = now() + S.seconds;
	static __thread char buf[8][MQ_MAX];
	struct kipc_mq_msg msgs[8];
	struct kipc_mq_batch b;
	__u32 seed = 0x9e3779b9U * (w->id + 1), seq = 0, k, n;
	size_t len;

	while (!time_up(end, seq)) {
		switch (w->id % 3) {
		case 0:
			len = mq_len(&seed);
			rec_make(buf[0], len, w->id, seq);
			msgs[0] = (struct kipc_mq_msg){ .type = w->id + 1,
				.buf = (uintptr_t)buf[0], .len = len };
			if (ioctl(w->fd, KIPC_MQ_SEND, &msgs[0])) {
				soak_error("mq send: %s", strerror(errno));
				goto out;
			}
			seq++;
			break;
		case 1:
			/* write(2) sends with the file's send_type. */
			len = mq_len(&seed);
			rec_make(buf[0], len, w->id, seq);
			if (write(w->fd, buf[0], len) != (ssize_t)len) {
				soak_error("mq write: %s", strerror(errno));
				goto out;
			}
			seq++;
			break;
		default:
			n = 1 + rnd(&seed) % 8;
			for (k = 0; k < n; k++) {
				len = mq_len(&seed);
				rec_make(buf[k], len, w->id, seq + k);
				msgs[k] = (struct kipc_mq_msg){ .type = w->id + 1,
					.buf = (uintptr_t)buf[k], .len = len };
			}
			b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs,
				.count = n };
			if (ioctl(w->fd, KIPC_MQ_SEND_BATCH, &b) || !b.done) {
				soak_error("mq send batch: %s", strerror(errno));
				goto out;
			}
			/* A blocking batch sends all; a short one is a bug. */
			if (b.done != n)
				soak_error("mq batch sent %u of %u", b.done, n);
			seq += b.done;
			break;
		}
		atomic_store(&S.sent[w->id], seq);
	}
out:
	return NULL;
}

static void *mq_consumer(void *arg)
{
	struct worker *w = arg;
	static __thread char buf[8][MQ_MAX];
	__u32 last[NPROD] = { 0 };
	struct kipc_mq_msg msgs[8];
	struct kipc_mq_batch b;
	bool more = true;
	int n, k;

	while (more) {
		switch (w->id % 4) {
		case 0:
		case 1:
			/* Any type, FIFO; or the lowest type first. */
			msgs[0] = (struct kipc_mq_msg){
				.type = w->id % 4 ? -200000 : 0,
				.buf = (uintptr_t)buf[0], .len = MQ_MAX };
			n = ioctl(w->fd, KIPC_MQ_RECV, &msgs[0]);
			if (n < 0) {
				soak_error("mq recv: %s", strerror(errno));
				return NULL;
			}
			if ((__u32)n != msgs[0].len)
				soak_error("mq recv returned %d, len %u", n,
					   msgs[0].len);
			more = rec_check(buf[0], n, last);
			break;
		case 2:
			n = read(w->fd, buf[0], MQ_MAX);
			if (n < 0) {
				soak_error("mq read: %s", strerror(errno));
				return NULL;
			}
			more = rec_check(buf[0], n, last);
			break;
		default:
			for (k = 0; k < 8; k++)
				msgs[k] = (struct kipc_mq_msg){ .type = 0,
					.buf = (uintptr_t)buf[k], .len = MQ_MAX };
			b = (struct kipc_mq_batch){ .msgs = (uintptr_t)msgs,
				.count = 8 };
			if (ioctl(w->fd, KIPC_MQ_RECV_BATCH, &b) || !b.done) {
				soak_error("mq recv batch: %s", strerror(errno));
				return NULL;
			}
			for (k = 0; k < (int)b.done; k++) {
				if (rec_check(buf[k], msgs[k].len, last))
					continue;
				/* A poison too many: give it back. */
				if (more)
					more = false;
				else if (write(w->fd, buf[k], msgs[k].len) < 0)
					soak_error("mq poison back: %s",
						   strerror(errno));
			}
			break;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(soak, mq, 3600)
{
	struct worker prod[NPROD], cons[NCONS];
	struct kipc_mq_stat st;
	char poison[sizeof(struct rec)];
	int fd, i;

	soak_reset();
	fd = open(mq_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
	for (i = 0; i < NCONS; i++) {
		cons[i] = (struct worker){ .id = i };
		cons[i].fd = open(mq_path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, cons[i].fd);
		ASSERT_EQ(0, pthread_create(&cons[i].thread, NULL,
					    mq_consumer, &cons[i]));
	}
	for (i = 0; i < NPROD; i++) {
		struct kipc_mq_fileopts o = { .send_type = i + 1 };

		prod[i] = (struct worker){ .id = i };
		prod[i].fd = open(mq_path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, prod[i].fd);
		ASSERT_EQ(0, ioctl(prod[i].fd, KIPC_MQ_SET_FILEOPTS, &o));
		ASSERT_EQ(0, pthread_create(&prod[i].thread, NULL,
					    mq_producer, &prod[i]));
	}
	for (i = 0; i < NPROD; i++)
		pthread_join(prod[i].thread, NULL);
	/* The highest type, last: even lowest-type-first readers drain. */
	rec_make(poison, sizeof(poison), 0, 0);
	((struct rec *)poison)->producer = POISON;
	for (i = 0; i < NCONS; i++) {
		struct kipc_mq_msg m = { .type = 100000,
			.buf = (uintptr_t)poison, .len = sizeof(poison) };

		ASSERT_EQ(0, ioctl(fd, KIPC_MQ_SEND, &m));
	}
	for (i = 0; i < NCONS; i++)
		pthread_join(cons[i].thread, NULL);
	ASSERT_EQ(0, ioctl(fd, KIPC_MQ_STAT, &st));
	EXPECT_EQ(0U, st.msgs);
	EXPECT_EQ(0U, st.bytes);
	for (i = 0; i < NPROD; i++)
		close(prod[i].fd);
	for (i = 0; i < NCONS; i++)
		close(cons[i].fd);
	close(fd);
	soak_verify(_metadata, "mq");
}

/* --- message queue through io_uring -------------------------------------- */

#define UR_CHAIN	4	/* a consumer's reads per chain */

static atomic_uint ur_poisons;	/* poison records the consumers took */

static void ur_prep_cmd(struct io_uring_sqe *sqe, int fd, __u32 op,
			const void *arg)
{
	struct kipc_mq_uring_cmd c = { .arg = (uintptr_t)arg };

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &c, sizeof(c));
}

/*
 * Wait for @n completions; res[user_data] = their results.  A chain that
 * completes nothing for 60 s is lost (the soak's traffic and its poison
 * records end every wait well before): an error, not a hang.
 */
static int ur_reap(struct io_uring *ring, unsigned int n, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = 60 };
	struct io_uring_cqe *cqe;
	unsigned int k;
	int ret;

	for (k = 0; k < n; k++) {
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret == -ETIME) {
			soak_error("mq uring: no completion in 60 s (%u of %u)",
				   k, n);
			return ret;
		}
		if (ret)
			return ret;
		if (cqe->user_data < n)
			res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

static void *mq_uring_producer(void *arg)
{
	struct worker *w = arg;
	double end = now() + S.seconds;
	static __thread char buf[8][MQ_MAX];
	struct kipc_mq_msg msgs[8];
	struct io_uring ring;
	__u32 seed = 0x27d4eb2fU * (w->id + 1), seq = 0, k, n;
	size_t len[8];
	int res[8];

	if (io_uring_queue_init(16, &ring, 0)) {
		soak_error("io_uring_queue_init failed");
		return NULL;
	}
	while (!time_up(end, seq)) {
		n = 1 + rnd(&seed) % 8;
		for (k = 0; k < n; k++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			len[k] = mq_len(&seed);
			rec_make(buf[k], len[k], w->id, seq + k);
			/* write(2) sends the file's type: id + 1, as below. */
			if ((seq + k) % 2) {
				io_uring_prep_write(sqe, w->fd, buf[k], len[k],
						    0);
			} else {
				msgs[k] = (struct kipc_mq_msg){
					.type = w->id + 1,
					.buf = (uintptr_t)buf[k],
					.len = len[k] };
				ur_prep_cmd(sqe, w->fd, KIPC_MQ_SEND, &msgs[k]);
			}
			io_uring_sqe_set_data64(sqe, k);
			if (k + 1 < n)
				sqe->flags |= IOSQE_IO_LINK;
			res[k] = -10000;
		}
		if (io_uring_submit(&ring) != (int)n || ur_reap(&ring, n, res)) {
			soak_error("mq uring submit: %s", strerror(errno));
			break;
		}
		for (k = 0; k < n; k++) {
			int want = (seq + k) % 2 ? (int)len[k] : 0;

			if (res[k] != want) {
				soak_error("mq uring send %u of %u: %d, not %d",
					   k, n, res[k], want);
				goto out;
			}
		}
		seq += n;
		atomic_store(&S.sent[w->id], seq);
	}
out:
	io_uring_queue_exit(&ring);
	return NULL;
}

static void *mq_uring_consumer(void *arg)
{
	struct worker *w = arg;
	static __thread char buf[UR_CHAIN][MQ_MAX];
	struct kipc_mq_msg msgs[UR_CHAIN];
	__u32 last[NPROD] = { 0 };
	struct io_uring ring;
	int res[UR_CHAIN];
	bool more = true;
	unsigned int k;

	if (io_uring_queue_init(16, &ring, 0)) {
		soak_error("io_uring_queue_init failed");
		return NULL;
	}
	while (more) {
		/* Hard links: a read shorter than its buffer ends no chain. */
		for (k = 0; k < UR_CHAIN; k++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			if ((k + w->id) % 2) {
				io_uring_prep_read(sqe, w->fd, buf[k], MQ_MAX,
						   0);
			} else {
				/* Any type, FIFO; or the lowest type first. */
				msgs[k] = (struct kipc_mq_msg){
					.type = w->id % 4 < 2 ? 0 : -200000,
					.buf = (uintptr_t)buf[k],
					.len = MQ_MAX };
				ur_prep_cmd(sqe, w->fd, KIPC_MQ_RECV, &msgs[k]);
			}
			io_uring_sqe_set_data64(sqe, k);
			if (k + 1 < UR_CHAIN)
				sqe->flags |= IOSQE_IO_HARDLINK;
			res[k] = -10000;
		}
		if (io_uring_submit(&ring) != UR_CHAIN ||
		    ur_reap(&ring, UR_CHAIN, res)) {
			soak_error("mq uring submit: %s", strerror(errno));
			break;
		}
		for (k = 0; k < UR_CHAIN; k++) {
			if (res[k] < 0) {
				soak_error("mq uring receive: %d", res[k]);
				more = false;
				continue;
			}
			if (!((k + w->id) % 2) && msgs[k].len != (__u32)res[k])
				soak_error("mq uring recv returned %d, len %u",
					   res[k], msgs[k].len);
			if (!rec_check(buf[k], res[k], last)) {
				atomic_fetch_add(&ur_poisons, 1);
				more = false;
			}
		}
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

TEST_F_TIMEOUT(soak, mq_uring, 3600)
{
	struct worker prod[NPROD], cons[NCONS];
	struct io_uring probe;
	struct kipc_mq_stat st;
	char poison[sizeof(struct rec)];
	int fd, i, left;

	i = io_uring_queue_init(4, &probe, 0);
	if (i == -ENOSYS || i == -EPERM)
		SKIP(return, "io_uring is not available: %s", strerror(-i));
	ASSERT_EQ(0, i);
	io_uring_queue_exit(&probe);
	soak_reset();
	atomic_store(&ur_poisons, 0);
	fd = open(mq_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, ioctl(fd, KIPC_MQ_FLUSH));
	for (i = 0; i < NCONS; i++) {
		cons[i] = (struct worker){ .id = i };
		cons[i].fd = open(mq_path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, cons[i].fd);
		ASSERT_EQ(0, pthread_create(&cons[i].thread, NULL,
					    mq_uring_consumer, &cons[i]));
	}
	for (i = 0; i < NPROD; i++) {
		struct kipc_mq_fileopts o = { .send_type = i + 1 };

		prod[i] = (struct worker){ .id = i };
		prod[i].fd = open(mq_path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, prod[i].fd);
		ASSERT_EQ(0, ioctl(prod[i].fd, KIPC_MQ_SET_FILEOPTS, &o));
		ASSERT_EQ(0, pthread_create(&prod[i].thread, NULL,
					    mq_uring_producer, &prod[i]));
	}
	for (i = 0; i < NPROD; i++)
		pthread_join(prod[i].thread, NULL);
	/*
	 * Highest type, last.  A consumer stops after the chain that brought
	 * its first poison, so UR_CHAIN per consumer lets every chain end.
	 */
	rec_make(poison, sizeof(poison), 0, 0);
	((struct rec *)poison)->producer = POISON;
	for (i = 0; i < NCONS * UR_CHAIN; i++) {
		struct kipc_mq_msg m = { .type = 100000,
			.buf = (uintptr_t)poison, .len = sizeof(poison),
			.flags = KIPC_MQ_NOWAIT };
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		/* Consumers that died with an error leave the queue full. */
		while (ioctl(fd, KIPC_MQ_SEND, &m)) {
			if (errno != EAGAIN || poll(&p, 1, 60000) != 1) {
				soak_error("mq uring: poison %d not sent: %s",
					   i, strerror(errno));
				break;
			}
		}
	}
	for (i = 0; i < NCONS; i++)
		pthread_join(cons[i].thread, NULL);
	/* What is left is poison, and all of it is accounted for. */
	ASSERT_EQ(0, ioctl(fd, KIPC_MQ_STAT, &st));
	EXPECT_EQ(st.msgs * sizeof(poison), st.bytes);
	left = ioctl(fd, KIPC_MQ_FLUSH);
	EXPECT_EQ((int)st.msgs, left);
	EXPECT_EQ(NCONS * UR_CHAIN, left + (int)atomic_load(&ur_poisons));
	ASSERT_EQ(0, ioctl(fd, KIPC_MQ_STAT, &st));
	EXPECT_EQ(0U, st.msgs);
	EXPECT_EQ(0U, st.bytes);
	for (i = 0; i < NPROD; i++)
		close(prod[i].fd);
	for (i = 0; i < NCONS; i++)
		close(cons[i].fd);
	close(fd);
	soak_verify(_metadata, "mq through io_uring");
}

/* --- shm ring with semaphores -------------------------------------------- */

#define SLOTS		64
#define SLOT_SIZE	512

enum { SEM_FREE, SEM_FILLED, SEM_PMUTEX, SEM_CMUTEX };

struct ring {
	__u32 head;		/* under SEM_PMUTEX */
	__u32 tail;		/* under SEM_CMUTEX */
	char pad[4096 - 8];
	char slot[SLOTS][SLOT_SIZE];
};

static int sem(int fd, unsigned long cmd, __u32 index, __u32 value)
{
	struct kipc_sem_op op = { .index = index, .value = value };

	for (;;) {
		if (!ioctl(fd, cmd, &op))
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static void *shm_producer(void *arg)
{
	struct worker *w = arg;
	struct ring *ring = (struct ring *)w->region;
	double end = now() + S.seconds;
	__u32 seed = 0x85ebca6bU * (w->id + 1), seq;
	size_t len;

	for (seq = 0; !time_up(end, seq); seq++) {
		len = sizeof(struct rec) + rnd(&seed) % (SLOT_SIZE - 24 + 1);
		if (sem(w->fd, KIPC_SEM_P, SEM_FREE, 1) ||
		    sem(w->fd, KIPC_SEM_P, SEM_PMUTEX, 1)) {
			soak_error("sem P: %s", strerror(errno));
			break;
		}
		rec_make(ring->slot[ring->head % SLOTS], len, w->id, seq);
		ring->head++;
		if (sem(w->fd, KIPC_SEM_V, SEM_PMUTEX, 1) ||
		    sem(w->fd, KIPC_SEM_V, SEM_FILLED, 1)) {
			soak_error("sem V: %s", strerror(errno));
			break;
		}
		atomic_store(&S.sent[w->id], seq + 1);
	}
	return NULL;
}

static void *shm_consumer(void *arg)
{
	struct worker *w = arg;
	struct ring *ring = (struct ring *)w->region;
	__u32 last[NPROD] = { 0 };
	char buf[SLOT_SIZE];
	struct rec *r = (struct rec *)buf;
	bool more = true;

	while (more) {
		if (sem(w->fd, KIPC_SEM_P, SEM_FILLED, 1) ||
		    sem(w->fd, KIPC_SEM_P, SEM_CMUTEX, 1)) {
			soak_error("sem P: %s", strerror(errno));
			break;
		}
		memcpy(buf, ring->slot[ring->tail % SLOTS], SLOT_SIZE);
		ring->tail++;
		if (sem(w->fd, KIPC_SEM_V, SEM_CMUTEX, 1) ||
		    sem(w->fd, KIPC_SEM_V, SEM_FREE, 1)) {
			soak_error("sem V: %s", strerror(errno));
			break;
		}
		more = rec_check(buf, sizeof(*r) + (r->len < SLOT_SIZE ?
						    r->len : 0), last);
	}
	return NULL;
}

TEST_F_TIMEOUT(soak, shm_ring, 3600)
{
	struct worker prod[NPROD], cons[NCONS];
	struct kipc_sem_info si;
	struct ring *ring;
	__u64 size;
	int fd, i;

	soak_reset();
	fd = open(shm_path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, KIPC_SHM_GET_SIZE, &size));
	ASSERT_LE(sizeof(*ring), size);
	ring = mmap(NULL, sizeof(*ring), PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	ASSERT_NE(MAP_FAILED, ring);
	memset(ring, 0, sizeof(*ring));
	{
		struct kipc_sem_op init[] = {
			{ .index = SEM_FREE, .value = SLOTS },
			{ .index = SEM_FILLED, .value = 0 },
			{ .index = SEM_PMUTEX, .value = 1 },
			{ .index = SEM_CMUTEX, .value = 1 },
		};

		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, ioctl(fd, KIPC_SEM_INIT, &init[i]));
	}
	for (i = 0; i < NCONS; i++) {
		cons[i] = (struct worker){ .id = i, .region = (char *)ring };
		cons[i].fd = open(shm_path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, cons[i].fd);
		ASSERT_EQ(0, pthread_create(&cons[i].thread, NULL,
					    shm_consumer, &cons[i]));
	}
	for (i = 0; i < NPROD; i++) {
		prod[i] = (struct worker){ .id = i, .region = (char *)ring };
		prod[i].fd = open(shm_path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, prod[i].fd);
		ASSERT_EQ(0, pthread_create(&prod[i].thread, NULL,
					    shm_producer, &prod[i]));
	}
	for (i = 0; i < NPROD; i++)
		pthread_join(prod[i].thread, NULL);
	/* One poison record per consumer, through the same protocol. */
	for (i = 0; i < NCONS; i++) {
		struct rec *r;

		ASSERT_EQ(0, sem(fd, KIPC_SEM_P, SEM_FREE, 1));
		ASSERT_EQ(0, sem(fd, KIPC_SEM_P, SEM_PMUTEX, 1));
		r = (struct rec *)ring->slot[ring->head % SLOTS];
		rec_make(r, sizeof(*r), 0, 0);
		r->producer = POISON;
		ring->head++;
		ASSERT_EQ(0, sem(fd, KIPC_SEM_V, SEM_PMUTEX, 1));
		ASSERT_EQ(0, sem(fd, KIPC_SEM_V, SEM_FILLED, 1));
	}
	for (i = 0; i < NCONS; i++)
		pthread_join(cons[i].thread, NULL);
	/* The semaphores tell the same story as the ring. */
	for (i = 0; i < 4; i++) {
		static const __u32 want[] = { SLOTS, 0, 1, 1 };

		si = (struct kipc_sem_info){ .index = i };
		ASSERT_EQ(0, ioctl(fd, KIPC_SEM_GET, &si));
		EXPECT_EQ(want[i], si.value);
		EXPECT_EQ(0U, si.waiters);
	}
	EXPECT_EQ(ring->head, ring->tail);
	for (i = 0; i < NPROD; i++)
		close(prod[i].fd);
	for (i = 0; i < NCONS; i++)
		close(cons[i].fd);
	munmap(ring, sizeof(*ring));
	close(fd);
	soak_verify(_metadata, "shm ring");
}

TEST_HARNESS_MAIN
