#include "lib/auth/KdfExecutor.h"
#include "lib/crypto/ConstantTime.h"

namespace aisos::auth {

ErrorOr<void> KdfJob::prepare(std::string_view password, std::span<const uint8_t> salt, const crypto::Argon2Params& params, size_t tag_length)
{
    if (state() == State::Pending)
        return Error { ErrorCode::Busy, "KDF job still running" };
    if (password.size() > max_password)
        return Error::invalid("password too long");
    if (salt.size() > max_salt || tag_length > max_tag || tag_length < crypto::argon2_min_tag_size)
        return Error::invalid("KDF job: bad salt or tag size");
    clear();
    __builtin_memcpy(m_password, password.data(), password.size());
    m_password_length = password.size();
    __builtin_memcpy(m_salt, salt.data(), salt.size());
    m_salt_length = salt.size();
    m_tag_length = tag_length;
    m_params = params;
    m_state.store(State::Pending, std::memory_order_release);
    return {};
}

void KdfJob::run(Allocator& allocator)
{
    auto password = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m_password), m_password_length);
    auto result = crypto::argon2id(allocator, m_params, { password, { m_salt, m_salt_length } }, { m_tag, m_tag_length });
    crypto::secure_zero(m_password, sizeof(m_password));
    m_password_length = 0;
    if (result.is_error()) {
        m_error = result.error();
        m_state.store(State::Failed, std::memory_order_release);
        return;
    }
    m_state.store(State::Done, std::memory_order_release);
}

void KdfJob::clear()
{
    crypto::secure_zero(m_password, sizeof(m_password));
    crypto::secure_zero(m_tag, sizeof(m_tag));
    m_password_length = 0;
    m_salt_length = 0;
    m_tag_length = 0;
    m_state.store(State::Idle, std::memory_order_release);
}

} // namespace aisos::auth
