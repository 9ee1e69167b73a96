/*
 * err: names and messages for the codes of err.h, generated from the same list.
 */
#include "err.h"

const char *lzr_errname(int code)
{
    switch (code) {
#define LZR_ERR_NAME(name, value, msg)                                                             \
    case value:                                                                                    \
        return #name;
        LZR_ERROR_LIST(LZR_ERR_NAME)
#undef LZR_ERR_NAME
    }
    return "LZR_UNKNOWN";
}

const char *lzr_strerror(int code)
{
    switch (code) {
#define LZR_ERR_MSG(name, value, msg)                                                              \
    case value:                                                                                    \
        return msg;
        LZR_ERROR_LIST(LZR_ERR_MSG)
#undef LZR_ERR_MSG
    }
    return "unknown error";
}
