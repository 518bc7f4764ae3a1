#pragma once

// The security audit trail: a bounded ring of the last `capacity` events
// (oldest overwritten), rendered as text for admins (GET /sys/audit) and
// serialized whole for /fs/system/audit.log (SealedFile, magic "AISOSAUD",
// version 1; payload: u64 total events ever recorded, u32 count, then per
// entry u64 time, u8 event, u32 IPv4, u8 length + actor, u8 length + subject).
//
// One text line per event, oldest first:
//   2026-11-29T00:37:04Z login_failed actor=- subject=admin ip=10.0.2.2

#include "lib/base/ErrorOr.h"
#include "lib/base/Format.h"
#include "lib/json/GrowableBuffer.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

enum class AuditEvent : uint8_t {
    LoginSucceeded = 1,
    LoginFailed,
    LoginThrottled,
    Logout,
    UserCreated,
    UserDeleted,
    PasswordChanged,
    PackageInstalled,
    PackageRemoved,
    AdminBootstrapped,
};
inline constexpr uint8_t audit_event_last = uint8_t(AuditEvent::AdminBootstrapped);

std::string_view audit_event_name(AuditEvent);

struct AuditEntry {
    static constexpr size_t max_text = 64;

    uint64_t time { 0 };
    AuditEvent event { AuditEvent::LoginSucceeded };
    uint32_t ipv4 { 0 }; // 0 = not from the network
    char actor[max_text] {};   // who did it (user name), empty when anonymous
    uint8_t actor_length { 0 };
    char subject[max_text] {}; // what it was done to (user or package name)
    uint8_t subject_length { 0 };

    std::string_view actor_view() const { return { actor, actor_length }; }
    std::string_view subject_view() const { return { subject, subject_length }; }
};

class AuditLog {
public:
    static constexpr size_t capacity = 512;
    static constexpr std::string_view file_magic = "AISOSAUD";
    static constexpr uint32_t file_version = 1;

    // Texts longer than AuditEntry::max_text are cut; control characters become '?'.
    void record(uint64_t time, AuditEvent, std::string_view actor, std::string_view subject, uint32_t ipv4);

    size_t size() const { return m_count; }
    uint64_t total_recorded() const { return m_total; }
    // i = 0 is the oldest entry kept.
    const AuditEntry& at(size_t i) const { return m_entries[(m_start + i) % capacity]; }

    void render_text(FormatSink&) const;
    static void render_entry(FormatSink&, const AuditEntry&);

    ErrorOr<void> serialize(json::GrowableBuffer&) const;
    static ErrorOr<void> parse(std::span<const uint8_t> file, AuditLog&);

private:
    AuditEntry m_entries[capacity];
    size_t m_start { 0 };
    size_t m_count { 0 };
    uint64_t m_total { 0 };
};

// "2026-11-29T00:37:04Z" (RFC 3339, UTC) into a 21-byte buffer.
std::string_view format_utc_time(uint64_t unix_seconds, char (&buffer)[21]);

} // namespace aisos::auth
