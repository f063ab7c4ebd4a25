// SPDX-License-Identifier: GPL-2.0
/*
 * The module skeleton: nodes under /dev/kipc with the documented names,
 * type and mode, one per device the parameters ask for; open and close;
 * rmmod refused while a device is open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <linux/kipc.h>

#include "kselftest_harness.h"
#include "kipc_ksft.h"

static unsigned long read_param(const char *name)
{
	char path[128], buf[32];
	unsigned long v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/kipc/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return (unsigned long)-1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	v = strtoul(buf, NULL, 0);
	return v;
}

static const char *const kinds[] = { "pipe", "mq", "shm" };
static const char *const params[] = { "npipes", "nmqs", "nshms" };

TEST(nodes_match_parameters)
{
	unsigned long mode = read_param("mode");
	unsigned int major = 0;
	int k;

	ASSERT_NE((unsigned long)-1, mode);
	for (k = 0; k < 3; k++) {
		unsigned long count = read_param(params[k]);
		char path[64];
		struct stat st;
		unsigned long i;

		ASSERT_NE((unsigned long)-1, count);
		for (i = 0; i < count; i++) {
			snprintf(path, sizeof(path), KIPC_DEV_DIR "/%s%lu",
				 kinds[k], i);
			ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path,
							      strerror(errno));
			EXPECT_TRUE(S_ISCHR(st.st_mode));
			EXPECT_EQ(mode, (unsigned long)(st.st_mode & 07777));
			if (!major)
				major = major(st.st_rdev);
			/* One region for all kinds. */
			EXPECT_EQ(major, major(st.st_rdev));
		}
		/* No node past the last device. */
		snprintf(path, sizeof(path), KIPC_DEV_DIR "/%s%lu", kinds[k],
			 count);
		ASSERT_EQ(-1, stat(path, &st));
		ASSERT_EQ(ENOENT, errno);
	}
}

TEST(sysfs_class)
{
	struct stat st;

	ASSERT_EQ(0, stat("/sys/class/kipc/pipe0", &st));
	ASSERT_EQ(0, stat("/sys/class/kipc/mq0", &st));
	ASSERT_EQ(0, stat("/sys/class/kipc/shm0", &st));
}

TEST(open_close_every_node)
{
	int k;

	for (k = 0; k < 3; k++) {
		char path[64];
		int fd;

		/* O_RDWR never blocks, even on a pipe. */
		snprintf(path, sizeof(path), KIPC_DEV_DIR "/%s0", kinds[k]);
		fd = open(path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(0, close(fd));
	}
}

static long delete_module(const char *name, unsigned int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

TEST(rmmod_refused_while_open)
{
	int k;

	for (k = 0; k < 3; k++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), KIPC_DEV_DIR "/%s1", kinds[k]);
		fd = open(path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		/* An open file holds a module reference: the unload fails. */
		ASSERT_EQ(-1, delete_module("kipc", O_NONBLOCK));
		ASSERT_EQ(EWOULDBLOCK, errno);
		ASSERT_EQ(0, close(fd));
	}
	/* The module is still there and usable. */
	ASSERT_EQ(0, access("/sys/module/kipc", F_OK));
}

TEST(unknown_module_name)
{
	ASSERT_EQ(-1, delete_module("kipc_no_such_module", O_NONBLOCK));
	ASSERT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
