/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The selftests run as root; the cases that check a module maximum drop
 * CAP_SYS_RESOURCE first, in a child or in the case's own process.
 */
#ifndef KIPC_CAPS_H
#define KIPC_CAPS_H

#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

/*
 * Drops CAP_SYS_RESOURCE from the effective, permitted and inheritable
 * sets of this process, so nothing it runs can raise it again: 0 or -1.
 */
static inline int drop_sys_resource(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(CAP_SYS_RESOURCE);
	__u32 bit = CAP_TO_MASK(CAP_SYS_RESOURCE);

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[i].effective &= ~bit;
	d[i].permitted &= ~bit;
	d[i].inheritable &= ~bit;
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

#endif /* KIPC_CAPS_H */
