// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: the reports.  An aligned text table (terminal, bench.txt),
 * and JSON and CSV with every figure and every repetition's; the charts
 * are drawn from the CSV by scripts/bench-plot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

const char *kb_wl_name(enum kb_workload wl)
{
	return wl == KB_LATENCY ? "latency" : "stream";
}

const char *kb_pl_name(enum kb_placement pl)
{
	return pl == KB_SAME ? "same" : "split";
}

/* "64 B", "4 KiB", "1 MiB"; four calls may share one printf. */
const char *kb_size_str(size_t s)
{
	static char buf[4][32];
	static int k;
	char *b = buf[k++ % 4];

	if (s >= (1 << 20) && !(s & ((1 << 20) - 1)))
		snprintf(b, 32, "%zu MiB", s >> 20);
	else if (s >= 1024 && !(s & 1023))
		snprintf(b, 32, "%zu KiB", s >> 10);
	else
		snprintf(b, 32, "%zu B", s);
	return b;
}

static double ref_mbps(const struct kb_report *r, size_t size)
{
	for (size_t i = 0; i < r->nref; i++)
		if (r->ref[i].size == size)
			return r->ref[i].mbps;
	return 0;
}

/* Nearest-rank percentiles need this many samples to differ from max. */
static bool pct_ok(const struct kb_result *x, double p)
{
	return x->count >= (unsigned long)(1 / (1 - p) + 0.5);
}

/* "12.3" or "-" when the samples do not support the figure. */
static const char *us_or_dash(char *b, double ns, bool ok)
{
	if (ok)
		snprintf(b, 16, "%.1f", ns / 1e3);
	else
		snprintf(b, 16, "-");
	return b;
}

static const char *calls_str(char *b, double v)
{
	if (v < 0)
		snprintf(b, 16, "-");
	else
		snprintf(b, 16, "%.2f", v);
	return b;
}

static bool ratio_met(const struct kb_ratio *q)
{
	return q->lower_is_better ? q->value <= q->target :
				    q->value >= q->target;
}

/* --- text ------------------------------------------------------------------- */

static void text_header(FILE *f, const struct kb_report *r)
{
	const struct kb_work *w = &r->work_small;

	fprintf(f, "kipc-bench %s  %s  kernel %s\n", KB_VERSION, r->date,
		r->kernel);
	fprintf(f, "cpu: %s; %d CPU%s usable (%s)\n", r->cpu_model,
		kb_sys.ncpus, kb_sys.ncpus == 1 ? "" : "s", r->virt);
	fprintf(f, "command: %s\n", r->args);
	if (kb_sys.ncpus >= 2)
		fprintf(f, "placement: same = both processes on CPU %d; split = parent on CPU %d, child on CPU %d; streaming runs split\n",
			kb_sys.cpu[0], kb_sys.cpu[0], kb_sys.cpu[1]);
	else
		fprintf(f, "placement: only 1 CPU available: everything runs on CPU %d (no two-CPU figures)\n",
			kb_sys.cpu[0]);
	fprintf(f, "work: %u repetition%s per point, median reported with the lowest and highest repetition [lo-hi]; at 64 B %lu round trips and %lu streamed messages per repetition (fewer for large messages)%s\n",
		w->reps, w->reps == 1 ? "" : "s", w->lat_iters, w->st_msgs,
		r->quick ? "; --quick: indicative only" : "");
	fprintf(f, "percentiles: nearest rank, printed only where the samples support them (p90 from 10, p99 from 100, p99.9 from 1000)\n");
	fprintf(f, "system calls: %s\n", r->calls_how);
	if (kb_opts.verify_full)
		fprintf(f, "payload: every message compared in full\n");
	else
		fprintf(f, "payload: every message checked (sequence number, a stamp per 4 KiB page, tail); whole body compared every %dth message and in warm-up; kipc-shm-zc writes and reads every byte of every message\n",
			KB_FULL_EVERY);
	fprintf(f, "cpu time: user+system of both processes (getrusage), per streamed message or per round trip\n");
	fprintf(f, "limits raised for the run (restored after): %s\n",
		kb_sys.tuned[0] ? kb_sys.tuned :
		kb_sys.root ? "none needed or --no-tune" : "none (not root)");
	fprintf(f, "run time: %.1f s\n", r->runtime_s);
}

static void text_ref(FILE *f, const struct kb_report *r)
{
	fprintf(f, "\nmemcpy reference (a one-copy transfer can reach it, a two-copy one such as a pipe half of it)\n");
	fprintf(f, "%10s %12s %12s\n", "size", "memcpy MB/s", "half MB/s");
	for (size_t i = 0; i < r->nref; i++)
		fprintf(f, "%10s %12.1f %12.1f\n", kb_size_str(r->ref[i].size),
			r->ref[i].mbps, r->ref[i].mbps / 2);

	fprintf(f, "\nsystem call reference (the kernel does no work; one call per message and side caps a stream at 1e9/ns msgs/s)\n");
	fprintf(f, "%-44s %8s %12s\n", "call", "ns", "cap msgs/s");
	for (int c = 0; c < KB_NCALLS; c++) {
		const struct kb_call_ref *x = &r->calls[c];

		if (x->ns > 0)
			fprintf(f, "%-44s %8.0f %12.0f\n", x->what, x->ns,
				1e9 / x->ns);
		else
			fprintf(f, "%-44s %8s %12s\n", x->what, "-",
				"(not measured)");
	}
}

static void text_latency(FILE *f, const struct kb_report *r)
{
	bool any = false;

	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_result *x = &r->res[i];
		char b[4][16], sp[40] = "", c[16];

		if (x->wl != KB_LATENCY || x->status)
			continue;
		if (!any) {
			fprintf(f, "\nPing-pong round trip, microseconds (p50 [lowest-highest repetition])\n");
			fprintf(f, "%-28s %-5s %8s %8s %9s %-17s %8s %8s %8s %8s %9s %9s\n",
				"mechanism", "cpus", "size", "min", "p50",
				"[spread]", "p90", "p99", "p99.9", "max",
				"cpu us/rt", "calls/rt");
			any = true;
		}
		if (x->reps > 1)
			snprintf(sp, sizeof(sp), "[%.1f-%.1f]", x->rv_lo / 1e3,
				 x->rv_hi / 1e3);
		fprintf(f, "%-28s %-5s %8s %8.1f %9.1f %-17s %8s %8s %8s %8.1f %9.1f %9s\n",
			x->m->name, kb_pl_name(x->pl), kb_size_str(x->size),
			x->min / 1e3, x->p50 / 1e3, sp,
			us_or_dash(b[0], x->p90, pct_ok(x, 0.9)),
			us_or_dash(b[1], x->p99, pct_ok(x, 0.99)),
			us_or_dash(b[2], x->p999, pct_ok(x, 0.999)),
			x->max / 1e3, x->cpu_ns / 1e3, calls_str(c, x->calls));
	}
}

static void text_stream(FILE *f, const struct kb_report *r)
{
	bool any = false;

	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_result *x = &r->res[i];
		double ref = ref_mbps(r, x->size);
		char sp[40] = "", c[16];

		if (x->wl != KB_STREAM || x->status)
			continue;
		if (x->m->copies > 1)
			ref /= x->m->copies;
		if (!any) {
			fprintf(f, "\nOne-way streaming (%s; MB/s [lowest-highest repetition])\n",
				kb_sys.ncpus >= 2 ? "two CPUs" : "one CPU");
			fprintf(f, "%-28s %8s %10s %-19s %11s %11s %9s %6s %10s %7s\n",
				"mechanism", "size", "MB/s", "[spread]",
				"msgs/s", "cpu us/msg", "calls/msg", "copies",
				"ref MB/s", "of ref");
			any = true;
		}
		if (x->reps > 1)
			snprintf(sp, sizeof(sp), "[%.1f-%.1f]",
				 x->rv_lo * x->size / 1e6,
				 x->rv_hi * x->size / 1e6);
		fprintf(f, "%-28s %8s %10.1f %-19s %11.0f %11.2f %9s %6d %10.1f %6.0f%%\n",
			x->m->name, kb_size_str(x->size), x->mbps, sp, x->msgps,
			x->cpu_ns / 1e3, calls_str(c, x->calls), x->m->copies,
			ref, ref > 0 ? 100 * x->mbps / ref : 0);
	}
	if (any)
		fprintf(f, "(ref: memcpy at that size divided by the copies the mechanism makes; zero-copy is held to one memcpy; calls: system calls of both processes per message, counted by the kernel)\n");
}

static void text_ratios(FILE *f, const struct kb_report *r)
{
	if (!r->nratios)
		return;
	fprintf(f, "\nTargets (ratios measured in this run; [lo-hi]: the ratio's range over the repetitions' extremes; \"noise\": the target lies inside it)\n");
	for (size_t i = 0; i < r->nratios; i++) {
		const struct kb_ratio *q = &r->ratios[i];
		char range[40] = "";

		if (q->value < 0) {
			fprintf(f, "  %s\n      %7s  target %s %.1fx  n/a     (%s)\n",
				q->name, "-", q->target_text, q->target,
				q->detail);
			continue;
		}
		if (q->lo != q->hi)
			snprintf(range, sizeof(range), " [%.2f-%.2f]", q->lo,
				 q->hi);
		fprintf(f, "  %s\n      %6.2fx%s  target %s %.1fx  %s%s (%s)\n",
			q->name, q->value, range, q->target_text, q->target,
			ratio_met(q) ? "met" : "MISSED",
			q->noise ? ", inside the noise" : "", q->detail);
	}
}

/* One line per mechanism: each distinct setting and the sizes it had. */
static void text_configs(FILE *f, const struct kb_report *r)
{
	fprintf(f, "\nConfiguration per mechanism (as applied)\n");
	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_mech *m = r->res[i].m;
		bool first = true;

		if (i && r->res[i - 1].m == m)
			continue;
		fprintf(f, "  %-28s %s\n", m->name, m->desc);
		for (size_t j = i; j < r->nres && r->res[j].m == m; j++) {
			const struct kb_result *x = &r->res[j];
			bool seen = false, sfirst = true;

			if (!x->config[0])
				continue;
			for (size_t k = i; k < j && !seen; k++)
				seen = !strcmp(r->res[k].config, x->config);
			if (seen)
				continue;
			fprintf(f, "%s%s (", first ? "                               " : "; ",
				x->config);
			first = false;
			/* The sizes with this setting, once each. */
			for (size_t k = j; k < r->nres && r->res[k].m == m;
			     k++) {
				bool dup = false;

				if (strcmp(r->res[k].config, x->config))
					continue;
				for (size_t q = j; q < k && !dup; q++)
					dup = !strcmp(r->res[q].config,
						      x->config) &&
					      r->res[q].size == r->res[k].size;
				if (dup)
					continue;
				fprintf(f, "%s%s", sfirst ? "" : ", ",
					kb_size_str(r->res[k].size));
				sfirst = false;
			}
			fputc(')', f);
		}
		if (!first)
			fputc('\n', f);
	}
}

static void text_problems(FILE *f, const struct kb_report *r)
{
	const struct kb_result *prev = NULL;
	bool any = false;

	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_result *x = &r->res[i];

		if (x->status != KB_SKIP)
			continue;
		if (!any)
			fprintf(f, "\nSkipped\n");
		any = true;
		/* One line per mechanism and reason. */
		if (prev && prev->m == x->m && !strcmp(prev->note, x->note))
			continue;
		fprintf(f, "  %-28s from %s: %s\n", x->m->name,
			kb_size_str(x->size), x->note);
		prev = x;
	}
	any = false;
	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_result *x = &r->res[i];

		if (x->status >= 0)
			continue;
		if (!any)
			fprintf(f, "\nFAILED\n");
		any = true;
		fprintf(f, "  %-28s %-7s %-5s %8s: %s\n", x->m->name,
			kb_wl_name(x->wl), kb_pl_name(x->pl),
			kb_size_str(x->size), x->note);
	}
}

void kb_report_text(FILE *f, const struct kb_report *r)
{
	text_header(f, r);
	text_ref(f, r);
	text_latency(f, r);
	text_stream(f, r);
	text_ratios(f, r);
	text_configs(f, r);
	text_problems(f, r);
}

/* --- JSON ------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, const char *key, double v, bool last)
{
	fprintf(f, "\"%s\": ", key);
	if (v != v)
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
	fputs(last ? "" : ", ", f);
}

int kb_report_json(const char *path, const struct kb_report *r)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "kipc-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n  \"tool\": \"kipc-bench\",\n  \"version\": \"%s\",\n",
		KB_VERSION);
	fprintf(f, "  \"date\": ");
	json_str(f, r->date);
	fprintf(f, ",\n  \"kernel\": ");
	json_str(f, r->kernel);
	fprintf(f, ",\n  \"cpu_model\": ");
	json_str(f, r->cpu_model);
	fprintf(f, ",\n  \"machine\": ");
	json_str(f, r->virt);
	fprintf(f, ",\n  \"cpus\": %d,\n  \"cpus_used\": [%d, %d],\n",
		kb_sys.ncpus, kb_sys.cpu[0], kb_sys.cpu[1]);
	fprintf(f, "  \"command\": ");
	json_str(f, r->args);
	fprintf(f, ",\n  \"quick\": %s,\n", r->quick ? "true" : "false");
	fprintf(f, "  \"tuning\": ");
	json_str(f, kb_sys.tuned);
	fprintf(f, ",\n  \"payload_verify\": {\"enabled\": true, \"every_message\": \"sequence number, page stamps, tail\", \"full_compare_every\": %d},\n",
		kb_opts.verify_full ? 1 : KB_FULL_EVERY);
	fprintf(f, "  \"cpu_time\": \"user+system of both processes from getrusage, per message (stream) or round trip (latency)\",\n");
	fprintf(f, "  \"syscalls\": ");
	json_str(f, r->calls_how);
	fprintf(f, ",\n");
	fprintf(f, "  \"stream_placement\": \"%s\",\n",
		kb_sys.ncpus >= 2 ? "split" : "same");
	fprintf(f, "  \"runtime_s\": %.1f,\n  \"failed\": %u,\n",
		r->runtime_s, r->failed);
	fprintf(f, "  \"memcpy\": [");
	for (size_t i = 0; i < r->nref; i++)
		fprintf(f, "%s\n    {\"size\": %zu, \"mb_s\": %.6g}",
			i ? "," : "", r->ref[i].size, r->ref[i].mbps);
	fprintf(f, "\n  ],\n  \"syscall\": [");
	for (int c = 0; c < KB_NCALLS; c++) {
		const struct kb_call_ref *x = &r->calls[c];
		double nan = 0.0 / 0.0;

		fprintf(f, "%s\n    {\"call\": \"%s\", ", c ? "," : "", x->name);
		json_num(f, "ns", x->ns > 0 ? x->ns : nan, false);
		json_num(f, "cap_msgs_s", x->ns > 0 ? 1e9 / x->ns : nan, true);
		fputc('}', f);
	}
	fprintf(f, "\n  ],\n  \"results\": [");
	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_result *x = &r->res[i];
		bool ok = !x->status;
		double nan = 0.0 / 0.0;

		fprintf(f, "%s\n    {\"mechanism\": \"%s\", \"workload\": \"%s\", \"placement\": \"%s\", \"size\": %zu, \"status\": \"%s\", ",
			i ? "," : "", x->m->name, kb_wl_name(x->wl),
			kb_pl_name(x->pl), x->size,
			ok ? "ok" : x->status == KB_SKIP ? "skipped" :
			"failed");
		fprintf(f, "\"reps\": %u, \"count\": %lu, \"copies\": %d, ",
			x->reps, x->count, x->m->copies);
		if (x->wl == KB_LATENCY) {
			json_num(f, "min_ns", ok ? x->min : nan, false);
			json_num(f, "p50_ns", ok ? x->p50 : nan, false);
			json_num(f, "p90_ns", ok && pct_ok(x, 0.9) ? x->p90 : nan,
				 false);
			json_num(f, "p99_ns", ok && pct_ok(x, 0.99) ? x->p99 : nan,
				 false);
			json_num(f, "p999_ns",
				 ok && pct_ok(x, 0.999) ? x->p999 : nan, false);
			json_num(f, "max_ns", ok ? x->max : nan, false);
			json_num(f, "cpu_ns_per_roundtrip", ok ? x->cpu_ns : nan,
				 false);
			json_num(f, "syscalls_per_roundtrip",
				 ok && x->calls >= 0 ? x->calls : nan, false);
		} else {
			json_num(f, "mb_s", ok ? x->mbps : nan, false);
			json_num(f, "msgs_s", ok ? x->msgps : nan, false);
			json_num(f, "cpu_ns_per_msg", ok ? x->cpu_ns : nan,
				 false);
			json_num(f, "syscalls_per_msg",
				 ok && x->calls >= 0 ? x->calls : nan, false);
		}
		/* Every repetition's main figure, in the order they ran. */
		fprintf(f, "\"rep_%s\": [", x->wl == KB_LATENCY ? "p50_ns" :
			"msgs_s");
		for (unsigned int k = 0; ok && k < x->reps; k++)
			fprintf(f, "%s%.6g", k ? ", " : "", x->rv[k]);
		fprintf(f, "], ");
		if (x->m->uring_depth)
			fprintf(f, "\"uring_depth\": %u, \"sqpoll\": %s, ",
				x->m->uring_depth, x->m->sqpoll ? "true" : "false");
		fprintf(f, "\"verified\": %llu, \"verified_full\": %llu, \"config\": ",
			(unsigned long long)x->verified,
			(unsigned long long)x->verified_full);
		json_str(f, x->config);
		fprintf(f, ", \"note\": ");
		json_str(f, x->note);
		fputc('}', f);
	}
	fprintf(f, "\n  ],\n  \"ratios\": [");
	for (size_t i = 0; i < r->nratios; i++) {
		const struct kb_ratio *q = &r->ratios[i];

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, q->name);
		fprintf(f, ", \"target\": \"%s %.1f\", ", q->target_text,
			q->target);
		if (q->value < 0)
			fprintf(f, "\"value\": null, \"met\": null, ");
		else
			fprintf(f, "\"value\": %.4g, \"lo\": %.4g, \"hi\": %.4g, \"met\": %s, \"inside_noise\": %s, ",
				q->value, q->lo, q->hi,
				ratio_met(q) ? "true" : "false",
				q->noise ? "true" : "false");
		fprintf(f, "\"detail\": ");
		json_str(f, q->detail);
		fputc('}', f);
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f)) {
		fprintf(stderr, "kipc-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* --- CSV -------------------------------------------------------------------- */

static const char *pct_str(char *b, double v)
{
	snprintf(b, 32, "%.0f", v);
	return b;
}

/* Plain fields: no separators or quotes inside, for awk and gnuplot. */
static void csv_str(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ',' ? ';' : *s == '"' ? '\'' : *s, f);
}

int kb_report_csv(const char *path, const struct kb_report *r)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "kipc-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "mechanism,workload,placement,size,status,reps,count,min_ns,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,mb_s,msgs_s,cpu_ns_per_msg,copies,verified,verified_full,config,note,rep_lo,rep_hi,rep_values,syscalls_per_msg\n");
	for (size_t i = 0; i < r->nref; i++)
		fprintf(f, "memcpy,reference,same,%zu,ok,,,,,,,,,%.6g,,,1,,,,,,,,\n",
			r->ref[i].size, r->ref[i].mbps);
	/* A call's cost as its p50, its cap as a message rate. */
	for (int c = 0; c < KB_NCALLS; c++) {
		const struct kb_call_ref *x = &r->calls[c];

		if (x->ns > 0)
			fprintf(f, "syscall-%s,reference,same,0,ok,3,,,%.6g,,,,,,%.6g,,0,,,,,,,,1\n",
				x->name, x->ns, 1e9 / x->ns);
		else
			fprintf(f, "syscall-%s,reference,same,0,skipped,,,,,,,,,,,,0,,,,not measured,,,,\n",
				x->name);
	}
	for (size_t i = 0; i < r->nres; i++) {
		const struct kb_result *x = &r->res[i];
		char pb[3][32];

		fprintf(f, "%s,%s,%s,%zu,%s,%u,%lu,", x->m->name,
			kb_wl_name(x->wl), kb_pl_name(x->pl), x->size,
			!x->status ? "ok" : x->status == KB_SKIP ? "skipped" :
			"failed", x->reps, x->count);
		if (x->status)
			fprintf(f, ",,,,,,,,,");
		else if (x->wl == KB_LATENCY)
			fprintf(f, "%.0f,%.0f,%s,%s,%s,%.0f,,,%.0f,",
				x->min, x->p50,
				pct_ok(x, 0.9) ? pct_str(pb[0], x->p90) : "",
				pct_ok(x, 0.99) ? pct_str(pb[1], x->p99) : "",
				pct_ok(x, 0.999) ? pct_str(pb[2], x->p999) : "",
				x->max, x->cpu_ns);
		else
			fprintf(f, ",,,,,,%.6g,%.6g,%.0f,", x->mbps, x->msgps,
				x->cpu_ns);
		fprintf(f, "%d,%llu,%llu,", x->m->copies,
			(unsigned long long)x->verified,
			(unsigned long long)x->verified_full);
		csv_str(f, x->config);
		fputc(',', f);
		csv_str(f, x->note);
		/* The spread and each repetition: p50_ns (latency), msgs/s. */
		if (x->status) {
			fprintf(f, ",,,,\n");
			continue;
		}
		fprintf(f, ",%.6g,%.6g,", x->rv_lo, x->rv_hi);
		for (unsigned int k = 0; k < x->reps; k++)
			fprintf(f, "%s%.6g", k ? ";" : "", x->rv[k]);
		if (x->calls >= 0)
			fprintf(f, ",%.3f\n", x->calls);
		else
			fprintf(f, ",\n");
	}
	if (fclose(f)) {
		fprintf(stderr, "kipc-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
