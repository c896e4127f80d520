/*  zc_bench — small helpers shared by the microbenchmarks in bench/micro
    (clocks, memory, argument parsing). Header-only: every function is
    static inline. Not part of any product library.
*/
#ifndef ZC_BENCH_H_INCLUDED
#define ZC_BENCH_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

//  Monotonic wall clock, seconds.
static inline double
zc_bench_wall_s (void)
{
    struct timespec ts;
    if (clock_gettime (CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

//  CPU time (user + system) of this process, seconds.
static inline double
zc_bench_cpu_s (void)
{
    struct rusage usage;
    if (getrusage (RUSAGE_SELF, &usage) != 0)
        return 0;
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

//  A field of /proc/self/status in KiB ("VmRSS", "RssAnon", "VmHWM"), or 0.
static inline uint64_t
zc_bench_status_kib (const char *field)
{
    FILE *file = fopen ("/proc/self/status", "r");
    if (!file)
        return 0;
    char line[256];
    uint64_t value = 0;
    size_t length = strlen (field);
    while (fgets (line, sizeof line, file))
        if (strncmp (line, field, length) == 0 && line[length] == ':') {
            value = strtoull (line + length + 1, NULL, 10);
            break;
        }
    fclose (file);
    return value;
}

//  Parses a non-negative integer option value; exits on garbage.
static inline uint64_t
zc_bench_parse_u64 (const char *name, const char *value)
{
    char *end = NULL;
    unsigned long long parsed = value ? strtoull (value, &end, 10) : 0;
    if (!value || !*value || *end || value[0] == '-') {
        fprintf (stderr, "%s: expected a non-negative integer, got '%s'\n", name,
                 value ? value : "");
        exit (2);
    }
    return (uint64_t)parsed;
}

#endif
