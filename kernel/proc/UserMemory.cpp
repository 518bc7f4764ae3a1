#include "kernel/proc/UserMemory.h"

extern "C" {
bool proc_smap_enabled = false;
uint64_t proc_user_copy(void* destination, const void* source, uint64_t length);
extern const char proc_user_copy_start[];
extern const char proc_user_copy_end[];
extern const char proc_user_copy_fault[];
}

namespace aisos::proc {

namespace {

Error bad_address() { return Error { ErrorCode::BadAddress, "bad address" }; }

} // namespace

ErrorOr<void> copy_from_user(void* destination, uint64_t user_source, size_t length)
{
    if (!is_user_range(user_source, length))
        return bad_address();
    if (length == 0)
        return {};
    if (proc_user_copy(destination, reinterpret_cast<const void*>(user_source), length) != 0)
        return bad_address();
    return {};
}

ErrorOr<void> copy_to_user(uint64_t user_destination, const void* source, size_t length)
{
    if (!is_user_range(user_destination, length))
        return bad_address();
    if (length == 0)
        return {};
    if (proc_user_copy(reinterpret_cast<void*>(user_destination), source, length) != 0)
        return bad_address();
    return {};
}

bool fix_up_user_copy_fault(uint64_t& rip)
{
    auto start = reinterpret_cast<uint64_t>(proc_user_copy_start);
    auto end = reinterpret_cast<uint64_t>(proc_user_copy_end);
    if (rip < start || rip >= end)
        return false;
    rip = reinterpret_cast<uint64_t>(proc_user_copy_fault);
    return true;
}

void enable_smap_handling(bool smap) { proc_smap_enabled = smap; }

} // namespace aisos::proc
