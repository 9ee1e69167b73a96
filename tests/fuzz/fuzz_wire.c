/*
 * Fuzz harness for common/wire: arbitrary bytes go through envelope decoding and, for result
 * batches, through record conversion; nothing may crash, leak or read out of bounds.
 */
#include "common/wire.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    Lzr__Envelope *env = wire_unpack(data, size, err, sizeof err);
    if (!env)
        return 0;
    if (env->body_case == LZR__ENVELOPE__BODY_BATCH) {
        for (size_t i = 0; i < env->batch->n_records; i++) {
            lzr_record_t r;
            (void)wire_record_to(env->batch->records[i], &r, err, sizeof err);
        }
    }
    (void)wire_body_name(env->body_case);
    wire_free(&env);
    return 0;
}
