#pragma once

#include <span>
#include <stdint.h>

extern "C" const uint8_t static_chat_page_start[];
extern "C" const uint8_t static_chat_page_end[];

namespace aisos::static_files {

inline std::span<const uint8_t> chat_page() { return { static_chat_page_start, static_chat_page_end }; }

} // namespace aisos::static_files
