/*
 * err: the one list of lzr's error codes. Every module returns 0 or one of these negative codes;
 * the list also yields each code's name and message, so callers can print what went wrong
 * without a table of their own.
 */
#ifndef LZR_ERR_H
#define LZR_ERR_H

/* X(name, value, message) */
#define LZR_ERROR_LIST(X)                                                                          \
    X(LZR_OK, 0, "success")                                                                        \
    X(LZR_EINVAL, -1, "invalid argument")                                                          \
    X(LZR_ENOMEM, -2, "out of memory")                                                             \
    X(LZR_EPARSE, -3, "malformed input")                                                           \
    X(LZR_ERANGE, -4, "value out of range")                                                        \
    X(LZR_ERESERVED, -5, "address lies in a reserved range")                                       \
    X(LZR_EIO, -6, "input/output error")                                                           \
    X(LZR_EPERM, -7, "operation not permitted")                                                    \
    X(LZR_ENOTFOUND, -8, "not found")                                                              \
    X(LZR_EFULL, -9, "table full")                                                                 \
    X(LZR_ESYS, -10, "system call failed")                                                         \
    X(LZR_EPROTO, -11, "protocol error")                                                           \
    X(LZR_EDB, -12, "database error")                                                              \
    X(LZR_ETIMEOUT, -13, "timed out")                                                              \
    X(LZR_EEMPTY, -14, "nothing to do")                                                            \
    X(LZR_EFIREWALL, -15, "the kernel would reset the scanner's connections")

enum lzr_err {
#define LZR_ERR_ENUM(name, value, msg) name = value,
    LZR_ERROR_LIST(LZR_ERR_ENUM)
#undef LZR_ERR_ENUM
};

/* The symbolic name of an error code ("LZR_EPARSE"), or "LZR_UNKNOWN". */
const char *lzr_errname(int code);

/* The human message of an error code, or "unknown error". */
const char *lzr_strerror(int code);

#endif
