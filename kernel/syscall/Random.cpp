// AISOS_SYS_RANDOM (buffer, length <= 256): bytes from a kernel CSPRNG
// (ChaCha20, seeded by RDSEED/RDRAND) kept for modules, apart from the one
// that makes the kernel's own secrets.
#include "kernel/cpu/HardwareEntropy.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"
#include "lib/crypto/Csprng.h"

#include <new>

namespace aisos::syscall {

namespace {

Spinlock s_lock;
random::HardwareEntropy s_entropy;
alignas(crypto::Csprng) uint8_t s_storage[sizeof(crypto::Csprng)];
crypto::Csprng* s_generator = nullptr;

} // namespace

int64_t sys_random(const Arguments& arguments)
{
    constexpr size_t max_length = 256;
    if (arguments.a1 > max_length)
        return error_result(AISOS_EINVAL);
    uint8_t bytes[max_length];
    {
        SpinlockGuard guard(s_lock);
        if (!s_generator) {
            auto* generator = new (s_storage) crypto::Csprng(s_entropy);
            if (auto seeded = generator->seed(); seeded.is_error())
                return error_result(AISOS_EIO);
            s_generator = generator;
        }
        if (auto filled = s_generator->fill({ bytes, arguments.a1 }); filled.is_error())
            return error_result(AISOS_EIO);
    }
    auto copied = proc::copy_to_user(arguments.a0, bytes, arguments.a1);
    __builtin_memset(bytes, 0, sizeof(bytes));
    return result_or_error(copied);
}

} // namespace aisos::syscall
