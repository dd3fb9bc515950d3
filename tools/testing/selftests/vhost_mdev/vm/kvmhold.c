// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmhold: keep one idle KVM vCPU, with an in-kernel local APIC that stays
 * disabled, for as long as the test VM runs; started once by the
 * L2 scenarios (l2lib.sh's kvm_ready) before any L2 guest.
 *
 * Why: KVM counts such APICs, and hardware-disabled ones, in static keys
 * (apic_sw_disabled, apic_hw_disabled: 6.12's arch/x86/kvm/lapic.c) that it
 * flips, by patching its own code with int3-based text_poke, each time a
 * count goes 0 -> 1 (an L2 guest's vCPU is created) and, a second later,
 * 1 -> 0 (its kernel enabled the APIC), while the other CPU runs that very
 * code for an L2 vCPU. Under the test VM's multi-threaded TCG, such
 * cross-modifying code sometimes crashes L1 ("Oops: int3" in
 * kvm_arch_vcpu_ioctl_run and apic_has_pending_timer, DESIGN.md's MTTCG
 * race). With this vCPU, whose APIC is disabled both ways, the counts
 * never drop to 0 again: no more patching.
 *
 * Prints "kvmhold: ready" once the vCPU exists, then sleeps for good.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} apicbase = {
		.hdr.nmsrs = 1,
		/* MSR_IA32_APICBASE: the default base, without the enable bit. */
		.entry = { .index = 0x1b, .data = 0xfee00000 },
	};
	int kvm, vm, vcpu;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvmhold: /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0)) {
		perror("kvmhold: KVM_CREATE_VM, KVM_CREATE_IRQCHIP");
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		perror("kvmhold: KVM_CREATE_VCPU");
		return 1;
	}
	/* Its APIC hardware-disabled too: the same for apic_hw_disabled. */
	if (ioctl(vcpu, KVM_SET_MSRS, &apicbase) != 1) {
		perror("kvmhold: KVM_SET_MSRS");
		return 1;
	}
	printf("kvmhold: ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
