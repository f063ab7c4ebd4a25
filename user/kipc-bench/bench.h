/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc-bench: every IPC mechanism measured by the same two loops.
 *
 * A mechanism is an adapter (struct kb_mech): set up the objects in the
 * parent before fork(), attach in each process after fork(), move one
 * message (send/recv, or in place for shared memory, or a batch), tear
 * down in the parent once the child is reaped.  run.c owns the loops,
 * the payload checks and the clocks; the adapters only move bytes.
 */
#ifndef KIPC_BENCH_H
#define KIPC_BENCH_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/kipc.h>

/* One version everywhere: the module's. */
#define KB_VERSION	KIPC_VERSION_STRING
#define KB_MIN_SIZE	8
#define KB_MAX_SIZE	(1024 * 1024)
#define KB_HEADROOM	64	/* writable bytes before every message buffer */
#define KB_STAMP_STRIDE	4096	/* one stamped word per page of payload */
#define KB_FULL_EVERY	64	/* every 64th message is compared in full */
#define KB_MAX_BATCH	1024
#define KB_MAX_REPS	100
/* Messages a buffer holds, up to KB_MAX_SIZE bytes (see kb_sizing()). */
#define KB_DEPTH_MSGS	16

enum kb_role { KB_PARENT, KB_CHILD };
enum kb_workload { KB_LATENCY, KB_STREAM, KB_NWL };
enum kb_placement { KB_SAME, KB_SPLIT, KB_NPL };
/* Channel 0 carries parent -> child, channel 1 child -> parent. */
enum { KB_CH_P2C, KB_CH_C2P, KB_NCH };

/* kb_mech.flags */
#define KB_F_LAT_ONLY		0x01	/* no payload beyond 8 bytes */
#define KB_F_STREAM_ONLY	0x02	/* batching makes no sense in a round trip */
#define KB_F_KIPC		0x04	/* needs the kipc module */
#define KB_F_BYTESTREAM		0x08	/* a byte stream (for the ratios) */
#define KB_F_TOUCH_ALL		0x10	/* in place: write and read every byte */
#define KB_F_URING		0x20	/* driven through io_uring (mech_uring.c) */

#define KB_KIPC_ABSENT	KIPC_DEV_DIR " absent: kipc module not loaded"

/* setup() return values besides 0 and -1 */
#define KB_SKIP	1

struct kb_ctx;

struct kb_mech {
	const char *name;
	const char *desc;
	unsigned int flags;
	/* Copies of the payload per message (through a kernel buffer: 2). */
	int copies;
	/*
	 * Largest message this system accepts as configured now (after
	 * tuning); when smaller than KB_MAX_SIZE, note says why.
	 */
	size_t (*max_size)(char *note, size_t notelen);
	/* Parent, before fork(): create the objects.  0, -1, or KB_SKIP. */
	int (*setup)(struct kb_ctx *c);
	/* Each process after fork(); c->role and c->peer are set. */
	int (*attach)(struct kb_ctx *c);
	/* Move one message; buffers have KB_HEADROOM bytes before them. */
	int (*send)(struct kb_ctx *c, int ch, void *buf, size_t len);
	int (*recv)(struct kb_ctx *c, int ch, void *buf, size_t len);
	/* In place: a slot to write into / read from, then release it. */
	void *(*send_begin)(struct kb_ctx *c, int ch);
	int (*send_end)(struct kb_ctx *c, int ch);
	void *(*recv_begin)(struct kb_ctx *c, int ch);
	int (*recv_end)(struct kb_ctx *c, int ch);
	/* Batches: send all n, or receive between 1 and n (the count). */
	int (*send_batch)(struct kb_ctx *c, int ch, void **bufs,
			  unsigned int n, size_t len);
	int (*recv_batch)(struct kb_ctx *c, int ch, void **bufs,
			  unsigned int n, size_t len);
	/* Parent, after the child is reaped: close and remove everything. */
	void (*teardown)(struct kb_ctx *c);
	/* io_uring variants (mech_uring.c): the adapter driven, its depth. */
	const struct kb_mech *base;
	unsigned int uring_depth;	/* submissions per io_uring_enter */
	bool sqpoll;
	int uring_kind;
};

struct kb_ctx {
	const struct kb_mech *m;
	enum kb_workload wl;
	size_t size;		/* message size */
	size_t bufsize;		/* bytes a stream buffer should hold */
	unsigned int depth;	/* messages a queue or ring should hold */
	unsigned int batch;	/* messages per batch call */
	enum kb_role role;
	pid_t peer;
	int fd[KB_NCH][2];	/* [ch][0] read side, [ch][1] write side */
	void *priv;
	char config[200];	/* what the adapter configured, for the report */
	char err[240];
};

/* The registry of mechanisms (mech_*.c). */
extern const struct kb_mech kb_mech_pipe, kb_mech_fifo, kb_mech_sysv_msg,
	kb_mech_posix_mq, kb_mech_unix_stream, kb_mech_unix_dgram,
	kb_mech_socketpair, kb_mech_tcp, kb_mech_eventfd, kb_mech_signal,
	kb_mech_sysv_shm, kb_mech_posix_shm, kb_mech_kipc_shm,
	kb_mech_kipc_shm_zc, kb_mech_kipc_pipe, kb_mech_kipc_mq,
	kb_mech_kipc_mq_batch, kb_mech_kipc_mq_ioctl, kb_mech_kipc_shm_handoff;

/* mech_uring.c: the io_uring templates, expanded per depth by main.c */
extern const struct kb_mech *const kb_uring_templates[];
extern const size_t kb_uring_ntemplates;
struct kb_mech *kb_uring_variant(const struct kb_mech *tmpl,
				 unsigned int depth, bool sqpoll);

/* mech_std.c: helpers shared by the adapters */
void kb_cfg_add(struct kb_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kb_close_all(struct kb_ctx *c);
int kb_fd_send(struct kb_ctx *c, int ch, void *buf, size_t len);
int kb_fd_recv(struct kb_ctx *c, int ch, void *buf, size_t len);
int kb_open_pair(struct kb_ctx *c, const char *path0, const char *path1);
int kb_nothing(struct kb_ctx *c);

/* sys.c: system state, tuning, cleanup, helpers */
struct kb_sys {
	bool root;
	bool tune;		/* allowed to raise limits (root, no --no-tune) */
	long msgmax, msgmnb;
	long mq_msgsize_max, mq_msg_max;
	long dgram_qlen;
	long wmem_max;
	bool kipc;		/* /dev/kipc present */
	int ncpus;		/* CPUs this process may run on */
	int cpu[2];		/* the two it uses */
	char tmpdir[64];
	char tuned[512];	/* what was raised, for the report */
};
extern struct kb_sys kb_sys;
extern volatile sig_atomic_t kb_timed_out;
extern volatile pid_t kb_child;	/* the child of the running repetition */

int kb_sys_init(bool tune, size_t max_size);
void kb_sys_restore(void);
void kb_cleanup_install(void);

long kb_sysctl_read(const char *path);
void kb_reg_sysv(int kind, int id);	/* kind: 'm' msg, 's' sem, 'h' shm */
void kb_unreg_sysv(int kind, int id);
void kb_reg_path(const char *path);
void kb_unreg_path(const char *path);
void kb_reg_mq(const char *name);
void kb_unreg_mq(const char *name);
void kb_reg_kipc_mq(int fd);
void kb_unreg_kipc_mq(int fd);

int kb_fail(struct kb_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kb_fail_errno(struct kb_ctx *c, const char *what);
int kb_write_full(struct kb_ctx *c, int fd, const void *buf, size_t len);
int kb_read_full(struct kb_ctx *c, int fd, void *buf, size_t len);
bool kb_retry(void);		/* EINTR: retry unless the watchdog fired */
void kb_close(int *fd);
void kb_ctx_init(struct kb_ctx *c);
void kb_set_sndbuf(struct kb_ctx *c, int fd, long want);
size_t kb_pow2_ceil(size_t v);
uint64_t kb_now_ns(void);
uint64_t kb_cpu_ns(void);
int kb_pin(int cpu);

/*
 * System calls this process makes, counted by the kernel (the
 * raw_syscalls:sys_enter tracepoint through perf_event_open()).  init
 * returns -1 with a reason when the kernel does not let us count.
 */
int kb_calls_init(char *why, size_t whylen);
void kb_calls_start(void);
uint64_t kb_calls_stop(void);	/* since kb_calls_start(); ~0: not counted */
extern double kb_clock_calls;	/* system calls per kb_now_ns() */

/* run.c */
struct kb_work {
	unsigned int reps;
	unsigned long lat_iters, lat_warm;
	unsigned long st_msgs, st_warm;
};

struct kb_rep {
	int status;		/* 0 ok, -1 failed, KB_SKIP */
	char note[240];
	char config[200];
	unsigned long count;
	uint64_t elapsed_ns;
	uint64_t cpu_ns;	/* both processes, timed phase */
	uint64_t verified, verified_full;
	uint64_t calls;		/* both processes, timed phase; ~0: unknown */
	double min, p50, p90, p99, p999, max;	/* ns, latency only */
};

struct kb_opts {
	bool verify_full;
	unsigned int batch;
	unsigned int timeout;	/* seconds per repetition */
};
extern struct kb_opts kb_opts;

void kb_sizing(struct kb_ctx *c, size_t size, enum kb_workload wl);
void kb_run_rep(const struct kb_mech *m, enum kb_workload wl,
		enum kb_placement pl, size_t size, const struct kb_work *w,
		struct kb_rep *out);
double kb_memcpy_mbps(size_t size, unsigned long long bytes);

/* payload */
void kb_payload_fill(uint8_t *buf, size_t len);
void kb_payload_stamp(uint8_t *buf, size_t len, uint64_t seq);
void kb_payload_write_all(uint8_t *buf, size_t len, uint64_t seq);
int kb_payload_read_all(const uint8_t *buf, size_t len, uint64_t seq,
			char *why, size_t whylen);
int kb_payload_check(const uint8_t *buf, size_t len, uint64_t seq, bool full,
		     char *why, size_t whylen);

/* report.c */
struct kb_result {
	const struct kb_mech *m;
	enum kb_workload wl;
	enum kb_placement pl;
	size_t size;
	int status;		/* 0 ok, -1 failed, KB_SKIP */
	char note[240];
	char config[200];
	unsigned int reps;
	unsigned long count;	/* messages or round trips per repetition */
	double min, p50, p90, p99, p999, max;	/* ns */
	double mbps, msgps;
	double cpu_ns;		/* per message or round trip */
	double calls;		/* system calls per message or round trip; < 0: not counted */
	uint64_t verified, verified_full;
	/* The main figure of each repetition: p50 ns (latency), msgs/s (stream). */
	double rv[KB_MAX_REPS];
	double rv_lo, rv_hi;	/* their spread */
};

struct kb_ref {
	size_t size;
	double mbps;
};

/* What a system call costs when the kernel does no work in it. */
enum kb_call { KB_CALL_GETPPID, KB_CALL_IOCTL, KB_CALL_READ, KB_NCALLS };

double kb_call_ns(enum kb_call call, int fd, unsigned long loops);

struct kb_call_ref {
	const char *name;	/* for the JSON and CSV */
	const char *what;	/* for the text report */
	double ns;		/* per call; < 0: not measured */
};

struct kb_ratio {
	const char *name;
	const char *target_text;
	double target;
	bool lower_is_better;
	double value;		/* < 0: not measured */
	double lo, hi;		/* the ratio's range across repetitions */
	bool noise;		/* the target lies inside that range */
	char detail[300];
};

struct kb_report {
	struct kb_result *res;
	size_t nres;
	struct kb_ref *ref;
	size_t nref;
	struct kb_call_ref calls[KB_NCALLS];
	struct kb_ratio *ratios;
	size_t nratios;
	char date[40];
	char kernel[128];
	char cpu_model[128];
	char virt[64];
	char args[512];
	bool quick;
	struct kb_work work_small;	/* at 64 bytes, for the header */
	double runtime_s;
	unsigned int failed;
	char calls_how[160];	/* how system calls were counted, or why not */
};

const char *kb_wl_name(enum kb_workload wl);
const char *kb_pl_name(enum kb_placement pl);
const char *kb_size_str(size_t s);
void kb_report_text(FILE *f, const struct kb_report *r);
int kb_report_json(const char *path, const struct kb_report *r);
int kb_report_csv(const char *path, const struct kb_report *r);

#endif /* KIPC_BENCH_H */
