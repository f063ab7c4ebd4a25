/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included by every selftest that needs the kipc module (all of them so
 * far).  Without /dev/kipc the module is not loaded, and the program
 * skips as a whole before the harness runs a case, as upstream selftests
 * skip a missing feature: TAP "1..0 # SKIP <reason>" and exit status 4
 * (KSFT_SKIP), which run_kselftest.sh reports as "ok N ... # SKIP".
 * A test that needs no module must not include this header.
 */
#ifndef KIPC_KSFT_H
#define KIPC_KSFT_H

#include <errno.h>
#include <unistd.h>
#include <linux/kipc.h>
#include "kselftest.h"

/*
 * A constructor, so it runs before main(), the harness's or a test's own.
 * Only a missing directory is a skip: any other error (EACCES, ...) is
 * left to the cases, which then fail on it.
 */
static void __attribute__((constructor)) kipc_ksft_need_module(void)
{
	if (access(KIPC_DEV_DIR, F_OK) == 0 || errno != ENOENT)
		return;
	ksft_print_header();
	ksft_exit_skip("kipc module not loaded (no %s)\n", KIPC_DEV_DIR);
}

#endif /* KIPC_KSFT_H */
