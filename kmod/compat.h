/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between Debian's 6.1 and 6.12 kernels.
 * Everything else in kmod/ is written against 6.12 and builds on both.
 */
#ifndef _KIPC_COMPAT_H
#define _KIPC_COMPAT_H

#include <linux/version.h>
#include <linux/device.h>
#include <linux/mm.h>

/* 6.4 dropped class_create()'s owner argument. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define kipc_class_create(name) class_create(THIS_MODULE, name)
#else
#define kipc_class_create(name) class_create(name)
#endif

/* 6.2 made the devnode callback take a const struct device. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define KIPC_DEVNODE_CONST
#else
#define KIPC_DEVNODE_CONST const
#endif

/* 6.3 made vma->vm_flags read-only behind vm_flags_set(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void kipc_vm_flags_set(struct vm_area_struct *vma,
				     unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void kipc_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#else
#define kipc_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#define kipc_vm_flags_clear(vma, flags) vm_flags_clear(vma, flags)
#endif

/*
 * 6.2 moved the parsed attributes of a dump request into a struct
 * genl_info inside struct genl_dumpit_info.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define kipc_genl_dump_attrs(cb) (genl_dumpit_info(cb)->attrs)
#else
#define kipc_genl_dump_attrs(cb) (genl_dumpit_info(cb)->info.attrs)
#endif

/*
 * 6.7 moved struct io_uring_cmd into <linux/io_uring/cmd.h>, where the
 * command area is reached through the SQE (6.6 replaced ->cmd by ->sqe).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
#include <linux/io_uring.h>
#define kipc_uring_cmd_payload(ioucmd) ((ioucmd)->cmd)
#else
#include <linux/io_uring/cmd.h>
#define kipc_uring_cmd_payload(ioucmd) io_uring_sqe_cmd((ioucmd)->sqe)
#endif

/*
 * splice(2) out of a file that has only read_iter: 6.5 replaced
 * generic_file_splice_read() (an ITER_PIPE iterator straight into the
 * pipe) with copy_splice_read() (pages of its own, then into the pipe).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define kipc_splice_read generic_file_splice_read
#else
#define kipc_splice_read copy_splice_read
#endif

#endif /* _KIPC_COMPAT_H */
