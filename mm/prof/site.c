// SPDX-License-Identifier: MIT
/* The profiler's sites: stacks in an open-addressing table; see prof.h. */
#include <string.h>

#include <lib/bitops.h>
#include <lib/lock.h>
#include <mm/os.h>
#include <mm/prof/prof.h>

struct hak_lock prof_lock = HAK_LOCK_INIT("prof");
struct prof_site *prof_sites;      /* prof_lock; mapped at the first sample */
uint64_t prof_dropped;             /* prof_lock: samples with no room for their site */
uint32_t prof_sites_used;          /* prof_lock */
/* prof_lock: the slots in use, in the order they were taken (in the same
 * mapping, after the table). */
uint16_t *prof_site_list;

/* Slots kept free so that a probe ends soon. */
#define SITES_MAX (PROF_SITES - PROF_SITES / 8)

static uint64_t stack_hash(const uintptr_t *pc, unsigned int depth)
{
	uint64_t h = 0x84222325cbf29ce4ULL ^ depth;
	unsigned int i;

	for (i = 0; i < depth; i++) {
		h ^= pc[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

uint32_t prof_site_find(const uintptr_t *pc, unsigned int depth)
{
	uint64_t hash;
	uint32_t i;

	if (!prof_sites) {
		void *p;

		if (os_map(round_up_pow2(PROF_SITES * (sizeof(struct prof_site) + sizeof(uint16_t)),
					 os_page_size()), &p))
			return PROF_SITES;
		prof_sites = p;
		prof_site_list = (uint16_t *)(prof_sites + PROF_SITES);
	}
	hash = stack_hash(pc, depth);
	for (i = (uint32_t)hash & (PROF_SITES - 1);; i = (i + 1) & (PROF_SITES - 1)) {
		struct prof_site *s = &prof_sites[i];

		if (!s->depth) {
			if (prof_sites_used >= SITES_MAX || !depth)
				return PROF_SITES;
			s->hash = hash;
			s->depth = depth;
			memcpy(s->pc, pc, depth * sizeof(*pc));
			prof_site_list[prof_sites_used++] = (uint16_t)i;
			return i;
		}
		if (s->hash == hash && s->depth == depth &&
		    !memcmp(s->pc, pc, depth * sizeof(*pc)))
			return i;
	}
}

void prof_for_each_site(void (*fn)(const struct prof_site *s, void *arg), void *arg)
{
	uint32_t i;

	hak_lock(&prof_lock);
	for (i = 0; i < prof_sites_used; i++)
		fn(&prof_sites[prof_site_list[i]], arg);
	hak_unlock(&prof_lock);
}
