// AISOS_SYS_FILE_MAP (path, path_length, uint64_t* size_out): maps a whole
// /fs file read-only into the module. The pages are the page cache's own
// (storage::map_file pins them): no copy, and they stay valid even if the
// file is replaced, until memory_unmap or the module's end.
#include "kernel/fs/Storage.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_file_map(const Arguments& arguments)
{
    char buffer[max_path_length];
    std::string_view path;
    if (int64_t checked = copy_path(arguments.a0, arguments.a1, buffer, path, PathAccess::Read); checked < 0)
        return checked;
    if (auto writable = proc::write_user<uint64_t>(arguments.a2, 0); writable.is_error())
        return error_result(writable.error());
    auto mapping = storage::map_file(fs_path(path));
    if (mapping.is_error())
        return error_result(mapping.error());
    storage::FileMapping* file = mapping.value();
    if (file->page_count() == 0) {
        storage::unmap_file(file);
        return error_result(AISOS_EINVAL); // an empty file has nothing to map
    }
    auto release = [](void* owner) { storage::unmap_file(static_cast<storage::FileMapping*>(owner)); };
    auto address = current_process().address_space().map_frames_read_only(file->pages(), release, file);
    if (address.is_error()) {
        storage::unmap_file(file);
        return error_result(address.error());
    }
    (void)proc::write_user<uint64_t>(arguments.a2, file->size());
    return static_cast<int64_t>(address.value());
}

} // namespace aisos::syscall
