#include "tools/rpk/Packer.h"

#include "host/MallocAllocator.h"
#include "lib/elf/Relocations.h"
#include "lib/rpk/Manifest.h"
#include "lib/rpk/Package.h"

#include <cinttypes>
#include <cstdio>
#include <memory>

namespace aisos::rpk::tool {

namespace {

Result failure(std::string text)
{
    Result result;
    result.error = std::move(text);
    return result;
}

std::string hex(std::span<const uint8_t> bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (uint8_t byte : bytes) {
        text += digits[byte >> 4];
        text += digits[byte & 15];
    }
    return text;
}

const char* priority_name(Priority priority)
{
    switch (priority) {
    case Priority::Low:
        return "low";
    case Priority::Normal:
        return "normal";
    case Priority::High:
        return "high";
    }
    return "?";
}

const char* access_name(Access access)
{
    switch (access) {
    case Access::Public:
        return "public";
    case Access::User:
        return "user";
    case Access::Admin:
        return "admin";
    }
    return "?";
}

// Parses the manifest; on failure returns the reason.
std::string check_manifest(std::span<const uint8_t> bytes, Manifest& manifest)
{
    MallocAllocator allocator;
    Diagnostic diagnostic;
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    auto parsed = parse_manifest(allocator, text, manifest, &diagnostic);
    if (parsed.is_error())
        return "manifest: " + std::string(diagnostic.view());
    return {};
}

std::string check_elf(std::span<const uint8_t> bytes, elf::ModuleImage& module)
{
    auto validated = elf::validate_module(bytes);
    if (validated.is_error())
        return std::string("ELF: ") + validated.error().reason();
    module = validated.release_value();
    return {};
}

} // namespace

Result pack(const std::vector<uint8_t>& manifest_bytes, const std::vector<uint8_t>& elf_bytes)
{
    if (manifest_bytes.empty() || manifest_bytes.size() > max_manifest_length)
        return failure("manifest: length " + std::to_string(manifest_bytes.size()) + " is outside 1 .. 65536 bytes");
    if (elf_bytes.empty() || elf_bytes.size() > max_elf_length)
        return failure("ELF: length " + std::to_string(elf_bytes.size()) + " is outside 1 .. 268435456 bytes");
    auto manifest = std::make_unique<Manifest>();
    if (auto error = check_manifest(manifest_bytes, *manifest); !error.empty())
        return failure(error);
    elf::ModuleImage module;
    if (auto error = check_elf(elf_bytes, module); !error.empty())
        return failure(error);

    auto size = package_size(manifest_bytes.size(), elf_bytes.size());
    if (size.is_error())
        return failure(size.error().reason());
    Result result;
    result.bytes.resize(size.value());
    auto written = write_package(manifest_bytes, elf_bytes, result.bytes);
    if (written.is_error())
        return failure(written.error().reason());
    result.ok = true;
    return result;
}

Result inspect(const std::vector<uint8_t>& package)
{
    Diagnostic diagnostic;
    auto parsed = parse_package(package, &diagnostic);
    if (parsed.is_error())
        return failure("package: " + std::string(diagnostic.view()));
    auto const& view = parsed.value();
    auto manifest = std::make_unique<Manifest>();
    if (auto error = check_manifest(view.manifest, *manifest); !error.empty())
        return failure(error);
    elf::ModuleImage module;
    if (auto error = check_elf(view.elf, module); !error.empty())
        return failure(error);

    std::string out;
    auto line = [&](std::string text) { out += text + "\n"; };
    line("name:        " + std::string(manifest->name.view()));
    line("version:     " + std::string(manifest->version.view()));
    line("abi:         " + std::to_string(manifest->abi));
    line("entry:       " + std::string(manifest->entry.view()));
    line("priority:    " + std::string(priority_name(manifest->priority)));
    line("memory:      " + std::to_string(manifest->max_memory_mib) + " MiB");
    line("threads:     " + std::to_string(manifest->max_threads));
    for (uint32_t i = 0; i < manifest->fs_read_count; ++i)
        line("fs_read:     " + std::string(manifest->fs_read[i].view()));
    for (uint32_t i = 0; i < manifest->fs_write_count; ++i)
        line("fs_write:    " + std::string(manifest->fs_write[i].view()));
    for (uint32_t i = 0; i < manifest->route_count; ++i) {
        auto const& route = manifest->routes[i];
        std::string methods;
        if (route.websocket) {
            methods = "websocket";
        } else {
            for (int m = 0; m <= int(HttpMethod::Options); ++m) {
                if (route.allows(HttpMethod(m)))
                    methods += (methods.empty() ? "" : ",") + std::string(http_method_name(HttpMethod(m)));
            }
        }
        line("route:       " + std::string(route.path.view()) + " " + methods + " " + access_name(route.access));
    }
    char number[64];
    std::snprintf(number, sizeof(number), "%zu bytes", view.elf.size());
    line("elf:         " + std::string(number));
    std::snprintf(number, sizeof(number), "0x%" PRIx64, module.layout.entry);
    line("elf entry:   " + std::string(number));
    std::snprintf(number, sizeof(number), "%" PRIu64 " KiB", (module.layout.end_address - module.layout.lowest_address + 1023) / 1024);
    line("elf span:    " + std::string(number));
    line("relocations: " + std::to_string(module.relocations.relocation_count));
    line("size:        " + std::to_string(package.size()) + " bytes");
    line("sha256:      " + hex(view.hash));
    Result result;
    result.ok = true;
    result.text = std::move(out);
    return result;
}

} // namespace aisos::rpk::tool
