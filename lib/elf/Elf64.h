#pragma once

// ELF64 on-disk structures and constants (System V gABI, x86-64 psABI).
// Plain stdint types and no standard library, so the UEFI loader can use
// this header too. The structures are never read in place from untrusted
// bytes (which may be unaligned): copy them out with memcpy first.

#include <stdint.h>

namespace aisos::elf {

inline constexpr uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };

// e_ident indices and values.
inline constexpr int ident_class = 4;
inline constexpr int ident_data = 5;
inline constexpr int ident_version = 6;
inline constexpr uint8_t class_64 = 2;
inline constexpr uint8_t data_little_endian = 1;
inline constexpr uint8_t version_current = 1;

// e_type
inline constexpr uint16_t type_executable = 2; // ET_EXEC
inline constexpr uint16_t type_dynamic = 3;    // ET_DYN (static PIE)

inline constexpr uint16_t machine_x86_64 = 62; // EM_X86_64

// p_type
inline constexpr uint32_t segment_null = 0;
inline constexpr uint32_t segment_load = 1;
inline constexpr uint32_t segment_dynamic = 2;
inline constexpr uint32_t segment_interpreter = 3;
inline constexpr uint32_t segment_tls = 7;
inline constexpr uint32_t segment_gnu_stack = 0x6474e551;

// p_flags
inline constexpr uint32_t segment_executable = 1;
inline constexpr uint32_t segment_writable = 2;
inline constexpr uint32_t segment_readable = 4;

// sh_type
inline constexpr uint32_t section_null = 0;
inline constexpr uint32_t section_symtab = 2;
inline constexpr uint32_t section_strtab = 3;
inline constexpr uint32_t section_nobits = 8;

// Special section indices.
inline constexpr uint16_t section_index_undefined = 0;
inline constexpr uint16_t section_index_lo_reserve = 0xff00;
inline constexpr uint16_t section_index_absolute = 0xfff1;

// Symbol type (low nibble of st_info).
inline constexpr uint8_t symbol_notype = 0;
inline constexpr uint8_t symbol_object = 1;
inline constexpr uint8_t symbol_function = 2;
inline constexpr uint8_t symbol_section = 3;
inline constexpr uint8_t symbol_file = 4;
constexpr uint8_t symbol_type(uint8_t info) { return info & 0xf; }

struct FileHeader { // Elf64_Ehdr
    uint8_t ident[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t program_header_offset;
    uint64_t section_header_offset;
    uint32_t flags;
    uint16_t header_size;
    uint16_t program_header_entry_size;
    uint16_t program_header_count;
    uint16_t section_header_entry_size;
    uint16_t section_header_count;
    uint16_t section_name_table_index;
};
static_assert(sizeof(FileHeader) == 64);

struct ProgramHeader { // Elf64_Phdr
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t virtual_address;
    uint64_t physical_address;
    uint64_t file_size;
    uint64_t memory_size;
    uint64_t alignment;
};
static_assert(sizeof(ProgramHeader) == 56);

struct SectionHeader { // Elf64_Shdr
    uint32_t name;
    uint32_t type;
    uint64_t flags;
    uint64_t address;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t address_alignment;
    uint64_t entry_size;
};
static_assert(sizeof(SectionHeader) == 64);

struct Symbol { // Elf64_Sym
    uint32_t name;
    uint8_t info;
    uint8_t other;
    uint16_t section_index;
    uint64_t value;
    uint64_t size;
};
static_assert(sizeof(Symbol) == 24);

} // namespace aisos::elf
