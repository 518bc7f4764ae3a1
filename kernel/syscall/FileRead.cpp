// AISOS_SYS_FILE_READ (path, path_length, offset, buffer, length): bytes of
// a /fs file the manifest lets the module read; the count read (0 at the end).
#include "kernel/fs/Storage.h"
#include "kernel/mm/Heap.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_file_read(const Arguments& arguments)
{
    char buffer[max_path_length];
    std::string_view path;
    if (int64_t checked = copy_path(arguments.a0, arguments.a1, buffer, path, PathAccess::Read); checked < 0)
        return checked;
    uint64_t offset = arguments.a2, destination = arguments.a3, length = arguments.a4;
    if (!is_module_buffer(destination, length, BufferAccess::Write))
        return error_result(AISOS_EFAULT);
    // Through a kernel bounce buffer, a chunk at a time: the storage lock is
    // never held while user memory is touched.
    constexpr size_t chunk = 256 * 1024;
    auto bounce = heap::allocate(chunk);
    if (bounce.is_error())
        return error_result(AISOS_ENOMEM);
    auto* bytes = static_cast<uint8_t*>(bounce.value());
    uint64_t done = 0;
    int64_t result = 0;
    while (done < length) {
        size_t want = length - done < chunk ? length - done : chunk;
        auto read = storage::read_file(fs_path(path), offset + done, { bytes, want });
        if (read.is_error()) {
            result = error_result(read.error());
            break;
        }
        if (read.value() == 0)
            break;
        if (auto copied = proc::copy_to_user(destination + done, bytes, read.value()); copied.is_error()) {
            result = error_result(copied.error());
            break;
        }
        done += read.value();
        if (read.value() < want)
            break;
    }
    heap::free(bounce.value());
    return result < 0 ? result : static_cast<int64_t>(done);
}

} // namespace aisos::syscall
