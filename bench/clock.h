/* The two clocks of the bench's C loops: the wall (monotonic) and the process's CPU time (user
 * and system), both in seconds. Included by bench/c_easy.c and bench/c_multi.c. */
#ifndef TD_BENCH_CLOCK_H
#define TD_BENCH_CLOCK_H
#include <sys/resource.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
         (double)u.ru_stime.tv_usec / 1e6;
}
#endif
