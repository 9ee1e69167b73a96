/*
 * shardmap: one walk over every shard's positions with the same iterator the workers use, so
 * the map says exactly what each worker's engine scans.
 */
#include "coordinator/shardmap.h"

#include <stdlib.h>

struct shardmap {
    uint64_t size;
    uint32_t *shard; /* per element */
};

shardmap_t *shardmap_new(const perm_params_t *p, uint64_t span, uint32_t n_shards)
{
    if (p->size == 0 || p->size > SHARDMAP_MAX || n_shards == 0)
        return NULL;
    shardmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->size = p->size;
    m->shard = malloc(p->size * sizeof *m->shard);
    if (!m->shard) {
        free(m);
        return NULL;
    }
    for (uint64_t i = 0; i < p->size; i++)
        m->shard[i] = UINT32_MAX; /* beyond a bounded job's span: in no shard */
    for (uint32_t i = 0; i < n_shards; i++) {
        uint64_t begin, end, el;
        perm_split_range(span, i, n_shards, &begin, &end);
        perm_iter_t it;
        perm_iter_init(&it, p, begin, end);
        while (perm_next(&it, &el))
            m->shard[el] = i;
    }
    return m;
}

int64_t shardmap_shard_of(const shardmap_t *m, uint64_t element)
{
    return element < m->size && m->shard[element] != UINT32_MAX ? (int64_t)m->shard[element] : -1;
}

void shardmap_destroy(shardmap_t **m)
{
    if (!m || !*m)
        return;
    free((*m)->shard);
    free(*m);
    *m = NULL;
}
