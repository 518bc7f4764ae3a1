// AISOS_SYS_FILE_STAT (path, path_length, struct aisos_file_stat*).
#include "kernel/fs/Storage.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_file_stat(const Arguments& arguments)
{
    char buffer[max_path_length];
    std::string_view path;
    if (int64_t checked = copy_path(arguments.a0, arguments.a1, buffer, path, PathAccess::Read); checked < 0)
        return checked;
    auto stat = storage::stat(fs_path(path));
    if (stat.is_error())
        return error_result(stat.error());
    aisos_file_stat out {};
    out.size = stat.value().size;
    out.mtime_s = stat.value().mtime > 0 ? static_cast<uint64_t>(stat.value().mtime) : 0;
    out.is_directory = stat.value().type == fs::NodeType::Directory ? 1 : 0;
    return result_or_error(proc::write_user(arguments.a2, out));
}

} // namespace aisos::syscall
