// libFuzzer target: the aisos.cfg parser. Reports must stay printable and
// the result within its documented bounds.
#include "lib/config/Config.h"

#include <cstddef>
#include <cstdint>

namespace {

class CheckingReporter final : public aisos::config::ConfigReporter {
public:
    void report(aisos::config::Severity, uint32_t, std::string_view message) override
    {
        for (char c : message) {
            if (static_cast<unsigned char>(c) < 0x20)
                __builtin_trap();
        }
        if (!aisos::config::is_valid_utf8(message))
            __builtin_trap();
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    CheckingReporter reporter;
    uint32_t cpus = size > 0 ? 1 + data[0] % 64 : 1;
    auto config = aisos::config::parse_config({ data, size }, cpus, reporter);
    if (config.net_cores < 1 || config.net_cores > cpus || config.hostname.view().size() > 63)
        __builtin_trap();
    return 0;
}
