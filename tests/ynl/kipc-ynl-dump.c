// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-ynl-dump: the kipc devices, listed through the kernel's own netlink
 * tooling.  The library is what tools/net/ynl/ynl-gen-c.py (6.12) makes of
 * Documentation/netlink/specs/kipc.yaml, built with tools/net/ynl/lib and
 * our UAPI header (see "make user"); nothing here speaks netlink itself.
 *
 * usage: kipc-ynl-dump [-j] [pipe|mq|shm]
 *
 * The output is, byte for byte, that of "kipcctl list" (or "kipcctl -j
 * list"), so that tests/guest/ynl.sh can compare the two clients.
 * Exit status as kipcctl's: 0 success, 1 usage, 2 the request failed,
 * 3 the module is not loaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ynl.h>

#include "kipc-user.h"

enum { EXIT_OK, EXIT_USAGE, EXIT_KERNEL, EXIT_NOMODULE };

struct field {
	const char *key;
	bool present;
	uint64_t value;
};

#define FIELD(obj, name) { #name, (obj)._present.name, (obj).name }

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_fields(const struct field *f, size_t n, bool first)
{
	for (size_t i = 0; i < n; i++) {
		if (!f[i].present)
			continue;
		printf("%s\"%s\":%" PRIu64, first ? "" : ",", f[i].key,
		       f[i].value);
		first = false;
	}
}

/* One device, as kipcctl's print_dev_json() writes it. */
static void print_json(const struct kipc_get_dev_rsp *d)
{
	/* kipcctl's order: the device's figures, then the counters. */
	const struct field dev[] = {
		FIELD(*d, open_files),	    FIELD(*d, capacity),
		FIELD(*d, fill),	    FIELD(*d, readers_waiting),
		FIELD(*d, writers_waiting), FIELD(*d, high_water),
		FIELD(*d, mq_msgs),	    FIELD(*d, mq_max_msg_size),
		FIELD(*d, mq_max_msgs),
	};
	const struct kipc_stats *s = &d->stats;
	const struct field stats[] = {
		FIELD(*s, bytes_in),	 FIELD(*s, bytes_out),
		FIELD(*s, writes),	 FIELD(*s, reads),
		FIELD(*s, write_waits),	 FIELD(*s, read_waits),
		FIELD(*s, peak_fill),	 FIELD(*s, peak_msgs),
		FIELD(*s, sem_p),	 FIELD(*s, sem_v),
		FIELD(*s, sem_waits),	 FIELD(*s, sem_timeouts),
		FIELD(*s, maps),	 FIELD(*s, events_dropped),
	};
	const char *kind = d->_present.kind ? kipc_kind_str(d->kind) : NULL;

	printf("{\"name\":");
	json_string(d->_present.name_len ? d->name : "");
	printf(",\"kind\":");
	json_string(kind ? kind : "unknown");
	printf(",\"index\":%u", d->_present.index ? d->index : 0);
	json_fields(dev, sizeof(dev) / sizeof(dev[0]), false);
	printf(",\"stats\":{");
	if (d->_present.stats)
		json_fields(stats, sizeof(stats) / sizeof(stats[0]), true);
	printf("}}");
}

static int usage(void)
{
	fprintf(stderr, "usage: kipc-ynl-dump [-j] [pipe|mq|shm]\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct kipc_get_dev_req_dump *req;
	struct kipc_get_dev_list *devs;
	const char *kind_arg = NULL;
	struct ynl_error yerr;
	struct ynl_sock *ys;
	bool json = false, first = true;
	unsigned int kind = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j"))
			json = true;
		else if (!kind_arg && argv[i][0] != '-')
			kind_arg = argv[i];
		else
			return usage();
	}
	if (kind_arg) {
		for (kind = KIPC_KIND_PIPE; kind <= KIPC_KIND_MAX; kind++)
			if (!strcmp(kind_arg, kipc_kind_str(kind)))
				break;
		if (kind > KIPC_KIND_MAX) {
			fprintf(stderr,
				"kipc-ynl-dump: %s: not a kind (pipe, mq, shm)\n",
				kind_arg);
			return EXIT_USAGE;
		}
	}

	ys = ynl_sock_create(&ynl_kipc_family, &yerr);
	if (!ys) {
		fprintf(stderr, "kipc-ynl-dump: %s%s\n",
			yerr.code == ENOENT ? "the kipc module is not loaded: " :
					      "",
			yerr.msg);
		return yerr.code == ENOENT ? EXIT_NOMODULE : EXIT_KERNEL;
	}
	req = kipc_get_dev_req_dump_alloc();
	if (!req) {
		ynl_sock_destroy(ys);
		return EXIT_KERNEL;
	}
	if (kind)
		kipc_get_dev_req_dump_set_kind(req, kind);
	devs = kipc_get_dev_dump(ys, req);
	kipc_get_dev_req_dump_free(req);
	if (!devs) {
		fprintf(stderr, "kipc-ynl-dump: get-dev dump: %s\n",
			ys->err.msg);
		ynl_sock_destroy(ys);
		return EXIT_KERNEL;
	}

	if (json)
		putchar('[');
	else
		printf("%-8s %5s %12s %12s %7s %7s\n", "DEVICE", "OPEN",
		       "CAPACITY", "FILL", "RD-WAIT", "WR-WAIT");
	ynl_dump_foreach(devs, d) {
		if (json) {
			printf("%s", first ? "" : ",");
			print_json(d);
		} else {
			printf("%-8s %5u %12llu %12llu %7u %7u\n",
			       d->_present.name_len ? d->name : "?",
			       d->open_files, d->capacity, d->fill,
			       d->readers_waiting, d->writers_waiting);
		}
		first = false;
	}
	if (json)
		printf("]\n");
	kipc_get_dev_list_free(devs);
	ynl_sock_destroy(ys);
	return EXIT_OK;
}
