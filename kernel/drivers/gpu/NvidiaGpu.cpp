#include "kernel/drivers/gpu/NvidiaGpu.h"

#include "kernel/console/Log.h"
#include "kernel/mm/Mmio.h"

namespace aisos::pci {

namespace {

constexpr size_t max_gpus = 16;
GpuInfo s_gpus[max_gpus];
size_t s_gpu_count = 0;

} // namespace

void identify_nvidia_gpu(PciConfigAccess& access, const PciDevice& device, const BarSet& bars)
{
    char bdf[pci_address_text_size];
    device.address.format(bdf, sizeof(bdf));
    if (bars.count == 0 || !bars.bars[0].is_memory() || bars.bars[0].address == 0 || bars.bars[0].size < 4096) {
        log::warn("gpu {}: NVIDIA device without a usable BAR0", bdf);
        return;
    }
    // Memory decoding must be on to read BAR0; firmware usually leaves it on.
    uint16_t command = access.read16(device.address, config::command);
    if (!(command & config::command_memory_space))
        access.write16(device.address, config::command, command | config::command_memory_space);
    auto registers = mmio::map(bars.bars[0].address, 4096);
    if (registers.is_error()) {
        log::warn("gpu {}: cannot map BAR0: {}", bdf, registers.error().reason());
        return;
    }
    uint32_t boot0 = *static_cast<volatile uint32_t*>(registers.value());
    auto chip = decode_pmc_boot0(boot0);
    const char* product = nvidia_product_name(device.device_id);
    if (chip.is_error()) {
        log::warn("gpu {}: NVIDIA {:04x}, PMC_BOOT_0 {:#010x} not understood: {}", bdf, device.device_id, boot0,
            chip.error().reason());
        return;
    }
    const char* architecture = chip.value().architecture_name;
    log::info("gpu {}: NVIDIA {} ({} {}, chipset {:#x} rev {:#x}), BAR0 {:#x}; inference computes on the CPU (no bare-metal GPU compute path)",
        bdf, product ? product : "GPU", architecture, chip.value().chip_name ? chip.value().chip_name : "?",
        chip.value().chipset, chip.value().revision, bars.bars[0].address);
    if (s_gpu_count < max_gpus)
        s_gpus[s_gpu_count++] = { device.address, device.vendor_id, device.device_id, bars.bars[0].address, boot0,
            product ? product : architecture, architecture };
}

std::span<const GpuInfo> gpus() { return { s_gpus, s_gpu_count }; }

} // namespace aisos::pci
