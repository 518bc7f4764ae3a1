#pragma once

// Text console on the UEFI GOP framebuffer: 8x16 glyphs, scrolls, no
// colours beyond light grey on black. Output only; a server has no one
// typing at it.

#include "lib/boot/BootInfo.h"

#include <stddef.h>

namespace aisos::framebuffer_console {

// pixels: the framebuffer's virtual address (mapped by the caller).
void initialize(const Framebuffer& framebuffer, void* pixels);
void write(const char* text, size_t length);

} // namespace aisos::framebuffer_console
