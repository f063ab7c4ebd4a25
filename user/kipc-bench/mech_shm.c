// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: shared memory rings, one per direction, each guarded by two
 * counting semaphores (full: messages ready, empty: slots free), the
 * classic producer/consumer.  Three flavours of memory and semaphore:
 * System V (shmget + semop), POSIX (shm_open + sem_t in the region, a
 * futex when contended) and kipc (/dev/kipc/shmN + KIPC_SEM_P/V).
 *
 * The sender copies its message into a slot (one copy) or, zero-copy,
 * writes it in place; the receiver always reads it in place.  Zero copy
 * (kipc-shm-zc) builds every byte of each message in the slot and the
 * receiver reads every byte there (run.c, KB_F_TOUCH_ALL); the hand-off
 * variant (kipc-shm-handoff) writes and checks only the stamps, so it
 * measures the semaphores and nothing of the data.  In a
 * ping-pong only one message is ever in flight, so only the "full"
 * semaphores are used there: the reply itself says the slot is free.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include <linux/kipc.h>

#include "bench.h"

enum ring_flavour { RING_SYSV, RING_POSIX, RING_KIPC };

#define RING_HDR	4096
#define SEM_FULL(ch)	(2 * (ch))
#define SEM_EMPTY(ch)	(2 * (ch) + 1)
#define RING_NSEMS	4

struct ring {
	enum ring_flavour fl;
	uint8_t *map;
	size_t maplen;
	size_t stride;
	unsigned int nslots;
	unsigned long head[KB_NCH];
	bool flow;		/* use the "empty" semaphores */
	int shmid, semid;
	int kfd;
	sem_t *psem;		/* RING_POSIX: in the header of the region */
};

static const char kipc_shm_path[] = KIPC_DEV_DIR "/shm0";

/* Take (P) or give back (V) one unit of semaphore idx. */
static int sem_op1(struct kb_ctx *c, struct ring *r, int idx, bool take)
{
	struct sembuf op = { .sem_num = idx, .sem_op = take ? -1 : 1 };
	struct kipc_sem_op kop = { .index = idx, .value = !take };
	int rc;

	do {
		switch (r->fl) {
		case RING_SYSV:
			rc = semop(r->semid, &op, 1);
			break;
		case RING_POSIX:
			rc = take ? sem_wait(&r->psem[idx]) :
				    sem_post(&r->psem[idx]);
			break;
		default:
			rc = ioctl(r->kfd, take ? KIPC_SEM_P : KIPC_SEM_V, &kop);
			break;
		}
	} while (rc < 0 && kb_retry());
	return rc < 0 ? kb_fail_errno(c, take ? "semaphore P" : "semaphore V") :
			0;
}

static int sem_p(struct kb_ctx *c, struct ring *r, int idx)
{
	return sem_op1(c, r, idx, true);
}

static int sem_v(struct kb_ctx *c, struct ring *r, int idx)
{
	return sem_op1(c, r, idx, false);
}

static uint8_t *slot(struct ring *r, int ch)
{
	return r->map + RING_HDR +
	       ((size_t)ch * r->nslots + r->head[ch] % r->nslots) * r->stride;
}

static void ring_teardown(struct kb_ctx *c)
{
	struct ring *r = c->priv;
	struct kipc_sem_op kop = { 0 };

	if (!r)
		return;
	if (r->fl == RING_POSIX && r->psem)
		for (int i = 0; i < RING_NSEMS; i++)
			sem_destroy(&r->psem[i]);
	if (r->map)
		munmap(r->map, r->maplen);
	if (r->fl == RING_SYSV && r->shmid >= 0) {
		shmctl(r->shmid, IPC_RMID, NULL);
		kb_unreg_sysv('h', r->shmid);
	}
	if (r->fl == RING_SYSV && r->semid >= 0) {
		semctl(r->semid, 0, IPC_RMID);
		kb_unreg_sysv('s', r->semid);
	}
	if (r->kfd >= 0) {
		/* Leave the device's semaphores as a fresh user expects. */
		for (kop.index = 0; kop.index < RING_NSEMS; kop.index++)
			ioctl(r->kfd, KIPC_SEM_INIT, &kop);
		close(r->kfd);
	}
	free(r);
	c->priv = NULL;
}

static int ring_map_kipc(struct kb_ctx *c, struct ring *r)
{
	__u64 size = 0;

	r->kfd = open(kipc_shm_path, O_RDWR | O_CLOEXEC);
	if (r->kfd < 0)
		return kb_fail(c, "open %s: %s", kipc_shm_path,
			       strerror(errno));
	if (ioctl(r->kfd, KIPC_SHM_GET_SIZE, &size) < 0)
		return kb_fail_errno(c, "KIPC_SHM_GET_SIZE");
	if (size < r->maplen) {
		size = r->maplen;
		if (ioctl(r->kfd, KIPC_SHM_SET_SIZE, &size) < 0)
			return kb_fail(c, "KIPC_SHM_SET_SIZE %zu: %s",
				       r->maplen, strerror(errno));
	}
	r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->kfd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return kb_fail_errno(c, "mmap " KIPC_DEV_DIR "/shm0");
	}
	return 0;
}

static int ring_setup(struct kb_ctx *c, enum ring_flavour fl)
{
	struct ring *r = calloc(1, sizeof(*r));
	long pg = sysconf(_SC_PAGESIZE);
	char name[64];
	int fd;

	if (!r)
		return kb_fail(c, "out of memory");
	c->priv = r;
	r->fl = fl;
	r->shmid = r->semid = r->kfd = -1;
	r->flow = c->wl == KB_STREAM;
	r->nslots = r->flow ? c->depth : 1;
	r->stride = (c->size + 63) & ~(size_t)63;
	r->maplen = RING_HDR + KB_NCH * r->nslots * r->stride;
	r->maplen = (r->maplen + pg - 1) & ~(size_t)(pg - 1);

	switch (fl) {
	case RING_SYSV:
		r->shmid = shmget(IPC_PRIVATE, r->maplen, IPC_CREAT | 0600);
		if (r->shmid < 0)
			goto fail_errno;
		kb_reg_sysv('h', r->shmid);
		r->map = shmat(r->shmid, NULL, 0);
		if (r->map == (void *)-1) {
			r->map = NULL;
			goto fail_errno;
		}
		/* Gone once both processes detach; fork() keeps it attached. */
		shmctl(r->shmid, IPC_RMID, NULL);
		kb_unreg_sysv('h', r->shmid);
		r->shmid = -1;
		r->semid = semget(IPC_PRIVATE, RING_NSEMS, IPC_CREAT | 0600);
		if (r->semid < 0)
			goto fail_errno;
		kb_reg_sysv('s', r->semid);
		for (int ch = 0; ch < KB_NCH; ch++)
			if (semctl(r->semid, SEM_FULL(ch), SETVAL, 0) ||
			    semctl(r->semid, SEM_EMPTY(ch), SETVAL, r->nslots))
				goto fail_errno;
		break;
	case RING_POSIX:
		snprintf(name, sizeof(name), "/kipc-bench-%d", getpid());
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd < 0)
			goto fail_errno;
		shm_unlink(name);
		if (ftruncate(fd, r->maplen)) {
			close(fd);
			goto fail_errno;
		}
		r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE,
			      MAP_SHARED, fd, 0);
		close(fd);
		if (r->map == MAP_FAILED) {
			r->map = NULL;
			goto fail_errno;
		}
		r->psem = (sem_t *)r->map;
		for (int ch = 0; ch < KB_NCH; ch++)
			if (sem_init(&r->psem[SEM_FULL(ch)], 1, 0) ||
			    sem_init(&r->psem[SEM_EMPTY(ch)], 1, r->nslots))
				goto fail_errno;
		break;
	case RING_KIPC:
		if (ring_map_kipc(c, r))
			goto fail;
		for (int i = 0; i < RING_NSEMS; i++) {
			struct kipc_sem_op kop = { .index = i };

			kop.value = i == SEM_EMPTY(0) || i == SEM_EMPTY(1) ?
				    r->nslots : 0;
			if (ioctl(r->kfd, KIPC_SEM_INIT, &kop) < 0) {
				kb_fail_errno(c, "KIPC_SEM_INIT");
				goto fail;
			}
		}
		break;
	}
	/* Every slot holds the pattern: only the stamps change later. */
	for (int ch = 0; ch < KB_NCH; ch++)
		for (r->head[ch] = 0; r->head[ch] < r->nslots; r->head[ch]++)
			kb_payload_fill(slot(r, ch), c->size);
	r->head[0] = r->head[1] = 0;
	kb_cfg_add(c, "%u slot%s per direction", r->nslots,
		   r->nslots == 1 ? "" : "s");
	return 0;
fail_errno:
	kb_fail_errno(c, "shared memory setup");
fail:
	ring_teardown(c);
	return -1;
}

static int sysv_setup(struct kb_ctx *c)
{
	return ring_setup(c, RING_SYSV);
}

static int posix_setup(struct kb_ctx *c)
{
	return ring_setup(c, RING_POSIX);
}

static int kipc_setup(struct kb_ctx *c)
{
	return ring_setup(c, RING_KIPC);
}

/* The child maps the device itself, as an unrelated process would. */
static int kipc_attach(struct kb_ctx *c)
{
	struct ring *r = c->priv;

	if (c->role == KB_PARENT)
		return 0;
	munmap(r->map, r->maplen);
	r->map = NULL;
	close(r->kfd);
	r->kfd = open(kipc_shm_path, O_RDWR | O_CLOEXEC);
	if (r->kfd < 0)
		return kb_fail_errno(c, "child: open " KIPC_DEV_DIR "/shm0");
	r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->kfd, 0);
	if (r->map == MAP_FAILED)
		return kb_fail_errno(c, "child: mmap " KIPC_DEV_DIR "/shm0");
	return 0;
}

static int ring_send(struct kb_ctx *c, int ch, void *buf, size_t len)
{
	struct ring *r = c->priv;

	if (r->flow && sem_p(c, r, SEM_EMPTY(ch)))
		return -1;
	memcpy(slot(r, ch), buf, len);
	r->head[ch]++;
	return sem_v(c, r, SEM_FULL(ch));
}

static void *ring_send_begin(struct kb_ctx *c, int ch)
{
	struct ring *r = c->priv;

	if (r->flow && sem_p(c, r, SEM_EMPTY(ch)))
		return NULL;
	return slot(r, ch);
}

static int ring_send_end(struct kb_ctx *c, int ch)
{
	struct ring *r = c->priv;

	r->head[ch]++;
	return sem_v(c, r, SEM_FULL(ch));
}

static void *ring_recv_begin(struct kb_ctx *c, int ch)
{
	struct ring *r = c->priv;

	if (sem_p(c, r, SEM_FULL(ch)))
		return NULL;
	return slot(r, ch);
}

static int ring_recv_end(struct kb_ctx *c, int ch)
{
	struct ring *r = c->priv;

	r->head[ch]++;
	return r->flow ? sem_v(c, r, SEM_EMPTY(ch)) : 0;
}

static size_t no_limit(char *note, size_t notelen)
{
	(void)note;
	(void)notelen;
	return KB_MAX_SIZE;
}

const struct kb_mech kb_mech_sysv_shm = {
	.name = "sysv-shm",
	.desc = "System V shmget ring + semop semaphores, copy in",
	.copies = 1,
	.max_size = no_limit,
	.setup = sysv_setup,
	.attach = kb_nothing,
	.send = ring_send,
	.recv_begin = ring_recv_begin,
	.recv_end = ring_recv_end,
	.teardown = ring_teardown,
};

const struct kb_mech kb_mech_posix_shm = {
	.name = "posix-shm",
	.desc = "POSIX shm_open ring + sem_t (futex) semaphores, copy in",
	.copies = 1,
	.max_size = no_limit,
	.setup = posix_setup,
	.attach = kb_nothing,
	.send = ring_send,
	.recv_begin = ring_recv_begin,
	.recv_end = ring_recv_end,
	.teardown = ring_teardown,
};

const struct kb_mech kb_mech_kipc_shm = {
	.name = "kipc-shm",
	.desc = "/dev/kipc/shm0 ring + KIPC_SEM_P/V, copy in",
	.flags = KB_F_KIPC,
	.copies = 1,
	.max_size = no_limit,
	.setup = kipc_setup,
	.attach = kipc_attach,
	.send = ring_send,
	.recv_begin = ring_recv_begin,
	.recv_end = ring_recv_end,
	.teardown = ring_teardown,
};

const struct kb_mech kb_mech_kipc_shm_zc = {
	.name = "kipc-shm-zc",
	.desc = "/dev/kipc/shm0 ring + KIPC_SEM_P/V, every byte written and read in place",
	.flags = KB_F_KIPC | KB_F_TOUCH_ALL,
	.copies = 0,
	.max_size = no_limit,
	.setup = kipc_setup,
	.attach = kipc_attach,
	.send_begin = ring_send_begin,
	.send_end = ring_send_end,
	.recv_begin = ring_recv_begin,
	.recv_end = ring_recv_end,
	.teardown = ring_teardown,
};

const struct kb_mech kb_mech_kipc_shm_handoff = {
	.name = "kipc-shm-handoff",
	.desc = "/dev/kipc/shm0 ring + KIPC_SEM_P/V, stamps only: the hand-off, no data",
	.flags = KB_F_KIPC,
	.copies = 0,
	.max_size = no_limit,
	.setup = kipc_setup,
	.attach = kipc_attach,
	.send_begin = ring_send_begin,
	.send_end = ring_send_end,
	.recv_begin = ring_recv_begin,
	.recv_end = ring_recv_end,
	.teardown = ring_teardown,
};
