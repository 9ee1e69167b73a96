/*
 * stopsig: SIGINT and SIGTERM ask a long-running command (the coordinator, the agent, a scan)
 * to stop at its next safe point. The handlers only set a flag; the loops read it.
 */
#ifndef LZR_STOPSIG_H
#define LZR_STOPSIG_H

#include <signal.h>

/* Routes SIGINT and SIGTERM to handler, which must be async-signal-safe (set a flag). */
void stopsig_route(void (*handler)(int));

/* Routes SIGINT and SIGTERM to a flag of this module's and returns it: 0 until either comes. */
volatile sig_atomic_t *stopsig_flag(void);

#endif
