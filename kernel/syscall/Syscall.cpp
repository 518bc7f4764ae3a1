#include "kernel/syscall/Syscall.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/Gdt.h"
#include "kernel/cpu/Time.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/UserMemory.h"

extern "C" void syscall_entry();

namespace aisos::syscall {

namespace {

constexpr uint32_t msr_star = 0xc0000081;
constexpr uint32_t msr_lstar = 0xc0000082;
constexpr uint32_t msr_sfmask = 0xc0000084;
// Cleared on entry: IF (interrupts stay off until the stub has a kernel
// stack), TF, DF, AC (SMAP stays in force), NT.
constexpr uint64_t entry_flags_mask = (1u << 9) | (1u << 8) | (1u << 10) | (1u << 18) | (1u << 14);

constexpr Handler s_handlers[AISOS_SYS_COUNT] = {
    sys_exit,
    sys_log,
    sys_clock_monotonic,
    sys_clock_wall,
    sys_thread_create,
    sys_thread_exit,
    sys_thread_join,
    sys_futex_wait,
    sys_futex_wake,
    sys_memory_map,
    sys_memory_unmap,
    sys_file_map,
    sys_file_read,
    sys_file_write,
    sys_file_list,
    sys_file_stat,
    sys_request_receive,
    sys_response_start,
    sys_response_write,
    sys_response_end,
    sys_sleep,
    sys_yield,
    sys_system_info,
    sys_random,
    sys_gpu_info,
    sys_request_canceled,
    sys_service_status,
    sys_metrics_publish,
    sys_config_get,
};
static_assert(AISOS_SYS_EXIT == AISOS_SYS_EXIT_NUMBER && AISOS_SYS_THREAD_EXIT == AISOS_SYS_THREAD_EXIT_NUMBER);
static_assert(AISOS_SYS_COUNT == 29, "a call was added to abi.h: add its handler here");

} // namespace

void enable_on_this_cpu()
{
    cpu::wrmsr(cpu::msr::efer, cpu::rdmsr(cpu::msr::efer) | 1); // SCE
    // SYSCALL loads CS = STAR[47:32], SS = +8; SYSRET (64-bit) loads
    // CS = STAR[63:48] + 16, SS = STAR[63:48] + 8 (see kernel/arch/x86_64/Gdt.h).
    uint64_t star = (static_cast<uint64_t>(selector::kernel_code) << 32) | (static_cast<uint64_t>(0x10 | 3) << 48);
    cpu::wrmsr(msr_star, star);
    cpu::wrmsr(msr_lstar, reinterpret_cast<uint64_t>(syscall_entry));
    cpu::wrmsr(msr_sfmask, entry_flags_mask);
}

int64_t error_result(const Error& error)
{
    switch (error.code()) {
    case ErrorCode::InvalidArgument: return error_result(AISOS_EINVAL);
    case ErrorCode::OutOfMemory: return error_result(AISOS_ENOMEM);
    case ErrorCode::NotFound: return error_result(AISOS_ENOENT);
    case ErrorCode::Unsupported: return error_result(AISOS_EINVAL);
    case ErrorCode::OutOfRange: return error_result(AISOS_EINVAL);
    case ErrorCode::Corrupt: return error_result(AISOS_EIO);
    case ErrorCode::Busy: return error_result(AISOS_EBUSY);
    case ErrorCode::Timeout: return error_result(AISOS_ETIMEDOUT);
    case ErrorCode::IoError: return error_result(AISOS_EIO);
    case ErrorCode::Exists: return error_result(AISOS_EISDIR);
    case ErrorCode::NoSpace: return error_result(AISOS_ENOSPC);
    case ErrorCode::PermissionDenied: return error_result(AISOS_EACCES);
    case ErrorCode::Overflow: return error_result(AISOS_ELIMIT); // the kernel's "a limit was reached"
    case ErrorCode::WouldBlock: return error_result(AISOS_EAGAIN);
    case ErrorCode::BadAddress: return error_result(AISOS_EFAULT);
    }
    return error_result(AISOS_EINVAL);
}

proc::Thread& current_thread() { return *proc::scheduler::current(); }
proc::Process& current_process() { return *current_thread().process; }

int64_t copy_path(uint64_t user_path, uint64_t length, char (&buffer)[max_path_length], std::string_view& path, PathAccess access)
{
    if (length == 0 || length > max_path_length)
        return error_result(AISOS_EINVAL);
    if (auto copied = proc::copy_from_user(buffer, user_path, length); copied.is_error())
        return error_result(copied.error());
    path = { buffer, length };
    if (rpk::check_fs_path(path) != nullptr)
        return error_result(AISOS_EINVAL);
    const rpk::Manifest* manifest = current_process().manifest;
    bool allowed = manifest && (access == PathAccess::Read ? manifest->may_read(path) : manifest->may_write(path));
    return allowed ? 0 : error_result(AISOS_EACCES);
}

bool is_module_buffer(uint64_t address, uint64_t length, BufferAccess access)
{
    if (!proc::is_user_range(address, length))
        return false;
    if (length == 0)
        return true;
    auto rights = access == BufferAccess::Write ? proc::AddressSpace::Access::Write : proc::AddressSpace::Access::Read;
    return current_process().address_space().contains(address, length, rights);
}

uint64_t deadline_after(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return 0;
    uint64_t now = time::uptime_ns();
    // A zero timeout still needs a non-zero deadline (0 means "none").
    return now + static_cast<uint64_t>(timeout_ns) + 1;
}

} // namespace aisos::syscall

extern "C" void syscall_dispatch(aisos::syscall::SyscallFrame* frame)
{
    using namespace aisos;
    uint64_t number = frame->rax;
    syscall::Arguments arguments { frame->rdi, frame->rsi, frame->rdx, frame->r10, frame->r8, frame->r9 };
    int64_t result = number < AISOS_SYS_COUNT ? syscall::s_handlers[number](arguments) : syscall::error_result(AISOS_ENOSYS);
    frame->rax = static_cast<uint64_t>(result);
    proc::Thread& thread = syscall::current_thread();
    if (thread.process->is_killed())
        proc::exit_thread(thread, 0);
}
