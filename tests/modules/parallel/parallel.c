/* parallel: GET /parallel?threads=N runs a fixed CPU-bound integer workload
 * (PARALLEL_ITERATIONS steps of xorshift64, split evenly) on N threads and
 * answers {"threads": N, "ns": elapsed, "checksum": ...}. The checksum does
 * not depend on N, which shows the work was really done. */
#include <aisos/sys.h>
#include <aisos/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARALLEL_ITERATIONS 200000000ull
#define MAX_THREADS 16

struct share {
    uint64_t first; /* index of the first step of this share */
    uint64_t count;
    uint64_t result;
};

/* Each step i mixes a generator seeded by i's block, so any split of the
 * index range gives the same total. */
static int64_t work(void* argument)
{
    struct share* share = argument;
    uint64_t sum = 0;
    uint64_t state = 0x9e3779b97f4a7c15ull ^ share->first;
    for (uint64_t i = 0; i < share->count; ++i) {
        if (((share->first + i) & 0xffff) == 0)
            state = 0x9e3779b97f4a7c15ull ^ (share->first + i); /* reseed per 64 Ki block */
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        sum += state;
    }
    share->result = sum;
    return 0;
}

static void serve(const struct aisos_request* request, uint32_t thread_limit)
{
    char value[16];
    long threads = 1;
    if (aisos_request_query(request, "threads", value, sizeof(value)))
        threads = strtol(value, NULL, 10);
    if (threads < 1 || threads > MAX_THREADS || (uint32_t)threads > thread_limit) {
        char json[128];
        snprintf(json, sizeof(json), "{\"error\":{\"code\":400,\"message\":\"threads must be 1..%u\"}}",
                 thread_limit < MAX_THREADS ? thread_limit : MAX_THREADS);
        aisos_respond_str(request->id, 400, "application/json", json);
        return;
    }
    /* Shares start on 64 Ki boundaries so every thread reseeds where a
     * single thread would. */
    static struct share shares[MAX_THREADS];
    uint64_t blocks = PARALLEL_ITERATIONS >> 16;
    uint64_t next = 0;
    for (long i = 0; i < threads; ++i) {
        uint64_t mine = blocks / (uint64_t)threads + ((uint64_t)i < blocks % (uint64_t)threads ? 1 : 0);
        shares[i].first = next << 16;
        shares[i].count = mine << 16;
        next += mine;
    }
    shares[threads - 1].count += PARALLEL_ITERATIONS - (next << 16);

    int64_t start = aisos_now_ns();
    aisos_thread_t workers[MAX_THREADS];
    long started = 1;
    int64_t error = 0;
    for (long i = 1; i < threads; ++i) {
        error = aisos_thread_create(&workers[i], work, &shares[i]);
        if (error < 0)
            break;
        ++started;
    }
    work(&shares[0]);
    for (long i = 1; i < started; ++i)
        aisos_thread_join(&workers[i], NULL);
    if (started < threads) {
        /* Do what the missing threads would have done, to keep the answer right. */
        for (long i = started; i < threads; ++i)
            work(&shares[i]);
    }
    int64_t elapsed = aisos_now_ns() - start;
    uint64_t checksum = 0;
    for (long i = 0; i < threads; ++i)
        checksum += shares[i].result;

    char json[256];
    snprintf(json, sizeof(json), "{\"threads\":%ld,\"started\":%ld,\"ns\":%lld,\"checksum\":\"%016llx\",\"error\":%lld}",
             threads, started, (long long)elapsed, (unsigned long long)checksum, (long long)error);
    aisos_respond_str(request->id, 200, "application/json", json);
    aisos_logf("parallel: %ld threads, %lld ms", threads, (long long)(elapsed / 1000000));
}

int main(void)
{
    struct aisos_system_info info;
    memset(&info, 0, sizeof(info));
    uint32_t thread_limit = 1;
    if (aisos_sys_system_info(&info) == 0 && info.thread_limit)
        thread_limit = info.thread_limit;
    aisos_logf("parallel: started, %u CPUs, up to %u threads", info.cpu_count, thread_limit);
    static struct aisos_request request;
    static char body[4096];
    for (;;) {
        if (aisos_request_receive(&request, body, sizeof(body), -1) < 0) {
            aisos_sleep_ns(100000000);
            continue;
        }
        serve(&request, thread_limit);
    }
}
