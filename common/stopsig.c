/*
 * stopsig: one place that installs the stop signals' handlers (see stopsig.h).
 */
#include "common/stopsig.h"

#include <string.h>

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void stopsig_route(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

volatile sig_atomic_t *stopsig_flag(void)
{
    stopsig_route(request_stop);
    return &stop_requested;
}
