// AISOS_SYS_METRICS_PUBLISH (text, length): the module's Prometheus lines
// (queue depth, tokens/s, ...), appended to GET /metrics until replaced.
// Only printable text and newlines are accepted, so a module cannot break
// the exposition format for the kernel's own metrics.
#include "kernel/mm/Heap.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_metrics_publish(const Arguments& arguments)
{
    constexpr size_t max_length = 16 * 1024;
    uint64_t length = arguments.a1;
    if (length > max_length)
        return error_result(AISOS_E2BIG);
    char* text = nullptr;
    if (length > 0) {
        auto allocated = heap::allocate(length);
        if (allocated.is_error())
            return error_result(AISOS_ENOMEM);
        text = static_cast<char*>(allocated.value());
        if (auto copied = proc::copy_from_user(text, arguments.a0, length); copied.is_error()) {
            heap::free(text);
            return error_result(copied.error());
        }
        for (size_t i = 0; i < length; ++i) {
            auto c = static_cast<unsigned char>(text[i]);
            if ((c < 0x20 && c != '\n') || c == 0x7f) {
                heap::free(text);
                return error_result(AISOS_EINVAL);
            }
        }
        if (text[length - 1] != '\n') {
            heap::free(text);
            return error_result(AISOS_EINVAL); // whole lines only
        }
    }
    proc::Process& process = current_process();
    char* old;
    {
        SpinlockGuard guard(process.metrics_lock);
        old = process.metrics_text;
        process.metrics_text = text;
        process.metrics_length = length;
    }
    if (old)
        heap::free(old);
    return 0;
}

} // namespace aisos::syscall
