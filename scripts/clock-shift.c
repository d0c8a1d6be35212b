// LD_PRELOAD shim for scripts/chaos.sh's clock-jump case: shifts one process's wall clock by the
// number of seconds in the file $CLOCK_SHIFT_FILE, read at every call, so that a test can jump the
// clock of a running process (and of nothing else on the machine). With $CLOCK_SHIFT_MONOTONIC=1
// the monotonic clocks jump too, which shows that the case can fail.
// (libfaketime does this too, but under it a Swift program sees no command-line arguments.)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift_seconds(void) {
    const char *path = getenv("CLOCK_SHIFT_FILE");
    long seconds = 0;
    FILE *file = path ? fopen(path, "r") : NULL;
    if (file) {
        if (fscanf(file, "%ld", &seconds) != 1) seconds = 0;
        fclose(file);
    }
    return seconds;
}

static int is_monotonic(clockid_t id) {
    return id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_RAW || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_BOOTTIME;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int result = real(id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || (is_monotonic(id) && getenv("CLOCK_SHIFT_MONOTONIC"))))
        ts->tv_sec += shift_seconds();
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return -1;
    tv->tv_sec = now.tv_sec;
    tv->tv_usec = now.tv_nsec / 1000;
    (void)tz;
    return 0;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}
