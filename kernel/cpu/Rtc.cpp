#include "kernel/cpu/Rtc.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Time.h"

namespace aisos::rtc {

namespace {

uint64_t s_boot_unix = 0;
uint64_t s_boot_uptime_ns = 0;

uint8_t read_cmos(uint8_t index)
{
    cpu::outb(0x70, index | 0x80); // bit 7 keeps NMIs disabled while we talk to CMOS
    return cpu::inb(0x71);
}

bool update_in_progress() { return read_cmos(0x0a) & 0x80; }

struct Reading {
    uint8_t second, minute, hour, day, month, year, century;
    bool operator==(const Reading&) const = default;
};

Reading read_once(uint8_t century_register)
{
    for (int spins = 0; spins < 1000000 && update_in_progress(); ++spins)
        cpu::pause();
    return { read_cmos(0x00), read_cmos(0x02), read_cmos(0x04), read_cmos(0x07), read_cmos(0x08), read_cmos(0x09),
        century_register ? read_cmos(century_register) : uint8_t(0) };
}

uint8_t from_bcd(uint8_t value) { return static_cast<uint8_t>((value & 0x0f) + (value >> 4) * 10); }

} // namespace

int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    // H. Hinnant's algorithm: shift the year to start in March.
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    unsigned year_of_era = static_cast<unsigned>(year - era * 400);
    unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

void initialize(uint8_t century_register)
{
    // Read until two consecutive readings agree: an update may land between reads.
    Reading reading = read_once(century_register);
    for (int attempt = 0; attempt < 5; ++attempt) {
        Reading again = read_once(century_register);
        if (again == reading)
            break;
        reading = again;
    }
    uint8_t status_b = read_cmos(0x0b);
    bool binary = status_b & 0x04;
    bool hour_24 = status_b & 0x02;
    bool pm = reading.hour & 0x80;
    reading.hour &= 0x7f;
    if (!binary) {
        reading.second = from_bcd(reading.second);
        reading.minute = from_bcd(reading.minute);
        reading.hour = from_bcd(reading.hour);
        reading.day = from_bcd(reading.day);
        reading.month = from_bcd(reading.month);
        reading.year = from_bcd(reading.year);
        reading.century = from_bcd(reading.century);
    }
    if (!hour_24 && pm)
        reading.hour = static_cast<uint8_t>((reading.hour % 12) + 12);
    else if (!hour_24 && reading.hour == 12)
        reading.hour = 0;
    int64_t year = reading.century ? reading.century * 100 + reading.year : 2000 + reading.year;
    if (reading.month < 1 || reading.month > 12 || reading.day < 1 || reading.day > 31 || reading.hour > 23
        || reading.minute > 59 || reading.second > 60) {
        log::warn("rtc: implausible time, wall clock starts at 1970");
        return;
    }
    int64_t days = days_from_civil(year, reading.month, reading.day);
    s_boot_unix = static_cast<uint64_t>(days * 86400 + reading.hour * 3600 + reading.minute * 60 + reading.second);
    s_boot_uptime_ns = time::uptime_ns();
    log::info("rtc: {}-{:02}-{:02} {:02}:{:02}:{:02} UTC", year, reading.month, reading.day, reading.hour,
        reading.minute, reading.second);
}

uint64_t unix_seconds() { return s_boot_unix + (time::uptime_ns() - s_boot_uptime_ns) / 1000000000ull; }

} // namespace aisos::rtc
