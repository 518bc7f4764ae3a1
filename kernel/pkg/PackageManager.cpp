#include "kernel/pkg/PackageManager.h"

#include "kernel/console/Log.h"
#include "kernel/cpu/Time.h"
#include "kernel/fs/Storage.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/KernelAllocator.h"
#include "kernel/pkg/Package.h"
#include "kernel/proc/Scheduler.h"
#include "lib/elf/Relocations.h"
#include "lib/json/JsonWriter.h"
#include "lib/rpk/Package.h"

namespace aisos::pkg {

namespace {

constexpr uint64_t first_backoff_ns = 1'000'000'000ull;
constexpr uint64_t max_backoff_ns = 60'000'000'000ull;
constexpr uint64_t stable_run_ns = 60'000'000'000ull; // running this long resets the backoff
constexpr std::string_view package_directory = "system/pkg";

Package s_packages[max_packages];
bool s_loaded_installed = false;

const char* state_name(PackageState state)
{
    switch (state) {
    case PackageState::Running: return "running";
    case PackageState::Stopped: return "stopped";
    case PackageState::Crashed: return "crashed";
    }
    return "?";
}

proc::Priority priority_of(rpk::Priority priority)
{
    switch (priority) {
    case rpk::Priority::High: return proc::Priority::High;
    case rpk::Priority::Normal: return proc::Priority::Normal;
    case rpk::Priority::Low: return proc::Priority::Low;
    }
    return proc::Priority::Normal;
}

Package* find(std::string_view name)
{
    for (Package& package : s_packages) {
        if (package.used && package.name() == name)
            return &package;
    }
    return nullptr;
}

// From a scheduler CPU with interrupts off: tell waiting clients at once,
// leave the rest to poll().
void on_process_exit(proc::Process&, void* context)
{
    auto& package = *static_cast<Package*>(context);
    if (package.service)
        package.service->shut_down();
    package.exited.store(true, std::memory_order_release);
}

void schedule_restart(Package& package, uint64_t now)
{
    bool ran_long = now - package.started_at_ns >= stable_run_ns;
    if (package.backoff_ns == 0 || ran_long)
        package.backoff_ns = first_backoff_ns;
    else if (package.backoff_ns < max_backoff_ns)
        package.backoff_ns = package.backoff_ns * 2 < max_backoff_ns ? package.backoff_ns * 2 : max_backoff_ns;
    package.state = PackageState::Crashed;
    package.next_start_ns = now + package.backoff_ns;
}

void start_process(Package& package, uint64_t now)
{
    const rpk::Manifest& manifest = *package.manifest;
    proc::ProcessLimits limits;
    limits.max_memory = static_cast<uint64_t>(manifest.max_memory_mib) << 20;
    limits.max_threads = manifest.max_threads;
    limits.priority = priority_of(manifest.priority);
    package.started_at_ns = now;
    auto process = proc::Process::create(package.name(), limits);
    auto service = heap::create<ModuleService>();
    if (process.is_error() || service.is_error()) {
        log::warn("pkg: {}: cannot start: out of memory", package.name());
        if (!process.is_error())
            process.value()->discard();
        if (!service.is_error())
            heap::destroy(service.value());
        schedule_restart(package, now);
        return;
    }
    proc::Process* p = process.value();
    p->manifest = package.manifest;
    p->service = service.value();
    if (auto loaded = p->load(package.elf); loaded.is_error()) {
        log::warn("pkg: {}: cannot load: {}", package.name(), loaded.error().reason());
        p->discard();
        heap::destroy(service.value());
        schedule_restart(package, now);
        return;
    }
    p->ref(); // the package's reference, dropped when poll() sees the exit
    package.process = p;
    package.service = service.value();
    p->set_exit_callback(on_process_exit, &package);
    package.state = PackageState::Running;
    p->start();
    log::info("pkg: {} {} started (pid {})", package.name(), package.manifest->version.view(), p->id());
}

void free_image(rpk::Manifest*& manifest, uint8_t*& image)
{
    heap::destroy(manifest);
    manifest = nullptr;
    heap::free(image);
    image = nullptr;
}

void handle_exit(Package& package, uint64_t now)
{
    package.exited.store(false, std::memory_order_relaxed);
    proc::Process* process = package.process;
    proc::ExitKind kind = process->exit_kind();
    int64_t code = process->exit_code();
    process->unref();
    package.process = nullptr;
    heap::destroy(package.service);
    package.service = nullptr;

    if (package.removing) {
        free_image(package.manifest, package.image);
        if (package.pending_manifest)
            free_image(package.pending_manifest, package.pending_image);
        package.removing = false;
        package.used = false;
        return;
    }
    if (package.restart_requested) {
        package.restart_requested = false;
        start_process(package, now);
        return;
    }
    if (package.pending_manifest) {
        free_image(package.manifest, package.image);
        package.manifest = package.pending_manifest;
        package.image = package.pending_image;
        package.image_size = package.pending_image_size;
        package.elf = package.pending_elf;
        package.pending_manifest = nullptr;
        package.pending_image = nullptr;
        package.restarts = 0;
        package.backoff_ns = 0;
        start_process(package, now);
        return;
    }
    if (kind == proc::ExitKind::Exited && code == 0) {
        package.state = PackageState::Stopped;
        return;
    }
    schedule_restart(package, now);
    ++package.restarts;
    log::warn("pkg: {} {} (code {}); restart {} in {} ms", package.name(),
        kind == proc::ExitKind::Crashed ? "crashed" : "exited", code, package.restarts, package.backoff_ns / 1'000'000);
}

struct Verified {
    rpk::Manifest* manifest;
    uint8_t* image;
    size_t size;
    std::span<const uint8_t> elf;
};

// Everything that can refuse a package, before anything changes.
ErrorOr<Verified> verify(std::span<const uint8_t> bytes, rpk::Diagnostic& diagnostic)
{
    if (bytes.size() > max_package_size) {
        diagnostic.set("package larger than {} MiB", max_package_size >> 20);
        return Error::invalid("package too large");
    }
    auto view = TRY(rpk::parse_package(bytes, &diagnostic));
    auto* manifest = TRY(heap::create<rpk::Manifest>());
    if (auto parsed = rpk::parse_manifest(KernelAllocator::the(), view.manifest_text(), *manifest, &diagnostic); parsed.is_error()) {
        heap::destroy(manifest);
        return parsed.error();
    }
    if (auto module = elf::validate_module(view.elf); module.is_error()) {
        diagnostic.set("invalid module ELF: {}", module.error().reason());
        heap::destroy(manifest);
        return module.error();
    }
    for (const Package& other : s_packages) {
        if (!other.used || other.removing || other.name() == manifest->name.view())
            continue;
        for (uint32_t i = 0; i < manifest->route_count; ++i) {
            for (uint32_t j = 0; j < other.manifest->route_count; ++j) {
                const rpk::Route& mine = manifest->routes[i];
                const rpk::Route& theirs = other.manifest->routes[j];
                if (mine.websocket == theirs.websocket && mine.path.view() == theirs.path.view()) {
                    diagnostic.set("route {} is already served by module {}", mine.path.view(), other.name());
                    heap::destroy(manifest);
                    return Error { ErrorCode::Exists, "route already served" };
                }
            }
        }
    }
    auto image = heap::allocate(bytes.size());
    if (image.is_error()) {
        heap::destroy(manifest);
        diagnostic.set("out of memory for the package");
        return image.error();
    }
    auto* copy = static_cast<uint8_t*>(image.value());
    __builtin_memcpy(copy, bytes.data(), bytes.size());
    size_t elf_offset = static_cast<size_t>(view.elf.data() - bytes.data());
    return Verified { manifest, copy, bytes.size(), { copy + elf_offset, view.elf.size() } };
}

// Installs verified bytes into the registry (starting or replacing).
InstallResult adopt(const Verified& verified, uint64_t now)
{
    InstallResult result {};
    std::string_view name = verified.manifest->name.view();
    __builtin_memcpy(result.name, name.data(), name.size());
    std::string_view version = verified.manifest->version.view();
    __builtin_memcpy(result.version, version.data(), version.size());
    Package* package = find(name);
    result.replaced = package != nullptr;
    if (package) {
        package->removing = false;
        if (package->process) {
            // The new version starts when the old process has ended.
            if (package->pending_manifest)
                free_image(package->pending_manifest, package->pending_image);
            package->pending_manifest = verified.manifest;
            package->pending_image = verified.image;
            package->pending_image_size = verified.size;
            package->pending_elf = verified.elf;
            package->process->kill(proc::ExitKind::Killed, 0);
            result.state = "running";
            return result;
        }
        free_image(package->manifest, package->image);
    } else {
        for (Package& slot : s_packages) {
            if (!slot.used) {
                package = &slot;
                break;
            }
        }
    }
    package->used = true;
    package->manifest = verified.manifest;
    package->image = verified.image;
    package->image_size = verified.size;
    package->elf = verified.elf;
    package->restarts = 0;
    package->backoff_ns = 0;
    package->factory.package = package;
    package->websocket_factory.package = package;
    start_process(*package, now);
    result.state = state_name(package->state);
    return result;
}

size_t free_slots()
{
    size_t count = 0;
    for (const Package& package : s_packages)
        count += package.used ? 0 : 1;
    return count;
}

void load_installed(uint64_t now)
{
    constexpr size_t max_names = max_packages;
    char names[max_names][40];
    size_t count = 0;
    auto listed = storage::list(package_directory, [&](const fs::DirectoryEntry& entry) -> ErrorOr<void> {
        std::string_view name = entry.name;
        if (entry.type != fs::NodeType::File || name.size() < 5 || name.size() >= sizeof(names[0]) || !name.ends_with(".rpk"))
            return {};
        if (count < max_names) {
            __builtin_memcpy(names[count], name.data(), name.size());
            names[count][name.size()] = 0;
            ++count;
        }
        return {};
    });
    if (listed.is_error()) {
        if (listed.error().code() != ErrorCode::NotFound)
            log::warn("pkg: cannot list /fs/system/pkg: {}", listed.error().reason());
        return;
    }
    for (size_t i = 0; i < count; ++i) {
        char path[64];
        size_t length = format_to(path, sizeof(path), "{}/{}", package_directory, names[i]).size();
        std::string_view file { path, length };
        auto stat = storage::stat(file);
        if (stat.is_error() || stat.value().size > max_package_size)
            continue;
        auto buffer = heap::allocate(stat.value().size > 0 ? stat.value().size : 1);
        if (buffer.is_error())
            continue;
        auto* bytes = static_cast<uint8_t*>(buffer.value());
        auto read = storage::read_file(file, 0, { bytes, stat.value().size });
        rpk::Diagnostic diagnostic;
        if (read.is_error() || read.value() != stat.value().size) {
            log::warn("pkg: cannot read {}", file);
        } else if (auto verified = verify({ bytes, read.value() }, diagnostic); verified.is_error()) {
            // A package on disk is as untrusted as one from the network.
            log::warn("pkg: {} refused: {}", file, diagnostic.view());
        } else if (free_slots() == 0) {
            free_image(verified.value().manifest, verified.value().image);
        } else {
            adopt(verified.value(), now);
        }
        heap::free(bytes);
    }
}

} // namespace

std::span<Package> packages() { return s_packages; }

void poll(uint64_t now)
{
    if (!s_loaded_installed && proc::scheduler::cpu_count() > 0) {
        s_loaded_installed = true;
        if (storage::file_system())
            load_installed(now);
    }
    for (Package& package : s_packages) {
        if (!package.used)
            continue;
        if (package.exited.load(std::memory_order_acquire))
            handle_exit(package, now);
        if (package.used && package.state == PackageState::Crashed && !package.process && now >= package.next_start_ns)
            start_process(package, now);
    }
}

ErrorOr<InstallResult> install(std::span<const uint8_t> bytes, rpk::Diagnostic& diagnostic)
{
    if (!storage::file_system()) {
        diagnostic.set("no disk: installed packages live in /fs/system/pkg");
        return Error { ErrorCode::Unsupported, "no disk" };
    }
    auto verified = TRY(verify(bytes, diagnostic));
    if (!find(verified.manifest->name.view()) && free_slots() == 0) {
        free_image(verified.manifest, verified.image);
        diagnostic.set("at most {} packages can be installed", max_packages);
        return Error { ErrorCode::NoSpace, "too many packages" };
    }
    char path[64];
    size_t length = format_to(path, sizeof(path), "{}/{}.rpk", package_directory, verified.manifest->name.view()).size();
    if (auto written = storage::write_file({ path, length }, bytes); written.is_error()) {
        free_image(verified.manifest, verified.image);
        diagnostic.set("cannot store the package: {}", written.error().reason());
        return written.error();
    }
    return adopt(verified, time::uptime_ns());
}

ErrorOr<void> remove(std::string_view name)
{
    Package* package = find(name);
    if (!package || package->removing)
        return Error::not_found("no such package");
    char path[64];
    size_t length = format_to(path, sizeof(path), "{}/{}.rpk", package_directory, name).size();
    {
        storage::Locked locked;
        fs::FileSystem* file_system = storage::file_system();
        if (!file_system)
            return Error::not_found("no disk");
        TRY(file_system->remove({ path, length }));
    }
    if (package->process) {
        package->removing = true;
        package->process->kill(proc::ExitKind::Killed, 0);
        return {};
    }
    free_image(package->manifest, package->image);
    if (package->pending_manifest)
        free_image(package->pending_manifest, package->pending_image);
    package->used = false;
    return {};
}

ErrorOr<void> restart(std::string_view name)
{
    Package* package = find(name);
    if (!package || package->removing)
        return Error::not_found("no such package");
    if (!package->process) {
        // Stopped or waiting out a backoff: start now.
        package->backoff_ns = 0;
        start_process(*package, time::uptime_ns());
        return {};
    }
    package->restart_requested = true;
    package->process->kill(proc::ExitKind::Killed, 0);
    return {};
}

void write_list(json::JsonWriter& json)
{
    json.begin_array();
    for (const Package& package : s_packages) {
        if (!package.used || package.removing)
            continue;
        json.begin_object();
        json.member("name", package.name());
        json.member("version", package.manifest->version.view());
        json.member("state", state_name(package.state));
        json.key("restarts");
        json.unsigned_integer(package.restarts);
        if (package.process) {
            json.key("pid");
            json.unsigned_integer(package.process->id());
            json.key("threads");
            json.unsigned_integer(package.process->thread_count());
        }
        json.end_object();
    }
    json.end_array();
}

bool any_module_loading()
{
    for (const Package& package : s_packages) {
        if (package.used && package.process && package.process->service_status.load(std::memory_order_acquire) == AISOS_SERVICE_LOADING)
            return true;
    }
    return false;
}

void write_metrics(FormatSink& out)
{
    format(out, "# HELP aisos_module_restarts_total Restarts of a module after it crashed.\n# TYPE aisos_module_restarts_total counter\n");
    for (const Package& package : s_packages) {
        if (package.used)
            format(out, "aisos_module_restarts_total{{module=\"{}\"}} {}\n", package.name(), package.restarts);
    }
    format(out, "# HELP aisos_module_running Whether a module's process runs (1) or not (0).\n# TYPE aisos_module_running gauge\n");
    for (const Package& package : s_packages) {
        if (package.used)
            format(out, "aisos_module_running{{module=\"{}\"}} {}\n", package.name(), package.process ? 1 : 0);
    }
    for (const Package& package : s_packages) {
        if (!package.used || !package.process)
            continue;
        proc::Process& process = *package.process;
        SpinlockGuard guard(process.metrics_lock);
        if (process.metrics_text)
            out.write(process.metrics_text, process.metrics_length);
    }
}

} // namespace aisos::pkg
