// AISOS_SYS_SYSTEM_INFO (struct aisos_system_info*): the CPUs module
// threads run on, the module's limits and use, and the GPUs found.
#include "kernel/drivers/gpu/NvidiaGpu.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_system_info(const Arguments& arguments)
{
    proc::Process& process = current_process();
    aisos_system_info info {};
    info.abi_version = AISOS_ABI_VERSION;
    info.cpu_count = proc::scheduler::cpu_count();
    info.memory_limit = process.limits().max_memory;
    info.memory_used = process.address_space().memory_used();
    info.thread_limit = process.limits().max_threads;
    info.gpu_count = static_cast<uint32_t>(pci::gpus().size());
    std::string_view name = process.name();
    size_t length = name.size() < sizeof(info.module_name) - 1 ? name.size() : sizeof(info.module_name) - 1;
    __builtin_memcpy(info.module_name, name.data(), length);
    return result_or_error(proc::write_user(arguments.a0, info));
}

} // namespace aisos::syscall
