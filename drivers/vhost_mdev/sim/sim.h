/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev simulator: what the core and the net type, which make up the
 * module together, share beyond include/linux/vhost_mdev_sim.h.
 */
#ifndef _VMDEV_SIM_H
#define _VMDEV_SIM_H

/* The core's part of the module's init and exit (sim_net.c has them). */
int vmdev_sim_core_init(void);
void vmdev_sim_core_exit(void);

#endif /* _VMDEV_SIM_H */
