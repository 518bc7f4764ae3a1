// Host (Linux) implementation of the MUST() failure hook.
#include <cstdio>
#include <cstdlib>

extern "C" [[noreturn]] void aisos_must_failed(const char* expression, const char* reason, const char* file, int line)
{
    std::fprintf(stderr, "MUST(%s) failed at %s:%d: %s\n", expression, file, line, reason);
    std::abort();
}
