#pragma once

// 16550 UART on COM1: the kernel's first and most reliable console.

#include <stddef.h>

namespace aisos::serial {

void initialize();
void write(const char* data, size_t length);
bool is_present();

} // namespace aisos::serial
