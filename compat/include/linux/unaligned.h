/* SPDX-License-Identifier: GPL-2.0-only */
/* Before 6.12 (see ../../vhost_mdev_compat.h): the old place. */
#include <asm/unaligned.h>
