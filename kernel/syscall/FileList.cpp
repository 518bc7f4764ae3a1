// AISOS_SYS_FILE_LIST (path, path_length, buffer, length): a directory the
// manifest lets the module read, one "<f|d> <size> <name>\n" line per entry;
// the byte count, or -AISOS_E2BIG when it does not fit.
#include "kernel/fs/Storage.h"
#include "kernel/lib/Format.h"
#include "kernel/mm/Heap.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_file_list(const Arguments& arguments)
{
    char path_buffer[max_path_length];
    std::string_view path;
    if (int64_t checked = copy_path(arguments.a0, arguments.a1, path_buffer, path, PathAccess::Read); checked < 0)
        return checked;
    uint64_t destination = arguments.a2;
    uint64_t capacity = arguments.a3 < (1u << 20) ? arguments.a3 : (1u << 20);
    if (!is_module_buffer(destination, arguments.a3, BufferAccess::Write))
        return error_result(AISOS_EFAULT);
    auto allocated = heap::allocate(capacity > 0 ? capacity : 1);
    if (allocated.is_error())
        return error_result(AISOS_ENOMEM);
    auto* text = static_cast<char*>(allocated.value());
    size_t used = 0;
    bool overflow = false;
    auto listed = storage::list(fs_path(path), [&](const fs::DirectoryEntry& entry) -> ErrorOr<void> {
        char line[320];
        size_t length = kformat(line, sizeof(line), "{} {} {}\n", entry.type == fs::NodeType::Directory ? "d" : "f",
            entry.type == fs::NodeType::Directory ? 0 : entry.size, entry.name).size();
        if (used + length > capacity) {
            overflow = true;
            return Error { ErrorCode::Overflow, "listing does not fit" };
        }
        __builtin_memcpy(text + used, line, length);
        used += length;
        return {};
    });
    int64_t result;
    if (overflow)
        result = error_result(AISOS_E2BIG);
    else if (listed.is_error())
        result = error_result(listed.error());
    else if (auto copied = proc::copy_to_user(destination, text, used); copied.is_error())
        result = error_result(copied.error());
    else
        result = static_cast<int64_t>(used);
    heap::free(text);
    return result;
}

} // namespace aisos::syscall
