// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the PCI accelerator's doorbell page check, on register
 * layouts no emulated function of the test VM has: a notification area
 * that ends inside a doorbell's page, an MSI-X table or another virtio
 * structure in that page, doorbells that share a page.
 */

#include <kunit/test.h>
#include <linux/sizes.h>

#include "pci.h"

#define BAR	0xfe000000ULL
#define NOTIFY	(BAR + 3 * SZ_4K)

/* QEMU's page-per-vq layout: common, ISR, device, then 4 MiB of doorbells. */
static struct vmdev_pci *layout_qemu(struct kunit *test, u16 nvqs)
{
	struct vmdev_pci *fn = kunit_kzalloc(test, sizeof(*fn), GFP_KERNEL);
	struct vmdev_pci_layout *l;
	u16 i;

	KUNIT_ASSERT_NOT_NULL(test, fn);
	fn->nvqs = nvqs;
	fn->hwq = kunit_kcalloc(test, nvqs, sizeof(*fn->hwq), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fn->hwq);
	for (i = 0; i < nvqs; i++)
		fn->hwq[i].notify_pa = NOTIFY + i * PAGE_SIZE;
	l = &fn->layout;
	l->notify.start = NOTIFY;
	l->notify.len = SZ_4M;
	l->foreign[l->nforeign].start = BAR;
	l->foreign[l->nforeign++].len = SZ_4K;
	l->foreign[l->nforeign].start = BAR + SZ_4K;
	l->foreign[l->nforeign++].len = SZ_4K;
	l->foreign[l->nforeign].start = BAR + 2 * SZ_4K;
	l->foreign[l->nforeign++].len = SZ_4K;
	return fn;
}

static void vmdev_pci_doorbell_qemu(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 3);
	u16 i;

	for (i = 0; i < fn->nvqs; i++)
		KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, i));
}

/* The area ends inside the last doorbell's page: the rest is not ours. */
static void vmdev_pci_doorbell_past_the_area(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 3);

	fn->layout.notify.len = 2 * PAGE_SIZE + 2;
	KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, 1));
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 2));
	/* Both sides of the boundary: exactly three pages is enough. */
	fn->layout.notify.len = 3 * PAGE_SIZE;
	KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, 2));
	fn->layout.notify.len = 3 * PAGE_SIZE - 1;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 2));
}

/* A doorbell before the area, or an area of nothing, is never mapped. */
static void vmdev_pci_doorbell_outside_the_area(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 2);

	fn->hwq[0].notify_pa = NOTIFY - PAGE_SIZE;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 0));
	fn->layout.notify.len = 0;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 1));
}

/* The MSI-X table, then the pending bits, share the doorbell's page. */
static void vmdev_pci_doorbell_meets_msix(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 3);
	struct vmdev_pci_layout *l = &fn->layout;
	struct vmdev_pci_window *msix = &l->foreign[l->nforeign++];

	msix->start = NOTIFY + 2 * PAGE_SIZE + 0x800;
	msix->len = 3 * PCI_MSIX_ENTRY_SIZE;
	KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, 1));
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 2));

	/* Ending right where the page starts, or starting right after it. */
	msix->start = NOTIFY + 2 * PAGE_SIZE - 8;
	msix->len = 8;
	KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, 2));
	msix->len = 9;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 2));
	msix->start = NOTIFY + 3 * PAGE_SIZE;
	KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, 2));
	msix->start = NOTIFY + 3 * PAGE_SIZE - 1;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 2));
}

/* The common configuration laid over the doorbells (a broken device). */
static void vmdev_pci_doorbell_meets_common(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 3);

	fn->layout.foreign[0].start = NOTIFY;
	fn->layout.foreign[0].len = 0x38;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 0));
	KUNIT_EXPECT_TRUE(test, vmdev_pci_doorbell_alone(fn, 1));
}

/* A notify_off_multiplier of 4: every doorbell in one page. */
static void vmdev_pci_doorbell_shared_page(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 3);
	u16 i;

	for (i = 0; i < fn->nvqs; i++)
		fn->hwq[i].notify_pa = NOTIFY + 4 * i;
	for (i = 0; i < fn->nvqs; i++)
		KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, i));
	/* The page of a doorbell not at its start is not mapped either. */
	fn->nvqs = 1;
	fn->hwq[0].notify_pa = NOTIFY + 4;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 0));
}

/* Registers we could not all record: map nothing. */
static void vmdev_pci_doorbell_unknown_layout(struct kunit *test)
{
	struct vmdev_pci *fn = layout_qemu(test, 1);

	fn->layout.unknown = true;
	KUNIT_EXPECT_FALSE(test, vmdev_pci_doorbell_alone(fn, 0));
}

static struct kunit_case vmdev_pci_doorbell_cases[] = {
	KUNIT_CASE(vmdev_pci_doorbell_qemu),
	KUNIT_CASE(vmdev_pci_doorbell_past_the_area),
	KUNIT_CASE(vmdev_pci_doorbell_outside_the_area),
	KUNIT_CASE(vmdev_pci_doorbell_meets_msix),
	KUNIT_CASE(vmdev_pci_doorbell_meets_common),
	KUNIT_CASE(vmdev_pci_doorbell_shared_page),
	KUNIT_CASE(vmdev_pci_doorbell_unknown_layout),
	{}
};

static struct kunit_suite vmdev_pci_doorbell_suite = {
	.name = "vhost_mdev_pci_doorbell",
	.test_cases = vmdev_pci_doorbell_cases,
};

kunit_test_suite(vmdev_pci_doorbell_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of vhost_mdev_pci's doorbell page check");
