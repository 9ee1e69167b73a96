/*
 * names: the worker-name rule (see names.h).
 */
#include "common/names.h"

#include <string.h>

bool name_worker_valid(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > WORKER_NAME_MAX || n[0] == '.' || strcmp(n, "workers") == 0)
        return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}
