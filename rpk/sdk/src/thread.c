/* Threads over AISOS_SYS_THREAD_CREATE, and a futex mutex and condition
 * variable (the mutex is the three-state one from Drepper, "Futexes Are
 * Tricky", 2011: 0 free, 1 taken, 2 taken and maybe waited for). */
#include <aisos/sys.h>
#include <aisos/thread.h>
#include <stdint.h>

#define PAGE_SIZE 4096u
#define MINIMUM_STACK (16u * 1024u)

/* Sits at the very top of a new thread's stack, above the stack_top the
 * kernel gets, so the thread never overwrites it. */
struct thread_start {
    aisos_thread_fn fn;
    void* argument;
};

void __aisos_thread_entry(void* start); /* crt0.S */
__attribute__((noreturn)) void __aisos_thread_main(struct thread_start* start);

void __aisos_thread_main(struct thread_start* start)
{
    aisos_sys_thread_exit(start->fn(start->argument));
}

int64_t aisos_thread_create_with_stack(aisos_thread_t* thread, aisos_thread_fn fn, void* argument, size_t stack_size)
{
    if (!thread || !fn)
        return -AISOS_EINVAL;
    if (stack_size < MINIMUM_STACK)
        stack_size = MINIMUM_STACK;
    stack_size = (stack_size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
    int64_t error = 0;
    unsigned char* stack = aisos_map(stack_size, &error);
    if (!stack)
        return error;
    /* 16 bytes reserved for the start record keep stack_top 16-byte aligned. */
    _Static_assert(sizeof(struct thread_start) == 16, "stack_top stays 16-byte aligned");
    struct thread_start* start = (struct thread_start*)(stack + stack_size) - 1;
    start->fn = fn;
    start->argument = argument;
    int64_t id = aisos_sys_thread_create(__aisos_thread_entry, start, start);
    if (id < 0) {
        aisos_unmap(stack, stack_size);
        return id;
    }
    thread->id = id;
    thread->stack = stack;
    thread->stack_size = stack_size;
    return 0;
}

int64_t aisos_thread_create(aisos_thread_t* thread, aisos_thread_fn fn, void* argument)
{
    return aisos_thread_create_with_stack(thread, fn, argument, AISOS_THREAD_STACK_DEFAULT);
}

int64_t aisos_thread_join(aisos_thread_t* thread, int64_t* code)
{
    int64_t result = aisos_sys_thread_join(thread->id, code);
    if (result < 0)
        return result;
    if (thread->stack) {
        aisos_unmap(thread->stack, thread->stack_size);
        thread->stack = 0;
    }
    return 0;
}

void aisos_thread_exit(int64_t code) { aisos_sys_thread_exit(code); }

static uint32_t compare_exchange(uint32_t* address, uint32_t expected, uint32_t desired)
{
    __atomic_compare_exchange_n(address, &expected, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    return expected; /* the value seen */
}

int aisos_mutex_trylock(aisos_mutex_t* mutex) { return compare_exchange(&mutex->state, 0, 1) == 0; }

void aisos_mutex_lock(aisos_mutex_t* mutex)
{
    uint32_t seen = compare_exchange(&mutex->state, 0, 1);
    if (seen == 0)
        return;
    /* Contended: mark "waited for" (2) and sleep until the holder wakes us. */
    if (seen != 2)
        seen = __atomic_exchange_n(&mutex->state, 2, __ATOMIC_ACQUIRE);
    while (seen != 0) {
        aisos_sys_futex_wait(&mutex->state, 2, -1);
        seen = __atomic_exchange_n(&mutex->state, 2, __ATOMIC_ACQUIRE);
    }
}

void aisos_mutex_unlock(aisos_mutex_t* mutex)
{
    if (__atomic_fetch_sub(&mutex->state, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&mutex->state, 0, __ATOMIC_RELEASE);
        aisos_sys_futex_wake(&mutex->state, 1);
    }
}

/* A waiter reads the sequence while holding the mutex, releases it and sleeps
 * while the sequence is unchanged; a signal bumps the sequence first, so a
 * signal between unlock and futex_wait makes the wait return at once
 * (-AISOS_EAGAIN) instead of being lost. */
int64_t aisos_cond_timedwait(aisos_cond_t* cond, aisos_mutex_t* mutex, int64_t timeout_ns)
{
    uint32_t sequence = __atomic_load_n(&cond->sequence, __ATOMIC_RELAXED);
    aisos_mutex_unlock(mutex);
    int64_t result = aisos_sys_futex_wait(&cond->sequence, sequence, timeout_ns);
    aisos_mutex_lock(mutex);
    return result == -AISOS_ETIMEDOUT ? result : 0;
}

void aisos_cond_wait(aisos_cond_t* cond, aisos_mutex_t* mutex) { aisos_cond_timedwait(cond, mutex, -1); }

void aisos_cond_signal(aisos_cond_t* cond)
{
    __atomic_fetch_add(&cond->sequence, 1, __ATOMIC_RELEASE);
    aisos_sys_futex_wake(&cond->sequence, 1);
}

void aisos_cond_broadcast(aisos_cond_t* cond)
{
    __atomic_fetch_add(&cond->sequence, 1, __ATOMIC_RELEASE);
    aisos_sys_futex_wake(&cond->sequence, UINT32_MAX);
}
