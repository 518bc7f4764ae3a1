#include "kernel/console/Log.h"

#include "kernel/console/FramebufferConsole.h"
#include "kernel/console/Serial.h"
#include "kernel/cpu/Time.h"
#include "kernel/lib/Spinlock.h"

namespace aisos::log {

namespace {

constexpr size_t ring_capacity = 256 * 1024;
char s_ring[ring_capacity];
size_t s_ring_head = 0; // total bytes ever written; position = head % capacity
Level s_level = Level::Info;
bool s_framebuffer = false;
Spinlock s_lock;

const char* level_tag(Level level)
{
    switch (level) {
    case Level::Error: return "error: ";
    case Level::Warn: return "warning: ";
    default: return "";
    }
}

// Builds one line in a stack buffer, then emits it under the lock so lines
// from different CPUs never interleave.
class LineSink final : public FormatSink {
public:
    void write(const char* data, size_t length) override
    {
        for (size_t i = 0; i < length && m_length < sizeof(m_text) - 1; ++i)
            m_text[m_length++] = data[i];
    }
    void finish()
    {
        if (m_length == 0 || m_text[m_length - 1] != '\n')
            m_text[m_length++] = '\n';
    }
    std::string_view view() const { return { m_text, m_length }; }

private:
    char m_text[1024];
    size_t m_length { 0 };
};

void emit(std::string_view text)
{
    SpinlockGuard guard(s_lock);
    serial::write(text.data(), text.size());
    if (s_framebuffer)
        framebuffer_console::write(text.data(), text.size());
    for (char c : text)
        s_ring[s_ring_head++ % ring_capacity] = c;
}

} // namespace

void set_level(Level level) { s_level = level; }
Level level() { return s_level; }
void enable_framebuffer(bool enabled) { s_framebuffer = enabled; }

void write_line(Level level, const FormatArgument* arguments, size_t count, std::string_view format)
{
    if (static_cast<int>(level) > static_cast<int>(s_level))
        return;
    LineSink sink;
    uint64_t ns = time::uptime_ns();
    aisos::format(sink, "[{:>5}.{:06}] {}", ns / 1000000000ull, (ns / 1000ull) % 1000000ull, level_tag(level));
    format_arguments(sink, format, arguments, count);
    sink.finish();
    emit(sink.view());
}

void write_contract_line(const FormatArgument* arguments, size_t count, std::string_view format)
{
    LineSink sink;
    sink.write("aisos: ", 7);
    format_arguments(sink, format, arguments, count);
    sink.finish();
    emit(sink.view());
}

void write_raw(std::string_view text)
{
    // The panic path must print even if another CPU died holding the lock.
    if (!s_lock.try_lock()) {
        serial::write(text.data(), text.size());
        return;
    }
    s_lock.unlock();
    emit(text);
}

size_t copy_ring(char* buffer, size_t capacity)
{
    SpinlockGuard guard(s_lock);
    size_t available = s_ring_head < ring_capacity ? s_ring_head : ring_capacity;
    size_t n = available < capacity ? available : capacity;
    size_t start = s_ring_head - n;
    for (size_t i = 0; i < n; ++i)
        buffer[i] = s_ring[(start + i) % ring_capacity];
    return n;
}

} // namespace aisos::log
