/* Local file-system figures inside the Linux guest of bench/fs.py, built
 * static by the host (gcc -static) and run from the guest's /init:
 *
 *   fsbench write FILE MIB     sequential 1 MiB writes, then fsync
 *   fsbench read FILE          sequential 1 MiB reads (caller drops caches first)
 *   fsbench rand FILE SECONDS  4 KiB reads at random 4 KiB-aligned offsets
 *                              with O_DIRECT (no page cache), one at a time
 *
 * Each prints one line "fsbench: <what> bytes <n> seconds <s> ops <n>" that
 * bench/fs.py parses. The clock is CLOCK_MONOTONIC. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int fail(const char* what)
{
    perror(what);
    return 1;
}

static void* aligned_buffer(size_t size)
{
    void* p = NULL;
    if (posix_memalign(&p, 4096, size) != 0)
        return NULL;
    memset(p, 0x5a, size);
    return p;
}

int main(int argc, char** argv)
{
    const size_t piece = 1 << 20;
    if (argc < 3) {
        fprintf(stderr, "usage: fsbench write FILE MIB | read FILE | rand FILE SECONDS\n");
        return 2;
    }
    const char* mode = argv[1];
    const char* path = argv[2];
    if (strcmp(mode, "write") == 0 && argc == 4) {
        long mib = atol(argv[3]);
        unsigned char* buffer = aligned_buffer(piece);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (!buffer || fd < 0)
            return fail("fsbench write: open");
        double start = now();
        for (long i = 0; i < mib; ++i) {
            memcpy(buffer, &i, sizeof i); /* every piece differs */
            if (write(fd, buffer, piece) != (ssize_t)piece)
                return fail("fsbench write: write");
        }
        if (fsync(fd) != 0)
            return fail("fsbench write: fsync");
        double seconds = now() - start;
        close(fd);
        printf("fsbench: write bytes %lld seconds %.6f ops %ld\n", (long long)mib * (long long)piece, seconds, mib);
        return 0;
    }
    if (strcmp(mode, "read") == 0 && argc == 3) {
        unsigned char* buffer = aligned_buffer(piece);
        int fd = open(path, O_RDONLY);
        if (!buffer || fd < 0)
            return fail("fsbench read: open");
        long long total = 0;
        long ops = 0;
        double start = now();
        for (;;) {
            ssize_t got = read(fd, buffer, piece);
            if (got < 0)
                return fail("fsbench read: read");
            if (got == 0)
                break;
            total += got;
            ++ops;
        }
        double seconds = now() - start;
        close(fd);
        printf("fsbench: read bytes %lld seconds %.6f ops %ld\n", total, seconds, ops);
        return 0;
    }
    if (strcmp(mode, "rand") == 0 && argc == 4) {
        double limit = atof(argv[3]);
        unsigned char* buffer = aligned_buffer(4096);
        int fd = open(path, O_RDONLY | O_DIRECT);
        struct stat info;
        if (!buffer || fd < 0 || fstat(fd, &info) != 0)
            return fail("fsbench rand: open");
        uint64_t blocks = (uint64_t)info.st_size / 4096;
        if (blocks == 0) {
            fprintf(stderr, "fsbench rand: %s is smaller than 4 KiB\n", path);
            return 1;
        }
        uint64_t state = 0x9e3779b97f4a7c15ull;
        long ops = 0;
        double start = now(), elapsed = 0;
        while (elapsed < limit) {
            state ^= state << 13; /* xorshift64 */
            state ^= state >> 7;
            state ^= state << 17;
            if (pread(fd, buffer, 4096, (off_t)((state % blocks) * 4096)) != 4096)
                return fail("fsbench rand: pread");
            ++ops;
            if ((ops & 63) == 0)
                elapsed = now() - start;
        }
        elapsed = now() - start;
        close(fd);
        printf("fsbench: rand bytes %lld seconds %.6f ops %ld\n", (long long)ops * 4096, elapsed, ops);
        return 0;
    }
    fprintf(stderr, "fsbench: bad arguments\n");
    return 2;
}
