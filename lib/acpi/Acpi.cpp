// RSDP -> XSDT/RSDT walk and dispatch to the per-table parsers.
#include "lib/acpi/Acpi.h"
#include "lib/acpi/TableBytes.h"

namespace aisos::acpi {

namespace {

constexpr size_t rsdp_v1_length = 20;
constexpr size_t rsdp_v2_length = 36;
constexpr size_t max_root_entries = 1024;
constexpr size_t max_ssdts = 16;

void copy_signature(char (&to)[5], const uint8_t* from)
{
    for (int i = 0; i < 4; ++i) {
        char c = static_cast<char>(from[i]);
        to[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    to[4] = 0;
}

void add_problem(AcpiInfo& info, const uint8_t* signature, const char* reason)
{
    if (info.problem_count == max_problems)
        return;
    auto& problem = info.problems[info.problem_count++];
    if (signature) {
        copy_signature(problem.signature, signature);
    } else {
        for (int i = 0; i < 4; ++i)
            problem.signature[i] = '?';
        problem.signature[4] = 0;
    }
    problem.reason = reason;
}

// Maps a whole table after checking its header, length and checksum.
ErrorOr<std::span<const uint8_t>> load_table(AcpiMemory& memory, uint64_t physical, const char* expected_signature)
{
    if (physical == 0)
        return Error::not_found("ACPI table address is zero");
    const uint8_t* header = memory.map(physical, table_header_size);
    if (!header)
        return Error { ErrorCode::OutOfRange, "ACPI table is not in mapped memory" };
    uint32_t length = read32(header + 4);
    if (length < table_header_size || length > max_table_length)
        return Error::corrupt("ACPI table length is impossible");
    const uint8_t* whole = memory.map(physical, length);
    if (!whole)
        return Error { ErrorCode::OutOfRange, "ACPI table is not in mapped memory" };
    std::span<const uint8_t> table { whole, length };
    char signature[4];
    __builtin_memcpy(signature, expected_signature ? expected_signature : reinterpret_cast<const char*>(whole), 4);
    TRY(validate_table(table, signature));
    return table;
}

struct RootTable {
    std::span<const uint8_t> table;
    size_t entry_size;
};

ErrorOr<RootTable> load_root(AcpiMemory& memory, uint64_t rsdt, uint64_t xsdt, AcpiInfo& info)
{
    if (xsdt) {
        auto table = load_table(memory, xsdt, "XSDT");
        if (!table.is_error()) {
            info.used_xsdt = true;
            return RootTable { table.value(), 8 };
        }
        add_problem(info, reinterpret_cast<const uint8_t*>("XSDT"), table.error().reason());
    }
    if (rsdt) {
        auto table = load_table(memory, rsdt, "RSDT");
        if (!table.is_error())
            return RootTable { table.value(), 4 };
        add_problem(info, reinterpret_cast<const uint8_t*>("RSDT"), table.error().reason());
        return table.error();
    }
    return Error::corrupt("no usable XSDT or RSDT");
}

template<typename Parse, typename Result>
void parse_once(AcpiInfo& info, std::span<const uint8_t> table, bool already, Parse parse, Result& result)
{
    if (already)
        return; // the first instance of a table wins
    auto parsed = parse(table, result);
    if (parsed.is_error()) {
        result = {};
        add_problem(info, table.data(), parsed.error().reason());
    }
}

} // namespace

ErrorOr<void> parse_acpi(uint64_t rsdp_physical, AcpiMemory& memory, AcpiInfo& info)
{
    info = {};
    if (rsdp_physical == 0)
        return Error::not_found("no ACPI RSDP");
    const uint8_t* rsdp = memory.map(rsdp_physical, rsdp_v1_length);
    if (!rsdp)
        return Error { ErrorCode::OutOfRange, "RSDP is not in mapped memory" };
    if (__builtin_memcmp(rsdp, "RSD PTR ", 8) != 0)
        return Error::corrupt("RSDP signature mismatch");
    if (checksum(rsdp, rsdp_v1_length) != 0)
        return Error::corrupt("RSDP checksum mismatch");
    info.rsdp_revision = rsdp[15];
    __builtin_memcpy(info.oem_id, rsdp + 9, 6);
    info.oem_id[6] = 0;
    uint64_t rsdt = read32(rsdp + 16);
    uint64_t xsdt = 0;
    if (info.rsdp_revision >= 2) {
        const uint8_t* extended = memory.map(rsdp_physical, rsdp_v2_length);
        if (!extended)
            return Error { ErrorCode::OutOfRange, "RSDP is not in mapped memory" };
        uint32_t length = read32(extended + 20);
        if (length < rsdp_v2_length || length > 4096)
            return Error::corrupt("RSDP length is impossible");
        extended = memory.map(rsdp_physical, length);
        if (!extended)
            return Error { ErrorCode::OutOfRange, "RSDP is not in mapped memory" };
        if (checksum(extended, length) != 0)
            return Error::corrupt("RSDP extended checksum mismatch");
        xsdt = read64(extended + 24);
    }

    RootTable root = TRY(load_root(memory, rsdt, xsdt, info));
    size_t entries = (root.table.size() - table_header_size) / root.entry_size;
    if (entries > max_root_entries)
        entries = max_root_entries;

    uint64_t ssdts[max_ssdts];
    size_t ssdt_count = 0;
    for (size_t i = 0; i < entries; ++i) {
        const uint8_t* entry = root.table.data() + table_header_size + i * root.entry_size;
        uint64_t address = root.entry_size == 8 ? read64(entry) : read32(entry);
        auto loaded = load_table(memory, address, nullptr);
        if (loaded.is_error()) {
            const uint8_t* header = address ? memory.map(address, table_header_size) : nullptr;
            add_problem(info, header, loaded.error().reason());
            continue;
        }
        auto table = loaded.value();
        if (info.table_count < max_tables)
            copy_signature(info.table_signatures[info.table_count++], table.data());
        auto is = [&](const char* signature) { return __builtin_memcmp(table.data(), signature, 4) == 0; };
        if (is("APIC"))
            parse_once(info, table, info.madt.present, parse_madt, info.madt);
        else if (is("MCFG"))
            parse_once(info, table, info.mcfg.present, parse_mcfg, info.mcfg);
        else if (is("FACP"))
            parse_once(info, table, info.fadt.present, parse_fadt, info.fadt);
        else if (is("HPET"))
            parse_once(info, table, info.hpet.present, parse_hpet, info.hpet);
        else if (is("SSDT") && ssdt_count < max_ssdts)
            ssdts[ssdt_count++] = address;
    }

    // \_S5_ normally lives in the DSDT; some firmware puts it in an SSDT.
    if (info.fadt.present && info.fadt.dsdt_address) {
        auto dsdt = load_table(memory, info.fadt.dsdt_address, "DSDT");
        if (dsdt.is_error()) {
            add_problem(info, reinterpret_cast<const uint8_t*>("DSDT"), dsdt.error().reason());
        } else {
            if (info.table_count < max_tables)
                copy_signature(info.table_signatures[info.table_count++], dsdt.value().data());
            auto s5 = find_s5_sleep_type(dsdt.value());
            if (!s5.is_error())
                info.s5 = s5.value();
            else if (s5.error().code() != ErrorCode::NotFound)
                add_problem(info, dsdt.value().data(), s5.error().reason());
        }
    }
    for (size_t i = 0; i < ssdt_count && !info.s5.present; ++i) {
        auto ssdt = load_table(memory, ssdts[i], "SSDT");
        if (ssdt.is_error())
            continue;
        auto s5 = find_s5_sleep_type(ssdt.value());
        if (!s5.is_error())
            info.s5 = s5.value();
    }
    return {};
}

} // namespace aisos::acpi
