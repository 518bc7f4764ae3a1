#pragma once

// The kernel side of the module ABI (rpk/sdk/include/aisos/abi.h):
// SYSCALL/SYSRET set-up, the dispatcher, and helpers shared by the calls.
// One file per call in this directory (Log.cpp is AISOS_SYS_LOG, ...).
//
// Rules every call follows: arguments are untrusted numbers; user memory
// is touched only through proc::copy_from_user / copy_to_user (which refuse
// kernel addresses and survive unmapped ones); failures return -AISOS_E*.

#include "lib/base/ErrorOr.h"
#include "rpk/sdk/include/aisos/abi.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::proc {
class Process;
struct Thread;
}

namespace aisos::syscall {

// Built by SyscallEntry.S, lowest address first.
struct SyscallFrame {
    uint64_t r15, r14, r13, r12, rbp, rbx;
    uint64_t r9, r8, r10, rdx, rsi, rdi;
    uint64_t rax;
    uint64_t rip, rflags, rsp;
};

struct Arguments {
    uint64_t a0, a1, a2, a3, a4, a5;
};

using Handler = int64_t (*)(const Arguments&);

void enable_on_this_cpu(); // EFER.SCE, STAR, LSTAR, SFMASK

// -AISOS_E* for a kernel Error.
int64_t error_result(const Error&);
inline int64_t error_result(aisos_error code) { return -static_cast<int64_t>(code); }

template<typename T>
int64_t result_or_error(const ErrorOr<T>& result)
{
    if (result.is_error())
        return error_result(result.error());
    return 0;
}

proc::Process& current_process();
proc::Thread& current_thread();

// A module's path argument: copied in, checked (well-formed, not too long)
// and, for file calls, against the manifest. On success `path` views
// `buffer` (the /fs path as the module wrote it, e.g. "/models/x.gguf").
enum class PathAccess : uint8_t { Read, Write };
static constexpr size_t max_path_length = 1024;
int64_t copy_path(uint64_t user_path, uint64_t length, char (&buffer)[max_path_length], std::string_view& path, PathAccess);
// The same path as lib/fs names it (no leading '/').
inline std::string_view fs_path(std::string_view path) { return path.size() > 0 && path[0] == '/' ? path.substr(1) : path; }

// A whole buffer the module passed: in its mapped memory (and writable
// when the kernel will write it). Checked up front so a call never half
// succeeds on a buffer that runs off the end of a mapping.
enum class BufferAccess : uint8_t { Read, Write };
bool is_module_buffer(uint64_t address, uint64_t length, BufferAccess);

// Deadline for a timeout argument: -1 (or any negative) = none.
uint64_t deadline_after(int64_t timeout_ns);

// The calls (one file each).
int64_t sys_exit(const Arguments&);
int64_t sys_log(const Arguments&);
int64_t sys_clock_monotonic(const Arguments&);
int64_t sys_clock_wall(const Arguments&);
int64_t sys_thread_create(const Arguments&);
int64_t sys_thread_exit(const Arguments&);
int64_t sys_thread_join(const Arguments&);
int64_t sys_futex_wait(const Arguments&);
int64_t sys_futex_wake(const Arguments&);
int64_t sys_memory_map(const Arguments&);
int64_t sys_memory_unmap(const Arguments&);
int64_t sys_file_map(const Arguments&);
int64_t sys_file_read(const Arguments&);
int64_t sys_file_write(const Arguments&);
int64_t sys_file_list(const Arguments&);
int64_t sys_file_stat(const Arguments&);
int64_t sys_request_receive(const Arguments&);
int64_t sys_response_start(const Arguments&);
int64_t sys_response_write(const Arguments&);
int64_t sys_response_end(const Arguments&);
int64_t sys_sleep(const Arguments&);
int64_t sys_yield(const Arguments&);
int64_t sys_system_info(const Arguments&);
int64_t sys_random(const Arguments&);
int64_t sys_gpu_info(const Arguments&);
int64_t sys_request_canceled(const Arguments&);
int64_t sys_service_status(const Arguments&);
int64_t sys_metrics_publish(const Arguments&);
int64_t sys_config_get(const Arguments&);

} // namespace aisos::syscall
