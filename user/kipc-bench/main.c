// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: measure every IPC mechanism side by side.
 *
 * Every mechanism runs the same two loops (run.c) over the same message
 * sizes: a ping-pong between two processes (round-trip latency, with the
 * two pinned to one CPU and to two CPUs) and one-way streaming (MB/s,
 * messages/s), each point repeated and the median reported, with the CPU
 * time of both processes per message beside it.  The payload of every
 * message is checked on receipt.  The targets the kipc devices were
 * written for are printed as ratios measured in the same run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <linux/kipc.h>

#include "bench.h"

static const struct kb_mech *const std_mechs[] = {
	&kb_mech_pipe,
	&kb_mech_fifo,
	&kb_mech_kipc_pipe,
	&kb_mech_sysv_msg,
	&kb_mech_posix_mq,
	&kb_mech_kipc_mq,
	&kb_mech_kipc_mq_ioctl,
	&kb_mech_kipc_mq_batch,
	&kb_mech_sysv_shm,
	&kb_mech_posix_shm,
	&kb_mech_kipc_shm,
	&kb_mech_kipc_shm_zc,
	&kb_mech_kipc_shm_handoff,
	&kb_mech_unix_stream,
	&kb_mech_unix_dgram,
	&kb_mech_socketpair,
	&kb_mech_tcp,
	&kb_mech_eventfd,
	&kb_mech_signal,
};

#define NSTD (sizeof(std_mechs) / sizeof(std_mechs[0]))
#define NMECHS_MAX (NSTD + 8 * 3 * 2)
#define MAX_SIZES 32
#define MAX_DEPTHS 3

/* The ordinary adapters, then the io_uring variants of each depth. */
static const struct kb_mech *all_mechs[NMECHS_MAX];
static size_t NMECHS;

static const size_t full_sizes[] = { 8, 64, 512, 4096, 65536, 1048576 };
/* The sizes the targets are stated at: the default and --quick. */
static const size_t target_sizes[] = { 64, 4096, 65536 };

/*
 * Work per point: round trips and streamed messages per repetition,
 * bytes / size clamped to [min, max].  Sized for QEMU TCG with 2 vCPUs,
 * where a context switch costs about 50 us and memcpy runs at about
 * 2 GB/s: the default run (the target sizes, 3 repetitions) takes a few
 * minutes, --full (six sizes, more work, SQPOLL too) several times that,
 * --quick well under a minute.  bench.md has the times measured.
 */
struct work_plan {
	unsigned int reps;
	unsigned long lat_max, lat_min, lat_bytes;
	unsigned long st_max, st_min, st_bytes;
};

static const struct work_plan full_plan = {
	.reps = 3,
	.lat_max = 500, .lat_min = 16, .lat_bytes = 8ul << 20,
	.st_max = 10000, .st_min = 16, .st_bytes = 16ul << 20,
};

static const struct work_plan default_plan = {
	.reps = 3,
	.lat_max = 100, .lat_min = 16, .lat_bytes = 2ul << 20,
	.st_max = 2000, .st_min = 16, .st_bytes = 4ul << 20,
};

static const struct work_plan quick_plan = {
	.reps = 1,
	.lat_max = 40, .lat_min = 8, .lat_bytes = 512ul << 10,
	.st_max = 400, .st_min = 8, .st_bytes = 1ul << 20,
};

static struct {
	const struct kb_mech *mechs[NMECHS_MAX];
	size_t nmechs;
	char *mech_arg;
	size_t sizes[MAX_SIZES];
	size_t nsizes;
	bool wl[KB_NWL];
	bool pl[KB_NPL];
	enum kb_placement stream_pl;
	struct work_plan plan;
	double scale;
	bool quick, full, tune, progress, list, std_only, sqpoll;
	unsigned int depths[MAX_DEPTHS];
	unsigned int ndepths;
	const char *json, *csv, *out;
	int reps;
} opt = {
	.scale = 1.0,
	.tune = true,
	.progress = true,
	.reps = -1,
};

static unsigned long clampul(unsigned long v, unsigned long lo,
			     unsigned long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void plan_work(size_t size, struct kb_work *w)
{
	const struct work_plan *p = &opt.plan;

	w->reps = p->reps;
	w->lat_iters = clampul(p->lat_bytes / size, p->lat_min, p->lat_max) *
		       opt.scale;
	w->st_msgs = clampul(p->st_bytes / size, p->st_min, p->st_max) *
		     opt.scale;
	if (w->lat_iters < 2)
		w->lat_iters = 2;
	if (w->st_msgs < 2)
		w->st_msgs = 2;
	w->lat_warm = clampul(w->lat_iters / 10, 2, 100);
	w->st_warm = clampul(w->st_msgs / 10, 2, 500);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kipc-bench [options]\n"
"Measure every IPC mechanism side by side: ping-pong round-trip latency\n"
"(pinned to one CPU and to two) and one-way streaming throughput, with the\n"
"CPU time and the system calls per message, payloads checked, medians of\n"
"repetitions with their spread.  The default run (64 B, 4 KiB, 64 KiB, 3\n"
"repetitions) takes a few minutes under QEMU TCG; --full measures more.\n"
"\n"
"  -l, --list              list the mechanisms and exit\n"
"  -m, --mechanisms A,B    only these mechanisms (default: all); an io_uring\n"
"                          name without its depth suffix selects every depth\n"
"  -s, --sizes 8,64,4k     message sizes, 8 B to 1 MiB (k, m suffixes)\n"
"  -q, --quick             a short run: 1 repetition, little work (indicative)\n"
"  -F, --full              the full run: 8 B to 1 MiB, more work, SQPOLL too\n"
"  -w, --workloads L       latency,stream (default: both)\n"
"  -p, --placements P      same,split: one CPU or two (default: both)\n"
"  -r, --reps N            repetitions per point (default 3, quick 1)\n"
"      --scale F           multiply the work per point by F\n"
"      --uring-depths L    io_uring submissions per io_uring_enter (default 1,16,64)\n"
"      --sqpoll            io_uring SQPOLL variants too (--full has them)\n"
"      --standard-only     without the kipc module: run the standard mechanisms\n"
"                          alone (otherwise a missing module is an error)\n"
"  -j, --json FILE         write the results as JSON\n"
"  -c, --csv FILE          write the results as CSV\n"
"  -o, --out DIR           write DIR/bench.json, bench.csv and bench.txt\n"
"      --no-tune           do not raise system limits, even as root\n"
"      --verify-full       compare the whole payload of every message\n"
"      --batch N           messages per batch call (default 64)\n"
"      --timeout S         seconds one repetition may take (default 60)\n"
"      --no-progress       no progress line on stderr\n"
"  -V, --version           print the version and exit\n"
"  -h, --help              this text\n"
"\n"
"Charts (with error bars across repetitions) from a CSV: scripts/bench-plot DIR\n");
}

static const struct kb_mech *find_mech(const char *name)
{
	for (size_t i = 0; i < NMECHS; i++)
		if (!strcmp(all_mechs[i]->name, name))
			return all_mechs[i];
	return NULL;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' ? (end[1] == 'B' ? 2 : 1) : 1;
	if (*end || v < KB_MIN_SIZE || v > KB_MAX_SIZE)
		return -1;
	*out = v;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int parse_list(char *arg, int (*one)(const char *))
{
	char *save = NULL;

	for (char *t = strtok_r(arg, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		if (one(t))
			return -1;
	return 0;
}

static void add_one(const struct kb_mech *m)
{
	for (size_t i = 0; i < opt.nmechs; i++)
		if (opt.mechs[i] == m)
			return;
	opt.mechs[opt.nmechs++] = m;
}

/* A name, or an io_uring template's name: all its variants. */
static int add_mech(const char *name)
{
	const struct kb_mech *m = find_mech(name);
	bool any = false;

	if (m) {
		add_one(m);
		return 0;
	}
	for (size_t i = 0; i < NMECHS; i++) {
		const struct kb_mech *v = all_mechs[i];
		size_t n = strlen(name);

		if (v->uring_depth && !strncmp(v->name, name, n) &&
		    !strncmp(v->name + n, "-d", 2)) {
			add_one(v);
			any = true;
		}
	}
	if (!any) {
		fprintf(stderr, "kipc-bench: unknown mechanism '%s' (see --list)\n",
			name);
		return -1;
	}
	return 0;
}

static int add_depth(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v < 1 || v > KB_MAX_BATCH || opt.ndepths == MAX_DEPTHS) {
		fprintf(stderr, "kipc-bench: --uring-depths: up to %d depths of 1 to %d, not '%s'\n",
			MAX_DEPTHS, KB_MAX_BATCH, s);
		return -1;
	}
	opt.depths[opt.ndepths++] = v;
	return 0;
}

static int add_size(const char *s)
{
	size_t v;

	if (parse_size(s, &v)) {
		fprintf(stderr, "kipc-bench: bad size '%s' (%d B to 1 MiB)\n",
			s, KB_MIN_SIZE);
		return -1;
	}
	if (opt.nsizes == MAX_SIZES)
		return -1;
	for (size_t i = 0; i < opt.nsizes; i++)
		if (opt.sizes[i] == v)
			return 0;
	opt.sizes[opt.nsizes++] = v;
	return 0;
}

static int add_wl(const char *s)
{
	if (!strcmp(s, "latency"))
		opt.wl[KB_LATENCY] = true;
	else if (!strcmp(s, "stream"))
		opt.wl[KB_STREAM] = true;
	else
		return fprintf(stderr, "kipc-bench: workload '%s'?\n", s), -1;
	return 0;
}

static int add_pl(const char *s)
{
	if (!strcmp(s, "same"))
		opt.pl[KB_SAME] = true;
	else if (!strcmp(s, "split"))
		opt.pl[KB_SPLIT] = true;
	else
		return fprintf(stderr, "kipc-bench: placement '%s'?\n", s), -1;
	return 0;
}

enum {
	O_SCALE = 256, O_NO_TUNE, O_VERIFY_FULL, O_BATCH, O_TIMEOUT,
	O_NO_PROGRESS, O_DEPTHS, O_SQPOLL, O_STD_ONLY,
};

static const struct option longopts[] = {
	{ "list", no_argument, NULL, 'l' },
	{ "mechanisms", required_argument, NULL, 'm' },
	{ "sizes", required_argument, NULL, 's' },
	{ "quick", no_argument, NULL, 'q' },
	{ "full", no_argument, NULL, 'F' },
	{ "uring-depths", required_argument, NULL, O_DEPTHS },
	{ "sqpoll", no_argument, NULL, O_SQPOLL },
	{ "standard-only", no_argument, NULL, O_STD_ONLY },
	{ "version", no_argument, NULL, 'V' },
	{ "workloads", required_argument, NULL, 'w' },
	{ "placements", required_argument, NULL, 'p' },
	{ "reps", required_argument, NULL, 'r' },
	{ "scale", required_argument, NULL, O_SCALE },
	{ "json", required_argument, NULL, 'j' },
	{ "csv", required_argument, NULL, 'c' },
	{ "out", required_argument, NULL, 'o' },
	{ "no-tune", no_argument, NULL, O_NO_TUNE },
	{ "verify-full", no_argument, NULL, O_VERIFY_FULL },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "no-progress", no_argument, NULL, O_NO_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_args(int argc, char **argv)
{
	int c;

	/* getopt's own messages name the program as every other one does. */
	argv[0] = (char *)"kipc-bench";
	while ((c = getopt_long(argc, argv, "lm:s:qFw:p:r:j:c:o:Vh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			opt.list = true;
			break;
		case 'm':
			/* Resolved once the io_uring depths are known. */
			opt.mech_arg = optarg;
			break;
		case 's':
			if (parse_list(optarg, add_size))
				return -1;
			break;
		case 'q':
			opt.quick = true;
			break;
		case 'F':
			opt.full = true;
			break;
		case O_DEPTHS:
			opt.ndepths = 0;
			if (parse_list(optarg, add_depth))
				return -1;
			break;
		case O_SQPOLL:
			opt.sqpoll = true;
			break;
		case O_STD_ONLY:
			opt.std_only = true;
			break;
		case 'V':
			printf("kipc-bench %s\n", KB_VERSION);
			exit(0);
		case 'w':
			if (parse_list(optarg, add_wl))
				return -1;
			break;
		case 'p':
			if (parse_list(optarg, add_pl))
				return -1;
			break;
		case 'r':
			opt.reps = atoi(optarg);
			if (opt.reps < 1 || opt.reps > 100)
				return fprintf(stderr, "kipc-bench: --reps 1..100\n"), -1;
			break;
		case O_SCALE:
			opt.scale = atof(optarg);
			if (!(opt.scale > 0 && opt.scale <= 1000))
				return fprintf(stderr, "kipc-bench: --scale?\n"), -1;
			break;
		case 'j':
			opt.json = optarg;
			break;
		case 'c':
			opt.csv = optarg;
			break;
		case 'o':
			opt.out = optarg;
			break;
		case O_NO_TUNE:
			opt.tune = false;
			break;
		case O_VERIFY_FULL:
			kb_opts.verify_full = true;
			break;
		case O_BATCH:
			kb_opts.batch = atoi(optarg);
			if (kb_opts.batch < 1 || kb_opts.batch > KB_MAX_BATCH)
				return fprintf(stderr, "kipc-bench: --batch 1..%d\n",
					       KB_MAX_BATCH), -1;
			break;
		case O_TIMEOUT:
			kb_opts.timeout = atoi(optarg);
			if (kb_opts.timeout < 1)
				return fprintf(stderr, "kipc-bench: --timeout?\n"), -1;
			break;
		case O_NO_PROGRESS:
			opt.progress = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kipc-bench: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (opt.quick && opt.full) {
		fprintf(stderr, "kipc-bench: --quick or --full, not both\n");
		return -1;
	}
	return 0;
}

/* The registry: the ordinary adapters, then io_uring's per depth. */
static void build_registry(void)
{
	static const unsigned int def_depths[] = { 1, 16, 64 };

	if (!opt.ndepths) {
		memcpy(opt.depths, def_depths, sizeof(def_depths));
		opt.ndepths = 3;
	}
	if (opt.full)
		opt.sqpoll = true;
	for (size_t i = 0; i < NSTD; i++)
		all_mechs[NMECHS++] = std_mechs[i];
	/*
	 * Round trips through io_uring (depth 1 only: one message is in
	 * flight) are in --full; the default run streams through it, where
	 * the targets and the depths are.  SQPOLL streams only: its kernel
	 * threads poll for submissions, and a round trip between two pinned
	 * processes would measure how they share two CPUs with those.
	 */
	for (size_t t = 0; t < kb_uring_ntemplates; t++) {
		for (unsigned int d = 0; d < opt.ndepths; d++) {
			for (int sq = 0; sq <= (int)opt.sqpoll; sq++) {
				struct kb_mech *m = kb_uring_variant(
					kb_uring_templates[t], opt.depths[d],
					sq);

				if (!opt.full || sq)
					m->flags |= KB_F_STREAM_ONLY;
				all_mechs[NMECHS++] = m;
			}
		}
	}
}

static void list_mechs(void)
{
	printf("%-28s %-9s %-6s %-9s %s\n", "mechanism", "workloads",
	       "copies", "max size", "what");
	for (size_t i = 0; i < NMECHS; i++) {
		const struct kb_mech *m = all_mechs[i];
		char note[160] = "";
		size_t max = m->max_size(note, sizeof(note));
		const char *wl = m->flags & KB_F_LAT_ONLY ? "latency" :
				 m->flags & KB_F_STREAM_ONLY ? "stream" :
				 "both";

		printf("%-28s %-9s %-6d %-9zu %s%s", m->name, wl, m->copies,
		       max, m->desc,
		       (m->flags & KB_F_KIPC) && !kb_sys.kipc ?
		       " [" KB_KIPC_ABSENT "]" : "");
		if (note[0])
			printf(" [max: %s]", note);
		putchar('\n');
	}
}

/* --- running ---------------------------------------------------------------- */

static struct kb_result *results;
static size_t nresults, cap_results;
static unsigned long points_total, points_done;
static uint64_t start_ns;

static struct kb_result *new_result(const struct kb_mech *m,
				    enum kb_workload wl, enum kb_placement pl,
				    size_t size)
{
	struct kb_result *r;

	if (nresults == cap_results) {
		cap_results = cap_results ? 2 * cap_results : 64;
		results = realloc(results, cap_results * sizeof(*results));
		if (!results) {
			perror("kipc-bench");
			exit(1);
		}
	}
	r = &results[nresults++];
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->wl = wl;
	r->pl = pl;
	r->size = size;
	return r;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * A line rewritten in place on a terminal; on a serial console (the
 * guest's, whose log drops the carriage returns) or a file, one line per
 * group of points (workload, placement, size) and round.
 */
static bool progress_in_place(void)
{
	static int known = -1;
	const char *name;

	if (known < 0) {
		name = isatty(2) ? ttyname(2) : NULL;
		known = name && strncmp(name, "/dev/ttyS", 9) &&
			strcmp(name, "/dev/console");
	}
	return known;
}

static void progress(const struct kb_result *r, unsigned int rep,
		     unsigned int reps)
{
	static const struct kb_result *last;
	static unsigned int last_rep;

	if (!opt.progress)
		return;
	if (progress_in_place()) {
		fprintf(stderr, "\r\033[K[%4lu/%lu %4.0fs] rep %u/%u: %s %s %s %s",
			points_done + 1, points_total,
			(kb_now_ns() - start_ns) / 1e9, rep + 1, reps,
			r->m->name, kb_wl_name(r->wl),
			r->wl == KB_LATENCY ? kb_pl_name(r->pl) : "",
			kb_size_str(r->size));
	} else if (!last || rep != last_rep || r->wl != last->wl ||
		   r->pl != last->pl || r->size != last->size) {
		bool lat = r->wl == KB_LATENCY;

		fprintf(stderr, "kipc-bench: [%lu/%lu %.0fs] rep %u/%u: %s%s%s %s\n",
			points_done + 1, points_total,
			(kb_now_ns() - start_ns) / 1e9, rep + 1, reps,
			kb_wl_name(r->wl), lat ? " " : "",
			lat ? kb_pl_name(r->pl) : "", kb_size_str(r->size));
	}
	last = r;
	last_rep = rep;
}

/* The repetitions of one point so far. */
struct point_acc {
	double v[9][KB_MAX_REPS];
	unsigned int n;
	bool calls_unknown;
};

static void run_rep_of(struct kb_result *r, struct point_acc *a,
		       unsigned int rep, unsigned int reps)
{
	struct kb_rep out;
	struct kb_work w;

	plan_work(r->size, &w);
	w.reps = reps;
	progress(r, rep, reps);
	kb_run_rep(r->m, r->wl, r->pl, r->size, &w, &out);
	points_done++;
	snprintf(r->config, sizeof(r->config), "%s", out.config);
	if (out.status) {
		r->status = out.status;
		snprintf(r->note, sizeof(r->note), "%s", out.note);
		if (out.status < 0) {
			if (opt.progress && progress_in_place())
				fputc('\n', stderr);
			fprintf(stderr, "kipc-bench: %s %s %s %zu B failed: %s\n",
				r->m->name, kb_wl_name(r->wl), kb_pl_name(r->pl),
				r->size, r->note);
		}
		return;
	}
	r->count = out.count;
	r->verified += out.verified;
	r->verified_full += out.verified_full;
	a->v[0][a->n] = out.p50;
	a->v[1][a->n] = out.min;
	a->v[2][a->n] = out.p90;
	a->v[3][a->n] = out.p99;
	a->v[4][a->n] = out.p999;
	a->v[5][a->n] = out.max;
	a->v[6][a->n] = (double)out.cpu_ns / out.count;
	a->v[7][a->n] = (double)out.count / (out.elapsed_ns / 1e9);
	if (out.calls == ~0ull)
		a->calls_unknown = true;
	else
		a->v[8][a->n] = (double)out.calls / out.count;
	/* The main figure of each repetition, in the order they ran. */
	r->rv[a->n] = r->wl == KB_LATENCY ? out.p50 : a->v[7][a->n];
	a->n++;
}

static void finish_point(struct kb_result *r, struct point_acc *a)
{
	unsigned int n = a->n;

	if (r->status || !n)
		return;
	r->reps = n;
	r->rv_lo = r->rv_hi = r->rv[0];
	for (unsigned int i = 1; i < n; i++) {
		if (r->rv[i] < r->rv_lo)
			r->rv_lo = r->rv[i];
		if (r->rv[i] > r->rv_hi)
			r->rv_hi = r->rv[i];
	}
	r->calls = a->calls_unknown ? -1 : median(a->v[8], n);
	r->p50 = median(a->v[0], n);
	r->min = median(a->v[1], n);
	r->p90 = median(a->v[2], n);
	r->p99 = median(a->v[3], n);
	r->p999 = median(a->v[4], n);
	r->max = median(a->v[5], n);
	r->cpu_ns = median(a->v[6], n);
	r->msgps = median(a->v[7], n);
	r->mbps = r->msgps * r->size / 1e6;
	if (r->wl == KB_LATENCY)
		r->mbps = r->msgps = 0;
}

/* The points of one mechanism, in the order the reports list them. */
static void for_each_point(const struct kb_mech *m,
			   void (*fn)(const struct kb_mech *,
				      enum kb_workload, enum kb_placement,
				      size_t, const char *))
{
	char note[200], why[240];
	size_t max = m->max_size(note, sizeof(note));

	for (int wl = 0; wl < KB_NWL; wl++) {
		if (!opt.wl[wl] ||
		    (wl == KB_LATENCY && (m->flags & KB_F_STREAM_ONLY)) ||
		    (wl == KB_STREAM && (m->flags & KB_F_LAT_ONLY)))
			continue;
		for (int pl = 0; pl < KB_NPL; pl++) {
			if (wl == KB_LATENCY ? !opt.pl[pl] : pl != (int)opt.stream_pl)
				continue;
			for (size_t i = 0; i < opt.nsizes; i++) {
				size_t s = opt.sizes[i];

				/* eventfd and signals: their one size only. */
				if (m->flags & KB_F_LAT_ONLY) {
					if (i)
						break;
					s = 8;
				}
				why[0] = 0;
				if (s > max)
					snprintf(why, sizeof(why), "%s", note);
				else if ((m->flags & KB_F_KIPC) && !kb_sys.kipc)
					snprintf(why, sizeof(why), KB_KIPC_ABSENT);
				else if (pl == KB_SPLIT && kb_sys.ncpus < 2)
					snprintf(why, sizeof(why),
						 "only 1 CPU available: no two-CPU placement");
				fn(m, wl, pl, s, why);
			}
		}
	}
}

/* Every point gets its result now: to run (status 0) or skipped. */
static void add_point(const struct kb_mech *m, enum kb_workload wl,
		      enum kb_placement pl, size_t s, const char *why)
{
	struct kb_result *r = new_result(m, wl, pl, s);

	if (why[0]) {
		r->status = KB_SKIP;
		snprintf(r->note, sizeof(r->note), "%s", why);
	}
}

/*
 * The order points run in within a repetition: by workload, placement
 * and size, so that the mechanisms a ratio compares run one after the
 * other, within a second or so, rather than minutes apart.
 */
static int run_order_cmp(const void *a, const void *b)
{
	const struct kb_result *x = &results[*(const size_t *)a];
	const struct kb_result *y = &results[*(const size_t *)b];

	if (x->wl != y->wl)
		return x->wl < y->wl ? -1 : 1;
	if (x->pl != y->pl)
		return x->pl < y->pl ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	/* Stable: the order of the mechanisms within a group. */
	return x < y ? -1 : x > y;
}

/*
 * Repetition by repetition across all points, not point by point: a
 * burst of load on the host then spoils one repetition of many points
 * (the median drops it) instead of every repetition of a few.  Every
 * other repetition runs in the reverse order, so that no mechanism is
 * always the first or the last of its group.
 */
static void run_points(void)
{
	unsigned int reps = opt.reps > 0 ? (unsigned int)opt.reps :
			    opt.plan.reps;
	struct point_acc *acc;
	size_t *order;

	if (!nresults)
		return;
	acc = calloc(nresults, sizeof(*acc));
	order = calloc(nresults, sizeof(*order));
	if (!acc || !order) {
		perror("kipc-bench");
		exit(1);
	}
	for (size_t i = 0; i < nresults; i++) {
		points_total += results[i].status ? 0 : reps;
		order[i] = i;
	}
	qsort(order, nresults, sizeof(*order), run_order_cmp);
	for (unsigned int rep = 0; rep < reps; rep++) {
		for (size_t k = 0; k < nresults; k++) {
			size_t i = order[rep % 2 ? nresults - 1 - k : k];

			if (!results[i].status)
				run_rep_of(&results[i], &acc[i], rep, reps);
		}
	}
	for (size_t i = 0; i < nresults; i++)
		finish_point(&results[i], &acc[i]);
	free(order);
	free(acc);
}

/* --- the targets -------------------------------------------------------------- */

static const struct kb_result *find(const char *mech, enum kb_workload wl,
				    enum kb_placement pl, size_t size)
{
	for (size_t i = 0; i < nresults; i++) {
		const struct kb_result *r = &results[i];

		if (!strcmp(r->m->name, mech) && r->wl == wl &&
		    r->size == size && r->status == 0 &&
		    (wl == KB_STREAM || r->pl == pl))
			return r;
	}
	return NULL;
}

static double metric(const struct kb_result *r, char what)
{
	return what == 'B' ? r->mbps : what == 'M' ? r->msgps : r->p50;
}

/* The lowest and highest repetition of the figure. */
static void metric_range(const struct kb_result *r, char what, double *lo,
			 double *hi)
{
	double f = what == 'B' ? r->size / 1e6 : 1;

	*lo = r->rv_lo * f;
	*hi = r->rv_hi * f;
}

static const char *unit(char what)
{
	return what == 'B' ? "MB/s" : what == 'M' ? "msgs/s" : "us p50";
}

static int fig(char *b, size_t n, const struct kb_result *r, char what)
{
	double v = metric(r, what), lo, hi, d = what == 'L' ? 1e3 : 1;

	metric_range(r, what, &lo, &hi);
	if (r->reps < 2)
		return snprintf(b, n, "%s %.*f %s", r->m->name,
				what == 'M' ? 0 : 1, v / d, unit(what));
	return snprintf(b, n, "%s %.*f %s [%.*f-%.*f]", r->m->name,
			what == 'M' ? 0 : 1, v / d, unit(what),
			what == 'M' ? 0 : 1, lo / d, what == 'M' ? 0 : 1,
			hi / d);
}

/*
 * value = subject / the best of the others: the highest rate, or for a
 * round trip (lower is better) the lowest p50.  others is a
 * NULL-terminated list; "*" means every byte stream.  lo and hi bound the
 * ratio by the repetitions' extremes; when the target lies between them
 * the verdict is inside the noise.
 */
static void ratio(struct kb_ratio *q, const char *name, const char *subject,
		  const char *const *others, enum kb_workload wl,
		  enum kb_placement pl, size_t size, char what, double target,
		  bool lower)
{
	const struct kb_result *s = find(subject, wl, pl, size), *best = NULL;
	const char *names[NMECHS_MAX + 1];
	double slo, shi, blo, bhi;
	size_t n = 0, len;

	memset(q, 0, sizeof(*q));
	q->name = strdup(name);
	q->target = target;
	q->lower_is_better = lower;
	q->value = -1;
	q->target_text = lower ? "<=" : ">=";
	if (others[0] && !strcmp(others[0], "*")) {
		for (size_t i = 0; i < NMECHS; i++)
			if ((all_mechs[i]->flags & KB_F_BYTESTREAM) &&
			    strcmp(all_mechs[i]->name, subject))
				names[n++] = all_mechs[i]->name;
	} else {
		while (others[n]) {
			names[n] = others[n];
			n++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct kb_result *o = find(names[i], wl, pl, size);

		if (o && (!best || (lower ? metric(o, what) < metric(best, what) :
					    metric(o, what) > metric(best, what))))
			best = o;
	}
	if (!s || !best) {
		const char *why = s ? "no comparison mechanism measured" :
				  "not run";

		for (size_t i = 0; !s && i < nresults; i++)
			if (!strcmp(results[i].m->name, subject) &&
			    results[i].wl == wl && results[i].size == size &&
			    results[i].status)
				why = results[i].note;
		snprintf(q->detail, sizeof(q->detail), "not measured: %s%s%s",
			 !s ? subject : "", !s ? ": " : "", why);
		return;
	}
	q->value = metric(s, what) / metric(best, what);
	metric_range(s, what, &slo, &shi);
	metric_range(best, what, &blo, &bhi);
	q->lo = bhi > 0 ? slo / bhi : q->value;
	q->hi = blo > 0 ? shi / blo : q->value;
	q->noise = s->reps > 1 && best->reps > 1 && q->lo <= target &&
		   target <= q->hi;
	len = fig(q->detail, sizeof(q->detail), s, what);
	len += snprintf(q->detail + len, sizeof(q->detail) - len, " vs ");
	fig(q->detail + len, sizeof(q->detail) - len, best, what);
}

/*
 * What the system call reference allows the subject of @q, a mechanism
 * making one @ref call per message and side: its cap against the
 * comparison.
 */
static void ratio_cap(struct kb_ratio *q, const struct kb_call_ref *ref)
{
	const char *vs = strstr(q->detail, " vs ");
	size_t len = strlen(q->detail);
	char best[64];
	double v;

	if (q->value < 0 || ref->ns <= 0 || !vs ||
	    sscanf(vs, " vs %63s %lf", best, &v) != 2 || v <= 0)
		return;
	snprintf(q->detail + len, sizeof(q->detail) - len,
		 "; %s cap %.0f = %.2fx", ref->name, 1e9 / ref->ns,
		 1e9 / ref->ns / v);
}

static size_t compute_ratios(struct kb_ratio *q,
			     const struct kb_call_ref *calls)
{
	static const char *const best_stream[] = { "pipe", "unix-stream", NULL };
	static const char *const queues[] = {
		"sysv-msg", "posix-mq", "unix-dgram", NULL
	};
	static const char *const pipes_rt[] = {
		"pipe", "fifo", "unix-stream", NULL
	};
	static const char *const sysv[] = { "sysv-msg", NULL };
	static const char *const bytestreams[] = { "*", NULL };
	static const char *const uring_std64[] = {
		"uring-pipe-d64", "uring-fifo-d64", "uring-unix-stream-d64",
		"uring-unix-dgram-d64", NULL
	};
	static const char *const uring_pipe16[] = { "uring-pipe-d16", NULL };
	static const struct {
		const char *subject, *what;
		const char *const *others;
		const char *vs;
	} rt[] = {
		{ "kipc-pipe", "", pipes_rt, "best of pipe, fifo, unix-stream" },
		{ "kipc-mq", " (write/read)", queues,
		  "best of sysv-msg, posix-mq, unix-dgram" },
		{ "kipc-mq-ioctl", " (typed ioctls)", queues,
		  "best of sysv-msg, posix-mq, unix-dgram" },
	};
	enum kb_placement spl = opt.stream_pl;
	size_t n = 0;
	char name[160];

	ratio(&q[n++], "kipc-pipe streaming 64 KiB vs faster of pipe, unix-stream",
	      "kipc-pipe", best_stream, KB_STREAM, spl, 65536, 'B', 1.0, false);
	ratio(&q[n++], "kipc-pipe streaming 4 KiB vs faster of pipe, unix-stream",
	      "kipc-pipe", best_stream, KB_STREAM, spl, 4096, 'B', 1.0, false);
	ratio(&q[n], "kipc-mq (write/read) 64 B msgs/s vs fastest of sysv-msg, posix-mq, unix-dgram",
	      "kipc-mq", queues, KB_STREAM, spl, 64, 'M', 1.5, false);
	ratio_cap(&q[n++], &calls[KB_CALL_READ]);
	ratio(&q[n], "kipc-mq-ioctl (typed KIPC_MQ_SEND/RECV) 64 B msgs/s vs the same",
	      "kipc-mq-ioctl", queues, KB_STREAM, spl, 64, 'M', 1.5, false);
	ratio_cap(&q[n++], &calls[KB_CALL_IOCTL]);
	ratio(&q[n++], "kipc-mq-batch 64 B msgs/s vs sysv-msg",
	      "kipc-mq-batch", sysv, KB_STREAM, spl, 64, 'M', 4.0, false);
	ratio(&q[n++], "kipc-shm-zc streaming 64 KiB, every byte written and read, vs fastest byte stream",
	      "kipc-shm-zc", bytestreams, KB_STREAM, spl, 65536, 'B', 3.0,
	      false);
	for (int pl = 0; pl < KB_NPL; pl++) {
		if (!opt.pl[pl])
			continue;
		for (size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
			snprintf(name, sizeof(name),
				 "%s%s ping-pong p50 64 B vs %s (%s)",
				 rt[i].subject, rt[i].what, rt[i].vs,
				 kb_pl_name(pl));
			ratio(&q[n++], name, rt[i].subject, rt[i].others,
			      KB_LATENCY, pl, 64, 'L', 1.0, true);
		}
	}
	ratio(&q[n++], "uring-kipc-mq-cmd-d64 (typed, one SQE a message) 64 B msgs/s vs sysv-msg",
	      "uring-kipc-mq-cmd-d64", sysv, KB_STREAM, spl, 64, 'M', 4.0,
	      false);
	ratio(&q[n++], "uring-kipc-mq-cmd-d64 64 B msgs/s vs fastest standard mechanism through io_uring at depth 64",
	      "uring-kipc-mq-cmd-d64", uring_std64, KB_STREAM, spl, 64, 'M',
	      1.5, false);
	ratio(&q[n++], "uring-kipc-mq-d64 (read/write) 64 B msgs/s vs sysv-msg",
	      "uring-kipc-mq-d64", sysv, KB_STREAM, spl, 64, 'M', 4.0, false);
	ratio(&q[n++], "uring-kipc-mq-d64 (read/write) 64 B msgs/s vs fastest standard mechanism through io_uring at depth 64",
	      "uring-kipc-mq-d64", uring_std64, KB_STREAM, spl, 64, 'M', 1.5,
	      false);
	ratio(&q[n++], "uring-kipc-pipe-d16 streaming 64 KiB vs uring-pipe-d16",
	      "uring-kipc-pipe-d16", uring_pipe16, KB_STREAM, spl, 65536, 'B',
	      1.0, false);
	return n;
}

/*
 * Without the module the kipc mechanisms cannot run: say so at once and
 * stop, as kipc-demo does, unless --standard-only asks for the others
 * alone; then say what is left out.  --standard-only with the module
 * loaded leaves the kipc mechanisms out just the same.
 */
static int kipc_check(void)
{
	size_t nk = 0, len = 0, keep = 0;
	char names[400] = "";

	for (size_t i = 0; i < opt.nmechs; i++) {
		const struct kb_mech *m = opt.mechs[i];

		if (!(m->flags & KB_F_KIPC))
			continue;
		nk++;
		if (len < sizeof(names) - 1)
			len += snprintf(names + len, sizeof(names) - len,
					"%s%s", len ? ", " : "", m->name);
	}
	if (!nk || (kb_sys.kipc && !opt.std_only))
		return 0;
	for (size_t i = 0; i < opt.nmechs; i++)
		if (!(opt.mechs[i]->flags & KB_F_KIPC))
			opt.mechs[keep++] = opt.mechs[i];
	if (!opt.std_only) {
		fprintf(stderr,
			"kipc-bench: %s absent: the kipc module is not loaded, so %zu kipc mechanism%s (%s) cannot run.\n"
			"kipc-bench: load it (make vm-shell, or insmod kipc.ko), or run the standard mechanisms alone with --standard-only\n",
			KIPC_DEV_DIR, nk, nk == 1 ? "" : "s", names);
		return -1;
	}
	fprintf(stderr, "kipc-bench: --standard-only%s: leaving out %zu kipc mechanism%s (%s)\n",
		kb_sys.kipc ? "" : " (" KIPC_DEV_DIR " absent)", nk,
		nk == 1 ? "" : "s", names);
	opt.nmechs = keep;
	if (!keep) {
		fprintf(stderr, "kipc-bench: nothing left to run\n");
		return -1;
	}
	return 0;
}

/* --- main ------------------------------------------------------------------------ */

/*
 * The system call reference, on the parent's CPU: the median of 3 runs
 * of getppid(), of an ioctl() that the kipc queue device refuses and of
 * a read(2) of /dev/null.  A mechanism that makes one call per message
 * on each side cannot stream more than 1e9 / ns messages a second,
 * whatever its own work costs.
 */
static void measure_calls(struct kb_report *r)
{
	static const char dev[] = KIPC_DEV_DIR "/mq0";
	unsigned long loops = opt.quick ? 20000 : 200000;
	int fd[KB_NCALLS] = {
		[KB_CALL_GETPPID] = -1,
		[KB_CALL_IOCTL] = open(dev, O_RDONLY | O_CLOEXEC),
		[KB_CALL_READ] = open("/dev/null", O_RDONLY | O_CLOEXEC),
	};

	r->calls[KB_CALL_GETPPID] = (struct kb_call_ref){
		.name = "getppid",
		.what = "getppid()",
	};
	r->calls[KB_CALL_IOCTL] = (struct kb_call_ref){
		.name = "ioctl-enotty",
		.what = "ioctl() refused by " KIPC_DEV_DIR "/mq0 (ENOTTY)",
	};
	r->calls[KB_CALL_READ] = (struct kb_call_ref){
		.name = "read-null",
		.what = "read(2) of /dev/null",
	};
	for (int c = 0; c < KB_NCALLS; c++) {
		double v[3];

		r->calls[c].ns = -1;
		if (c != KB_CALL_GETPPID && fd[c] < 0)
			continue;
		for (unsigned int k = 0; k < 3; k++)
			v[k] = kb_call_ns(c, fd[c], loops);
		if (v[0] >= 0)
			r->calls[c].ns = median(v, 3);
		if (fd[c] >= 0)
			close(fd[c]);
	}
}

static void read_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && p) {
			p += 2;
			p[strcspn(p, "\n")] = 0;
			snprintf(buf, len, "%s", p);
			break;
		}
	}
	fclose(f);
}

static void read_virt(char *buf, size_t len)
{
	FILE *f = fopen("/sys/class/dmi/id/sys_vendor", "r");
	char line[64] = "";
	bool hv = false;

	if (f) {
		if (fgets(line, sizeof(line), f))
			line[strcspn(line, "\n")] = 0;
		fclose(f);
	}
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char l[1024];

		while (fgets(l, sizeof(l), f))
			if (!strncmp(l, "flags", 5) && strstr(l, " hypervisor"))
				hv = true;
		fclose(f);
	}
	snprintf(buf, len, "%s%s%s", hv ? "virtual machine" : "bare metal or unknown",
		 line[0] ? ", vendor " : "", line);
}

static int mkdir_p(const char *dir)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0755);
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST) {
		fprintf(stderr, "kipc-bench: mkdir %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kb_ratio ratios[32];
	struct kb_report rep = { 0 };
	struct kb_ref ref[MAX_SIZES];
	size_t max_size = 0, alen = 0;
	struct utsname un;
	char path[600];
	time_t now;
	int rc = 0;

	for (int i = 0; i < argc && alen < sizeof(rep.args) - 1; i++)
		alen += snprintf(rep.args + alen, sizeof(rep.args) - alen,
				 "%s%s", i ? " " : "", argv[i]);
	if (parse_args(argc, argv))
		return 2;
	build_registry();
	if (opt.mech_arg && parse_list(opt.mech_arg, add_mech))
		return 2;
	opt.plan = opt.quick ? quick_plan : opt.full ? full_plan :
		   default_plan;
	if (!opt.nmechs)
		for (size_t i = 0; i < NMECHS; i++)
			opt.mechs[opt.nmechs++] = all_mechs[i];
	if (!opt.nsizes) {
		const size_t *s = opt.full ? full_sizes : target_sizes;
		size_t n = opt.full ? sizeof(full_sizes) / sizeof(*s) :
			   sizeof(target_sizes) / sizeof(*s);

		memcpy(opt.sizes, s, n * sizeof(*s));
		opt.nsizes = n;
	}
	qsort(opt.sizes, opt.nsizes, sizeof(opt.sizes[0]), cmp_size);
	if (!opt.wl[KB_LATENCY] && !opt.wl[KB_STREAM])
		opt.wl[KB_LATENCY] = opt.wl[KB_STREAM] = true;
	if (!opt.pl[KB_SAME] && !opt.pl[KB_SPLIT])
		opt.pl[KB_SAME] = opt.pl[KB_SPLIT] = true;
	for (size_t i = 0; i < opt.nsizes; i++)
		if (opt.sizes[i] > max_size)
			max_size = opt.sizes[i];

	kb_cleanup_install();
	if (kb_sys_init(opt.tune && !opt.list, max_size))
		return 1;
	if (opt.list) {
		list_mechs();
		return 0;
	}
	if (kipc_check())
		return 1;
	opt.stream_pl = kb_sys.ncpus >= 2 ? KB_SPLIT : KB_SAME;
	kb_payload_fill(NULL, 0);

	now = time(NULL);
	strftime(rep.date, sizeof(rep.date), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime(&now));
	uname(&un);
	snprintf(rep.kernel, sizeof(rep.kernel), "%s", un.release);
	read_cpu_model(rep.cpu_model, sizeof(rep.cpu_model));
	read_virt(rep.virt, sizeof(rep.virt));
	rep.quick = opt.quick;
	plan_work(64, &rep.work_small);
	if (opt.reps > 0)
		rep.work_small.reps = opt.reps;

	start_ns = kb_now_ns();
	/* The reference: memcpy at every size, on the parent's CPU. */
	kb_pin(kb_sys.cpu[0]);
	for (size_t i = 0; i < opt.nsizes; i++) {
		double v[5];
		unsigned int n = opt.reps > 0 ? (unsigned int)opt.reps :
				 opt.plan.reps;

		n = n < 3 ? 3 : n > 5 ? 5 : n;
		for (unsigned int k = 0; k < n; k++)
			v[k] = kb_memcpy_mbps(opt.sizes[i],
					      (opt.quick ? 8ull : 64ull) << 20);
		ref[i].size = opt.sizes[i];
		ref[i].mbps = median(v, n);
	}
	measure_calls(&rep);
	kb_calls_init(rep.calls_how, sizeof(rep.calls_how));

	for (size_t i = 0; i < opt.nmechs; i++)
		for_each_point(opt.mechs[i], add_point);
	run_points();
	if (opt.progress && progress_in_place())
		fputs("\r\033[K", stderr);

	rep.res = results;
	rep.nres = nresults;
	rep.ref = ref;
	rep.nref = opt.nsizes;
	rep.ratios = ratios;
	rep.nratios = compute_ratios(ratios, rep.calls);
	rep.runtime_s = (kb_now_ns() - start_ns) / 1e9;
	for (size_t i = 0; i < nresults; i++)
		rep.failed += results[i].status < 0;

	kb_report_text(stdout, &rep);
	fflush(stdout);
	if (opt.json && kb_report_json(opt.json, &rep))
		rc = 1;
	if (opt.csv && kb_report_csv(opt.csv, &rep))
		rc = 1;
	if (opt.out) {
		FILE *f;

		if (mkdir_p(opt.out))
			return 1;
		snprintf(path, sizeof(path), "%s/bench.json", opt.out);
		rc |= kb_report_json(path, &rep) ? 1 : 0;
		snprintf(path, sizeof(path), "%s/bench.csv", opt.out);
		rc |= kb_report_csv(path, &rep) ? 1 : 0;
		snprintf(path, sizeof(path), "%s/bench.txt", opt.out);
		f = fopen(path, "w");
		if (f) {
			kb_report_text(f, &rep);
			if (fclose(f))
				rc = 1;
		} else {
			perror(path);
			rc = 1;
		}
	}
	if (rep.failed)
		rc = 1;
	return rc;
}
