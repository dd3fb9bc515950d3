// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: guest memory.
 *
 * Clients describe memory as IOVA -> user address ranges, with IOTLB
 * messages written to the character device or with VHOST_SET_MEM_TABLE
 * (IOVA = guest physical address). The core pins the pages for the long
 * term, accounts them in the owner's pinned_vm (VmPin) against
 * RLIMIT_MEMLOCK as vhost-vdpa does, keeps one IOTLB entry per physically
 * contiguous run of pages, and either maps the runs into the device's own
 * IOMMU domain (platform DMA) or lets the parent translate through the
 * IOTLB.
 *
 * The IOMMU's mappings are kept apart from the address space, in
 * &vhost_mdev_core.iommu: each maps a physically contiguous range in one go
 * (the IOMMU picks the largest page sizes it allows), and is unmapped
 * whole, never in part, as an IOMMU unmaps a large page whole. The ranges
 * of one update are queued and mapped with one iommu_map_sg(): one IOMMU
 * sync, not one per range. When a table
 * replaces another, a mapping whose every page the new table maps the same
 * way stays, however differently the new table cuts its entries: a device
 * using memory that a remap does not change never faults in the middle.
 */

#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/unaligned.h>
#include <linux/vhost.h>

#include "core.h"

#define VHOST_MDEV_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))

bool vhost_mdev_perm_valid(u32 perm)
{
	return perm == VHOST_MAP_RO || perm == VHOST_MAP_WO ||
	       perm == VHOST_MAP_RW;
}

static int vhost_mdev_iommu_prot(u32 perm)
{
	int prot = IOMMU_CACHE;

	if (perm & VHOST_MAP_RO)
		prot |= IOMMU_READ;
	if (perm & VHOST_MAP_WO)
		prot |= IOMMU_WRITE;
	return prot;
}

static void vhost_mdev_account(struct vhost_mdev_device *vdev, long npages)
{
	atomic64_add(npages, &vdev->core->owner->pinned_vm);
	vdev->core->pinned += npages;
}

/*
 * Map what is queued with one iommu_map_sg(), which syncs the IOMMU once for
 * all of it; each entry becomes one mapping of &vhost_mdev_core.iommu. On
 * failure nothing queued is mapped. The queue is empty after either.
 */
int vhost_mdev_iommu_flush(struct vhost_mdev_core *core)
{
	struct vhost_mdev_iommu_queue *q = &core->iommu_queue;
	struct scatterlist *sg;
	u64 iova = q->iova;
	ssize_t mapped;
	unsigned int i;
	int ret = 0;

	if (!q->n)
		return 0;
	core->iommu_maps++;
	mapped = iommu_map_sg(core->domain, q->iova, q->sg, q->n,
			      vhost_mdev_iommu_prot(q->perm),
			      GFP_KERNEL_ACCOUNT);
	if (mapped < 0) {
		ret = mapped;
		goto out;
	}
	for_each_sg(q->sg, sg, q->n, i) {
		ret = vhost_iotlb_add_range(&core->iommu, iova,
					    iova + sg->length - 1, sg_phys(sg),
					    q->perm);
		if (ret) {
			iommu_unmap(core->domain, q->iova, mapped);
			vhost_iotlb_del_range(&core->iommu, q->iova,
					      q->iova + q->size - 1);
			break;
		}
		iova += sg->length;
	}
out:
	q->n = 0;
	return ret;
}

/*
 * Queue [@iova, @iova + @size) -> @pa for the IOMMU, flushing what is queued
 * first if it cannot go with it. iommu_map_sg() maps physically contiguous
 * entries as one range, so a piece physically contiguous with the last one
 * extends it (up to %SZ_1G: an entry's length has 32 bits) or waits for the
 * next flush: one range, one mapping, unmapped whole.
 */
static int vhost_mdev_iommu_enqueue(struct vhost_mdev_core *core, u64 iova,
				    phys_addr_t pa, u64 size, u32 perm)
{
	struct vhost_mdev_iommu_queue *q = &core->iommu_queue;
	struct scatterlist *last;
	bool follows;
	u64 len;
	int ret;

	while (size) {
		last = q->n ? &q->sg[q->n - 1] : NULL;
		follows = last && q->iova + q->size == iova && q->perm == perm;
		if (follows && sg_phys(last) + last->length == pa &&
		    last->length < SZ_1G) {
			len = min_t(u64, size, SZ_1G - last->length);
			last->length += len;
		} else {
			if (last && (!follows || q->n == VHOST_MDEV_IOMMU_SGS ||
				     sg_phys(last) + last->length == pa)) {
				ret = vhost_mdev_iommu_flush(core);
				if (ret)
					return ret;
			}
			if (!q->n) {
				q->iova = iova;
				q->size = 0;
				q->perm = perm;
			}
			len = min_t(u64, size, SZ_1G);
			sg_set_page(&q->sg[q->n++], pfn_to_page(PHYS_PFN(pa)),
				    len, 0);
		}
		q->size += len;
		iova += len;
		pa += len;
		size -= len;
	}
	return 0;
}

/*
 * Unmap from the IOMMU every mapping that overlaps [@start, @last], whole,
 * and widen [*@lo, *@hi] to cover them.
 */
static void vhost_mdev_iommu_unmap_span(struct vhost_mdev_core *core,
					u64 start, u64 last, u64 *lo, u64 *hi)
{
	struct vhost_iotlb_map *m;

	while ((m = vhost_iotlb_itree_first(&core->iommu, start, last))) {
		*lo = min(*lo, m->start);
		*hi = max(*hi, m->last);
		iommu_unmap(core->domain, m->start, m->size);
		vhost_iotlb_map_free(&core->iommu, m);
	}
}

static void vhost_mdev_iommu_unmap(struct vhost_mdev_core *core, u64 start,
				   u64 last)
{
	u64 lo = U64_MAX, hi = 0;

	vhost_mdev_iommu_unmap_span(core, start, last, &lo, &hi);
}

/* Does @table map every page of the IOMMU mapping @m as @m does? */
static bool vhost_mdev_iommu_kept(struct vhost_iotlb *table,
				  const struct vhost_iotlb_map *m)
{
	struct vhost_iotlb_map *e;
	u64 next = m->start;

	for (e = vhost_iotlb_itree_first(table, m->start, m->last); e;
	     e = vhost_iotlb_itree_next(e, m->start, m->last)) {
		if (e->start > next || e->perm != m->perm ||
		    e->addr + (next - e->start) != m->addr + (next - m->start))
			return false;
		if (e->last >= m->last)
			return true;
		next = e->last + 1;
	}
	return false;
}

/* Map the parts of entry @e that no IOMMU mapping covers. */
static int vhost_mdev_iommu_fill_entry(struct vhost_mdev_core *core,
				       const struct vhost_iotlb_map *e)
{
	struct vhost_iotlb_map *m;
	u64 start = e->start, last;
	int ret;

	for (;;) {
		m = vhost_iotlb_itree_first(&core->iommu, start, e->last);
		if (!m || m->start > start) {
			last = m ? m->start - 1 : e->last;
			ret = vhost_mdev_iommu_enqueue(core, start,
						       e->addr + (start - e->start),
						       last - start + 1, e->perm);
			if (ret)
				return ret;
		}
		if (!m || m->last >= e->last)
			return 0;
		start = m->last + 1;
	}
}

/*
 * Map into the IOMMU what the entries of @table overlapping [@start, @last]
 * map and no IOMMU mapping does.
 */
static int vhost_mdev_iommu_fill(struct vhost_mdev_core *core,
				 struct vhost_iotlb *table, u64 start, u64 last)
{
	struct vhost_iotlb_map *e;
	int ret;

	for (e = vhost_iotlb_itree_first(table, start, last); e;
	     e = vhost_iotlb_itree_next(e, start, last)) {
		ret = vhost_mdev_iommu_fill_entry(core, e);
		if (ret)
			return ret;
	}
	return vhost_mdev_iommu_flush(core);
}

/*
 * Make the IOMMU map what @table maps: unmap each mapping @table does not
 * keep whole, then map what is missing. A mapping whose every page @table
 * maps the same way is never unmapped. On failure (-errno of iommu_map_sg())
 * the IOMMU maps a part of @table, and nothing else.
 */
static int vhost_mdev_iommu_sync(struct vhost_mdev_core *core,
				 struct vhost_iotlb *table)
{
	struct vhost_iotlb_map *m, *tmp;

	list_for_each_entry_safe(m, tmp, &core->iommu.list, link) {
		if (vhost_mdev_iommu_kept(table, m))
			continue;
		iommu_unmap(core->domain, m->start, m->size);
		vhost_iotlb_map_free(&core->iommu, m);
	}
	return vhost_mdev_iommu_fill(core, table, 0, U64_MAX);
}

/* Unpin an accounted run; written pages are dirtied. */
void vhost_mdev_unpin(struct vhost_mdev_device *vdev, phys_addr_t pa,
		      u64 size, u32 perm)
{
	unsigned long npages = PFN_DOWN(size);

	unpin_user_page_range_dirty_lock(pfn_to_page(PHYS_PFN(pa)), npages,
					 perm & VHOST_MAP_WO);
	vhost_mdev_account(vdev, -(long)npages);
}

/*
 * May the owner pin @npages more pages, @released of its pinned ones being
 * about to go? Like vhost-vdpa, and unlike VFIO, CAP_IPC_LOCK does not lift
 * the limit: the memlock sizing libvirt does for vDPA interfaces applies.
 */
int vhost_mdev_memlock_check(unsigned long npages,
			     unsigned long released)
{
	unsigned long limit = PFN_DOWN(rlimit(RLIMIT_MEMLOCK));
	s64 pinned = atomic64_read(&current->mm->pinned_vm) - released;

	if (npages > limit || pinned + npages > limit)
		return -ENOMEM;
	return 0;
}

/*
 * How many of @pages[0..@n) follow @pages[0] physically: one comparison a
 * page (a 1 GiB map is 262,144 of them, each pinned page looked at once).
 */
static long vhost_mdev_run_length(struct page **pages, long n)
{
	long i;

	for (i = 1; i < n; i++)
		if (pages[i] != nth_page(pages[0], i))
			break;
	return i;
}

/*
 * Pin @npages user pages at @uaddr and hand every physically contiguous run
 * to @add, in IOVA order from @iova. On error, what was pinned and not
 * handed over is unpinned; undoing what @add took is the caller's job.
 */
int vhost_mdev_pin(struct vhost_mdev_device *vdev, u64 iova, u64 uaddr,
		   unsigned long npages, u32 perm,
		   vhost_mdev_add_run_t add, void *arg)
{
	struct vhost_mdev_core *core = vdev->core;
	unsigned int gup = FOLL_LONGTERM;
	unsigned long run_pfn = 0, run_len = 0, pfn;
	struct page **pages;
	long got, i, len;
	u64 start;
	int ret = 0;

	lockdep_assert_held(&core->lock);
	if (perm & VHOST_MAP_WO)
		gup |= FOLL_WRITE;

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	while (npages) {
		start = ktime_get_ns();
		got = pin_user_pages_fast(uaddr,
					  min(npages, VHOST_MDEV_PIN_BATCH),
					  gup, pages);
		core->pin_ns += ktime_get_ns() - start;
		if (got <= 0) {
			ret = got ?: -EFAULT;
			break;
		}
		for (i = 0; i < got; i += len) {
			len = vhost_mdev_run_length(&pages[i], got - i);
			pfn = page_to_pfn(pages[i]);
			if (run_len && pfn == run_pfn + run_len) {
				run_len += len;
				continue;
			}
			if (run_len) {
				ret = add(vdev, arg, iova, PFN_PHYS(run_pfn),
					  PFN_PHYS(run_len), perm);
				if (ret) {
					unpin_user_pages(&pages[i], got - i);
					break;
				}
				iova += PFN_PHYS(run_len);
			}
			run_pfn = pfn;
			run_len = len;
		}
		if (ret)
			break;
		core->pin_pages += got;
		uaddr += PFN_PHYS(got);
		npages -= got;
	}

	if (!ret && run_len)
		ret = add(vdev, arg, iova, PFN_PHYS(run_pfn), PFN_PHYS(run_len),
			  perm);
	if (ret && run_len)
		unpin_user_page_range_dirty_lock(pfn_to_page(run_pfn), run_len,
						 false);

	free_page((unsigned long)pages);
	return ret;
}

/*
 * Add a run to a live address space: into the IOTLB, then queued for the
 * IOMMU, which maps it at the latest when the caller calls
 * vhost_mdev_iommu_flush(). A device may only fault on an IOVA it was not
 * told about yet; the IOMMU never maps a page that is not pinned.
 */
int vhost_mdev_add_live(struct vhost_mdev_device *vdev, void *arg,
			u64 iova, phys_addr_t pa, u64 size, u32 perm)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_iotlb *iotlb = arg;
	int ret;

	write_lock(&core->iotlb_lock);
	ret = vhost_iotlb_add_range(iotlb, iova, iova + size - 1, pa, perm);
	write_unlock(&core->iotlb_lock);
	if (ret)
		return ret;

	if (core->domain) {
		ret = vhost_mdev_iommu_enqueue(core, iova, pa, size, perm);
		if (ret) {
			/* What of the run a flush mapped; nothing is queued. */
			vhost_mdev_iommu_unmap(core, iova, iova + size - 1);
			write_lock(&core->iotlb_lock);
			vhost_iotlb_del_range(iotlb, iova, iova + size - 1);
			write_unlock(&core->iotlb_lock);
			return ret;
		}
	}

	vhost_mdev_account(vdev, PFN_DOWN(size));
	return 0;
}

/* Add a run to a table nobody sees yet (VHOST_SET_MEM_TABLE). */
int vhost_mdev_add_staged(struct vhost_mdev_device *vdev, void *arg,
			  u64 iova, phys_addr_t pa, u64 size, u32 perm)
{
	int ret;

	ret = vhost_iotlb_add_range(arg, iova, iova + size - 1, pa, perm);
	if (!ret)
		vhost_mdev_account(vdev, PFN_DOWN(size));
	return ret;
}

/* Unpin and free every entry of a table nobody sees in [@start, @last]. */
void vhost_mdev_free_range(struct vhost_mdev_device *vdev,
			   struct vhost_iotlb *iotlb, u64 start, u64 last)
{
	struct vhost_iotlb_map *map;

	while ((map = vhost_iotlb_itree_first(iotlb, start, last))) {
		vhost_mdev_unpin(vdev, map->addr, map->size, map->perm);
		vhost_iotlb_map_free(iotlb, map);
	}
}

/*
 * Remove every entry of @asid that overlaps [@start, @last], whole: out of
 * the IOMMU first, then out of the IOTLB (readers hold iotlb_lock), then
 * unpinned.
 */
void vhost_mdev_unmap_range(struct vhost_mdev_device *vdev, u32 asid,
			    u64 start, u64 last)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_iotlb *iotlb = &core->iotlb[asid];
	struct vhost_iotlb_map *map;
	u64 lo = U64_MAX, hi = 0;
	u64 size, pa;
	u32 perm;

	if (core->domain)
		for (map = vhost_iotlb_itree_first(iotlb, start, last); map;
		     map = vhost_iotlb_itree_next(map, start, last))
			vhost_mdev_iommu_unmap_span(core, map->start,
						    map->last, &lo, &hi);

	while ((map = vhost_iotlb_itree_first(iotlb, start, last))) {
		size = map->size;
		pa = map->addr;
		perm = map->perm;
		write_lock(&core->iotlb_lock);
		vhost_iotlb_map_free(iotlb, map);
		write_unlock(&core->iotlb_lock);
		vhost_mdev_unpin(vdev, pa, size, perm);
	}

	/* What an unmapped IOMMU mapping also covered of the entries left. */
	if (lo <= hi && vhost_mdev_iommu_fill(core, iotlb, lo, hi))
		dev_err_ratelimited(&vdev->dev,
				    "IOVAs near [%#llx, %#llx] could not be mapped again in the IOMMU\n",
				    lo, hi);
}

/* Drop every mapping of every address space; caller holds the lock. */
void vhost_mdev_unmap_all(struct vhost_mdev_device *vdev)
{
	u32 asid;

	lockdep_assert_held(&vdev->core->lock);
	for (asid = 0; asid < vdev->nas; asid++)
		vhost_mdev_unmap_range(vdev, asid, 0, U64_MAX);
}

/*
 * Check an [iova, iova + size) -> uaddr range: not empty, no wrap, page
 * aligned (the IOMMU maps pages), inside the IOVA window. Sets *@last.
 */
int vhost_mdev_range_valid(struct vhost_mdev_core *core, u64 iova,
			   u64 size, u64 uaddr, u64 *last)
{
	u64 ulast;

	if (!size || check_add_overflow(iova, size - 1, last) ||
	    check_add_overflow(uaddr, size - 1, &ulast))
		return -EINVAL;
	if (!PAGE_ALIGNED(iova) || !PAGE_ALIGNED(size) || !PAGE_ALIGNED(uaddr))
		return -EINVAL;
	if (iova < core->range.first || *last > core->range.last)
		return -EINVAL;
	return 0;
}

static int vhost_mdev_region_cmp(const void *a, const void *b)
{
	const struct vhost_memory_region *ra = a, *rb = b;

	if (ra->guest_phys_addr < rb->guest_phys_addr)
		return -1;
	return ra->guest_phys_addr > rb->guest_phys_addr;
}

/* Sort the regions and check them; return the pages they need. */
static long vhost_mdev_regions_check(struct vhost_mdev_core *core,
				     struct vhost_memory_region *regions,
				     u32 nregions)
{
	unsigned long npages = 0;
	u64 last, prev_last = 0;
	u32 i;
	int ret;

	sort(regions, nregions, sizeof(*regions), vhost_mdev_region_cmp, NULL);
	for (i = 0; i < nregions; i++) {
		if (regions[i].flags_padding)
			return -EINVAL;
		ret = vhost_mdev_range_valid(core, regions[i].guest_phys_addr,
					     regions[i].memory_size,
					     regions[i].userspace_addr, &last);
		if (ret)
			return ret;
		if (i && regions[i].guest_phys_addr <= prev_last)
			return -EINVAL;
		prev_last = last;
		npages += PFN_DOWN(regions[i].memory_size);
	}
	return npages;
}

static unsigned long vhost_mdev_table_pages(struct vhost_iotlb *iotlb)
{
	struct vhost_iotlb_map *map;
	unsigned long npages = 0;

	list_for_each_entry(map, &iotlb->list, link)
		npages += PFN_DOWN(map->size);
	return npages;
}

/* Swap two IOTLBs' entries; caller holds iotlb_lock for writing. */
static void vhost_mdev_iotlb_swap(struct vhost_iotlb *a, struct vhost_iotlb *b)
{
	LIST_HEAD(tmp);

	swap(a->root, b->root);
	swap(a->nmaps, b->nmaps);
	list_splice_init(&a->list, &tmp);
	list_splice_init(&b->list, &a->list);
	list_splice_init(&tmp, &b->list);
}

/**
 * vhost_mdev_switch_table - make @next the mappings of an address space
 * @vdev: the device
 * @asid: the address space
 * @next: its new entries
 *
 * In one step, as the readers (parents translating, the IOMMU) see it. A
 * platform device's IOMMU only changes where the tables differ: an IOMMU
 * mapping whose every page @next maps the same way (the same IOVA, page
 * and permission) stays throughout, however @next cuts its entries, so a
 * client that maps the same memory again never leaves the device without
 * it. Caller holds &vhost_mdev_core.lock.
 *
 * Return: 0, @next then holds the old entries (with the pins they had); or
 * -errno from the IOMMU, and nothing changed.
 */
int vhost_mdev_switch_table(struct vhost_mdev_device *vdev, u32 asid,
			    struct vhost_iotlb *next)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_iotlb *live = &core->iotlb[asid];
	int ret;

	lockdep_assert_held(&core->lock);
	if (core->domain) {
		ret = vhost_mdev_iommu_sync(core, next);
		if (ret) {
			if (vhost_mdev_iommu_sync(core, live)) {
				dev_err(&vdev->dev,
					"the old mappings could not be restored in the IOMMU; dropping them\n");
				vhost_mdev_unmap_range(vdev, asid, 0, U64_MAX);
			}
			return ret;
		}
	}

	write_lock(&core->iotlb_lock);
	vhost_mdev_iotlb_swap(live, next);
	write_unlock(&core->iotlb_lock);
	return 0;
}

/**
 * vhost_mdev_set_mem_table - VHOST_SET_MEM_TABLE
 * @vdev: the device
 * @argp: the user's struct vhost_memory
 *
 * Each region becomes an IOVA = guest physical address mapping of address
 * space 0, replacing whatever address space 0 held, in one step: on failure
 * the old mappings stay. The old pages count as released for the memlock
 * check, although both tables are pinned for a moment.
 *
 * Return: 0, or -EFAULT, -EOPNOTSUPP (padding), -E2BIG (too many regions),
 * -EINVAL (empty, wrapping, unaligned, overlapping or out of window region,
 * non-zero flags_padding), -ENOMEM (memlock), -ENOSPC (IOTLB entries),
 * -EBUSY (an IOTLB batch is open).
 */
long vhost_mdev_set_mem_table(struct vhost_mdev_device *vdev,
			      void __user *argp)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_memory_region *regions;
	struct vhost_memory hdr;
	struct vhost_iotlb staged;
	long npages;
	u32 i;
	int ret;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding)
		return -EOPNOTSUPP;
	if (hdr.nregions > VHOST_MDEV_MEM_MAX_NREGIONS)
		return -E2BIG;
	/* A table replaces everything an open IOTLB batch is changing. */
	if (core->batch.active)
		return -EBUSY;

	regions = memdup_array_user(argp + sizeof(hdr), hdr.nregions,
				    sizeof(*regions));
	if (IS_ERR(regions))
		return PTR_ERR(regions);

	npages = vhost_mdev_regions_check(core, regions, hdr.nregions);
	if (npages < 0) {
		ret = npages;
		goto out_free;
	}
	ret = vhost_mdev_memlock_check(npages,
				       vhost_mdev_table_pages(&core->iotlb[0]));
	if (ret)
		goto out_free;

	vhost_iotlb_init(&staged, vhost_mdev_max_iotlb_entries, 0);
	for (i = 0; i < hdr.nregions; i++) {
		ret = vhost_mdev_pin(vdev, regions[i].guest_phys_addr,
				     regions[i].userspace_addr,
				     PFN_DOWN(regions[i].memory_size),
				     VHOST_MAP_RW, vhost_mdev_add_staged,
				     &staged);
		if (ret)
			break;
	}
	if (!ret)
		ret = vhost_mdev_switch_table(vdev, 0, &staged);
	/* The new entries on failure, the old ones on success. */
	vhost_mdev_free_range(vdev, &staged, 0, U64_MAX);
	if (!ret)
		vhost_mdev_log_cover(vdev);

out_free:
	kfree(regions);
	return ret;
}

static int vhost_mdev_count_dev(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/*
 * Give a platform device a paging domain of its own. Refuse what would not
 * isolate the guest: no IOMMU, a group shared with other devices, an IOMMU
 * that does not snoop.
 */
static int vhost_mdev_domain_init(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	struct device *dma_dev = vdev->dma_dev;
	struct iommu_domain *domain;
	struct iommu_group *group;
	unsigned int ndevs = 0;
	int ret;

	group = iommu_group_get(dma_dev);
	if (!group) {
		dev_err(dma_dev, "no IOMMU translates its DMA: vhost-mdev needs one (intel_iommu=on)\n");
		return -ENODEV;
	}
	iommu_group_for_each_dev(group, &ndevs, vhost_mdev_count_dev);
	ret = iommu_group_id(group);
	iommu_group_put(group);
	if (ndevs != 1) {
		dev_err(dma_dev, "shares IOMMU group %d with %u other device(s): it cannot be isolated\n",
			ret, ndevs - 1);
		return -EBUSY;
	}
	if (!device_iommu_capable(dma_dev, IOMMU_CAP_CACHE_COHERENCY)) {
		dev_err(dma_dev, "its IOMMU does not enforce cache coherency\n");
		return -EOPNOTSUPP;
	}

	domain = iommu_paging_domain_alloc(dma_dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	ret = iommu_attach_device(domain, dma_dev);
	if (ret) {
		dev_err(dma_dev, "cannot attach to a domain of its own: %d\n",
			ret);
		iommu_domain_free(domain);
		return ret;
	}

	core->iommu_queue.sg = kmalloc_array(VHOST_MDEV_IOMMU_SGS,
					     sizeof(struct scatterlist),
					     GFP_KERNEL);
	if (!core->iommu_queue.sg) {
		iommu_detach_device(domain, dma_dev);
		iommu_domain_free(domain);
		return -ENOMEM;
	}
	sg_init_table(core->iommu_queue.sg, VHOST_MDEV_IOMMU_SGS);

	core->domain = domain;
	if (domain->geometry.force_aperture) {
		core->range.first = domain->geometry.aperture_start;
		core->range.last = domain->geometry.aperture_end;
	} else {
		core->range.first = 0;
		core->range.last = U64_MAX;
	}
	/* The parent's own window, at the top, page aligned. */
	if (vdev->shadow_size) {
		vdev->shadow_iova = (core->range.last - vdev->shadow_size + 1) &
				    PAGE_MASK;
		if (vdev->shadow_iova <= core->range.first) {
			vhost_mdev_dma_exit(vdev);
			return -ENOSPC;
		}
		core->range.last = vdev->shadow_iova - 1;
	}
	return 0;
}

/* Set up the device's DMA at creation: its domain and its IOVA window. */
int vhost_mdev_dma_init(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	int ret;

	if (vdev->dma_model == VHOST_MDEV_DMA_PLATFORM)
		return vhost_mdev_domain_init(vdev);

	core->range.first = 0;
	core->range.last = U64_MAX;
	if (vdev->ops->get_iova_range) {
		ret = vdev->ops->get_iova_range(vdev, &core->range);
		if (ret)
			return ret;
		if (core->range.first > core->range.last)
			return -EINVAL;
	}
	return 0;
}

/* Undo vhost_mdev_dma_init(); every mapping is gone by now. */
void vhost_mdev_dma_exit(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;

	if (!core->domain)
		return;
	WARN_ON_ONCE(core->iommu_queue.n);
	kfree(core->iommu_queue.sg);
	core->iommu_queue.sg = NULL;
	iommu_detach_device(core->domain, vdev->dma_dev);
	iommu_domain_free(core->domain);
	core->domain = NULL;
}

/* Is [@iova, @iova + @size) page aligned and in the parent's own window? */
static bool vhost_mdev_shadow_range(struct vhost_mdev_device *vdev, u64 iova,
				    size_t size)
{
	u64 last;

	return vdev->shadow_size && PAGE_ALIGNED(iova) && PAGE_ALIGNED(size) &&
	       size && !check_add_overflow(iova, (u64)size - 1, &last) &&
	       iova >= vdev->shadow_iova &&
	       last - vdev->shadow_iova < vdev->shadow_size;
}

/**
 * vhost_mdev_shadow_map - map the parent's own memory for its device
 * @vdev: a %VHOST_MDEV_DMA_PLATFORM device with a &vhost_mdev_device.shadow_size
 * @iova: where, page aligned, in [shadow_iova, shadow_iova + shadow_size)
 * @pa: the physical address of the memory, page aligned
 * @size: bytes, a multiple of PAGE_SIZE
 *
 * The device reads and writes the memory at @iova until
 * vhost_mdev_shadow_unmap(); clients cannot map there.
 *
 * Return: 0, -EINVAL outside the window, or iommu_map()'s -errno.
 */
int vhost_mdev_shadow_map(struct vhost_mdev_device *vdev, u64 iova,
			  phys_addr_t pa, size_t size)
{
	struct vhost_mdev_core *core = vdev->core;

	if (!core->domain || !vhost_mdev_shadow_range(vdev, iova, size) ||
	    !PAGE_ALIGNED(pa))
		return -EINVAL;
	return iommu_map(core->domain, iova, pa, size,
			 IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE, GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(vhost_mdev_shadow_map);

/**
 * vhost_mdev_shadow_unmap - undo vhost_mdev_shadow_map()
 * @vdev: the device
 * @iova: what vhost_mdev_shadow_map() was given
 * @size: the same
 */
void vhost_mdev_shadow_unmap(struct vhost_mdev_device *vdev, u64 iova,
			     size_t size)
{
	struct vhost_mdev_core *core = vdev->core;

	if (WARN_ON_ONCE(!core->domain ||
			 !vhost_mdev_shadow_range(vdev, iova, size)))
		return;
	WARN_ON_ONCE(iommu_unmap(core->domain, iova, size) != size);
}
EXPORT_SYMBOL_GPL(vhost_mdev_shadow_unmap);

/**
 * vhost_mdev_iotlb_lock - start reading or writing guest memory
 * @vdev: the device (either DMA model: the core keeps every mapping)
 *
 * Between this and vhost_mdev_iotlb_unlock() the mappings do not change and
 * the pages behind them stay pinned. Spins out writers: hold it for a bounded
 * batch of work, never across sleeping.
 */
void vhost_mdev_iotlb_lock(struct vhost_mdev_device *vdev)
	__acquires(&vdev->core->iotlb_lock)
{
	read_lock(&vdev->core->iotlb_lock);
}
EXPORT_SYMBOL_GPL(vhost_mdev_iotlb_lock);

/**
 * vhost_mdev_iotlb_unlock - stop translating IOVAs
 * @vdev: the device
 */
void vhost_mdev_iotlb_unlock(struct vhost_mdev_device *vdev)
	__releases(&vdev->core->iotlb_lock)
{
	read_unlock(&vdev->core->iotlb_lock);
}
EXPORT_SYMBOL_GPL(vhost_mdev_iotlb_unlock);

/*
 * Copy @n bytes between @buf and @guest, within one page. memcpy() makes
 * no promise about access sizes: gcc 12 copies a variable 2 bytes as a
 * byte, then a word, so a driver reading a used index as we write it may
 * see 0x0000 between 0x00ff and 0x0100, and memcpy_orig() reads one byte
 * at a time. An aligned 2- or 4-byte copy (a ring index, flags, an event
 * suppression structure) is therefore one access, as vringh's and a
 * device's are.
 */
static void vhost_mdev_copy_once(void *guest, void *buf, size_t n, bool write)
{
	if (n == sizeof(u16) && IS_ALIGNED((unsigned long)guest, n)) {
		if (write)
			WRITE_ONCE(*(u16 *)guest, get_unaligned((u16 *)buf));
		else
			put_unaligned(READ_ONCE(*(u16 *)guest), (u16 *)buf);
	} else if (n == sizeof(u32) && IS_ALIGNED((unsigned long)guest, n)) {
		if (write)
			WRITE_ONCE(*(u32 *)guest, get_unaligned((u32 *)buf));
		else
			put_unaligned(READ_ONCE(*(u32 *)guest), (u32 *)buf);
	} else if (write) {
		memcpy(guest, buf, n);
	} else {
		memcpy(buf, guest, n);
	}
}

/*
 * Where guest memory at @iova, mapped with @perm, is: *@pa, for *@n bytes
 * (at most @len) that stay within one page and one entry.
 */
static int vhost_mdev_iotlb_at(struct vhost_mdev_core *core, u32 asid,
			       u64 iova, u32 perm, size_t len, phys_addr_t *pa,
			       size_t *n)
{
	struct vhost_iotlb_map *map;

	map = vhost_iotlb_itree_first(&core->iotlb[asid], iova, iova);
	if (!map || (map->perm & perm) != perm)
		return -EFAULT;
	*pa = map->addr + (iova - map->start);
	*n = min3((u64)len, map->last - iova + 1,
		  (u64)(PAGE_SIZE - offset_in_page(*pa)));
	return 0;
}

/*
 * Copy @len bytes between @buf and guest memory at @iova, which must be
 * mapped with @perm: VHOST_MAP_RO reads guest memory into @buf,
 * VHOST_MAP_WO writes @buf to it. Page by page, each within one entry.
 */
static int vhost_mdev_iotlb_copy(struct vhost_mdev_device *vdev, u32 asid,
				 u64 iova, void *buf, size_t len, u32 perm)
{
	struct vhost_mdev_core *core = vdev->core;
	phys_addr_t pa;
	size_t n;
	void *va;
	int ret;

	lockdep_assert_held_read(&core->iotlb_lock);
	if (asid >= vdev->nas)
		return -EINVAL;

	while (len) {
		ret = vhost_mdev_iotlb_at(core, asid, iova, perm, len, &pa, &n);
		if (ret)
			return ret;
		va = kmap_local_page(pfn_to_page(PHYS_PFN(pa)));
		vhost_mdev_copy_once(va + offset_in_page(pa), buf, n,
				     perm == VHOST_MAP_WO);
		kunmap_local(va);
		if (perm == VHOST_MAP_WO && !asid)
			vhost_mdev_log_write(core, iova, n);
		buf += n;
		iova += n;
		len -= n;
	}
	return 0;
}

/**
 * vhost_mdev_iotlb_read - copy from guest memory, device-read access
 * @vdev: the device, with vhost_mdev_iotlb_lock() held
 * @asid: the address space
 * @dst: where to copy
 * @iova: where from
 * @len: how many bytes
 *
 * An aligned 2- or 4-byte read is a single access, never torn by a driver
 * writing the field meanwhile (a ring index); longer ones are not.
 *
 * Return: 0, -EINVAL for a bad @asid, -EFAULT if part of the range is not
 * mapped readable (some bytes may have been copied).
 */
int vhost_mdev_iotlb_read(struct vhost_mdev_device *vdev, u32 asid,
			  void *dst, u64 iova, size_t len)
{
	return vhost_mdev_iotlb_copy(vdev, asid, iova, dst, len, VHOST_MAP_RO);
}
EXPORT_SYMBOL_GPL(vhost_mdev_iotlb_read);

/**
 * vhost_mdev_iotlb_write - copy to guest memory, device-write access
 * @vdev: the device, with vhost_mdev_iotlb_lock() held
 * @asid: the address space
 * @iova: where to copy
 * @src: what
 * @len: how many bytes
 *
 * An aligned 2- or 4-byte write is a single access: a driver reading the
 * field meanwhile sees the old value or the new one (a ring index). While
 * the client logs (VHOST_F_LOG_ALL), a write to address space 0 sets the
 * dirty bit of each page it touched, after the data.
 *
 * Return: 0, -EINVAL for a bad @asid, -EFAULT if part of the range is not
 * mapped writable (some bytes may have been copied).
 */
int vhost_mdev_iotlb_write(struct vhost_mdev_device *vdev, u32 asid,
			   u64 iova, const void *src, size_t len)
{
	return vhost_mdev_iotlb_copy(vdev, asid, iova, (void *)src, len,
				     VHOST_MAP_WO);
}
EXPORT_SYMBOL_GPL(vhost_mdev_iotlb_write);

/**
 * vhost_mdev_iotlb_move - copy guest memory to guest memory
 * @vdev: the device, with vhost_mdev_iotlb_lock() held
 * @dst_asid: the address space written
 * @dst: where to copy
 * @src_asid: the address space read
 * @src: where from
 * @len: how many bytes
 *
 * A device-read access at @src and a device-write access at @dst, without
 * a buffer in between: a device that hands what its driver sent back to
 * it (a loopback) copies once, not twice. Logged as
 * vhost_mdev_iotlb_write() logs. Overlapping ranges are the driver's
 * mistake: the bytes @dst gets are then undefined, nothing else is.
 *
 * Return: 0, -EINVAL for a bad address space, -EFAULT if part of either
 * range is not mapped as needed (some bytes may have been copied).
 */
int vhost_mdev_iotlb_move(struct vhost_mdev_device *vdev, u32 dst_asid,
			  u64 dst, u32 src_asid, u64 src, size_t len)
{
	struct vhost_mdev_core *core = vdev->core;
	phys_addr_t dpa, spa;
	size_t dn, sn;
	void *dva, *sva;
	int ret;

	lockdep_assert_held_read(&core->iotlb_lock);
	if (dst_asid >= vdev->nas || src_asid >= vdev->nas)
		return -EINVAL;

	while (len) {
		ret = vhost_mdev_iotlb_at(core, src_asid, src, VHOST_MAP_RO,
					  len, &spa, &sn);
		if (ret)
			return ret;
		ret = vhost_mdev_iotlb_at(core, dst_asid, dst, VHOST_MAP_WO,
					  sn, &dpa, &dn);
		if (ret)
			return ret;
		sva = kmap_local_page(pfn_to_page(PHYS_PFN(spa)));
		dva = kmap_local_page(pfn_to_page(PHYS_PFN(dpa)));
		memcpy(dva + offset_in_page(dpa), sva + offset_in_page(spa), dn);
		kunmap_local(dva);
		kunmap_local(sva);
		if (!dst_asid)
			vhost_mdev_log_write(core, dst, dn);
		dst += dn;
		src += dn;
		len -= dn;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vhost_mdev_iotlb_move);
