#pragma once

// The manifest of a .rpk module (rpk/FORMAT.md): who the module is, which
// ABI it needs, and what it may touch. Parsed strictly: every field is
// checked, unknown or duplicate keys are refused (a typo must not silently
// drop or widen a permission), and the result owns all its text.
//
// The kernel keeps a Manifest per installed module and asks it:
//   may_read / may_write   for every file call (paths as the ABI passes
//                          them: "/models/x.gguf", already decoded),
//   match_route            for every HTTP request routed to modules.
//
// A Manifest is about 36 KiB (32 paths of up to 1 KiB), so parse_manifest
// fills a caller-provided object rather than returning one on the (small)
// kernel stack.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/rpk/Diagnostic.h"
#include "lib/base/FixedString.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::rpk {

inline constexpr size_t max_name_length = 32;
inline constexpr size_t max_version_length = 32;
inline constexpr size_t max_entry_length = 64;
inline constexpr size_t max_fs_paths = 16; // per list (fs_read, fs_write)
inline constexpr size_t max_fs_path_length = 1024;
inline constexpr size_t max_fs_segment_length = 255;
inline constexpr size_t max_routes = 16;
inline constexpr size_t max_route_path_length = 128;
inline constexpr int64_t max_memory_mib_limit = 65536;
inline constexpr int64_t max_threads_limit = 256;

enum class Priority : uint8_t { Low, Normal, High };
enum class Access : uint8_t { Public, User, Admin };

enum class HttpMethod : uint8_t { Get, Head, Post, Put, Delete, Options };
inline constexpr uint8_t method_bit(HttpMethod method) { return uint8_t(1u << uint8_t(method)); }
// "GET" -> Get; false for anything else (methods are case-sensitive, RFC 9110 §9.1).
bool parse_http_method(std::string_view text, HttpMethod& out);
const char* http_method_name(HttpMethod);

struct Route {
    FixedString<max_route_path_length> path; // as written: "/hello" or "/v1/*"
    bool prefix { false };                 // path ended in "/*"
    bool websocket { false };
    uint8_t methods { 0 };                 // method_bit()s; 0 for a websocket route
    Access access { Access::User };

    // The part a request path is compared with: "/hello", or "/v1" for "/v1/*".
    std::string_view match_path() const { return prefix ? path.view().substr(0, path.size() - 2) : path.view(); }
    bool allows(HttpMethod method) const { return (methods & method_bit(method)) != 0; }
};

struct Manifest {
    FixedString<max_name_length> name;
    FixedString<max_version_length> version;
    uint32_t abi { 0 };
    FixedString<max_entry_length> entry;
    Priority priority { Priority::Normal };

    uint32_t fs_read_count { 0 };
    FixedString<max_fs_path_length> fs_read[max_fs_paths];
    uint32_t fs_write_count { 0 };
    FixedString<max_fs_path_length> fs_write[max_fs_paths];

    uint32_t route_count { 0 };
    Route routes[max_routes];

    uint32_t max_memory_mib { 0 };
    uint32_t max_threads { 0 };

    // `path` is a /fs path as modules name it ("/models/x.gguf", "/" for the
    // root). A granted path grants itself and everything below it, by whole
    // segments; "/" grants everything except /system. Anything under /system,
    // and any path that is not well-formed (relative, "..", empty segments,
    // NUL, ...), is refused. Write permission implies read.
    bool may_read(std::string_view path) const;
    bool may_write(std::string_view path) const;

    // The route serving `path` (no query string): an exact route first, then
    // the longest matching prefix route; only routes of the asked kind
    // (websocket or plain HTTP). Null when none matches.
    const Route* match_route(std::string_view path, bool websocket) const;
};

// Parses and validates `text` into `out` (overwritten, also on failure).
// InvalidArgument for a malformed manifest, Unsupported when it needs another
// ABI; `diagnostic` gets the full reason naming the field.
ErrorOr<void> parse_manifest(Allocator&, std::string_view text, Manifest& out, Diagnostic* = nullptr);

// The path rules shared by the manifest and the permission checks: an
// absolute path ("/" or "/a/b", no trailing '/'), segments non-empty, not
// "." or "..", at most 255 bytes, no NUL, backslash or control character,
// valid UTF-8, at most 1024 bytes in all. Null when valid, else the reason.
const char* check_fs_path(std::string_view path);

} // namespace aisos::rpk
