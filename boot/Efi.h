#pragma once

// The small part of the UEFI 2.x interface the loader uses, written from the
// UEFI specification (chapters 4 System Table, 7 Boot Services, 9 Loaded
// Image, 12.9 Graphics Output, 13.4/13.5 Simple File System and File
// Protocol). Only members the loader calls are typed; the rest stay opaque
// pointers so that the table layouts (the order and count of members) match
// the specification exactly.
//
// No standard library: the loader is built for x86_64-windows (PE32+), where
// libstdc++ headers do not compile. Function pointers carry the Microsoft x64
// calling convention explicitly so that this header also compiles for host
// tests on Linux.

#include <stddef.h>
#include <stdint.h>

#define EFIAPI __attribute__((ms_abi))

namespace aisos::efi {

using Status = uint64_t;
using Handle = void*;
using PhysicalAddress = uint64_t;
using Char16 = char16_t;

inline constexpr Status error_bit = 1ull << 63;
inline constexpr Status success = 0;
inline constexpr Status load_error = error_bit | 1;
inline constexpr Status invalid_parameter = error_bit | 2;
inline constexpr Status unsupported = error_bit | 3;
inline constexpr Status buffer_too_small = error_bit | 5;
inline constexpr Status device_error = error_bit | 7;
inline constexpr Status out_of_resources = error_bit | 9;
inline constexpr Status volume_corrupted = error_bit | 10;
inline constexpr Status no_media = error_bit | 12;
inline constexpr Status not_found = error_bit | 14;
inline constexpr Status access_denied = error_bit | 15;

constexpr bool is_error(Status status) { return (status & error_bit) != 0; }

struct Guid {
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
};

inline bool operator==(const Guid& a, const Guid& b)
{
    if (a.data1 != b.data1 || a.data2 != b.data2 || a.data3 != b.data3)
        return false;
    for (int i = 0; i < 8; ++i) {
        if (a.data4[i] != b.data4[i])
            return false;
    }
    return true;
}

// Well-known GUIDs (UEFI 2.x; ACPI tables: UEFI spec 4.6.1).
inline constexpr Guid loaded_image_protocol_guid { 0x5b1b31a1, 0x9562, 0x11d2, { 0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } };
inline constexpr Guid simple_file_system_protocol_guid { 0x964e5b22, 0x6459, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } };
inline constexpr Guid file_info_guid { 0x09576e92, 0x6d3f, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } };
inline constexpr Guid graphics_output_protocol_guid { 0x9042a9de, 0x23dc, 0x4a38, { 0x96, 0xfb, 0x7a, 0xde, 0xd0, 0x80, 0x51, 0x6a } };
inline constexpr Guid acpi_20_table_guid { 0x8868e871, 0xe4f1, 0x11d3, { 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 } };
inline constexpr Guid acpi_10_table_guid { 0xeb9d2d30, 0x2d88, 0x11d3, { 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } };

struct TableHeader {
    uint64_t signature;
    uint32_t revision;
    uint32_t header_size;
    uint32_t crc32;
    uint32_t reserved;
};

// EFI_MEMORY_TYPE
enum class MemoryType : uint32_t {
    Reserved = 0,
    LoaderCode = 1,
    LoaderData = 2,
    BootServicesCode = 3,
    BootServicesData = 4,
    RuntimeServicesCode = 5,
    RuntimeServicesData = 6,
    Conventional = 7,
    Unusable = 8,
    AcpiReclaim = 9,
    AcpiNvs = 10,
    MemoryMappedIo = 11,
    MemoryMappedIoPortSpace = 12,
    PalCode = 13,
    Persistent = 14,
    Unaccepted = 15,
};

enum class AllocateType : uint32_t {
    AnyPages = 0,
    MaxAddress = 1,
    Address = 2,
};

// EFI_MEMORY_DESCRIPTOR. Firmware may use a larger stride (DescriptorSize
// from GetMemoryMap); never index an array of these with sizeof().
struct MemoryDescriptor {
    uint32_t type;
    uint32_t padding;
    PhysicalAddress physical_start;
    uint64_t virtual_start;
    uint64_t number_of_pages;
    uint64_t attribute;
};
static_assert(sizeof(MemoryDescriptor) == 40);

struct SimpleTextOutputProtocol {
    void* reset;
    Status(EFIAPI* output_string)(SimpleTextOutputProtocol* self, const Char16* string);
    void* test_string;
    void* query_mode;
    void* set_mode;
    void* set_attribute;
    void* clear_screen;
    void* set_cursor_position;
    void* enable_cursor;
    void* mode;
};

struct BootServices {
    TableHeader header;
    void* raise_tpl;
    void* restore_tpl;
    Status(EFIAPI* allocate_pages)(AllocateType type, MemoryType memory_type, uint64_t pages, PhysicalAddress* memory);
    Status(EFIAPI* free_pages)(PhysicalAddress memory, uint64_t pages);
    Status(EFIAPI* get_memory_map)(uint64_t* memory_map_size, MemoryDescriptor* memory_map, uint64_t* map_key, uint64_t* descriptor_size, uint32_t* descriptor_version);
    Status(EFIAPI* allocate_pool)(MemoryType pool_type, uint64_t size, void** buffer);
    Status(EFIAPI* free_pool)(void* buffer);
    void* create_event;
    void* set_timer;
    void* wait_for_event;
    void* signal_event;
    void* close_event;
    void* check_event;
    void* install_protocol_interface;
    void* reinstall_protocol_interface;
    void* uninstall_protocol_interface;
    Status(EFIAPI* handle_protocol)(Handle handle, const Guid* protocol, void** interface);
    void* reserved;
    void* register_protocol_notify;
    void* locate_handle;
    void* locate_device_path;
    void* install_configuration_table;
    void* load_image;
    void* start_image;
    void* exit;
    void* unload_image;
    Status(EFIAPI* exit_boot_services)(Handle image_handle, uint64_t map_key);
    void* get_next_monotonic_count;
    Status(EFIAPI* stall)(uint64_t microseconds);
    Status(EFIAPI* set_watchdog_timer)(uint64_t timeout, uint64_t watchdog_code, uint64_t data_size, const Char16* watchdog_data);
    void* connect_controller;
    void* disconnect_controller;
    void* open_protocol;
    void* close_protocol;
    void* open_protocol_information;
    void* protocols_per_handle;
    void* locate_handle_buffer;
    Status(EFIAPI* locate_protocol)(const Guid* protocol, void* registration, void** interface);
    void* install_multiple_protocol_interfaces;
    void* uninstall_multiple_protocol_interfaces;
    void* calculate_crc32;
    void* copy_mem;
    void* set_mem;
    void* create_event_ex;
};

struct ConfigurationTable {
    Guid vendor_guid;
    void* vendor_table;
};

struct SystemTable {
    TableHeader header;
    Char16* firmware_vendor;
    uint32_t firmware_revision;
    Handle console_in_handle;
    void* con_in;
    Handle console_out_handle;
    SimpleTextOutputProtocol* con_out;
    Handle standard_error_handle;
    SimpleTextOutputProtocol* std_err;
    void* runtime_services;
    BootServices* boot_services;
    uint64_t number_of_table_entries;
    ConfigurationTable* configuration_table;
};

struct LoadedImageProtocol {
    uint32_t revision;
    Handle parent_handle;
    SystemTable* system_table;
    Handle device_handle;
    void* file_path;
    void* reserved;
    uint32_t load_options_size;
    void* load_options;
    void* image_base;
    uint64_t image_size;
    MemoryType image_code_type;
    MemoryType image_data_type;
    void* unload;
};

inline constexpr uint64_t file_mode_read = 0x1;
inline constexpr uint64_t file_attribute_directory = 0x10;

struct FileProtocol {
    uint64_t revision;
    Status(EFIAPI* open)(FileProtocol* self, FileProtocol** new_handle, const Char16* file_name, uint64_t open_mode, uint64_t attributes);
    Status(EFIAPI* close)(FileProtocol* self);
    void* delete_file;
    Status(EFIAPI* read)(FileProtocol* self, uint64_t* buffer_size, void* buffer);
    void* write;
    void* get_position;
    void* set_position;
    Status(EFIAPI* get_info)(FileProtocol* self, const Guid* information_type, uint64_t* buffer_size, void* buffer);
    void* set_info;
    void* flush;
};

struct Time {
    uint16_t year;
    uint8_t month;
    uint8_t day;
    uint8_t hour;
    uint8_t minute;
    uint8_t second;
    uint8_t pad1;
    uint32_t nanosecond;
    int16_t time_zone;
    uint8_t daylight;
    uint8_t pad2;
};
static_assert(sizeof(Time) == 16);

// EFI_FILE_INFO; a NUL-terminated file name follows.
struct FileInfo {
    uint64_t size;
    uint64_t file_size;
    uint64_t physical_size;
    Time create_time;
    Time last_access_time;
    Time modification_time;
    uint64_t attribute;
};

struct SimpleFileSystemProtocol {
    uint64_t revision;
    Status(EFIAPI* open_volume)(SimpleFileSystemProtocol* self, FileProtocol** root);
};

enum class GraphicsPixelFormat : uint32_t {
    RedGreenBlueReserved8BitPerColor = 0,
    BlueGreenRedReserved8BitPerColor = 1,
    BitMask = 2,
    BltOnly = 3,
};

struct PixelBitmask {
    uint32_t red_mask;
    uint32_t green_mask;
    uint32_t blue_mask;
    uint32_t reserved_mask;
};

struct GraphicsOutputModeInformation {
    uint32_t version;
    uint32_t horizontal_resolution;
    uint32_t vertical_resolution;
    GraphicsPixelFormat pixel_format;
    PixelBitmask pixel_information;
    uint32_t pixels_per_scan_line;
};

struct GraphicsOutputProtocolMode {
    uint32_t max_mode;
    uint32_t mode;
    GraphicsOutputModeInformation* info;
    uint64_t size_of_info;
    PhysicalAddress frame_buffer_base;
    uint64_t frame_buffer_size;
};

struct GraphicsOutputProtocol {
    void* query_mode;
    void* set_mode;
    void* blt;
    GraphicsOutputProtocolMode* mode;
};

} // namespace aisos::efi
