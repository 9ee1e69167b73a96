/*
 * log: leveled log lines on stderr (or syslog on request), each tagged with the component that
 * wrote it. Low layers do not log; they return codes and fill error buffers. Setup code, main
 * loops and the coordinator/worker front ends log.
 */
#ifndef LZR_LOG_H
#define LZR_LOG_H

#include <stdbool.h>

typedef enum { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG } log_level_t;

/* Sets the process-wide component name ("lzr-worker"), the minimum level, and whether lines go
 * to syslog instead of stderr. Call once at start; until then lines go to stderr at INFO. */
void log_init(const char *component, log_level_t level, bool use_syslog);

/* Parses "error", "warn", "info" or "debug"; returns 0 and fills *out, or LZR_EINVAL. */
int log_level_parse(const char *s, log_level_t *out);

/* Writes one line "TIME LEVEL component: message" when level is enabled. */
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* True when a line at this level would be written. */
bool log_enabled(log_level_t level);

#endif
