// libFuzzer target: the manifest parser and the permission/route queries.
#include "tests/fuzz/rpk/FuzzChecks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    aisos::rpk::fuzz::check_manifest({ reinterpret_cast<const char*>(data), size });
    return 0;
}
