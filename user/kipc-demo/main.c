// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-demo: a guided tour of every IPC mechanism in the notes, the kipc
 * device beside the standard system call.
 *
 *   kipc-demo --list            the sections
 *   kipc-demo [SECTION...]      run some (name or number), or all in order
 *
 * Exit status: 0 every claim held; 1 a claim did not hold (or an error);
 * 2 usage; 3 the kipc parts were skipped because the module is not
 * loaded (--skip-kipc leaves them out on purpose and exits 0).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <linux/kipc.h>

#include "demo.h"

static const struct demo_section sections[] = {
	{ "pipe", "pipe",
	  "anonymous pipe, a | b with dup2, SCM_RIGHTS, FIFO and kipc pipe0",
	  demo_pipe },
	{ "mq", "message queue",
	  "SysV msg, POSIX mq and kipc mq0: types, lifetime, both ways, limits",
	  demo_mq },
	{ "shm", "shared memory",
	  "SysV shm, POSIX shm and kipc shm0: one page, two addresses",
	  demo_shm },
	{ "sem", "semaphore",
	  "lost updates without one; producer/consumer with POSIX, SysV, kipc",
	  demo_sem },
	{ "signal", "signal",
	  "default, handler, ignore, SIGKILL/SIGSTOP, sigqueue, SIGIO from kipc",
	  demo_signal },
	{ "socket", "socket",
	  "unix stream and datagram, TCP on loopback and between two netns",
	  demo_socket },
	{ "compare", "comparison",
	  "the notes' table with a measured round trip per mechanism",
	  demo_compare },
};

#define NSECTIONS ARRAY_SIZE(sections)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kipc-demo [--no-color] [--skip-kipc] [SECTION...]\n"
		"       kipc-demo --list\n"
		"       kipc-demo --version\n"
		"\n"
		"A guided tour of Linux IPC: each section shows a mechanism from the\n"
		"notes, the kipc device beside the standard system call, and checks\n"
		"every claim it prints.  Without SECTION all sections run in order;\n"
		"SECTION is a name or number from --list.\n"
		"\n"
		"  -l, --list       list the sections\n"
		"  -n, --no-color   no colour (the default when stdout is not a terminal)\n"
		"      --color      colour even when stdout is not a terminal\n"
		"  -k, --skip-kipc  leave out the /dev/kipc parts (no module needed)\n"
		"  -h, --help       this text\n"
		"  -V, --version    the version of kipc-demo\n"
		"\n"
		"Exit status: 0 every claim held, 1 a claim did not hold or an error,\n"
		"2 usage, 3 the kipc module is not loaded (its parts were skipped).\n");
}

static int find_section(const char *arg)
{
	char *end;
	long num;
	unsigned int i;

	num = strtol(arg, &end, 10);
	if (*arg && !*end)
		return num >= 1 && num <= (long)NSECTIONS ? (int)num - 1 : -1;
	for (i = 0; i < NSECTIONS; i++)
		if (!strcmp(arg, sections[i].name))
			return i;
	return -1;
}

static void list_sections(void)
{
	unsigned int i;

	for (i = 0; i < NSECTIONS; i++)
		printf("%u  %-8s %s\n", i + 1, sections[i].name,
		       sections[i].summary);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "no-color", no_argument, NULL, 'n' },
		{ "no-colour", no_argument, NULL, 'n' },
		{ "color", no_argument, NULL, 'C' },
		{ "skip-kipc", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	/* getopt's own messages name argv[0]: the same name as ours. */
	static char prog[] = "kipc-demo";
	unsigned int fails[NSECTIONS] = { 0 };
	uint64_t took[NSECTIONS] = { 0 };
	bool selected[NSECTIONS] = { false };
	bool any = false, list = false;
	int color = -1, c, idx;
	unsigned int i, nrun = 0, nfail = 0;
	struct utsname uts;

	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "lnkhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			list = true;
			break;
		case 'n':
			color = 0;
			break;
		case 'C':
			color = 1;
			break;
		case 'k':
			opt_skip_kipc = true;
			break;
		case 'h':
			usage(stdout);
			return DEMO_EXIT_OK;
		case 'V':
			printf("kipc-demo %s\n", KIPC_VERSION_STRING);
			return DEMO_EXIT_OK;
		default:
			usage(stderr);
			return DEMO_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		idx = find_section(argv[optind]);
		if (idx < 0) {
			fprintf(stderr, "kipc-demo: no section \"%s\" (see --list)\n",
				argv[optind]);
			return DEMO_EXIT_USAGE;
		}
		selected[idx] = true;
		any = true;
	}
	if (list) {
		list_sections();
		return DEMO_EXIT_OK;
	}
	if (color < 0)
		color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	opt_color = color;
	/* Lines appear as they are made, in order with the children's. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	install_cleanup_handlers();
	atexit(cleanup_ipc);

	if (uname(&uts) < 0)
		strcpy(uts.release, "?");
	printf("%skipc-demo%s: a tour of Linux IPC, the kipc device beside the standard call\n",
	       col_bold(), col_off());
	printf("kernel %s, pid %d; kipc module %s%s\n", uts.release,
	       (int)getpid(),
	       access("/sys/module/kipc", F_OK) == 0 ? "loaded" : "not loaded",
	       opt_skip_kipc ? " (its parts left out: --skip-kipc)" : "");

	for (i = 0; i < NSECTIONS; i++) {
		unsigned int before = demo_failures;

		if (any && !selected[i])
			continue;
		out_section(i + 1, sections[i].title);
		took[i] = now_ns();
		watchdog(120);
		sections[i].run();
		watchdog(0);
		took[i] = now_ns() - took[i];
		cleanup_ipc();
		fails[i] = demo_failures - before;
		nrun++;
		nfail += !!fails[i];
	}

	printf("\n%s== summary ", col_bold());
	for (i = 0; i < 67; i++)
		putchar('=');
	printf("%s\n", col_off());
	for (i = 0; i < NSECTIONS; i++) {
		if (any && !selected[i])
			continue;
		printf("   %-8s %5.1f s  ", sections[i].name, took[i] / 1e9);
		if (fails[i])
			printf("FAIL (%u claim%s did not hold)\n", fails[i],
			       fails[i] == 1 ? "" : "s");
		else
			printf("ok\n");
	}
	if (nfail) {
		printf("%u of %u section%s failed\n", nfail, nrun,
		       nrun == 1 ? "" : "s");
		return DEMO_EXIT_FAIL;
	}
	if (demo_kipc_missing) {
		printf("%u kipc part%s skipped: the kipc module is not loaded.\n"
		       "Load it (insmod kipc.ko), run \"make demo\" to see them in QEMU,\n"
		       "or pass --skip-kipc to leave them out on purpose.\n",
		       demo_kipc_missing, demo_kipc_missing == 1 ? "" : "s");
		return DEMO_EXIT_NO_KIPC;
	}
	printf("every claim held\n");
	return DEMO_EXIT_OK;
}
