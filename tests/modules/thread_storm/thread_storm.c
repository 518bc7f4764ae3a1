/* thread_storm: creates threads (each blocks on a futex forever) until
 * thread_create refuses; with max_threads 8 and the main thread counted, 7
 * must succeed and the 8th fail with -AISOS_ELIMIT. Then serves the result. */
#include <aisos/sys.h>
#include <aisos/thread.h>
#include <stdio.h>

static uint32_t s_never = 0;
static int64_t s_created;
static int64_t s_error;

static int64_t block_forever(void* argument)
{
    for (;;)
        aisos_sys_futex_wait(&s_never, 0, -1);
    return 0;
}

int main(void)
{
    aisos_log("thread_storm: started");
    for (;;) {
        aisos_thread_t thread;
        /* Small stacks: the memory limit must not be what stops us. */
        int64_t result = aisos_thread_create_with_stack(&thread, block_forever, 0, 16 * 1024);
        if (result < 0) {
            s_error = result;
            break;
        }
        if (++s_created > 1000)
            break; /* the limit is not enforced; s_error stays 0 */
    }
    aisos_logf("thread_storm: created %lld threads, then error %lld", (long long)s_created, (long long)s_error);

    static struct aisos_request request;
    static char body[4096];
    for (;;) {
        if (aisos_request_receive(&request, body, sizeof(body), -1) < 0) {
            aisos_sleep_ns(100000000);
            continue;
        }
        char json[128];
        snprintf(json, sizeof(json), "{\"created\":%lld,\"error\":%lld,\"error_name\":\"%s\"}", (long long)s_created,
                 (long long)s_error, aisos_error_name(s_error));
        aisos_respond_str(request.id, 200, "application/json", json);
    }
}
