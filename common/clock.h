/*
 * clock: the process's two clocks — a monotonic one for timeouts, rates and durations, and the
 * wall clock for timestamps that leave the process — and a sleep, in the units callers use.
 */
#ifndef LZR_CLOCK_H
#define LZR_CLOCK_H

#include <stdint.h>

/* Monotonic time in nanoseconds and milliseconds (since an arbitrary start). */
uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);

/* Wall-clock time in microseconds since the Unix epoch. */
uint64_t clock_wall_us(void);

/* Sleeps about ms milliseconds (less when a signal arrives). */
void clock_sleep_ms(uint32_t ms);

#endif
