// SPDX-License-Identifier: GPL-2.0
/*
 * Section 1, pipe: an anonymous pipe across fork(), how a shell builds
 * "a | b", a pipe end handed to a process that could not inherit it
 * (SCM_RIGHTS), and a FIFO from mkfifo(3) beside /dev/kipc/pipe0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "demo.h"

/* --- an anonymous pipe across fork() ------------------------------------ */

static const char anon_msg[] = "hello through an anonymous pipe";

struct anon {
	int fd[2];
	struct gate written;
};

static int anon_reader(void *arg)
{
	struct anon *a = arg;
	char buf[128];
	ssize_t n;

	/*
	 * Keep our copy of the write end for a moment, to show why the
	 * unused end must be closed.
	 */
	if (gate_wait(&a->written) < 0)
		return 1;
	n = read_full(a->fd[0], buf, sizeof(anon_msg) - 1);
	check(n == sizeof(anon_msg) - 1 &&
	      !memcmp(buf, anon_msg, sizeof(anon_msg) - 1),
	      "child %d read %zd bytes \"%.*s\" from fd %d", (int)getpid(), n,
	      n > 0 ? (int)n : 0, buf, a->fd[0]);
	if (fcntl(a->fd[0], F_SETFL, O_NONBLOCK) < 0)
		fail_errno("fcntl(F_SETFL, O_NONBLOCK)");
	n = read(a->fd[0], buf, sizeof(buf));
	check_errno(n, errno, EAGAIN,
		    "parent closed its write end, but the child still holds one: read()");
	out_say("      (a blocking read would wait for ever: the child could still write)");
	close_fd(&a->fd[1]);
	n = read(a->fd[0], buf, sizeof(buf));
	check(n == 0, "child closed its unused write end: read() returns %zd (EOF)", n);
	return demo_failures != 0;
}

static void anon_pipe(void)
{
	struct anon a = { .fd = { -1, -1 } };
	pid_t pid;
	int rfd;

	out_part("anonymous pipe across fork()");
	out_say("pipe() makes a kernel buffer with two ends; fork() copies both to the child;");
	out_say("each side closes the end it does not use. Data: parent -> child.");
	if (pipe2(a.fd, O_CLOEXEC) < 0) {
		fail_errno("pipe");
		return;
	}
	if (gate_init(&a.written) < 0)
		goto out;
	out_say("pipe() gave fd %d (read end) and fd %d (write end)", a.fd[0], a.fd[1]);
	pid = spawn_report(anon_reader, &a, &rfd);
	if (pid < 0)
		goto out;
	close_fd(&a.fd[0]);
	if (write_all(a.fd[1], anon_msg, sizeof(anon_msg) - 1) < 0)
		fail_errno("write to the pipe");
	close_fd(&a.fd[1]);
	gate_post(&a.written);
	report_wait(pid, &rfd, "pipe reader");
out:
	gate_close(&a.written);
	close_fd(&a.fd[0]);
	close_fd(&a.fd[1]);
}

/* --- a | b, as a shell builds it ---------------------------------------- */

static bool in_path(const char *cmd, char *where, size_t size)
{
	const char *path = getenv("PATH") ?: "/bin:/usr/bin";
	const char *p = path, *end;

	while (*p) {
		end = strchr(p, ':') ?: p + strlen(p);
		snprintf(where, size, "%.*s/%s", (int)(end - p), p, cmd);
		if (access(where, X_OK) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

struct shellpipe {
	int fd[2];		/* the pipe between a and b */
	int out[2];		/* b's stdout, read by us */
};

static const char lines[] = "one\ntwo\nthree\n";

static int cmd_a(void *arg)
{
	struct shellpipe *s = arg;

	if (dup2(s->fd[1], STDOUT_FILENO) < 0)
		return 120;
	close(s->fd[0]);
	close(s->fd[1]);
	close(s->out[0]);
	close(s->out[1]);
	execlp("printf", "printf", lines, (char *)NULL);
	/* No printf(1): the same plumbing with a built-in writer. */
	return write_all(STDOUT_FILENO, lines, sizeof(lines) - 1) < 0 ? 121 : 0;
}

static int cmd_b(void *arg)
{
	struct shellpipe *s = arg;
	unsigned long count = 0;
	char buf[256];
	ssize_t n, i;

	if (dup2(s->fd[0], STDIN_FILENO) < 0 ||
	    dup2(s->out[1], STDOUT_FILENO) < 0)
		return 120;
	close(s->fd[0]);
	close(s->fd[1]);
	close(s->out[0]);
	close(s->out[1]);
	execlp("wc", "wc", "-l", (char *)NULL);
	/* No wc(1): count the lines ourselves. */
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			count += buf[i] == '\n';
	if (n < 0)
		return 121;
	n = snprintf(buf, sizeof(buf), "%lu\n", count);
	return write_all(STDOUT_FILENO, buf, n) < 0 ? 122 : 0;
}

static void shell_pipe(void)
{
	struct shellpipe s = { { -1, -1 }, { -1, -1 } };
	char wa[256], wb[256], out[64];
	bool have_a, have_b;
	pid_t a = -1, b = -1;
	long count;
	ssize_t n;

	out_part("a | b, as a shell builds it");
	have_a = in_path("printf", wa, sizeof(wa));
	have_b = in_path("wc", wb, sizeof(wb));
	out_say("pipe(); fork a: dup2(fd[1], 1), exec %s (3 lines);",
		have_a ? wa : "(no printf: a built-in writer)");
	out_say("fork b: dup2(fd[0], 0), exec %s -l; all close the ends they do not use.",
		have_b ? wb : "(no wc: a built-in line counter)");
	if (pipe2(s.fd, O_CLOEXEC) < 0 || pipe2(s.out, O_CLOEXEC) < 0) {
		fail_errno("pipe");
		goto out;
	}
	a = spawn(cmd_a, &s);
	b = spawn(cmd_b, &s);
	/* Our copies too: b sees EOF only once every write end is closed. */
	close_fd(&s.fd[0]);
	close_fd(&s.fd[1]);
	close_fd(&s.out[1]);
	n = read_full(s.out[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	count = strtol(out, NULL, 10);
	check(n > 0 && count == 3, "b printed \"%.*s\": the 3 lines a wrote went through the pipe",
	      (int)strcspn(out, "\n"), out);
	wait_ok(a, "command a");
	wait_ok(b, "command b");
out:
	close_fd(&s.fd[0]);
	close_fd(&s.fd[1]);
	close_fd(&s.out[0]);
	close_fd(&s.out[1]);
}

/* --- handing a pipe end to a process that could not inherit it --------- */

static const char passed_msg[] = "written after the read end was passed";

struct fdpass {
	struct sockaddr_un addr;
	socklen_t addrlen;
	int lsock;
};

static int fd_receiver(void *arg)
{
	struct fdpass *f = arg;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cmsg;
	unsigned long long ino = 0;
	char buf[128];
	struct stat st;
	int sock, fd = -1;
	ssize_t n;

	close(f->lsock);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&f->addr, f->addrlen) < 0) {
		fail_errno("receiver: connect");
		return 1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &ino;
	iov.iov_len = sizeof(ino);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	cmsg = CMSG_FIRSTHDR(&msg);
	if (n == sizeof(ino) && cmsg && cmsg->cmsg_level == SOL_SOCKET &&
	    cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	if (!check(fd >= 0, "receiver %d got a descriptor in an SCM_RIGHTS message: fd %d",
		   (int)getpid(), fd))
		return 1;
	if (fstat(fd, &st) < 0) {
		fail_errno("fstat");
		return 1;
	}
	check(S_ISFIFO(st.st_mode) && st.st_ino == ino,
	      "fstat(fd %d): a pipe, inode %llu, the sender's pipe", fd,
	      (unsigned long long)st.st_ino);
	n = read_full(fd, buf, sizeof(passed_msg) - 1);
	check(n == sizeof(passed_msg) - 1 &&
	      !memcmp(buf, passed_msg, sizeof(passed_msg) - 1),
	      "receiver read \"%.*s\" from it", n > 0 ? (int)n : 0, buf);
	n = read(fd, buf, sizeof(buf));
	check(n == 0, "then EOF: the sender closed the write end");
	close(fd);
	close(sock);
	return demo_failures != 0;
}

static void pass_fd(void)
{
	struct fdpass f = { .lsock = -1 };
	char cbuf[CMSG_SPACE(sizeof(int))];
	unsigned long long ino;
	int fd[2] = { -1, -1 }, sock = -1;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov;
	struct stat st;
	pid_t pid;
	int rfd;

	out_part("a pipe end passed to another process with sendmsg(SCM_RIGHTS)");
	out_say("The receiver is forked before the pipe exists, so it cannot inherit it;");
	out_say("it connects to a unix socket and gets the read end in a control message.");

	f.addr.sun_family = AF_UNIX;
	/* An abstract name: nothing to remove afterwards. */
	snprintf(f.addr.sun_path + 1, sizeof(f.addr.sun_path) - 1,
		 "kipc-demo-%d-fdpass", (int)getpid());
	f.addrlen = offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(f.addr.sun_path + 1);
	f.lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f.lsock < 0 || bind(f.lsock, (struct sockaddr *)&f.addr, f.addrlen) < 0 ||
	    listen(f.lsock, 1) < 0) {
		fail_errno("unix socket");
		goto out;
	}
	sock_timeout(f.lsock, 20);
	pid = spawn_report(fd_receiver, &f, &rfd);
	if (pid < 0)
		goto out;
	sock = accept_from(f.lsock, pid, NULL, NULL);
	if (sock < 0) {
		fail_errno("accept");
		kill_child(pid);
		report_collect(&rfd);
		goto out;
	}
	if (pipe2(fd, O_CLOEXEC) < 0 || fstat(fd[0], &st) < 0) {
		fail_errno("pipe");
		kill_child(pid);
		report_collect(&rfd);
		goto out;
	}
	ino = st.st_ino;
	out_say("sender %d: pipe() -> fds %d and %d (inode %llu); sendmsg() passes fd %d",
		(int)getpid(), fd[0], fd[1], ino, fd[0]);

	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &ino;
	iov.iov_len = sizeof(ino);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd[0], sizeof(int));
	if (sendmsg(sock, &msg, 0) != sizeof(ino))
		fail_errno("sendmsg(SCM_RIGHTS)");
	/* The receiver has its own reference now: ours can go. */
	close_fd(&fd[0]);
	if (write_all(fd[1], passed_msg, sizeof(passed_msg) - 1) < 0)
		fail_errno("write");
	close_fd(&fd[1]);
	report_wait(pid, &rfd, "fd receiver");
out:
	close_fd(&sock);
	close_fd(&f.lsock);
	close_fd(&fd[0]);
	close_fd(&fd[1]);
}

/* --- a named pipe: mkfifo(3) and /dev/kipc/pipe0 ------------------------ */

struct fifo_writer {
	const char *path;
	const char *msg;
	struct gate opened;	/* writer -> us: open() returned */
	struct gate go;		/* us -> writer: write now */
};

static int fifo_writer(void *arg)
{
	struct fifo_writer *w = arg;
	int fd;

	fd = open(w->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 10;
	gate_post(&w->opened);
	if (gate_wait(&w->go) < 0)
		return 11;
	if (write_all(fd, w->msg, strlen(w->msg)) != (ssize_t)strlen(w->msg))
		return 12;
	/* Exit: the last writer goes, the reader sees EOF. */
	return 0;
}

static void drain(int fd, const char *label)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	fcntl(fd, F_SETFL, fl);
	if (total)
		out_note("%s: drained %zu bytes left over by someone else", label, total);
}

static void named_pipe(const char *path, const char *label)
{
	struct fifo_writer w = {
		.path = path,
		.opened = { { -1, -1 } },
		.go = { { -1, -1 } },
	};
	struct pollfd pfd;
	char msg[96], buf[128];
	bool blocked, opened;
	int fd = -1;
	pid_t pid;
	ssize_t n;
	off_t off;

	snprintf(msg, sizeof(msg), "hello through %s", path);
	w.msg = msg;
	if (gate_init(&w.opened) < 0 || gate_init(&w.go) < 0)
		goto out;
	pid = spawn(fifo_writer, &w);
	if (pid < 0)
		goto out;

	blocked = wait_blocked_in(pid, SYS_openat);
	pfd.fd = w.opened.fd[0];
	pfd.events = POLLIN;
	opened = poll(&pfd, 1, 0) > 0;
	if (!check(blocked && !opened,
		   "%s: writer %d sleeps in open(O_WRONLY): no reader yet", label,
		   (int)pid)) {
		kill_child(pid);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail_errno(path);
		kill_child(pid);
		goto out;
	}
	check(gate_wait_from(&w.opened, pid) == 0,
	      "%s: our open(O_RDONLY) returned at once, and so did the writer's", label);
	drain(fd, label);
	gate_post(&w.go);
	if (!wait_ok(pid, "writer"))
		goto out;
	n = read_full(fd, buf, strlen(msg));
	check(n == (ssize_t)strlen(msg) && !memcmp(buf, msg, n),
	      "%s: read \"%.*s\" after the writer exited", label,
	      n > 0 ? (int)n : 0, buf);
	n = read(fd, buf, sizeof(buf));
	check(n == 0, "%s: next read() returns %zd: EOF, no writer is left", label, n);
	off = lseek(fd, 0, SEEK_SET);
	check_errno(off, errno, ESPIPE, "%s: lseek(fd, 0, SEEK_SET)", label);
out:
	close_fd(&fd);
	gate_close(&w.opened);
	gate_close(&w.go);
}

static void fifos(void)
{
	const char *fifo = ipc_name("fifo");
	char path[96];
	struct stat st;

	out_part("named pipes: a FIFO from mkfifo() beside /dev/kipc/pipe0");
	out_say("Unrelated processes meet at a path. A writer's open() waits for a reader");
	out_say("(\"echo x > fifo\" hangs until \"cat fifo\"), EOF comes when the writer goes,");
	out_say("and a pipe has no file position: lseek() fails with ESPIPE.");
	snprintf(path, sizeof(path), "/tmp%s", fifo);
	if (mkfifo(path, 0600) < 0) {
		fail_errno("mkfifo");
	} else {
		track_path(path);
		if (stat(path, &st) == 0)
			check(S_ISFIFO(st.st_mode),
			      "%s: ls -l shows 'p', a FIFO (mode %o)", path,
			      st.st_mode & 07777);
		named_pipe(path, "fifo ");
	}

	if (!kipc_usable("pipe0"))
		return;
	if (stat(kipc_path("pipe0"), &st) == 0)
		out_say("%s: ls -l shows 'c', a character device (%u:%u) with FIFO semantics",
			kipc_path("pipe0"), major(st.st_rdev), minor(st.st_rdev));
	named_pipe(kipc_path("pipe0"), "pipe0");
}

void demo_pipe(void)
{
	out_say("A pipe is a buffer in the kernel: write() copies in, read() copies out,");
	out_say("first in, first out. One way only: two-way traffic needs two pipes.");
	anon_pipe();
	shell_pipe();
	pass_fd();
	fifos();
}
