/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc-demo: a guided tour of the IPC mechanisms in the notes, each kipc
 * device shown beside the standard system call it imitates.
 *
 * Every section prints what it does, checks every claim it makes and
 * counts the claims that did not hold.  Helpers shared by the sections
 * live in util.c.
 */
#ifndef KIPC_DEMO_H
#define KIPC_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Exit statuses, documented in Documentation/demo.md. */
#define DEMO_EXIT_OK		0
#define DEMO_EXIT_FAIL		1	/* a claim did not hold, or an error */
#define DEMO_EXIT_USAGE		2
#define DEMO_EXIT_NO_KIPC	3	/* kipc parts skipped: no module */

struct demo_section {
	const char *name;
	const char *title;
	const char *summary;
	void (*run)(void);
};

/* The sections, in tour order (one file each). */
void demo_pipe(void);
void demo_mq(void);
void demo_shm(void);
void demo_sem(void);
void demo_signal(void);
void demo_socket(void);
void demo_compare(void);

/* Options. */
extern bool opt_color;
extern bool opt_skip_kipc;

/* Counters of the current run. */
extern unsigned int demo_failures;
extern unsigned int demo_kipc_missing;

/* --- output -------------------------------------------------------------- */

#define PRINTF(a, b) __attribute__((format(printf, a, b)))

void out_section(unsigned int num, const char *title);
/* A sub-heading: one demonstration. */
void out_part(const char *fmt, ...) PRINTF(1, 2);
/* A plain explanatory line. */
void out_say(const char *fmt, ...) PRINTF(1, 2);
void out_ok(const char *fmt, ...) PRINTF(1, 2);
void out_fail(const char *fmt, ...) PRINTF(1, 2);
void out_skip(const char *fmt, ...) PRINTF(1, 2);
void out_note(const char *fmt, ...) PRINTF(1, 2);
/* A line of a table, printed as is after the indent. */
void out_row(const char *fmt, ...) PRINTF(1, 2);
const char *col_bold(void);
const char *col_off(void);

/* ok when cond holds, FAIL otherwise; returns cond. */
bool check(bool cond, const char *fmt, ...) PRINTF(2, 3);
/*
 * A call expected to fail with errno want: ret is its return value and
 * err the errno it left.  Prints "... -> EINVAL" on success of the check.
 */
bool check_errno(long ret, int err, int want, const char *fmt, ...)
	PRINTF(4, 5);
/* Reports an unexpected failure of a call (with errno) and counts it. */
void fail_errno(const char *what);

const char *errno_name(int err);

/* --- kipc devices -------------------------------------------------------- */

/*
 * Whether the kipc device node (e.g. "mq0") can be used.  When it cannot,
 * says why: SKIP when the module is not loaded (counted: the run then
 * exits DEMO_EXIT_NO_KIPC) or with --skip-kipc, FAIL otherwise.
 */
bool kipc_usable(const char *dev);
/* kipc_usable() and then open(2); -1 (already reported) on failure. */
int kipc_open(const char *dev, int flags);
const char *kipc_path(const char *dev);

/* --- processes ----------------------------------------------------------- */

/*
 * fork() a child that runs fn(arg) and _exit()s with its return value.
 * The child gets default signal dispositions, dies with its parent and
 * is killed by a watchdog alarm should it ever hang.
 */
pid_t spawn(int (*fn)(void *arg), void *arg);
/*
 * spawn() for a child that prints: its out_*() and check() lines go to
 * the parent through *rfd, to be printed by report_collect() (which reads
 * until the child is gone) or report_wait().  The child's demo_failures
 * starts at 0: "return demo_failures != 0;" is a fitting exit status.
 */
pid_t spawn_report(int (*fn)(void *arg), void *arg, int *rfd);
/* Prints the child's lines; returns how many were failures. */
unsigned int report_collect(int *rfd);
/* report_collect(), then wait_ok() unless the child reported a failure. */
bool report_wait(pid_t pid, int *rfd, const char *what);
/* waitpid() retried on EINTR; returns the status or -1. */
int wait_status(pid_t pid);
/* Waits and checks a clean exit (status 0); FAIL with what otherwise. */
bool wait_ok(pid_t pid, const char *what);
/* Whether the child has exited (not reaped: wait for it as usual). */
bool child_exited(pid_t pid);
/* Kills and reaps a child after a failure; pid <= 0 is ignored. */
void kill_child(pid_t pid);
/*
 * Waits until pid sleeps inside system call nr (from /proc/PID/syscall),
 * for at most 10 s.  Returns true when seen.
 */
bool wait_blocked_in(pid_t pid, long nr);
/* Describes a wait status: "exited 0", "killed by SIGTERM". */
const char *status_str(int status);

/* A pipe used only to hand over a token between processes. */
struct gate {
	int fd[2];
};

int gate_init(struct gate *g);
void gate_close(struct gate *g);
int gate_post(struct gate *g);
/* Waits for one token; -1 on EOF or error. */
int gate_wait(struct gate *g);
/* A token that carries a byte; gate_wait_val() returns it, or -1. */
int gate_post_val(struct gate *g, unsigned char val);
int gate_wait_val(struct gate *g);
/*
 * The same, waiting for a token from child pid: -1 as soon as the child
 * has exited without posting one (it is left to be reaped).
 */
int gate_wait_from(struct gate *g, pid_t pid);
int gate_wait_val_from(struct gate *g, pid_t pid);

/*
 * SO_RCVTIMEO and SO_SNDTIMEO: accept(), recv() and send() on fd give
 * up (EAGAIN) after seconds instead of waiting for a peer that died.
 */
void sock_timeout(int fd, unsigned int seconds);

/*
 * accept4(SOCK_CLOEXEC) that gives up (-1, ECHILD) once child pid, the
 * one expected to connect, has exited.  pid 0: a plain accept4().
 */
int accept_from(int ls, pid_t pid, struct sockaddr *addr, socklen_t *len);

ssize_t write_all(int fd, const void *buf, size_t len);
/* Reads exactly len bytes unless EOF comes first; returns bytes read. */
ssize_t read_full(int fd, void *buf, size_t len);
void close_fd(int *fd);

uint64_t now_ns(void);
void sleep_ms(unsigned int ms);
/* The first CPU this process may run on, or -1. */
int first_cpu(void);
int pin_to_cpu(int cpu);

/* --- IPC objects: removed at the end of each section, even on failure ---- */

void track_msg(int id);
void track_sem(int id);
void track_shm(int id);
void track_mq(const char *name);
void track_shm_name(const char *name);
void track_path(const char *path);
void cleanup_ipc(void);
/* A fresh "/kipc-demo-<pid>-<what><n>", valid for the next 7 calls. */
const char *ipc_name(const char *what);

/* Installs the cleanup handlers for SIGINT, SIGTERM, SIGHUP and SIGALRM. */
void install_cleanup_handlers(void);
/* Arms the whole-section watchdog. */
void watchdog(unsigned int seconds);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* KIPC_DEMO_H */
