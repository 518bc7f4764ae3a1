// The C++ runtime a freestanding module needs: operator new/delete over
// malloc, the pure-virtual trap, atexit registration (a no-op: modules end
// by AISOS_SYS_EXIT and never run static destructors) and the guards of
// function-local statics.
#include <aisos/sys.h>
#include <new>
#include <stdint.h>
#include <stdlib.h>

namespace std {
const nothrow_t nothrow{};
}

namespace {

// Plain new must not return nullptr (the compiler assumes it does not), and
// without exceptions it cannot throw: it ends the module with a log line.
void* allocate_or_die(size_t size, size_t alignment)
{
    void* pointer = alignment <= 16 ? malloc(size) : aligned_alloc(alignment, size);
    if (!pointer) {
        aisos_logf("operator new: out of memory (%zu bytes)", size);
        abort();
    }
    return pointer;
}

void* allocate(size_t size, size_t alignment)
{
    return alignment <= 16 ? malloc(size) : aligned_alloc(alignment, size);
}

} // namespace

void* operator new(size_t size) { return allocate_or_die(size, 16); }
void* operator new[](size_t size) { return allocate_or_die(size, 16); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return allocate(size, 16); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return allocate(size, 16); }
void* operator new(size_t size, std::align_val_t alignment) { return allocate_or_die(size, size_t(alignment)); }
void* operator new[](size_t size, std::align_val_t alignment) { return allocate_or_die(size, size_t(alignment)); }
void* operator new(size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    return allocate(size, size_t(alignment));
}
void* operator new[](size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept
{
    return allocate(size, size_t(alignment));
}
void operator delete(void* pointer) noexcept { free(pointer); }
void operator delete[](void* pointer) noexcept { free(pointer); }
void operator delete(void* pointer, size_t) noexcept { free(pointer); }
void operator delete[](void* pointer, size_t) noexcept { free(pointer); }
void operator delete(void* pointer, std::align_val_t) noexcept { free(pointer); }
void operator delete[](void* pointer, std::align_val_t) noexcept { free(pointer); }
void operator delete(void* pointer, size_t, std::align_val_t) noexcept { free(pointer); }
void operator delete[](void* pointer, size_t, std::align_val_t) noexcept { free(pointer); }

extern "C" {

// The linker resolves references to __dso_handle (from __cxa_atexit calls)
// to this module's own.
__attribute__((visibility("hidden"))) void* __dso_handle = &__dso_handle;

int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

void __cxa_pure_virtual()
{
    aisos_log("pure virtual function called");
    abort();
}

// Function-local statics: byte 0 of the guard says "initialised" (what the
// compiler's inline fast path tests), byte 1 says "being initialised". The
// thread that wins byte 1 runs the initialiser; the others yield until byte
// 0 is set or the winner gave up (__cxa_guard_abort).
int __cxa_guard_acquire(uint64_t* guard)
{
    auto* bytes = reinterpret_cast<uint8_t*>(guard);
    for (;;) {
        if (__atomic_load_n(&bytes[0], __ATOMIC_ACQUIRE))
            return 0;
        uint8_t expected = 0;
        if (__atomic_compare_exchange_n(&bytes[1], &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            if (__atomic_load_n(&bytes[0], __ATOMIC_ACQUIRE)) {
                __atomic_store_n(&bytes[1], 0, __ATOMIC_RELEASE);
                return 0;
            }
            return 1;
        }
        aisos_sys_yield();
    }
}

void __cxa_guard_release(uint64_t* guard)
{
    auto* bytes = reinterpret_cast<uint8_t*>(guard);
    __atomic_store_n(&bytes[0], 1, __ATOMIC_RELEASE);
    __atomic_store_n(&bytes[1], 0, __ATOMIC_RELEASE);
}

void __cxa_guard_abort(uint64_t* guard)
{
    __atomic_store_n(&reinterpret_cast<uint8_t*>(guard)[1], 0, __ATOMIC_RELEASE);
}

} // extern "C"
