// AISOS_SYS_CONFIG_GET (key, key_length, buffer, length): an aisos.cfg
// value a module may know (the default model, ...); never a secret.
#include "kernel/BootConfig.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_config_get(const Arguments& arguments)
{
    char key[32];
    if (arguments.a1 == 0 || arguments.a1 > sizeof(key))
        return error_result(AISOS_EINVAL);
    if (auto copied = proc::copy_from_user(key, arguments.a0, arguments.a1); copied.is_error())
        return error_result(copied.error());
    if (!is_module_buffer(arguments.a2, arguments.a3, BufferAccess::Write))
        return error_result(AISOS_EFAULT);
    std::string_view name { key, arguments.a1 };
    const config::Config& settings = boot_settings();
    std::string_view value;
    if (name == "default_model")
        value = settings.default_model.view();
    else if (name == "hostname")
        value = settings.hostname.view();
    else if (name == "anonymous_inference")
        value = settings.anonymous_inference ? "true" : "false";
    else
        return error_result(AISOS_EACCES);
    if (value.empty())
        return error_result(AISOS_ENOENT);
    if (value.size() > arguments.a3)
        return error_result(AISOS_E2BIG);
    if (auto copied = proc::copy_to_user(arguments.a2, value.data(), value.size()); copied.is_error())
        return error_result(copied.error());
    return static_cast<int64_t>(value.size());
}

} // namespace aisos::syscall
