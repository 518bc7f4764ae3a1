// AISOS_SYS_FILE_WRITE (path, path_length, data, length): atomically
// replaces (or creates) a /fs file the manifest lets the module write;
// durable when the call returns.
#include "kernel/fs/Storage.h"
#include "kernel/mm/Heap.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_file_write(const Arguments& arguments)
{
    // The file system takes the whole content at once; bounded so one call
    // cannot pin a large part of kernel memory.
    constexpr uint64_t max_length = 64ull << 20;
    char buffer[max_path_length];
    std::string_view path;
    if (int64_t checked = copy_path(arguments.a0, arguments.a1, buffer, path, PathAccess::Write); checked < 0)
        return checked;
    uint64_t source = arguments.a2, length = arguments.a3;
    if (length > max_length)
        return error_result(AISOS_E2BIG);
    if (!is_module_buffer(source, length, BufferAccess::Read))
        return error_result(AISOS_EFAULT);
    uint8_t* data = nullptr;
    if (length > 0) {
        auto allocated = heap::allocate(length);
        if (allocated.is_error())
            return error_result(AISOS_ENOMEM);
        data = static_cast<uint8_t*>(allocated.value());
        if (auto copied = proc::copy_from_user(data, source, length); copied.is_error()) {
            heap::free(data);
            return error_result(copied.error());
        }
    }
    auto written = storage::write_file(fs_path(path), { data, length });
    if (data)
        heap::free(data);
    return result_or_error(written);
}

} // namespace aisos::syscall
