#include "kernel/pkg/Preinstall.h"

#include "kernel/console/Log.h"
#include "kernel/fs/Storage.h"
#include "lib/initrd/Initrd.h"

namespace aisos::pkg {

void preinstall(std::span<const uint8_t> bytes)
{
    if (bytes.empty())
        return;
    if (!storage::file_system()) {
        log::warn("initrd: no /fs to install into");
        return;
    }
    auto archive = initrd::Archive::parse(bytes);
    if (archive.is_error()) {
        log::warn("initrd: refused: {}", archive.error().reason());
        return;
    }
    for (uint32_t i = 0; i < archive.value().count(); ++i) {
        const initrd::Entry& entry = archive.value().entry(i);
        if (auto existing = storage::stat(entry.path); !existing.is_error())
            continue;
        if (auto written = storage::write_file(entry.path, entry.data); written.is_error())
            log::warn("initrd: cannot install /fs/{}: {}", entry.path, written.error().reason());
        else
            log::info("initrd: installed /fs/{} ({} bytes)", entry.path, entry.data.size());
    }
}

} // namespace aisos::pkg
