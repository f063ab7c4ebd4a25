// SPDX-License-Identifier: GPL-2.0
/*
 * Section 5, signal: the three dispositions (default, handler, ignore),
 * the two signals that allow none of them, sigqueue() with a payload, and
 * SIGIO raised by a kipc device when data arrives: the one mechanism
 * that interrupts the receiver instead of waiting to be asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <linux/kipc.h>

#include "demo.h"

static const char *sig_name(int sig)
{
	static char buf[16];

	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof(buf), "SIG%s", sigabbrev_np(sig) ?: "?");
	return buf;
}

/* A child that says it is ready, then waits for "go" (or to be killed). */
struct waiter {
	struct gate ready;
	struct gate go;
	int ignore;		/* signal to set to SIG_IGN first, or 0 */
};

static int waiter(void *arg)
{
	struct waiter *w = arg;

	if (w->ignore && signal(w->ignore, SIG_IGN) == SIG_ERR)
		return 1;
	gate_post(&w->ready);
	return gate_wait(&w->go) < 0 ? 2 : 0;
}

static bool waiter_start(struct waiter *w, pid_t *pid)
{
	*pid = -1;
	if (gate_init(&w->ready) < 0 || gate_init(&w->go) < 0)
		return false;
	*pid = spawn(waiter, w);
	if (*pid < 0 || gate_wait_from(&w->ready, *pid) < 0) {
		kill_child(*pid);
		*pid = -1;
		return false;
	}
	return true;
}

static void waiter_end(struct waiter *w)
{
	gate_close(&w->ready);
	gate_close(&w->go);
}

/* --- default, handler, ignore -------------------------------------------- */

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	handled = sig;
}

static int handler_child(void *arg)
{
	struct waiter *w = arg;
	struct sigaction sa;
	sigset_t block, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	/* Blocked until we sleep in sigsuspend(): no lost wake-up. */
	if (sigprocmask(SIG_BLOCK, &block, &old) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0)
		return 1;
	gate_post(&w->ready);
	while (!handled)
		sigsuspend(&old);
	check(handled == SIGUSR1,
	      "handler: child %d ran its handler for %s and carried on", (int)getpid(),
	      sig_name(handled));
	return demo_failures != 0;
}

static bool sig_in_mask(pid_t pid, const char *field, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	size_t len = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			mask = strtoull(line + len + 1, NULL, 16);
	fclose(f);
	return mask >> (sig - 1) & 1;
}

static void dispositions(void)
{
	struct waiter w = { .ignore = 0 };
	pid_t pid;
	int status, rfd;

	out_part("default action, a handler, ignore");
	out_say("kill() sends a signal; the receiver's disposition for it decides.");

	if (waiter_start(&w, &pid)) {
		kill(pid, SIGTERM);
		status = wait_status(pid);
		check(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
		      "default: SIGTERM to child %d: %s (WIFSIGNALED, WTERMSIG)",
		      (int)pid, status_str(status));
	}
	waiter_end(&w);

	if (gate_init(&w.ready) == 0 && gate_init(&w.go) == 0) {
		pid = spawn_report(handler_child, &w, &rfd);
		if (pid > 0 && gate_wait_from(&w.ready, pid) == 0)
			kill(pid, SIGUSR1);
		report_wait(pid, &rfd, "handler child");
	}
	waiter_end(&w);

	w.ignore = SIGTERM;
	if (waiter_start(&w, &pid)) {
		check(sig_in_mask(pid, "SigIgn", SIGTERM),
		      "ignore: child %d set SIG_IGN for SIGTERM (SigIgn in /proc/%d/status)",
		      (int)pid, (int)pid);
		check(kill(pid, SIGTERM) == 0, "ignore: kill(SIGTERM) succeeds, and the kernel drops it");
		gate_post(&w.go);
		status = wait_status(pid);
		check(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "ignore: the child lived on: %s", status_str(status));
	}
	waiter_end(&w);
}

/* --- SIGKILL and SIGSTOP ------------------------------------------------- */

static int stubborn(void *arg)
{
	struct waiter *w = arg;
	sigset_t all;
	int sig;

	/* Ignore and block everything we may; KILL and STOP refuse. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			signal(sig, SIG_IGN);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	gate_post(&w->ready);
	for (;;)
		pause();
	return 3;
}

static void unstoppable(void)
{
	struct waiter w = { .ignore = 0 };
	struct sigaction sa;
	pid_t pid;
	int ret, err, status;

	out_part("SIGKILL and SIGSTOP cannot be caught, blocked or ignored");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	ret = sigaction(SIGKILL, &sa, NULL);
	err = errno;
	check_errno(ret, err, EINVAL, "sigaction(SIGKILL, handler)");
	sa.sa_handler = SIG_IGN;
	ret = sigaction(SIGSTOP, &sa, NULL);
	err = errno;
	check_errno(ret, err, EINVAL, "sigaction(SIGSTOP, SIG_IGN)");

	out_say("A child ignores and blocks every signal it can, then waits:");
	if (gate_init(&w.ready) < 0 || gate_init(&w.go) < 0)
		goto out;
	pid = spawn(stubborn, &w);
	if (pid < 0 || gate_wait_from(&w.ready, pid) < 0) {
		kill_child(pid);
		goto out;
	}
	kill(pid, SIGTERM);
	kill(pid, SIGINT);
	kill(pid, SIGSTOP);
	do {
		ret = waitpid(pid, &status, WUNTRACED);
	} while (ret < 0 && errno == EINTR);
	check(ret == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP,
	      "SIGTERM and SIGINT had no effect; SIGSTOP stopped it (WIFSTOPPED)");
	kill(pid, SIGCONT);
	do {
		ret = waitpid(pid, &status, WCONTINUED);
	} while (ret < 0 && errno == EINTR);
	check(ret == pid && WIFCONTINUED(status),
	      "SIGCONT resumed it, although it ignores SIGCONT (WIFCONTINUED)");
	kill(pid, SIGKILL);
	status = wait_status(pid);
	check(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "SIGKILL ended it (%s)", status_str(status));
out:
	waiter_end(&w);
}

/* --- sigqueue(): a payload, and queueing --------------------------------- */

struct got {
	int sig;
	int code;
	int pid;
	int value;
};

static struct got log_[16];
static volatile sig_atomic_t nlog;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (nlog < (sig_atomic_t)ARRAY_SIZE(log_)) {
		log_[nlog].sig = sig;
		log_[nlog].code = si->si_code;
		log_[nlog].pid = si->si_pid;
		log_[nlog].value = si->si_value.sival_int;
		nlog++;
	}
}

static int queue_child(void *arg)
{
	struct waiter *w = arg;
	unsigned int rt = 0, usr = 0, i;
	struct sigaction sa;
	sigset_t block, old;
	bool in_order = true;
	int want = 100;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGRTMIN);
	sa.sa_mask = block;
	if (sigprocmask(SIG_BLOCK, &block, &old) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0 || sigaction(SIGRTMIN, &sa, NULL) < 0)
		return 1;
	gate_post(&w->ready);
	/* The parent queues everything while both are blocked. */
	if (gate_wait(&w->go) < 0)
		return 2;
	sigprocmask(SIG_SETMASK, &old, NULL);

	for (i = 0; i < (unsigned int)nlog; i++) {
		if (log_[i].sig == SIGUSR1) {
			usr++;
			if (usr == 1)
				check(log_[i].code == SI_QUEUE && log_[i].pid == getppid() &&
				      log_[i].value == 1,
				      "SIGUSR1 sent 3 times (values 1, 2, 3) arrived once: si_value %d, si_code SI_QUEUE, si_pid %d",
				      log_[i].value, log_[i].pid);
		} else if (log_[i].sig == SIGRTMIN) {
			rt++;
			in_order &= log_[i].code == SI_QUEUE && log_[i].value == want;
			want += 100;
		}
	}
	check(usr == 1, "standard signals do not queue: %u SIGUSR1 handled", usr);
	check(rt == 3 && in_order,
	      "SIGRTMIN sent 3 times arrived 3 times, si_value 100, 200, 300 in order (%u)", rt);
	return demo_failures != 0;
}

static void payload(void)
{
	struct waiter w = { .ignore = 0 };
	union sigval v;
	pid_t pid;
	int i, rfd;

	out_part("sigqueue(): a signal with a payload");
	out_say("sigqueue() attaches an int (or pointer) that an SA_SIGINFO handler reads in");
	out_say("si_value. A child blocks SIGUSR1 and SIGRTMIN; we queue 3 of each, then it");
	out_say("unblocks them. Real-time signals queue; standard ones merge into one.");
	if (gate_init(&w.ready) < 0 || gate_init(&w.go) < 0)
		goto out;
	pid = spawn_report(queue_child, &w, &rfd);
	if (pid < 0)
		goto out;
	if (gate_wait_from(&w.ready, pid) == 0) {
		for (i = 1; i <= 3; i++) {
			v.sival_int = i;
			if (sigqueue(pid, SIGUSR1, v) < 0)
				fail_errno("sigqueue(SIGUSR1)");
			v.sival_int = i * 100;
			if (sigqueue(pid, SIGRTMIN, v) < 0)
				fail_errno("sigqueue(SIGRTMIN)");
		}
		check(sig_in_mask(pid, "ShdPnd", SIGUSR1) &&
		      sig_in_mask(pid, "ShdPnd", SIGRTMIN),
		      "both pending in the child (ShdPnd in /proc/%d/status)", (int)pid);
		gate_post(&w.go);
	}
	report_wait(pid, &rfd, "sigqueue child");
out:
	waiter_end(&w);
}

/* --- SIGIO: told when data arrives --------------------------------------- */

static volatile sig_atomic_t io_count, io_fd, io_code;

static void on_io(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	io_fd = si->si_fd;
	io_code = si->si_code;
	io_count++;
}

struct feeder {
	struct gate go;
	int fd;			/* pipe(2): write end */
	bool kipc;
};

static const char io_msg[] = "data for the SIGIO demo";

static int feeder(void *arg)
{
	struct feeder *f = arg;
	int fd = f->fd;

	if (gate_wait(&f->go) < 0)
		return 1;
	/* Let the parent get well into its loop before the data comes. */
	sleep_ms(20);
	if (f->kipc)
		fd = open(kipc_path("mq0"), O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, io_msg, sizeof(io_msg) - 1) != sizeof(io_msg) - 1)
		return 2;
	return 0;
}

static void sigio_on(const char *label, int rfd, struct feeder *f)
{
	unsigned long long work = 0;
	struct sigaction sa, old;
	uint64_t deadline;
	char buf[64];
	pid_t pid;
	ssize_t n;
	int fl;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_io;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	io_count = 0;
	io_fd = -1;
	io_code = 0;
	if (gate_init(&f->go) < 0)
		return;
	fl = fcntl(rfd, F_GETFL);
	if (fl < 0 || sigaction(SIGIO, &sa, &old) < 0) {
		fail_errno("SIGIO set-up");
		gate_close(&f->go);
		return;
	}
	if (fcntl(rfd, F_SETOWN, getpid()) < 0 || fcntl(rfd, F_SETSIG, SIGIO) < 0 ||
	    fcntl(rfd, F_SETFL, fl | O_ASYNC) < 0) {
		fail_errno("fcntl(F_SETOWN, F_SETSIG, O_ASYNC)");
		goto out;
	}
	pid = spawn(feeder, f);
	if (pid < 0)
		goto out;
	gate_post(&f->go);
	/* Busy with something else: no read(), poll() or wait pending. */
	deadline = now_ns() + 10000000000ull;
	while (!io_count && (work & 0xfff || (now_ns() < deadline && !child_exited(pid))))
		work++;
	wait_ok(pid, "feeder");
	check(io_count > 0 && io_fd == rfd && io_code == POLL_IN,
	      "%s: SIGIO interrupted our loop after %llu iterations: si_fd %d, si_code %s",
	      label, work, (int)io_fd, io_code == POLL_IN ? "POLL_IN" : "?");
	fcntl(rfd, F_SETFL, fl);
	n = read(rfd, buf, sizeof(buf));
	check(n == sizeof(io_msg) - 1 && !memcmp(buf, io_msg, n),
	      "%s: then read() fetched the %zd bytes", label, n);
out:
	fcntl(rfd, F_SETFL, fl);
	sigaction(SIGIO, &old, NULL);
	gate_close(&f->go);
}

static void sigio(void)
{
	struct feeder f = { .fd = -1 };
	int fd[2], kfd;

	out_part("SIGIO: the kernel interrupts us when data arrives");
	out_say("fcntl(F_SETOWN, our pid), F_SETSIG and O_ASYNC on the reading fd; a child");
	out_say("writes while we are busy counting; the signal handler runs at once.");
	if (pipe2(fd, O_CLOEXEC) < 0) {
		fail_errno("pipe");
	} else {
		f.fd = fd[1];
		f.kipc = false;
		sigio_on("pipe(2) ", fd[0], &f);
		close(fd[0]);
		close(fd[1]);
	}
	kfd = kipc_open("mq0", O_RDWR);
	if (kfd < 0)
		return;
	if (ioctl(kfd, KIPC_MQ_FLUSH) < 0)
		fail_errno("KIPC_MQ_FLUSH");
	f.fd = -1;
	f.kipc = true;
	sigio_on("kipc mq0", kfd, &f);
	close(kfd);
}

void demo_signal(void)
{
	out_say("A signal tells a process that something happened. It carries next to no");
	out_say("data; it is for exceptional events, and it is the only asynchronous");
	out_say("mechanism here: the receiver is interrupted, it does not ask.");
	dispositions();
	unstoppable();
	payload();
	sigio();
}
