// libFuzzer target: every ACPI table parser, on the input as-is and with its
// checksum repaired (so mutations reach the parsers, not just the checksum
// check), and the full RSDP walk with the input as the only table.
#include "lib/acpi/Acpi.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace aisos::acpi;

namespace {

class BufferMemory final : public AcpiMemory {
public:
    struct Blob {
        uint64_t address;
        std::vector<uint8_t> bytes;
    };
    std::vector<Blob> blobs;

    const uint8_t* map(uint64_t physical, size_t length) override
    {
        for (auto& blob : blobs) {
            if (physical >= blob.address && physical - blob.address <= blob.bytes.size() && length <= blob.bytes.size() - (physical - blob.address))
                return blob.bytes.data() + (physical - blob.address);
        }
        return nullptr;
    }
};

void fix_checksum(std::vector<uint8_t>& table, size_t at, size_t length)
{
    if (table.size() <= at || length > table.size())
        return;
    table[at] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < length; ++i)
        sum = static_cast<uint8_t>(sum + table[i]);
    table[at] = static_cast<uint8_t>(-sum);
}

void run_parsers(std::span<const uint8_t> table)
{
    Madt madt;
    Fadt fadt;
    Mcfg mcfg;
    Hpet hpet;
    (void)parse_madt(table, madt);
    (void)parse_fadt(table, fadt);
    (void)parse_mcfg(table, mcfg);
    (void)parse_hpet(table, hpet);
    (void)find_s5_sleep_type(table);
    if (madt.processor_count > max_processors || mcfg.segment_count > max_ecam_segments)
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::vector<uint8_t> table(data, data + size);
    run_parsers(table);
    if (table.size() >= 36) {
        uint32_t length;
        std::memcpy(&length, table.data() + 4, 4);
        if (length <= table.size())
            fix_checksum(table, 9, length);
        run_parsers(table);
    }

    // The input as the single table an XSDT lists (and the FADT's DSDT, if
    // it is a FADT pointing at 0x3000).
    BufferMemory memory;
    std::vector<uint8_t> xsdt(44, 0);
    std::memcpy(xsdt.data(), "XSDT", 4);
    uint32_t xsdt_length = 44;
    std::memcpy(xsdt.data() + 4, &xsdt_length, 4);
    uint64_t table_address = 0x3000;
    std::memcpy(xsdt.data() + 36, &table_address, 8);
    fix_checksum(xsdt, 9, 44);
    std::vector<uint8_t> rsdp(36, 0);
    std::memcpy(rsdp.data(), "RSD PTR ", 8);
    rsdp[15] = 2;
    uint32_t rsdp_length = 36;
    std::memcpy(rsdp.data() + 20, &rsdp_length, 4);
    uint64_t xsdt_address = 0x2000;
    std::memcpy(rsdp.data() + 24, &xsdt_address, 8);
    fix_checksum(rsdp, 8, 20);
    fix_checksum(rsdp, 32, 36);
    memory.blobs.push_back({ 0x1000, rsdp });
    memory.blobs.push_back({ 0x2000, xsdt });
    memory.blobs.push_back({ 0x3000, table });
    AcpiInfo info;
    (void)parse_acpi(0x1000, memory, info);
    return 0;
}
