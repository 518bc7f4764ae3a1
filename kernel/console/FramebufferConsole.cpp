#include "kernel/console/FramebufferConsole.h"

namespace aisos::framebuffer_console {

extern const uint8_t font_8x16[256][16];

namespace {

constexpr uint32_t glyph_width = 8;
constexpr uint32_t glyph_height = 16;

struct State {
    uint32_t* pixels { nullptr };
    uint32_t width { 0 };
    uint32_t height { 0 };
    uint32_t stride { 0 }; // pixels per scanline
    uint32_t columns { 0 };
    uint32_t rows { 0 };
    uint32_t column { 0 };
    uint32_t row { 0 };
    uint32_t foreground { 0 };
} s;

void draw_glyph(uint32_t column, uint32_t row, unsigned char c)
{
    const uint8_t* glyph = font_8x16[c];
    uint32_t* origin = s.pixels + static_cast<size_t>(row) * glyph_height * s.stride + column * glyph_width;
    for (uint32_t y = 0; y < glyph_height; ++y) {
        uint32_t* line = origin + static_cast<size_t>(y) * s.stride;
        for (uint32_t x = 0; x < glyph_width; ++x)
            line[x] = (glyph[y] & (0x80 >> x)) ? s.foreground : 0;
    }
}

void scroll()
{
    size_t line_pixels = static_cast<size_t>(s.stride) * glyph_height;
    size_t keep = line_pixels * (s.rows - 1);
    for (size_t i = 0; i < keep; ++i)
        s.pixels[i] = s.pixels[i + line_pixels];
    for (size_t i = keep; i < keep + line_pixels; ++i)
        s.pixels[i] = 0;
}

void newline()
{
    s.column = 0;
    if (s.row + 1 < s.rows)
        ++s.row;
    else
        scroll();
}

} // namespace

void initialize(const Framebuffer& framebuffer, void* pixels)
{
    if (framebuffer.base == 0 || pixels == nullptr || framebuffer.format == PixelFormat::None)
        return;
    s.pixels = static_cast<uint32_t*>(pixels);
    s.width = framebuffer.width;
    s.height = framebuffer.height;
    s.stride = framebuffer.pixels_per_scanline;
    s.columns = s.width / glyph_width;
    s.rows = s.height / glyph_height;
    s.foreground = 0x00c0c0c0; // light grey is the same in RGBX and BGRX
    for (size_t i = 0; i < static_cast<size_t>(s.stride) * s.height; ++i)
        s.pixels[i] = 0;
}

void write(const char* text, size_t length)
{
    if (s.pixels == nullptr || s.rows == 0)
        return;
    for (size_t i = 0; i < length; ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            newline();
            continue;
        }
        if (c == '\r')
            continue;
        if (s.column >= s.columns)
            newline();
        draw_glyph(s.column++, s.row, c);
    }
}

} // namespace aisos::framebuffer_console
