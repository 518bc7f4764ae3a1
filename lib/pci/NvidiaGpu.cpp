#include "lib/pci/NvidiaGpu.h"

namespace aisos::pci {

namespace {

struct ChipName {
    uint16_t chipset;
    const char* name;
};

constexpr ChipName s_chips[] = {
    { 0x0c0, "GF100" }, { 0x0c1, "GF108" }, { 0x0c3, "GF106" }, { 0x0c4, "GF104" }, { 0x0c8, "GF110" },
    { 0x0ce, "GF114" }, { 0x0cf, "GF116" }, { 0x0d7, "GF117" }, { 0x0d9, "GF119" },
    { 0x0e4, "GK104" }, { 0x0e6, "GK106" }, { 0x0e7, "GK107" }, { 0x0f0, "GK110" }, { 0x0f1, "GK110B" },
    { 0x106, "GK208B" }, { 0x108, "GK208" },
    { 0x117, "GM107" }, { 0x118, "GM108" }, { 0x120, "GM200" }, { 0x124, "GM204" }, { 0x126, "GM206" },
    { 0x130, "GP100" }, { 0x132, "GP102" }, { 0x134, "GP104" }, { 0x136, "GP106" }, { 0x137, "GP107" }, { 0x138, "GP108" },
    { 0x140, "GV100" },
    { 0x162, "TU102" }, { 0x164, "TU104" }, { 0x166, "TU106" }, { 0x167, "TU117" }, { 0x168, "TU116" },
    { 0x170, "GA100" }, { 0x172, "GA102" }, { 0x173, "GA103" }, { 0x174, "GA104" }, { 0x176, "GA106" }, { 0x177, "GA107" },
    { 0x180, "GH100" },
    { 0x192, "AD102" }, { 0x193, "AD103" }, { 0x194, "AD104" }, { 0x196, "AD106" }, { 0x197, "AD107" },
    { 0x1a0, "GB100" }, { 0x1a2, "GB102" },
};

struct ProductName {
    uint16_t device_id;
    const char* name;
};

// From the PCI ID database (pci.ids) entries for these cards.
constexpr ProductName s_products[] = {
    { 0x1db1, "Tesla V100 SXM2 16GB" }, { 0x1db4, "Tesla V100 PCIe 16GB" },
    { 0x1db5, "Tesla V100 SXM2 32GB" }, { 0x1db6, "Tesla V100 PCIe 32GB" },
    { 0x1e30, "Quadro RTX 6000/8000" }, { 0x1eb8, "Tesla T4" },
    { 0x20b0, "A100 SXM4 40GB" }, { 0x20b2, "A100 SXM4 80GB" }, { 0x20b5, "A100 PCIe 80GB" },
    { 0x20f1, "A100 PCIe 40GB" }, { 0x20b7, "A30" },
    { 0x2204, "GeForce RTX 3090" }, { 0x2230, "RTX A6000" }, { 0x2231, "RTX A5000" }, { 0x2235, "A40" },
    { 0x2321, "H100 NVL" }, { 0x2330, "H100 SXM5 80GB" }, { 0x2331, "H100 PCIe" }, { 0x2335, "H200" },
    { 0x2684, "GeForce RTX 4090" }, { 0x26b1, "RTX 6000 Ada Generation" }, { 0x26b5, "L40" }, { 0x26b9, "L40S" },
    { 0x27b0, "RTX 4000 SFF Ada Generation" }, { 0x27b8, "L4" },
    { 0x2901, "B200" },
};

NvidiaArchitecture architecture_of(uint16_t chipset)
{
    switch (chipset & 0x1f0) {
    case 0x050:
    case 0x080:
    case 0x090:
    case 0x0a0:
        return NvidiaArchitecture::Tesla;
    case 0x0c0:
    case 0x0d0:
        return NvidiaArchitecture::Fermi;
    case 0x0e0:
    case 0x0f0:
    case 0x100:
        return NvidiaArchitecture::Kepler;
    case 0x110:
    case 0x120:
        return NvidiaArchitecture::Maxwell;
    case 0x130:
        return NvidiaArchitecture::Pascal;
    case 0x140:
        return NvidiaArchitecture::Volta;
    case 0x160:
        return NvidiaArchitecture::Turing;
    case 0x170:
        return NvidiaArchitecture::Ampere;
    case 0x180:
        return NvidiaArchitecture::Hopper;
    case 0x190:
        return NvidiaArchitecture::Ada;
    case 0x1a0: // GB10x (datacenter)
    case 0x1b0: // GB20x
        return NvidiaArchitecture::Blackwell;
    default:
        return NvidiaArchitecture::Unknown;
    }
}

} // namespace

const char* nvidia_architecture_name(NvidiaArchitecture architecture)
{
    switch (architecture) {
    case NvidiaArchitecture::Tesla: return "Tesla";
    case NvidiaArchitecture::Fermi: return "Fermi";
    case NvidiaArchitecture::Kepler: return "Kepler";
    case NvidiaArchitecture::Maxwell: return "Maxwell";
    case NvidiaArchitecture::Pascal: return "Pascal";
    case NvidiaArchitecture::Volta: return "Volta";
    case NvidiaArchitecture::Turing: return "Turing";
    case NvidiaArchitecture::Ampere: return "Ampere";
    case NvidiaArchitecture::Hopper: return "Hopper";
    case NvidiaArchitecture::Ada: return "Ada Lovelace";
    case NvidiaArchitecture::Blackwell: return "Blackwell";
    case NvidiaArchitecture::Unknown: break;
    }
    return "unknown";
}

ErrorOr<NvidiaChip> decode_pmc_boot0(uint32_t boot0)
{
    if (boot0 == 0xffffffffu)
        return Error::corrupt("PMC_BOOT_0 reads all ones: BAR0 not decoding or the GPU fell off the bus");
    if (boot0 == 0)
        return Error::corrupt("PMC_BOOT_0 reads zero");
    if ((boot0 & 0x1f000000u) == 0)
        return Error::unsupported("pre-NV10 NVIDIA chip");
    NvidiaChip chip {};
    chip.boot0 = boot0;
    chip.chipset = static_cast<uint16_t>((boot0 >> 20) & 0x1ff);
    chip.implementation = static_cast<uint8_t>(chip.chipset & 0xf);
    chip.revision = static_cast<uint8_t>(boot0);
    if (chip.chipset < 0x050)
        return Error::unsupported("NVIDIA chip older than the Tesla (NV50) generation");
    chip.architecture = architecture_of(chip.chipset);
    chip.architecture_name = nvidia_architecture_name(chip.architecture);
    chip.chip_name = nullptr;
    for (auto const& entry : s_chips) {
        if (entry.chipset == chip.chipset)
            chip.chip_name = entry.name;
    }
    return chip;
}

const char* nvidia_product_name(uint16_t device_id)
{
    for (auto const& entry : s_products) {
        if (entry.device_id == device_id)
            return entry.name;
    }
    return nullptr;
}

} // namespace aisos::pci
