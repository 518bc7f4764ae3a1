// AISOS_SYS_LOG (text, length): one line on the kernel log, prefixed with
// the module's name. Control characters become '?' so a module cannot forge
// console lines (tests and tools match "aisos: ..." lines).
#include "kernel/console/Log.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_log(const Arguments& arguments)
{
    constexpr size_t max_line = 1024;
    if (arguments.a1 > max_line)
        return error_result(AISOS_EINVAL);
    char line[max_line];
    size_t length = arguments.a1;
    if (auto copied = proc::copy_from_user(line, arguments.a0, length); copied.is_error())
        return error_result(copied.error());
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
        --length;
    for (size_t i = 0; i < length; ++i) {
        if (static_cast<unsigned char>(line[i]) < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    }
    log::info("{}: {}", current_process().name(), std::string_view(line, length));
    return 0;
}

} // namespace aisos::syscall
