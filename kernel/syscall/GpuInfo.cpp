// AISOS_SYS_GPU_INFO (index, struct aisos_gpu_info*): one NVIDIA GPU the
// kernel identified on PCI. There is no GPU compute path: this is for
// reporting.
#include "kernel/drivers/gpu/NvidiaGpu.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_gpu_info(const Arguments& arguments)
{
    auto gpus = pci::gpus();
    if (arguments.a0 >= gpus.size())
        return error_result(AISOS_ENOENT);
    const pci::GpuInfo& gpu = gpus[arguments.a0];
    aisos_gpu_info info {};
    info.vendor = gpu.vendor_id;
    info.device = gpu.device_id;
    info.bar0 = gpu.bar0;
    const char* name = gpu.name ? gpu.name : "NVIDIA GPU";
    size_t i = 0;
    for (; name[i] && i < sizeof(info.name) - 1; ++i)
        info.name[i] = name[i];
    return result_or_error(proc::write_user(arguments.a1, info));
}

} // namespace aisos::syscall
