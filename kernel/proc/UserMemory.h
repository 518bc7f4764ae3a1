#pragma once

// The only way the kernel reads or writes memory a module named. Every
// range is first checked to lie wholly in the user half of the address
// space (so a module can never make the kernel touch kernel memory), then
// copied with a routine whose page faults become an error instead of a
// crash (so an unmapped or read-only user page is just -EFAULT, even when
// another thread of the module unmaps it mid-copy).

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::proc {

inline constexpr uint64_t user_space_end = 0x0000800000000000ull; // first non-user address

constexpr bool is_user_range(uint64_t address, uint64_t length)
{
    return address < user_space_end && length <= user_space_end - address;
}

// Error::fault (a bad address) when the range is not all user, mapped, and
// (for writes) writable.
ErrorOr<void> copy_from_user(void* destination, uint64_t user_source, size_t length);
ErrorOr<void> copy_to_user(uint64_t user_destination, const void* source, size_t length);

template<typename T>
ErrorOr<T> read_user(uint64_t address)
{
    T value;
    TRY(copy_from_user(&value, address, sizeof(T)));
    return value;
}

template<typename T>
ErrorOr<void> write_user(uint64_t address, const T& value)
{
    return copy_to_user(address, &value, sizeof(T));
}

// Called by the page-fault handler for a kernel-mode fault: when the
// faulting instruction is the user copy, redirects it to its error exit
// and returns true.
bool fix_up_user_copy_fault(uint64_t& rip);

void enable_smap_handling(bool smap); // once at boot: does the CPU have SMAP enabled

} // namespace aisos::proc
