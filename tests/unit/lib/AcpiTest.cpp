#include "lib/acpi/Acpi.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::acpi;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes read_data(const std::string& name)
{
    std::string path = std::string(AISOS_TEST_DATA) + "/acpi/" + name;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

// (Not vector::insert: GCC 12 at -O2 warns falsely about it, -Warray-bounds.)
void append(Bytes& to, const Bytes& from)
{
    for (uint8_t byte : from)
        to.push_back(byte);
}

void fix_checksum(Bytes& table, size_t checksum_offset = 9, size_t length = 0)
{
    if (length == 0)
        length = table.size();
    table[checksum_offset] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < length; ++i)
        sum = static_cast<uint8_t>(sum + table[i]);
    table[checksum_offset] = static_cast<uint8_t>(-sum);
}

template<typename T>
void put(Bytes& bytes, size_t offset, T value)
{
    if (bytes.size() < offset + sizeof(T))
        bytes.resize(offset + sizeof(T));
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// A table with a valid header around `body`.
Bytes make_table(const char* signature, const Bytes& body, uint8_t revision = 1)
{
    Bytes table(36, 0);
    std::memcpy(table.data(), signature, 4);
    table[8] = revision;
    std::memcpy(table.data() + 10, "AISOS ", 6);
    std::memcpy(table.data() + 16, "UNITTEST", 8);
    append(table, body);
    put<uint32_t>(table, 4, static_cast<uint32_t>(table.size()));
    fix_checksum(table);
    return table;
}

// Physical memory made of separate blobs.
class FakeAcpiMemory final : public AcpiMemory {
public:
    void place(uint64_t physical, Bytes bytes) { m_blobs[physical] = std::move(bytes); }
    Bytes& at(uint64_t physical) { return m_blobs.at(physical); }

    const uint8_t* map(uint64_t physical, size_t length) override
    {
        auto it = m_blobs.upper_bound(physical);
        if (it == m_blobs.begin())
            return nullptr;
        --it;
        uint64_t offset = physical - it->first;
        if (offset > it->second.size() || length > it->second.size() - offset)
            return nullptr;
        // Hand out an exact-size copy so ASan catches any read past `length`.
        m_handed_out.push_back(std::make_unique<uint8_t[]>(length ? length : 1));
        std::memcpy(m_handed_out.back().get(), it->second.data() + offset, length);
        return m_handed_out.back().get();
    }

private:
    std::map<uint64_t, Bytes> m_blobs;
    std::vector<std::unique_ptr<uint8_t[]>> m_handed_out;
};

constexpr uint64_t rsdp_address = 0xe0000;
constexpr uint64_t xsdt_address = 0x7fff0000;
constexpr uint64_t rsdt_address = 0x7ffe0000;

Bytes make_rsdp(uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
    Bytes rsdp(revision >= 2 ? 36 : 20, 0);
    std::memcpy(rsdp.data(), "RSD PTR ", 8);
    std::memcpy(rsdp.data() + 9, "AISOS ", 6);
    rsdp[15] = revision;
    put<uint32_t>(rsdp, 16, rsdt);
    if (revision >= 2) {
        put<uint32_t>(rsdp, 20, 36);
        put<uint64_t>(rsdp, 24, xsdt);
    }
    fix_checksum(rsdp, 8, 20);
    if (revision >= 2)
        fix_checksum(rsdp, 32, 36);
    return rsdp;
}

// Places the tables at 0x7fe00000 + i * 0x10000 and root tables listing them.
void install(FakeAcpiMemory& memory, std::vector<Bytes> const& tables, uint8_t revision = 2)
{
    Bytes xsdt_body, rsdt_body;
    for (size_t i = 0; i < tables.size(); ++i) {
        uint64_t address = 0x7fe00000 + i * 0x10000;
        memory.place(address, tables[i]);
        put<uint64_t>(xsdt_body, xsdt_body.size(), address);
        put<uint32_t>(rsdt_body, rsdt_body.size(), static_cast<uint32_t>(address));
    }
    memory.place(xsdt_address, make_table("XSDT", xsdt_body));
    memory.place(rsdt_address, make_table("RSDT", rsdt_body));
    memory.place(rsdp_address, make_rsdp(revision, static_cast<uint32_t>(rsdt_address), xsdt_address));
}

std::unique_ptr<AcpiInfo> parse(FakeAcpiMemory& memory, ErrorCode* error = nullptr)
{
    auto info = std::make_unique<AcpiInfo>();
    auto result = parse_acpi(rsdp_address, memory, *info);
    if (error)
        *error = result.is_error() ? result.error().code() : ErrorCode {};
    else
        EXPECT_FALSE(result.is_error()) << result.error().reason();
    return info;
}

bool has_problem(AcpiInfo const& info, const char* signature)
{
    for (size_t i = 0; i < info.problem_count; ++i)
        if (std::string(info.problems[i].signature) == signature)
            return true;
    return false;
}

} // namespace

TEST(Acpi, CapturedHostTables)
{
    // This machine's own tables (a Firecracker VM): hardware-reduced ACPI,
    // DSDT only through X_DSDT, no _S5_.
    FakeAcpiMemory memory;
    auto facp = read_data("host/FACP");
    uint64_t x_dsdt;
    std::memcpy(&x_dsdt, facp.data() + 140, 8);
    memory.place(x_dsdt, read_data("host/DSDT"));
    install(memory, { read_data("host/APIC"), facp, read_data("host/MCFG") });
    auto info = parse(memory);
    EXPECT_TRUE(info->used_xsdt);
    EXPECT_EQ(info->problem_count, 0u) << (info->problem_count ? info->problems[0].reason : "");
    ASSERT_EQ(info->table_count, 4u);
    EXPECT_STREQ(info->table_signatures[0], "APIC");
    EXPECT_STREQ(info->table_signatures[3], "DSDT");

    ASSERT_TRUE(info->madt.present);
    EXPECT_EQ(info->madt.local_apic_address, 0xfee00000u);
    EXPECT_FALSE(info->madt.pcat_compatible);
    ASSERT_EQ(info->madt.processor_count, 2u);
    for (uint32_t i = 0; i < 2; ++i) {
        EXPECT_EQ(info->madt.processors[i].apic_id, i);
        EXPECT_EQ(info->madt.processors[i].acpi_uid, i);
        EXPECT_TRUE(info->madt.processors[i].enabled);
        EXPECT_FALSE(info->madt.processors[i].x2apic);
    }
    ASSERT_EQ(info->madt.io_apic_count, 1u);
    EXPECT_EQ(info->madt.io_apics[0].address, 0xfec00000u);
    EXPECT_EQ(info->madt.io_apics[0].gsi_base, 0u);

    ASSERT_TRUE(info->mcfg.present);
    ASSERT_EQ(info->mcfg.segment_count, 1u);
    EXPECT_EQ(info->mcfg.segments[0].base, 0xeec00000u);
    EXPECT_EQ(info->mcfg.segments[0].bus_start, 0u);
    EXPECT_EQ(info->mcfg.segments[0].bus_end, 0u);

    ASSERT_TRUE(info->fadt.present);
    EXPECT_TRUE(info->fadt.hardware_reduced());
    EXPECT_EQ(info->fadt.dsdt_address, x_dsdt);
    EXPECT_FALSE(info->fadt.pm1a_control.is_present());
    EXPECT_FALSE(info->fadt.reset_supported);
    EXPECT_FALSE(info->s5.present);
    EXPECT_FALSE(info->hpet.present);
}

TEST(Acpi, IaslCompiledFadt)
{
    auto table = read_data("iasl/fadt_q35.aml");
    Fadt fadt;
    MUST(parse_fadt(table, fadt));
    EXPECT_EQ(fadt.revision, 6u);
    EXPECT_EQ(fadt.sci_interrupt, 9u);
    EXPECT_EQ(fadt.smi_command_port, 0xb2u);
    EXPECT_EQ(fadt.acpi_enable_value, 0xf1u);
    EXPECT_EQ(fadt.acpi_disable_value, 0xf0u);
    EXPECT_EQ(fadt.pm1a_control.address, 0x604u);
    EXPECT_EQ(fadt.pm1a_control.address_space, uint8_t(AddressSpace::SystemIo));
    EXPECT_EQ(fadt.pm1a_control.bit_width, 16u);
    EXPECT_FALSE(fadt.pm1b_control.is_present());
    EXPECT_EQ(fadt.pm1a_event.address, 0x600u);
    EXPECT_EQ(fadt.pm_timer.address, 0x608u);
    EXPECT_EQ(fadt.pm_timer.bit_width, 32u);
    EXPECT_TRUE(fadt.pm_timer_is_32bit());
    EXPECT_TRUE(fadt.reset_supported);
    EXPECT_EQ(fadt.reset_register.address, 0xcf9u);
    EXPECT_EQ(fadt.reset_register.address_space, uint8_t(AddressSpace::SystemIo));
    EXPECT_EQ(fadt.reset_value, 6u);
    EXPECT_EQ(fadt.century_register, 0x32u);
    EXPECT_EQ(fadt.boot_architecture, boot_arch::has_8042);
    EXPECT_EQ(fadt.dsdt_address, 0x100002000u); // X_DSDT preferred over DSDT (0x1000)
    EXPECT_FALSE(fadt.hardware_reduced());

    // An ACPI 1.0-sized FADT (116 bytes) still parses: legacy blocks only.
    Bytes v1(table.begin(), table.begin() + 116);
    put<uint32_t>(v1, 4, 116);
    v1[8] = 1;
    fix_checksum(v1);
    Fadt old;
    MUST(parse_fadt(v1, old));
    EXPECT_EQ(old.pm1a_control.address, 0x604u);
    EXPECT_EQ(old.dsdt_address, 0x1000u);
    EXPECT_FALSE(old.reset_supported);

    Bytes tiny(table.begin(), table.begin() + 100);
    put<uint32_t>(tiny, 4, 100);
    fix_checksum(tiny);
    EXPECT_EQ(parse_fadt(tiny, old).error().code(), ErrorCode::Corrupt);
}

TEST(Acpi, IaslCompiledMadtWithEveryEntryType)
{
    auto table = read_data("iasl/madt_template.aml");
    Madt madt;
    MUST(parse_madt(table, madt));
    EXPECT_EQ(madt.local_apic_address, 0xfee00000u); // the zero override is ignored
    EXPECT_TRUE(madt.pcat_compatible);
    ASSERT_EQ(madt.processor_count, 2u);
    EXPECT_EQ(madt.processors[0].apic_id, 3u);
    EXPECT_EQ(madt.processors[0].acpi_uid, 2u);
    EXPECT_FALSE(madt.processors[0].x2apic);
    EXPECT_EQ(madt.processors[1].apic_id, 0x100u);
    EXPECT_EQ(madt.processors[1].acpi_uid, 0x10u);
    EXPECT_TRUE(madt.processors[1].x2apic);
    EXPECT_TRUE(madt.processors[1].enabled);
    ASSERT_EQ(madt.io_apic_count, 1u);
    EXPECT_EQ(madt.io_apics[0].id, 8u);
    EXPECT_EQ(madt.io_apics[0].address, 0xfec00000u);
    EXPECT_EQ(madt.io_apics[0].gsi_base, 24u);
    ASSERT_EQ(madt.override_count, 1u);
    EXPECT_EQ(madt.overrides[0].source, 9u);
    EXPECT_EQ(madt.overrides[0].gsi, 20u);
    EXPECT_EQ(madt.overrides[0].polarity, Polarity::ActiveLow);
    EXPECT_EQ(madt.overrides[0].trigger, Trigger::Level);
    ASSERT_EQ(madt.nmi_source_count, 1u);
    EXPECT_EQ(madt.nmi_sources[0].gsi, 1u);
    EXPECT_EQ(madt.nmi_sources[0].polarity, Polarity::ActiveHigh);
    EXPECT_EQ(madt.nmi_sources[0].trigger, Trigger::Level);
    ASSERT_EQ(madt.local_nmi_count, 2u);
    EXPECT_EQ(madt.local_nmis[0].acpi_uid, LocalApicNmi::all_processors);
    EXPECT_EQ(madt.local_nmis[0].lint, 1u);
    EXPECT_EQ(madt.local_nmis[0].trigger, Trigger::Edge);
    EXPECT_EQ(madt.local_nmis[1].acpi_uid, LocalApicNmi::all_processors);
    EXPECT_EQ(madt.local_nmis[1].lint, 0u);
}

TEST(Acpi, IaslCompiledHpetAndMcfg)
{
    Hpet hpet;
    MUST(parse_hpet(read_data("iasl/hpet_q35.aml"), hpet));
    EXPECT_EQ(hpet.base_address, 0xfed00000u);
    EXPECT_EQ(hpet.event_timer_block_id, 0x8086a201u);
    EXPECT_EQ(hpet.minimum_tick, 0x80u);
    Mcfg mcfg;
    MUST(parse_mcfg(read_data("iasl/mcfg_q35.aml"), mcfg));
    ASSERT_EQ(mcfg.segment_count, 1u);
    EXPECT_EQ(mcfg.segments[0].base, 0xb0000000u);
    EXPECT_EQ(mcfg.segments[0].segment, 0u);
    EXPECT_EQ(mcfg.segments[0].bus_start, 0u);
    EXPECT_EQ(mcfg.segments[0].bus_end, 255u);
}

TEST(Acpi, S5FromIaslCompiledAml)
{
    auto byte = MUST(find_s5_sleep_type(read_data("iasl/dsdt_s5_byte.aml")));
    EXPECT_TRUE(byte.present);
    EXPECT_EQ(byte.slp_typ_a, 5u);
    EXPECT_EQ(byte.slp_typ_b, 7u);
    auto zero = MUST(find_s5_sleep_type(read_data("iasl/dsdt_s5_zero.aml")));
    EXPECT_EQ(zero.slp_typ_a, 0u);
    EXPECT_EQ(zero.slp_typ_b, 0u);
    auto one = MUST(find_s5_sleep_type(read_data("iasl/ssdt_s5_one.aml")));
    EXPECT_EQ(one.slp_typ_a, 1u);
    EXPECT_EQ(one.slp_typ_b, 1u);
    EXPECT_EQ(find_s5_sleep_type(read_data("host/DSDT")).error().code(), ErrorCode::NotFound);
}

TEST(Acpi, FullWalkFindsS5InDsdtOrSsdt)
{
    auto fadt = read_data("iasl/fadt_q35.aml");
    {
        FakeAcpiMemory memory;
        memory.place(0x100002000, read_data("iasl/dsdt_s5_byte.aml"));
        install(memory, { read_data("iasl/madt_template.aml"), fadt, read_data("iasl/hpet_q35.aml"), read_data("iasl/mcfg_q35.aml") });
        auto info = parse(memory);
        EXPECT_EQ(info->problem_count, 0u);
        EXPECT_TRUE(info->s5.present);
        EXPECT_EQ(info->s5.slp_typ_a, 5u);
        EXPECT_TRUE(info->hpet.present);
        EXPECT_EQ(info->hpet.base_address, 0xfed00000u);
        EXPECT_STREQ(info->oem_id, "AISOS ");
        EXPECT_EQ(info->rsdp_revision, 2u);
    }
    {
        FakeAcpiMemory memory;
        memory.place(0x100002000, read_data("host/DSDT")); // no _S5_ here
        install(memory, { fadt, read_data("iasl/ssdt_s5_one.aml") });
        auto info = parse(memory);
        EXPECT_TRUE(info->s5.present);
        EXPECT_EQ(info->s5.slp_typ_a, 1u);
    }
    {
        // The DSDT the FADT points at is missing: recorded, not fatal.
        FakeAcpiMemory memory;
        install(memory, { fadt });
        auto info = parse(memory);
        EXPECT_TRUE(info->fadt.present);
        EXPECT_FALSE(info->s5.present);
        EXPECT_TRUE(has_problem(*info, "DSDT"));
    }
}

TEST(Acpi, RsdpVersionsAndRootFallback)
{
    auto madt = read_data("host/APIC");
    {
        FakeAcpiMemory memory;
        install(memory, { madt }, 0); // ACPI 1.0: RSDT only
        auto info = parse(memory);
        EXPECT_FALSE(info->used_xsdt);
        EXPECT_EQ(info->madt.processor_count, 2u);
    }
    {
        FakeAcpiMemory memory;
        install(memory, { madt });
        memory.at(xsdt_address)[40] ^= 0xff; // breaks the XSDT checksum
        auto info = parse(memory);
        EXPECT_FALSE(info->used_xsdt);
        EXPECT_TRUE(has_problem(*info, "XSDT"));
        EXPECT_EQ(info->madt.processor_count, 2u);
    }
    auto expect_error = [&](auto corrupt, ErrorCode code, const char* what) {
        FakeAcpiMemory memory;
        install(memory, { madt });
        corrupt(memory);
        ErrorCode error {};
        parse(memory, &error);
        EXPECT_EQ(error, code) << what;
    };
    expect_error([](FakeAcpiMemory& m) { m.at(rsdp_address)[0] = 'X'; }, ErrorCode::Corrupt, "signature");
    expect_error([](FakeAcpiMemory& m) { m.at(rsdp_address)[9] ^= 1; }, ErrorCode::Corrupt, "v1 checksum");
    expect_error([](FakeAcpiMemory& m) { m.at(rsdp_address)[33] ^= 1; }, ErrorCode::Corrupt, "v2 checksum");
    expect_error([](FakeAcpiMemory& m) { put<uint32_t>(m.at(rsdp_address), 20, 1 << 20); }, ErrorCode::Corrupt, "v2 length");
    expect_error([](FakeAcpiMemory& m) { m.at(xsdt_address)[40] ^= 1; m.at(rsdt_address)[36] ^= 1; }, ErrorCode::Corrupt, "both roots");
    expect_error([](FakeAcpiMemory& m) { m.place(rsdp_address, make_rsdp(2, 0, 0x12345000)); }, ErrorCode::Corrupt, "root unmapped");
    FakeAcpiMemory empty;
    AcpiInfo info;
    EXPECT_EQ(parse_acpi(0, empty, info).error().code(), ErrorCode::NotFound);
    EXPECT_EQ(parse_acpi(0x1000, empty, info).error().code(), ErrorCode::OutOfRange);
}

TEST(Acpi, BadTablesAreSkippedAndRecorded)
{
    auto madt = read_data("host/APIC");
    auto mcfg = read_data("host/MCFG");
    auto bad_checksum = mcfg;
    bad_checksum[50] ^= 0x10;
    auto too_long = madt;
    put<uint32_t>(too_long, 4, 5000); // longer than the memory behind it
    auto too_short = madt;
    put<uint32_t>(too_short, 4, 20);
    FakeAcpiMemory memory;
    install(memory, { bad_checksum, too_long, too_short, madt });
    // An XSDT entry pointing nowhere.
    auto& xsdt = memory.at(xsdt_address);
    put<uint64_t>(xsdt, xsdt.size(), 0xdead0000);
    put<uint32_t>(xsdt, 4, static_cast<uint32_t>(xsdt.size()));
    fix_checksum(xsdt);
    auto info = parse(memory);
    EXPECT_EQ(info->problem_count, 4u);
    EXPECT_FALSE(info->mcfg.present);
    EXPECT_EQ(info->madt.processor_count, 2u);
    EXPECT_EQ(info->table_count, 1u);
}

namespace {

Bytes madt_with(const Bytes& entries)
{
    Bytes body(8, 0);
    put<uint32_t>(body, 0, 0xfee00000);
    append(body, entries);
    return make_table("APIC", body);
}

} // namespace

TEST(Acpi, MadtEdgeCases)
{
    Madt madt;
    // Zero-length entry: must not loop forever.
    EXPECT_EQ(parse_madt(madt_with({ 0, 0, 0, 0, 0, 0, 0, 0 }), madt).error().code(), ErrorCode::Corrupt);
    // Entry longer than the table.
    EXPECT_EQ(parse_madt(madt_with({ 0, 9, 0, 0, 1, 0, 0, 0 }), madt).error().code(), ErrorCode::Corrupt);
    // Entry shorter than its type needs.
    EXPECT_EQ(parse_madt(madt_with({ 1, 6, 0, 0, 0, 0 }), madt).error().code(), ErrorCode::Corrupt);
    // A lone trailing byte.
    EXPECT_EQ(parse_madt(madt_with({ 0, 8, 0, 0, 1, 0, 0, 0, 0 }), madt).error().code(), ErrorCode::Corrupt);
    // Unknown types and longer-than-needed entries are fine.
    MUST(parse_madt(madt_with({ 0x7f, 4, 1, 2, 0, 10, 5, 7, 3, 0, 0, 0, 0, 0 }), madt));
    ASSERT_EQ(madt.processor_count, 1u);
    EXPECT_EQ(madt.processors[0].apic_id, 7u);
    EXPECT_TRUE(madt.processors[0].enabled);
    EXPECT_TRUE(madt.processors[0].online_capable);

    // 300 processors: 256 kept, the rest counted.
    Bytes many;
    for (int i = 0; i < 300; ++i) {
        Bytes entry(16, 0);
        entry[0] = 9;
        entry[1] = 16;
        put<uint32_t>(entry, 4, static_cast<uint32_t>(1000 + i));
        put<uint32_t>(entry, 8, i % 2 ? 0u : 2u); // odd: disabled; even: online capable
        append(many, entry);
    }
    MUST(parse_madt(madt_with(many), madt));
    EXPECT_EQ(madt.processor_count, max_processors);
    EXPECT_EQ(madt.entries_dropped, 300 - max_processors);
    EXPECT_EQ(madt.processors[255].apic_id, 1255u);
    EXPECT_FALSE(madt.processors[0].enabled);
    EXPECT_TRUE(madt.processors[0].online_capable);
    EXPECT_FALSE(madt.processors[1].online_capable);

    auto bad = madt_with({});
    bad[9] ^= 1;
    EXPECT_EQ(parse_madt(bad, madt).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(parse_madt(Bytes(10, 0), madt).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(parse_madt(read_data("host/MCFG"), madt).error().code(), ErrorCode::Corrupt); // wrong signature
}

TEST(Acpi, McfgEdgeCases)
{
    Mcfg mcfg;
    auto entry = [](uint64_t base, uint16_t segment, uint8_t start, uint8_t end) {
        Bytes e(16, 0);
        put<uint64_t>(e, 0, base);
        put<uint16_t>(e, 8, segment);
        e[10] = start;
        e[11] = end;
        return e;
    };
    auto mcfg_with = [](std::vector<Bytes> entries, size_t extra = 0) {
        Bytes body(8, 0);
        for (auto& e : entries)
            append(body, e);
        body.resize(body.size() + extra);
        return make_table("MCFG", body);
    };
    EXPECT_EQ(parse_mcfg(mcfg_with({ entry(0xb0000000, 0, 0, 255) }, 3), mcfg).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(parse_mcfg(mcfg_with({ entry(0xb0000000, 0, 10, 9) }), mcfg).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(parse_mcfg(mcfg_with({ entry(0xb0001000, 0, 0, 9) }), mcfg).error().code(), ErrorCode::Corrupt);
    std::vector<Bytes> ten;
    for (uint16_t i = 0; i < 10; ++i)
        ten.push_back(entry(0x100000000ull * (i + 1), i, 0, 63));
    MUST(parse_mcfg(mcfg_with(ten), mcfg));
    EXPECT_EQ(mcfg.segment_count, max_ecam_segments);
    EXPECT_EQ(mcfg.segments_dropped, 2u);
    EXPECT_EQ(mcfg.segments[7].segment, 7u);
    EXPECT_EQ(mcfg.segments[7].base, 0x800000000u);
    MUST(parse_mcfg(mcfg_with({}), mcfg));
    EXPECT_EQ(mcfg.segment_count, 0u);
}

TEST(Acpi, S5ScannerEdgeCases)
{
    auto aml = [](Bytes code) { return make_table("DSDT", code, 2); };
    auto s5 = [](Bytes tail) {
        Bytes code { 0x08, '_', 'S', '5', '_' };
        append(code, tail);
        return code;
    };
    // Two-byte PkgLength (0x40 | low nibble, then the next 8 bits), DWord and Word constants.
    {
        Bytes body = s5({ 0x12, 0x4e, 0x00, 0x02, 0x0c, 0x03, 0, 0, 0, 0x0b, 0x02, 0x00 });
        body.resize(body.size() + 3); // the package claims 14 bytes from its PkgLength: pad to them
        auto r = MUST(find_s5_sleep_type(aml(body)));
        EXPECT_EQ(r.slp_typ_a, 3u);
        EXPECT_EQ(r.slp_typ_b, 2u);
    }
    // A single-element package: b = a.
    EXPECT_EQ(MUST(find_s5_sleep_type(aml(s5({ 0x12, 0x04, 0x01, 0x0a, 0x06 })))).slp_typ_b, 6u);
    // Values that do not fit 3 bits.
    EXPECT_EQ(find_s5_sleep_type(aml(s5({ 0x12, 0x06, 0x02, 0x0a, 0x09, 0x00 }))).error().code(), ErrorCode::Corrupt);
    // Package length beyond the table.
    EXPECT_EQ(find_s5_sleep_type(aml(s5({ 0x12, 0x30, 0x02, 0x00, 0x00 }))).error().code(), ErrorCode::Corrupt);
    // Multi-byte PkgLength cut by the end of the table.
    EXPECT_EQ(find_s5_sleep_type(aml(s5({ 0x12, 0xc0 }))).error().code(), ErrorCode::Corrupt);
    // Constant cut by the package end.
    EXPECT_EQ(find_s5_sleep_type(aml(s5({ 0x12, 0x04, 0x02, 0x0a, 0x05, 0x0c, 0x01 }))).error().code(), ErrorCode::Unsupported);
    // _S5_ as a method, not a package.
    Bytes method { 0x14, 0x09, '_', 'S', '5', '_', 0x00, 0xa4, 0x00, 0x00 };
    EXPECT_EQ(find_s5_sleep_type(aml(method)).error().code(), ErrorCode::NotFound);
    EXPECT_EQ(find_s5_sleep_type(aml(s5({ 0x14, 0x03, 0x00 }))).error().code(), ErrorCode::Unsupported);
    // _S5_ right at the end of the table.
    EXPECT_EQ(find_s5_sleep_type(aml(s5({}))).error().code(), ErrorCode::Unsupported);
    // An empty package.
    EXPECT_EQ(find_s5_sleep_type(aml(s5({ 0x12, 0x02, 0x00 }))).error().code(), ErrorCode::Corrupt);
    // Length field larger than the buffer.
    auto t = aml(s5({ 0x12, 0x04, 0x01, 0x0a, 0x06 }));
    put<uint32_t>(t, 4, 4096);
    EXPECT_EQ(find_s5_sleep_type(t).error().code(), ErrorCode::Corrupt);
}

TEST(Acpi, RandomCorruptionNeverCrashes)
{
    std::vector<Bytes> originals { read_data("iasl/madt_template.aml"), read_data("iasl/fadt_q35.aml"), read_data("iasl/dsdt_s5_byte.aml"),
        read_data("iasl/mcfg_q35.aml"), read_data("iasl/hpet_q35.aml"), read_data("host/DSDT") };
    std::mt19937 rng(11);
    size_t parsed = 0;
    for (int round = 0; round < 4000; ++round) {
        auto bytes = originals[rng() % originals.size()];
        for (int i = 0, flips = 1 + int(rng() % 6); i < flips; ++i)
            bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
        if (rng() % 2)
            fix_checksum(bytes); // get past the checksum to the parsers proper
        if (rng() % 8 == 0)
            bytes.resize(rng() % bytes.size());
        Madt madt;
        Fadt fadt;
        Mcfg mcfg;
        Hpet hpet;
        parsed += !parse_madt(bytes, madt).is_error();
        parsed += !parse_fadt(bytes, fadt).is_error();
        parsed += !parse_mcfg(bytes, mcfg).is_error();
        parsed += !parse_hpet(bytes, hpet).is_error();
        parsed += !find_s5_sleep_type(bytes).is_error();
        FakeAcpiMemory memory;
        install(memory, { bytes });
        ErrorCode error;
        parse(memory, &error);
    }
    EXPECT_GT(parsed, 100u);
}
