/* spin: one thread per allowed thread (max_threads), each spinning in user
 * mode forever without a system call. Only preemption by the APIC timer
 * takes the CPUs back: the kernel, its network core and other modules must
 * stay responsive while this runs. */
#include <aisos/sys.h>
#include <aisos/thread.h>

static volatile uint64_t s_counters[64];

static int64_t spin(void* argument)
{
    volatile uint64_t* counter = &s_counters[(uintptr_t)argument % 64];
    for (;;)
        *counter += 1;
    return 0;
}

int main(void)
{
    struct aisos_system_info info;
    int64_t result = aisos_sys_system_info(&info);
    if (result < 0) {
        aisos_logf("spin: system_info failed: %s", aisos_error_name(result));
        return 1;
    }
    uint32_t threads = info.thread_limit ? info.thread_limit : 1;
    uint32_t started = 1; /* this thread */
    for (uint32_t i = 1; i < threads; ++i) {
        aisos_thread_t thread;
        result = aisos_thread_create(&thread, spin, (void*)(uintptr_t)i);
        if (result < 0) {
            aisos_logf("spin: thread %u: %s", i, aisos_error_name(result));
            break;
        }
        ++started;
    }
    aisos_logf("spin: spinning on %u threads", started);
    spin(0);
    return 0;
}
