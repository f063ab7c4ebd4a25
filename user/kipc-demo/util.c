// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-demo helpers: output, checks, kipc device lookup, child processes,
 * and the list of IPC objects to remove at the end of a section.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#include "demo.h"

bool opt_color;
bool opt_skip_kipc;
unsigned int demo_failures;
unsigned int demo_kipc_missing;

static pid_t main_pid;

/* --- output -------------------------------------------------------------- */

#define C_RED	"\033[31m"
#define C_GREEN	"\033[32m"
#define C_YEL	"\033[33m"
#define C_CYAN	"\033[36m"
#define C_BOLD	"\033[1m"
#define C_DIM	"\033[2m"
#define C_OFF	"\033[0m"

static const char *col(const char *c)
{
	return opt_color ? c : "";
}

const char *col_bold(void)
{
	return col(C_BOLD);
}

const char *col_off(void)
{
	return col(C_OFF);
}

void out_section(unsigned int num, const char *title)
{
	char head[96];
	int n;

	n = snprintf(head, sizeof(head), "== %u. %s ", num, title);
	if (n < 0)
		n = 0;
	printf("\n%s%s%s", col(C_BOLD), col(C_CYAN), head);
	for (; n < 78; n++)
		putchar('=');
	printf("%s\n", col(C_OFF));
}

/*
 * In a child started with spawn_report() the lines go to the parent over
 * a pipe, one per line, behind a letter saying their kind; the parent
 * prints them (and counts the failures) in report_collect().
 */
static int report_fd = -1;

enum line_kind { L_OK = 'o', L_FAIL = 'F', L_SKIP = 'S', L_NOTE = 'n',
		 L_SAY = 's' };

static void emit(enum line_kind kind, const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	if (report_fd >= 0) {
		buf[0] = kind;
		n = vsnprintf(buf + 1, sizeof(buf) - 2, fmt, ap);
		if (n < 0)
			n = 0;
		n = n + 1 > (int)sizeof(buf) - 2 ? (int)sizeof(buf) - 2 : n + 1;
		buf[n++] = '\n';
		if (write_all(report_fd, buf, n) < 0)
			_exit(126);
		return;
	}
	switch (kind) {
	case L_OK:
		printf("   %s%-5s%s ", col(C_GREEN), "ok", col(C_OFF));
		break;
	case L_FAIL:
		printf("   %s%s%-5s%s ", col(C_RED), col(C_BOLD), "FAIL",
		       col(C_OFF));
		break;
	case L_SKIP:
		printf("   %s%-5s%s ", col(C_YEL), "SKIP", col(C_OFF));
		break;
	case L_NOTE:
		printf("   %s%-5s%s ", col(C_DIM), "note", col(C_OFF));
		break;
	case L_SAY:
		printf("   ");
		break;
	}
	vprintf(fmt, ap);
	putchar('\n');
}

void out_part(const char *fmt, ...)
{
	va_list ap;

	printf("\n%s-- ", col(C_BOLD));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s\n", col(C_OFF));
}

void out_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L_SAY, fmt, ap);
	va_end(ap);
}

void out_row(const char *fmt, ...)
{
	va_list ap;

	printf("     ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void out_ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L_OK, fmt, ap);
	va_end(ap);
}

void out_fail(const char *fmt, ...)
{
	va_list ap;

	demo_failures++;
	va_start(ap, fmt);
	emit(L_FAIL, fmt, ap);
	va_end(ap);
}

void out_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L_SKIP, fmt, ap);
	va_end(ap);
}

void out_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(L_NOTE, fmt, ap);
	va_end(ap);
}

bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (!cond)
		demo_failures++;
	va_start(ap, fmt);
	emit(cond ? L_OK : L_FAIL, fmt, ap);
	va_end(ap);
	return cond;
}

unsigned int report_collect(int *fd)
{
	unsigned int fails = 0;
	char buf[8192], *line, *nl;
	size_t have = 0;
	ssize_t n;

	if (*fd < 0)
		return 0;
	for (;;) {
		n = read(*fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			switch (line[0]) {
			case L_OK:
				out_ok("%s", line + 1);
				break;
			case L_FAIL:
				out_fail("%s", line + 1);
				fails++;
				break;
			case L_SKIP:
				out_skip("%s", line + 1);
				break;
			case L_NOTE:
				out_note("%s", line + 1);
				break;
			default:
				out_say("%s", line + 1);
				break;
			}
			line = nl + 1;
		}
		have -= line - buf;
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;
	}
	close_fd(fd);
	return fails;
}

const char *errno_name(int err)
{
	static char buf[16];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

bool check_errno(long ret, int err, int want, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	if (ret == -1 && err == want) {
		out_ok("%s -> %s", what, errno_name(want));
		return true;
	}
	if (ret == -1)
		out_fail("%s: expected %s, got %s (%s)", what, errno_name(want),
			 errno_name(err), strerror(err));
	else
		out_fail("%s: expected %s, but the call succeeded (%ld)",
			 what, errno_name(want), ret);
	return false;
}

void fail_errno(const char *what)
{
	int err = errno;

	out_fail("%s: %s (%s)", what, strerror(err), errno_name(err));
	errno = err;
}

/* --- kipc devices -------------------------------------------------------- */

const char *kipc_path(const char *dev)
{
	static char buf[4][64];
	static unsigned int slot;
	char *p = buf[slot++ % ARRAY_SIZE(buf)];

	snprintf(p, sizeof(buf[0]), "%s/%s", KIPC_DEV_DIR, dev);
	return p;
}

bool kipc_usable(const char *dev)
{
	const char *path = kipc_path(dev);
	struct stat st;

	if (opt_skip_kipc) {
		out_skip("%s: left out (--skip-kipc)", path);
		return false;
	}
	if (stat(path, &st) == 0) {
		if (!S_ISCHR(st.st_mode)) {
			out_fail("%s is not a character device", path);
			return false;
		}
		if (access(path, R_OK | W_OK) < 0) {
			out_fail("%s: %s: run as root, or load kipc with mode=0666",
				 path, strerror(errno));
			return false;
		}
		return true;
	}
	if (errno == ENOENT && access("/sys/module/kipc", F_OK) != 0) {
		out_skip("%s: kipc module not loaded", path);
		demo_kipc_missing++;
		return false;
	}
	if (errno == ENOENT) {
		out_fail("%s is missing although the kipc module is loaded (loaded with fewer devices?)",
			 path);
		return false;
	}
	fail_errno(path);
	return false;
}

int kipc_open(const char *dev, int flags)
{
	int fd;

	if (!kipc_usable(dev))
		return -1;
	fd = open(kipc_path(dev), flags | O_CLOEXEC);
	if (fd < 0)
		fail_errno(kipc_path(dev));
	return fd;
}

/* --- processes ----------------------------------------------------------- */

static pid_t do_spawn(int (*fn)(void *arg), void *arg, int rfd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGUSR1,
				    SIGUSR2, SIGIO, SIGCHLD };
	pid_t parent = getpid();
	sigset_t none;
	unsigned int i;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fail_errno("fork");
		return -1;
	}
	if (pid > 0)
		return pid;

	report_fd = rfd;
	demo_failures = 0;
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Never outlive the tour, never hang it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	alarm(60);
	_exit(fn(arg));
}

pid_t spawn(int (*fn)(void *arg), void *arg)
{
	return do_spawn(fn, arg, -1);
}

pid_t spawn_report(int (*fn)(void *arg), void *arg, int *rfd)
{
	int fd[2];
	pid_t pid;

	*rfd = -1;
	if (pipe2(fd, O_CLOEXEC) < 0) {
		fail_errno("pipe");
		return -1;
	}
	pid = do_spawn(fn, arg, fd[1]);
	close(fd[1]);
	if (pid < 0)
		close(fd[0]);
	else
		*rfd = fd[0];
	return pid;
}

int wait_status(pid_t pid)
{
	int status;
	pid_t r;

	do {
		r = waitpid(pid, &status, 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : status;
}

const char *status_str(int status)
{
	static char buf[64];

	if (status == -1)
		snprintf(buf, sizeof(buf), "not waitable");
	else if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by SIG%s",
			 sigabbrev_np(WTERMSIG(status)) ?: "?");
	else
		snprintf(buf, sizeof(buf), "status %#x", status);
	return buf;
}

bool wait_ok(pid_t pid, const char *what)
{
	int status;

	if (pid <= 0)
		return false;
	status = wait_status(pid);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	out_fail("%s: child %d %s", what, (int)pid, status_str(status));
	return false;
}

bool report_wait(pid_t pid, int *rfd, const char *what)
{
	unsigned int fails = report_collect(rfd);
	int status;

	if (pid <= 0)
		return false;
	status = wait_status(pid);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return !fails;
	/* A child that reported its failures has said enough. */
	if (!fails)
		out_fail("%s: child %d %s", what, (int)pid, status_str(status));
	return false;
}

void kill_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	wait_status(pid);
}

bool wait_blocked_in(pid_t pid, long nr)
{
	char path[64], buf[128];
	unsigned int i;
	long cur;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (i = 0; i < 10000; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (sscanf(buf, "%ld", &cur) == 1 && cur == nr)
				return true;
		}
		sleep_ms(1);
	}
	return false;
}

int gate_init(struct gate *g)
{
	if (pipe2(g->fd, O_CLOEXEC) < 0) {
		g->fd[0] = g->fd[1] = -1;
		fail_errno("pipe");
		return -1;
	}
	return 0;
}

void gate_close(struct gate *g)
{
	close_fd(&g->fd[0]);
	close_fd(&g->fd[1]);
}

int gate_post(struct gate *g)
{
	char c = '!';

	return write_all(g->fd[1], &c, 1) == 1 ? 0 : -1;
}

int gate_wait(struct gate *g)
{
	return gate_wait_val(g) < 0 ? -1 : 0;
}

bool child_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return pid > 0 && waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == pid;
}

int gate_wait_val_from(struct gate *g, pid_t pid)
{
	struct pollfd pfd = { .fd = g->fd[0], .events = POLLIN };
	int ret;

	for (;;) {
		ret = poll(&pfd, 1, 50);
		if (ret > 0)
			return gate_wait_val(g);
		if (ret < 0 && errno != EINTR)
			return -1;
		/* Gone without a word? */
		if (child_exited(pid))
			return poll(&pfd, 1, 0) > 0 ? gate_wait_val(g) : -1;
	}
}

int gate_wait_from(struct gate *g, pid_t pid)
{
	return gate_wait_val_from(g, pid) < 0 ? -1 : 0;
}

int gate_post_val(struct gate *g, unsigned char val)
{
	return write_all(g->fd[1], &val, 1) == 1 ? 0 : -1;
}

int gate_wait_val(struct gate *g)
{
	unsigned char c;

	return read_full(g->fd[0], &c, 1) == 1 ? c : -1;
}

int accept_from(int ls, pid_t pid, struct sockaddr *addr, socklen_t *len)
{
	struct pollfd pfd = { .fd = ls, .events = POLLIN };
	int ret;

	while (pid > 0) {
		ret = poll(&pfd, 1, 50);
		if (ret > 0)
			break;
		if (ret < 0 && errno != EINTR)
			return -1;
		if (child_exited(pid) && poll(&pfd, 1, 0) <= 0) {
			errno = ECHILD;
			return -1;
		}
	}
	return accept4(ls, addr, len, SOCK_CLOEXEC);
}

void sock_timeout(int fd, unsigned int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

ssize_t write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -1;
		done += n;
	}
	return done;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int first_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -1;
}

int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* --- IPC objects --------------------------------------------------------- */

enum obj_kind { OBJ_MSG, OBJ_SEM, OBJ_SHM, OBJ_MQ, OBJ_SHM_NAME, OBJ_PATH };

struct obj {
	enum obj_kind kind;
	int id;
	char name[96];
};

/* Written only by the main process, read by its signal handlers. */
static struct obj objs[32];
static volatile sig_atomic_t nobjs;

static void track(enum obj_kind kind, int id, const char *name)
{
	struct obj *o;

	if (nobjs >= (sig_atomic_t)ARRAY_SIZE(objs)) {
		out_fail("internal: too many IPC objects to track");
		return;
	}
	o = &objs[nobjs];
	o->kind = kind;
	o->id = id;
	snprintf(o->name, sizeof(o->name), "%s", name ? name : "");
	nobjs++;
}

void track_msg(int id)
{
	track(OBJ_MSG, id, NULL);
}

void track_sem(int id)
{
	track(OBJ_SEM, id, NULL);
}

void track_shm(int id)
{
	track(OBJ_SHM, id, NULL);
}

void track_mq(const char *name)
{
	track(OBJ_MQ, -1, name);
}

void track_shm_name(const char *name)
{
	track(OBJ_SHM_NAME, -1, name);
}

void track_path(const char *path)
{
	track(OBJ_PATH, -1, path);
}

/* Async-signal-safe: system calls only. */
void cleanup_ipc(void)
{
	struct obj *o;

	if (main_pid && getpid() != main_pid)
		return;
	while (nobjs > 0) {
		o = &objs[nobjs - 1];
		switch (o->kind) {
		case OBJ_MSG:
			msgctl(o->id, IPC_RMID, NULL);
			break;
		case OBJ_SEM:
			semctl(o->id, 0, IPC_RMID);
			break;
		case OBJ_SHM:
			shmctl(o->id, IPC_RMID, NULL);
			break;
		case OBJ_MQ:
			mq_unlink(o->name);
			break;
		case OBJ_SHM_NAME:
			shm_unlink(o->name);
			break;
		case OBJ_PATH:
			unlink(o->name);
			break;
		}
		nobjs--;
	}
}

const char *ipc_name(const char *what)
{
	static char buf[8][64];
	static unsigned int slot, seq;
	char *p = buf[slot++ % ARRAY_SIZE(buf)];

	snprintf(p, sizeof(buf[0]), "/kipc-demo-%d-%s%u", (int)getpid(), what,
		 ++seq);
	return p;
}

static void on_fatal_signal(int sig)
{
	static const char timeout[] =
		"\nkipc-demo: watchdog: the section took too long, giving up\n";
	static const char stopped[] = "\nkipc-demo: interrupted\n";

	if (getpid() != main_pid)
		_exit(128 + sig);
	cleanup_ipc();
	if (sig == SIGALRM) {
		if (write(STDOUT_FILENO, timeout, sizeof(timeout) - 1) < 0)
			_exit(DEMO_EXIT_FAIL);
		_exit(DEMO_EXIT_FAIL);
	}
	if (write(STDOUT_FILENO, stopped, sizeof(stopped) - 1) < 0)
		_exit(128 + sig);
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

void install_cleanup_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
	struct sigaction sa;
	unsigned int i;

	main_pid = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A write to a pipe nobody reads fails with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
}

void watchdog(unsigned int seconds)
{
	alarm(seconds);
}
