// libFuzzer target: the .rpk container as POST /pkg/install receives it,
// then (for packages that verify) the manifest and the module ELF.
//
// Random bytes almost never carry a valid SHA-256, so each input is also
// tried "resealed" (its last 32 bytes replaced by the hash of the rest):
// that lets the fuzzer reach the length checks and the contents.
#include "lib/crypto/Sha256.h"
#include "lib/rpk/Package.h"
#include "tests/fuzz/rpk/FuzzChecks.h"

#include <cstring>
#include <vector>

using namespace aisos;
using namespace aisos::rpk;
using aisos::rpk::fuzz::require;

static void check_package(std::span<const uint8_t> bytes)
{
    Diagnostic diagnostic;
    auto result = parse_package(bytes, &diagnostic);
    if (result.is_error()) {
        require(!diagnostic.empty());
        return;
    }
    auto const& view = result.value();
    require(view.manifest.data() == bytes.data() + package_header_size);
    require(view.elf.data() == view.manifest.data() + view.manifest.size());
    require(view.elf.size() + view.manifest.size() + package_header_size + package_hash_size == bytes.size());
    // Writing the parts back gives the same bytes: one package, one encoding.
    std::vector<uint8_t> again(bytes.size());
    require(MUST(write_package(view.manifest, view.elf, again)) == bytes.size());
    require(std::memcmp(again.data(), bytes.data(), bytes.size()) == 0);
    fuzz::check_manifest(view.manifest_text());
    fuzz::check_module(view.elf);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    check_package({ data, size });
    if (size >= package_header_size + package_hash_size) {
        std::vector<uint8_t> sealed(data, data + size);
        auto digest = crypto::Sha256::hash(std::span<const uint8_t>(sealed.data(), size - package_hash_size));
        std::memcpy(sealed.data() + size - package_hash_size, digest.data(), package_hash_size);
        check_package(sealed);
    }
    return 0;
}
