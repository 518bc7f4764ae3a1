/*
 * aiSOS module SDK: threads, a mutex and a condition variable over the
 * kernel's futex calls (src/thread.c).
 *
 * A thread runs on a stack this library maps with AISOS_SYS_MEMORY_MAP (it
 * counts against the module's max_memory); aisos_thread_join unmaps it.
 * A thread that is never joined keeps its stack until the module exits.
 * There are no guard pages (the ABI has no mprotect): keep deep recursion
 * and large locals off thread stacks or ask for a bigger one.
 */
#ifndef AISOS_THREAD_H
#define AISOS_THREAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AISOS_THREAD_STACK_DEFAULT (256u * 1024u)

typedef int64_t (*aisos_thread_fn)(void* argument);

typedef struct aisos_thread {
    int64_t id;          /* the kernel's thread id */
    void* stack;         /* the mapping, unmapped by join */
    size_t stack_size;
} aisos_thread_t;

/* Starts fn(argument) on a new thread with a stack of AISOS_THREAD_STACK_DEFAULT
 * bytes; its return value becomes the thread's exit code. 0 or -AISOS_E*
 * (-AISOS_ELIMIT at the manifest's max_threads, -AISOS_ENOMEM, ...). */
int64_t aisos_thread_create(aisos_thread_t* thread, aisos_thread_fn fn, void* argument);
/* The same with a chosen stack size (rounded up to 4 KiB, at least 16 KiB). */
int64_t aisos_thread_create_with_stack(aisos_thread_t* thread, aisos_thread_fn fn, void* argument, size_t stack_size);
/* Waits for the thread, stores its code (when code is not NULL), frees its stack. */
int64_t aisos_thread_join(aisos_thread_t* thread, int64_t* code);
/* Ends the calling thread (its stack stays mapped until joined). */
__attribute__((noreturn)) void aisos_thread_exit(int64_t code);

/* A futex mutex (0 unlocked, 1 locked, 2 locked with waiters). Zero-initialised
 * is unlocked: AISOS_MUTEX_INIT or memset 0. Not recursive. */
typedef struct aisos_mutex {
    uint32_t state;
} aisos_mutex_t;
#define AISOS_MUTEX_INIT {0}

void aisos_mutex_lock(aisos_mutex_t* mutex);
int aisos_mutex_trylock(aisos_mutex_t* mutex); /* 1 when taken */
void aisos_mutex_unlock(aisos_mutex_t* mutex);

/* A condition variable: a sequence number the waiters sleep on. */
typedef struct aisos_cond {
    uint32_t sequence;
} aisos_cond_t;
#define AISOS_COND_INIT {0}

/* Releases mutex, waits for a signal (spurious wake-ups happen: wait in a
 * loop on the predicate), takes mutex again. */
void aisos_cond_wait(aisos_cond_t* cond, aisos_mutex_t* mutex);
/* The same with a timeout: 0, or -AISOS_ETIMEDOUT. */
int64_t aisos_cond_timedwait(aisos_cond_t* cond, aisos_mutex_t* mutex, int64_t timeout_ns);
void aisos_cond_signal(aisos_cond_t* cond);
void aisos_cond_broadcast(aisos_cond_t* cond);

#ifdef __cplusplus
}
#endif

#endif /* AISOS_THREAD_H */
