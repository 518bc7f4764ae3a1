#pragma once

// Kernel log: levels, a timestamp, output to serial and the framebuffer,
// and an in-memory ring buffer (read by GET /sys/log).
//
// Two kinds of lines:
//  - log::info(...) etc.: "[   12.345678] text", filtered by the level;
//  - log::contract(...): "aisos: text", always printed verbatim. These are
//    the console lines of ../shared/API.md that tests and tools match.

#include "lib/base/Format.h"

#include <stddef.h>
#include <string_view>

namespace aisos::log {

enum class Level : int { Error = 0, Warn, Info, Debug, Trace };

void set_level(Level);
Level level();
void enable_framebuffer(bool);

void write_line(Level, const FormatArgument* arguments, size_t count, std::string_view format);
void write_contract_line(const FormatArgument* arguments, size_t count, std::string_view format);
// Raw text to every console without a prefix (used by the panic path).
void write_raw(std::string_view text);

// Copies the most recent log text (up to capacity bytes) into buffer.
size_t copy_ring(char* buffer, size_t capacity);

template<typename... Args>
void message(Level level, std::string_view format, const Args&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        write_line(level, nullptr, 0, format);
    } else {
        FormatArgument arguments[] = { make_format_argument(args)... };
        write_line(level, arguments, sizeof...(Args), format);
    }
}

template<typename... Args> void error(std::string_view f, const Args&... a) { message(Level::Error, f, a...); }
template<typename... Args> void warn(std::string_view f, const Args&... a) { message(Level::Warn, f, a...); }
template<typename... Args> void info(std::string_view f, const Args&... a) { message(Level::Info, f, a...); }
template<typename... Args> void debug(std::string_view f, const Args&... a) { message(Level::Debug, f, a...); }

template<typename... Args>
void contract(std::string_view format, const Args&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        write_contract_line(nullptr, 0, format);
    } else {
        FormatArgument arguments[] = { make_format_argument(args)... };
        write_contract_line(arguments, sizeof...(Args), format);
    }
}

} // namespace aisos::log
