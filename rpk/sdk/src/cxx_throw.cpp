// The error paths libstdc++'s headers call when exceptions are off (see
// cxx/README.md): out-of-range std::string_view::substr, a length error in
// a container, and so on. Without exceptions these are the end of the
// module, as for a failed assert: log what happened and abort.
#include <aisos/sys.h>
#include <stdlib.h>

namespace {
[[noreturn]] void fail(const char* what, const char* detail)
{
    aisos_logf("C++ library error: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
    abort();
}
} // namespace

namespace std {
[[noreturn]] void __throw_bad_alloc() { fail("bad_alloc", nullptr); }
[[noreturn]] void __throw_bad_array_new_length() { fail("bad_array_new_length", nullptr); }
[[noreturn]] void __throw_bad_function_call() { fail("bad_function_call", nullptr); }
[[noreturn]] void __throw_logic_error(const char* what) { fail("logic_error", what); }
[[noreturn]] void __throw_invalid_argument(const char* what) { fail("invalid_argument", what); }
[[noreturn]] void __throw_length_error(const char* what) { fail("length_error", what); }
[[noreturn]] void __throw_out_of_range(const char* what) { fail("out_of_range", what); }
// The format is logged as it is, without its arguments: it names the
// function that failed, which is what a reader of the log needs.
[[noreturn]] void __throw_out_of_range_fmt(const char* format, ...) { fail("out_of_range", format); }
} // namespace std
