/* Streaming-read memory bandwidth: every thread sums its slice of one large
 * buffer, several passes, best pass reported. Usage: membw THREADS MIB.
 * Prints "read_gbps=<GB/s>" (10^9 bytes per second). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const uint64_t* begin;
    size_t count;
    uint64_t sum;
    pthread_barrier_t* barrier;
} Slice;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void* reader(void* arg)
{
    Slice* slice = arg;
    /* Four independent accumulators keep the loop load-bound, not add-bound. */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    pthread_barrier_wait(slice->barrier);
    for (size_t i = 0; i + 4 <= slice->count; i += 4) {
        a += slice->begin[i];
        b += slice->begin[i + 1];
        c += slice->begin[i + 2];
        d += slice->begin[i + 3];
    }
    slice->sum = a + b + c + d;
    pthread_barrier_wait(slice->barrier);
    return NULL;
}

int main(int argc, char** argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    size_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 1024;
    if (threads < 1 || threads > 1024 || mib < 64) {
        fprintf(stderr, "usage: membw THREADS MIB (MIB >= 64)\n");
        return 2;
    }
    size_t words = mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t* buffer = malloc(words * sizeof(uint64_t));
    if (!buffer) {
        fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < words; ++i)
        buffer[i] = i;
    double best = 0;
    uint64_t check = 0;
    for (int pass = 0; pass < 5; ++pass) {
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, threads + 1);
        pthread_t ids[1024];
        Slice slices[1024];
        size_t per = words / threads;
        for (int t = 0; t < threads; ++t) {
            slices[t] = (Slice) { buffer + t * per, per, 0, &barrier };
            pthread_create(&ids[t], NULL, reader, &slices[t]);
        }
        pthread_barrier_wait(&barrier);
        double start = now_seconds();
        pthread_barrier_wait(&barrier);
        double elapsed = now_seconds() - start;
        for (int t = 0; t < threads; ++t) {
            pthread_join(ids[t], NULL);
            check += slices[t].sum;
        }
        pthread_barrier_destroy(&barrier);
        double gbps = (double)(per * threads * sizeof(uint64_t)) / elapsed / 1e9;
        if (gbps > best)
            best = gbps;
    }
    printf("read_gbps=%.2f threads=%d mib=%zu check=%llu\n", best, threads, mib, (unsigned long long)(check & 0xff));
    free(buffer);
    return 0;
}
