/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Child processes and what /proc says of them, for the selftests that
 * block a task in a call and act once it sleeps there (never after a
 * sleep of a guessed length).
 */
#ifndef KIPC_PROC_H
#define KIPC_PROC_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* fork(), the child dying with the test process. */
static inline pid_t spawn(void)
{
	pid_t pid = fork();

	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

/* The child's exit status, 128 + signal if killed, -1 on error. */
static inline int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static inline int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * Wait until task @tid sleeps (state S) inside syscall @nr.  The kernel
 * fills /proc/PID/syscall only for a task that is off the CPU.
 */
static inline int wait_sleeping(pid_t tid, long nr)
{
	char path[64], buf[512], *p;
	int i;

	for (i = 0; i < 60000; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", tid);
		if (read_file(path, buf, sizeof(buf)))
			return -1;
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S') {
			snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
			if (read_file(path, buf, sizeof(buf)))
				return -1;
			if (strtol(buf, &p, 10) == nr && p != buf)
				return 0;
		}
		usleep(500);
	}
	return -1;
}

#endif /* KIPC_PROC_H */
