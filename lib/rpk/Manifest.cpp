#include "lib/rpk/Manifest.h"

#include "lib/json/JsonDocument.h"
#include "lib/json/Utf8.h"
#include "rpk/sdk/include/aisos/abi.h"

namespace aisos::rpk {

namespace {

using json::JsonType;
using json::JsonValue;

constexpr std::string_view method_names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS" };

// Paths the kernel serves itself; a module route may not be one of them, lie
// below one, or (as a prefix route) swallow one.
constexpr std::string_view reserved_routes[] = { "/auth", "/users", "/fs", "/pkg", "/sys", "/debug", "/health", "/metrics", "/ws/echo" };

constexpr std::string_view system_path = "/system";

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_version_char(char c) { return is_alnum(c) || c == '.' || c == '+' || c == '-'; }
bool is_entry_char(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; }
bool is_route_char(char c) { return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '/' || c == '-'; }

// `path` equals `base` or lies below it, by whole segments. base "" is the root.
bool is_at_or_below(std::string_view path, std::string_view base)
{
    if (path.size() < base.size() || path.substr(0, base.size()) != base)
        return false;
    return path.size() == base.size() || path[base.size()] == '/';
}

const char* type_name(JsonType type)
{
    switch (type) {
    case JsonType::Missing:
        return "missing";
    case JsonType::Null:
        return "null";
    case JsonType::Bool:
        return "a boolean";
    case JsonType::Number:
        return "a number";
    case JsonType::String:
        return "a string";
    case JsonType::Array:
        return "an array";
    case JsonType::Object:
        return "an object";
    }
    return "?";
}

// Refuses keys outside `allowed` and keys that appear twice (the JSON parser
// keeps duplicates and get() would silently read the first one).
ErrorOr<void> check_keys(JsonValue object, std::string_view where, std::span<const std::string_view> allowed, Diagnostic* diagnostic)
{
    size_t index = 0;
    for (auto it = object.begin(); it != object.end(); ++it, ++index) {
        auto key = it.key();
        bool known = false;
        for (auto name : allowed)
            known = known || name == key;
        if (!known)
            return fail(diagnostic, Error::invalid("unknown manifest key"), "unknown manifest key \"{}\"{}{}", key, where.empty() ? "" : " in ", where);
        size_t other = 0;
        for (auto jt = object.begin(); other < index; ++jt, ++other) {
            if (jt.key() == key)
                return fail(diagnostic, Error::invalid("duplicate manifest key"), "duplicate manifest key \"{}\"{}{}", key, where.empty() ? "" : " in ", where);
        }
    }
    return {};
}

ErrorOr<std::string_view> get_string(JsonValue parent, std::string_view key, Diagnostic* diagnostic)
{
    auto value = parent.get(key);
    if (value.is_missing())
        return fail(diagnostic, Error::invalid("manifest field is missing"), "manifest field \"{}\" is missing", key);
    auto text = value.as_string();
    if (!text)
        return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "manifest field \"{}\" must be a string, not {}", key, type_name(value.type()));
    return *text;
}

ErrorOr<int64_t> get_integer(JsonValue parent, std::string_view key, int64_t low, int64_t high, Diagnostic* diagnostic)
{
    auto value = parent.get(key);
    if (value.is_missing())
        return fail(diagnostic, Error::invalid("manifest field is missing"), "manifest field \"{}\" is missing", key);
    if (!value.is_number())
        return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "manifest field \"{}\" must be an integer, not {}", key, type_name(value.type()));
    auto number = value.as_integer();
    if (!number)
        return fail(diagnostic, Error::invalid("manifest field is not an integer"), "manifest field \"{}\" must be an integer, not {}", key, value.number_text());
    if (*number < low || *number > high)
        return fail(diagnostic, Error::invalid("manifest field is out of range"), "manifest field \"{}\" is {}, must be {} .. {}", key, *number, low, high);
    return *number;
}

ErrorOr<void> parse_name(std::string_view text, Manifest& out, Diagnostic* diagnostic)
{
    if (text.empty() || text.size() > max_name_length)
        return fail(diagnostic, Error::invalid("manifest name has a bad length"), "manifest field \"name\" must be 1 .. {} characters", max_name_length);
    for (char c : text) {
        if (!is_name_char(c))
            return fail(diagnostic, Error::invalid("manifest name has a bad character"), "manifest field \"name\" may hold only a-z, 0-9, '_' and '-'");
    }
    if (text[0] == '_' || text[0] == '-')
        return fail(diagnostic, Error::invalid("manifest name must start with a letter or digit"), "manifest field \"name\" must start with a letter or digit");
    out.name.assign(text);
    return {};
}

ErrorOr<void> parse_version(std::string_view text, Manifest& out, Diagnostic* diagnostic)
{
    if (text.empty() || text.size() > max_version_length)
        return fail(diagnostic, Error::invalid("manifest version has a bad length"), "manifest field \"version\" must be 1 .. {} characters", max_version_length);
    for (char c : text) {
        if (!is_version_char(c))
            return fail(diagnostic, Error::invalid("manifest version has a bad character"), "manifest field \"version\" may hold only 0-9, A-Z, a-z, '.', '+' and '-'");
    }
    out.version.assign(text);
    return {};
}

ErrorOr<void> parse_entry(std::string_view text, Manifest& out, Diagnostic* diagnostic)
{
    if (text.empty() || text.size() > max_entry_length)
        return fail(diagnostic, Error::invalid("manifest entry has a bad length"), "manifest field \"entry\" must be 1 .. {} characters", max_entry_length);
    for (char c : text) {
        if (!is_entry_char(c))
            return fail(diagnostic, Error::invalid("manifest entry has a bad character"), "manifest field \"entry\" must be a plain file name (A-Z, a-z, 0-9, '.', '_', '-')");
    }
    if (text == "." || text == "..")
        return fail(diagnostic, Error::invalid("manifest entry is not a file name"), "manifest field \"entry\" must be a file name, not \"{}\"", text);
    out.entry.assign(text);
    return {};
}

ErrorOr<void> parse_path_list(JsonValue permissions, std::string_view key, FixedString<max_fs_path_length>* paths, uint32_t& count, Diagnostic* diagnostic)
{
    count = 0;
    auto list = permissions.get(key);
    if (list.is_missing())
        return {};
    if (!list.is_array())
        return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "permissions.{} must be an array of paths, not {}", key, type_name(list.type()));
    if (list.size() > max_fs_paths)
        return fail(diagnostic, Error::invalid("too many paths in a permission list"), "permissions.{} has {} paths, at most {} are allowed", key, list.size(), max_fs_paths);
    for (auto element : list) {
        auto text = element.as_string();
        if (!text)
            return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "permissions.{} entries must be strings, not {}", key, type_name(element.type()));
        if (auto reason = check_fs_path(*text))
            return fail(diagnostic, Error::invalid("bad path in a permission list"), "permissions.{}: {} (\"{}\")", key, reason, *text);
        if (is_at_or_below(*text, system_path))
            return fail(diagnostic, Error::invalid("modules may not access /system"), "permissions.{}: modules may not access /system (\"{}\")", key, *text);
        for (uint32_t i = 0; i < count; ++i) {
            if (paths[i] == *text)
                return fail(diagnostic, Error::invalid("duplicate path in a permission list"), "permissions.{} lists \"{}\" twice", key, *text);
        }
        paths[count++].assign(*text);
    }
    return {};
}

// Route paths: '/', then segments of [A-Za-z0-9._~-] separated by '/', none
// empty, "." or ".."; a prefix route ends in "/*" ("/*" alone is the root).
const char* check_route_path(std::string_view path, bool& prefix)
{
    if (path.empty() || path[0] != '/')
        return "must start with '/'";
    if (path.size() > max_route_path_length)
        return "is longer than 128 bytes";
    prefix = path.size() >= 2 && path.substr(path.size() - 2) == "/*";
    auto body = prefix ? path.substr(0, path.size() - 2) : path;
    if (body.empty())
        return nullptr; // "/*"
    if (body == "/")
        return nullptr; // exactly "/"; refused as reserved by the caller
    size_t start = 1;
    while (true) {
        size_t slash = body.find('/', start);
        size_t end = slash == std::string_view::npos ? body.size() : slash;
        auto segment = body.substr(start, end - start);
        if (segment.empty())
            return "has an empty segment";
        if (segment == "." || segment == "..")
            return "has a '.' or '..' segment";
        for (char c : segment) {
            if (!is_route_char(c))
                return c == '*' ? "may use '*' only as a final \"/*\"" : "has a character outside A-Z a-z 0-9 . _ ~ - /";
        }
        if (slash == std::string_view::npos)
            return nullptr;
        start = slash + 1;
    }
}

ErrorOr<void> parse_route(JsonValue object, Route& route, Diagnostic* diagnostic)
{
    if (!object.is_object())
        return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "permissions.routes entries must be objects, not {}", type_name(object.type()));
    constexpr std::string_view keys[] = { "path", "methods", "access", "websocket" };
    TRY(check_keys(object, "a route", keys, diagnostic));

    auto path_value = object.get("path");
    auto path = path_value.as_string();
    if (!path)
        return fail(diagnostic, Error::invalid("route path is missing"), "every route needs a \"path\" string");
    bool prefix = false;
    if (auto reason = check_route_path(*path, prefix))
        return fail(diagnostic, Error::invalid("bad route path"), "route path {} (\"{}\")", reason, *path);
    auto match = prefix ? path->substr(0, path->size() - 2) : *path;
    if (*path == "/")
        return fail(diagnostic, Error::invalid("route is reserved for the kernel"), "route / is reserved for the kernel");
    for (auto reserved : reserved_routes) {
        // Equal to or under a reserved path, or a prefix route covering one.
        if (*path == reserved)
            return fail(diagnostic, Error::invalid("route is reserved for the kernel"), "route {} is reserved for the kernel", reserved);
        if (is_at_or_below(match, reserved) || (prefix && is_at_or_below(reserved, match)))
            return fail(diagnostic, Error::invalid("route is reserved for the kernel"), "route {} overlaps {}, which is reserved for the kernel", *path, reserved);
    }
    route.path.assign(*path);
    route.prefix = prefix;

    auto websocket = object.get("websocket");
    route.websocket = false;
    if (!websocket.is_missing()) {
        auto flag = websocket.as_bool();
        if (!flag)
            return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "route {}: \"websocket\" must be true or false, not {}", *path, type_name(websocket.type()));
        route.websocket = *flag;
    }

    auto access = object.get("access");
    auto access_text = access.as_string();
    if (!access_text)
        return fail(diagnostic, Error::invalid("route access is missing"), "route {}: \"access\" must be \"public\", \"user\" or \"admin\"", *path);
    if (*access_text == "public")
        route.access = Access::Public;
    else if (*access_text == "user")
        route.access = Access::User;
    else if (*access_text == "admin")
        route.access = Access::Admin;
    else
        return fail(diagnostic, Error::invalid("bad route access"), "route {}: \"access\" must be \"public\", \"user\" or \"admin\", not \"{}\"", *path, *access_text);

    auto methods = object.get("methods");
    route.methods = 0;
    if (methods.is_missing()) {
        if (!route.websocket)
            route.methods = method_bit(HttpMethod::Get) | method_bit(HttpMethod::Post);
        return {};
    }
    if (route.websocket)
        return fail(diagnostic, Error::invalid("a websocket route takes no methods"), "route {}: a websocket route takes no \"methods\"", *path);
    if (!methods.is_array())
        return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "route {}: \"methods\" must be an array, not {}", *path, type_name(methods.type()));
    if (methods.size() == 0)
        return fail(diagnostic, Error::invalid("route methods are empty"), "route {}: \"methods\" is empty (leave it out for GET and POST)", *path);
    for (auto element : methods) {
        auto name = element.as_string();
        HttpMethod method;
        if (!name || !parse_http_method(*name, method))
            return fail(diagnostic, Error::invalid("bad route method"), "route {}: methods may be GET, HEAD, POST, PUT, DELETE, OPTIONS", *path);
        if (route.methods & method_bit(method))
            return fail(diagnostic, Error::invalid("duplicate route method"), "route {}: method {} is listed twice", *path, *name);
        route.methods |= method_bit(method);
    }
    return {};
}

ErrorOr<void> parse_permissions(JsonValue permissions, Manifest& out, Diagnostic* diagnostic)
{
    if (permissions.is_missing())
        return fail(diagnostic, Error::invalid("manifest field is missing"), "manifest field \"permissions\" is missing");
    if (!permissions.is_object())
        return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "manifest field \"permissions\" must be an object, not {}", type_name(permissions.type()));
    constexpr std::string_view keys[] = { "fs_read", "fs_write", "routes", "max_memory_mib", "max_threads" };
    TRY(check_keys(permissions, "permissions", keys, diagnostic));

    TRY(parse_path_list(permissions, "fs_read", out.fs_read, out.fs_read_count, diagnostic));
    TRY(parse_path_list(permissions, "fs_write", out.fs_write, out.fs_write_count, diagnostic));

    auto routes = permissions.get("routes");
    if (!routes.is_missing()) {
        if (!routes.is_array())
            return fail(diagnostic, Error::invalid("manifest field has the wrong type"), "permissions.routes must be an array, not {}", type_name(routes.type()));
        if (routes.size() > max_routes)
            return fail(diagnostic, Error::invalid("too many routes"), "permissions.routes has {} routes, at most {} are allowed", routes.size(), max_routes);
        for (auto element : routes) {
            Route& route = out.routes[out.route_count];
            TRY(parse_route(element, route, diagnostic));
            for (uint32_t i = 0; i < out.route_count; ++i) {
                if (out.routes[i].path == route.path.view() && out.routes[i].websocket == route.websocket)
                    return fail(diagnostic, Error::invalid("duplicate route"), "route {} is listed twice", route.path.view());
            }
            ++out.route_count;
        }
    }

    out.max_memory_mib = uint32_t(TRY(get_integer(permissions, "max_memory_mib", 1, max_memory_mib_limit, diagnostic)));
    out.max_threads = uint32_t(TRY(get_integer(permissions, "max_threads", 1, max_threads_limit, diagnostic)));
    return {};
}

bool granted_by(std::string_view path, const FixedString<max_fs_path_length>* list, uint32_t count)
{
    for (uint32_t i = 0; i < count; ++i) {
        auto grant = list[i].view();
        if (grant == "/" || is_at_or_below(path, grant))
            return true;
    }
    return false;
}

// A path a module may ask about at all: well-formed and not under /system.
bool is_askable(std::string_view path)
{
    return check_fs_path(path) == nullptr && !is_at_or_below(path, system_path);
}

} // namespace

bool parse_http_method(std::string_view text, HttpMethod& out)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); ++i) {
        if (text == method_names[i]) {
            out = HttpMethod(i);
            return true;
        }
    }
    return false;
}

const char* http_method_name(HttpMethod method)
{
    auto index = size_t(method);
    return index < sizeof(method_names) / sizeof(method_names[0]) ? method_names[index].data() : "?";
}

const char* check_fs_path(std::string_view path)
{
    if (path.empty() || path[0] != '/')
        return "path must start with '/'";
    if (path.size() > max_fs_path_length)
        return "path is longer than 1024 bytes";
    if (!json::is_valid_utf8(path))
        return "path is not valid UTF-8";
    if (path == "/")
        return nullptr;
    size_t start = 1;
    while (true) {
        size_t slash = path.find('/', start);
        size_t end = slash == std::string_view::npos ? path.size() : slash;
        auto segment = path.substr(start, end - start);
        if (segment.empty())
            return slash == std::string_view::npos ? "path must not end with '/'" : "empty path segment";
        if (segment == "." || segment == "..")
            return "'.' and '..' are not allowed in paths";
        if (segment.size() > max_fs_segment_length)
            return "path segment longer than 255 bytes";
        for (char c : segment) {
            auto byte = static_cast<unsigned char>(c);
            if (byte == 0)
                return "NUL in path";
            if (c == '\\')
                return "backslash in path";
            if (byte < 0x20 || byte == 0x7F)
                return "control character in path";
        }
        if (slash == std::string_view::npos)
            return nullptr;
        start = slash + 1;
    }
}

bool Manifest::may_read(std::string_view path) const
{
    if (!is_askable(path))
        return false;
    return granted_by(path, fs_read, fs_read_count) || granted_by(path, fs_write, fs_write_count);
}

bool Manifest::may_write(std::string_view path) const
{
    if (!is_askable(path))
        return false;
    return granted_by(path, fs_write, fs_write_count);
}

const Route* Manifest::match_route(std::string_view path, bool websocket) const
{
    const Route* best = nullptr;
    for (uint32_t i = 0; i < route_count; ++i) {
        auto const& route = routes[i];
        if (route.websocket != websocket)
            continue;
        if (!route.prefix) {
            if (route.path == path)
                return &route;
            continue;
        }
        auto base = route.match_path();
        if (is_at_or_below(path, base) && (!best || base.size() > best->match_path().size()))
            best = &route;
    }
    return best;
}

ErrorOr<void> parse_manifest(Allocator& allocator, std::string_view text, Manifest& out, Diagnostic* diagnostic)
{
    // Reset in place: a Manifest is too large for a temporary on a kernel stack.
    out.~Manifest();
    new (&out) Manifest;
    json::JsonLimits limits;
    limits.max_size = 64 * 1024;
    limits.max_depth = 8;
    limits.max_values = 4096;
    limits.max_string_length = 4096;
    size_t error_offset = 0;
    auto parsed = json::JsonDocument::parse(allocator, text, limits, &error_offset);
    if (parsed.is_error()) {
        auto error = parsed.error();
        if (error.code() == ErrorCode::OutOfMemory)
            return fail(diagnostic, error);
        return fail(diagnostic, Error::invalid("manifest is not valid JSON"), "manifest is not valid JSON: {} at byte {}", error.reason(), error_offset);
    }
    auto const& document = parsed.value();
    auto root = document.root();
    if (!root.is_object())
        return fail(diagnostic, Error::invalid("manifest must be a JSON object"), "manifest must be a JSON object, not {}", type_name(root.type()));
    constexpr std::string_view keys[] = { "name", "version", "abi", "entry", "priority", "permissions" };
    TRY(check_keys(root, "", keys, diagnostic));

    TRY(parse_name(TRY(get_string(root, "name", diagnostic)), out, diagnostic));
    TRY(parse_version(TRY(get_string(root, "version", diagnostic)), out, diagnostic));

    auto abi = TRY(get_integer(root, "abi", INT64_MIN, INT64_MAX, diagnostic));
    if (abi != AISOS_ABI_VERSION)
        return fail(diagnostic, Error::unsupported("module needs another ABI version"), "module needs ABI {}, kernel has {}", abi, AISOS_ABI_VERSION);
    out.abi = AISOS_ABI_VERSION;

    TRY(parse_entry(TRY(get_string(root, "entry", diagnostic)), out, diagnostic));

    auto priority = root.get("priority");
    if (!priority.is_missing()) {
        auto text_value = priority.as_string();
        if (text_value && *text_value == "low")
            out.priority = Priority::Low;
        else if (text_value && *text_value == "normal")
            out.priority = Priority::Normal;
        else if (text_value && *text_value == "high")
            out.priority = Priority::High;
        else
            return fail(diagnostic, Error::invalid("bad manifest priority"), "manifest field \"priority\" must be \"low\", \"normal\" or \"high\"");
    }

    TRY(parse_permissions(root.get("permissions"), out, diagnostic));
    return {};
}

} // namespace aisos::rpk
