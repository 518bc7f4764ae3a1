#include "lib/auth/AuditLog.h"
#include "lib/auth/SealedFile.h"

namespace aisos::auth {

std::string_view audit_event_name(AuditEvent event)
{
    switch (event) {
    case AuditEvent::LoginSucceeded: return "login_ok";
    case AuditEvent::LoginFailed: return "login_failed";
    case AuditEvent::LoginThrottled: return "login_throttled";
    case AuditEvent::Logout: return "logout";
    case AuditEvent::UserCreated: return "user_created";
    case AuditEvent::UserDeleted: return "user_deleted";
    case AuditEvent::PasswordChanged: return "password_changed";
    case AuditEvent::PackageInstalled: return "package_installed";
    case AuditEvent::PackageRemoved: return "package_removed";
    case AuditEvent::AdminBootstrapped: return "admin_bootstrapped";
    }
    return "unknown";
}

static uint8_t copy_text(char (&out)[AuditEntry::max_text], std::string_view text)
{
    size_t length = text.size() < AuditEntry::max_text ? text.size() : AuditEntry::max_text;
    for (size_t i = 0; i < length; ++i) {
        auto c = static_cast<uint8_t>(text[i]);
        // Printable ASCII only: the log is read as text by admins.
        out[i] = (c < 0x21 || c > 0x7e) ? '?' : char(c);
    }
    return uint8_t(length);
}

void AuditLog::record(uint64_t time, AuditEvent event, std::string_view actor, std::string_view subject, uint32_t ipv4)
{
    AuditEntry entry;
    entry.time = time;
    entry.event = event;
    entry.ipv4 = ipv4;
    entry.actor_length = copy_text(entry.actor, actor);
    entry.subject_length = copy_text(entry.subject, subject);
    if (m_count < capacity) {
        m_entries[(m_start + m_count) % capacity] = entry;
        ++m_count;
    } else {
        m_entries[m_start] = entry;
        m_start = (m_start + 1) % capacity;
    }
    ++m_total;
}

std::string_view format_utc_time(uint64_t unix_seconds, char (&buffer)[21])
{
    // Days to civil date (proleptic Gregorian), by 400-year eras.
    uint64_t days = unix_seconds / 86400;
    uint64_t seconds = unix_seconds % 86400;
    int64_t z = int64_t(days) + 719468;
    int64_t era = z / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t year = year_of_era + era * 400;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
    int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
    if (month <= 2)
        ++year;
    if (year > 9999)
        year = 9999;
    return format_to(buffer, sizeof(buffer), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year, month, day, seconds / 3600, seconds / 60 % 60, seconds % 60);
}

void AuditLog::render_entry(FormatSink& sink, const AuditEntry& entry)
{
    char time[21];
    auto actor = entry.actor_length ? entry.actor_view() : std::string_view("-");
    auto subject = entry.subject_length ? entry.subject_view() : std::string_view("-");
    format(sink, "{} {} actor={} subject={} ip=", format_utc_time(entry.time, time), audit_event_name(entry.event), actor, subject);
    if (entry.ipv4 == 0)
        format(sink, "-\n");
    else
        format(sink, "{}.{}.{}.{}\n", entry.ipv4 >> 24, (entry.ipv4 >> 16) & 255, (entry.ipv4 >> 8) & 255, entry.ipv4 & 255);
}

void AuditLog::render_text(FormatSink& sink) const
{
    for (size_t i = 0; i < m_count; ++i)
        render_entry(sink, at(i));
}

ErrorOr<void> AuditLog::serialize(json::GrowableBuffer& out) const
{
    SealedWriter writer(out, file_magic, file_version);
    writer.u64(m_total);
    writer.u32(uint32_t(m_count));
    for (size_t i = 0; i < m_count; ++i) {
        const auto& entry = at(i);
        writer.u64(entry.time);
        writer.u8(uint8_t(entry.event));
        writer.u32(entry.ipv4);
        writer.u8(entry.actor_length);
        writer.bytes(entry.actor, entry.actor_length);
        writer.u8(entry.subject_length);
        writer.bytes(entry.subject, entry.subject_length);
    }
    return writer.finish();
}

ErrorOr<void> AuditLog::parse(std::span<const uint8_t> file, AuditLog& log)
{
    auto reader = TRY(open_sealed(file, file_magic, file_version));
    uint64_t total = TRY(reader.u64());
    uint32_t count = TRY(reader.u32());
    if (count > capacity || count > total)
        return Error::corrupt("audit log: bad entry count");
    // Validate everything before touching `log`.
    ByteReader check = reader;
    for (uint32_t i = 0; i < count; ++i) {
        (void)TRY(check.u64());
        uint8_t event = TRY(check.u8());
        if (event == 0 || event > audit_event_last)
            return Error::corrupt("audit log: unknown event");
        (void)TRY(check.u32());
        for (int text = 0; text < 2; ++text) {
            uint8_t length = TRY(check.u8());
            if (length > AuditEntry::max_text)
                return Error::corrupt("audit log: text too long");
            auto bytes = TRY(check.text(length));
            for (char c : bytes) {
                if (static_cast<uint8_t>(c) < 0x21 || static_cast<uint8_t>(c) > 0x7e)
                    return Error::corrupt("audit log: unprintable text");
            }
        }
    }
    TRY(check.expect_end());
    log.m_start = 0;
    log.m_count = 0;
    for (uint32_t i = 0; i < count; ++i) {
        uint64_t time = MUST(reader.u64());
        auto event = AuditEvent(MUST(reader.u8()));
        uint32_t ipv4 = MUST(reader.u32());
        uint8_t actor_length = MUST(reader.u8());
        auto actor = MUST(reader.text(actor_length));
        uint8_t subject_length = MUST(reader.u8());
        auto subject = MUST(reader.text(subject_length));
        log.record(time, event, actor, subject, ipv4);
    }
    log.m_total = total;
    return {};
}

} // namespace aisos::auth
