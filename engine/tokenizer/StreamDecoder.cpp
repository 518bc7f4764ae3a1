#include "engine/tokenizer/StreamDecoder.h"
#include "engine/tokenizer/Unicode.h"

namespace aisos::engine {

ErrorOr<void> StreamDecoder::push(u32 token, Vector<char>& out)
{
    TRY(m_tokenizer.append_token_bytes(token, m_first ? Tokenizer::Position::First : Tokenizer::Position::Later, m_pending));
    m_first = false;
    size_t complete = utf8_complete_prefix(m_pending.data(), m_pending.size());
    // A held-back tail longer than a character can never complete.
    if (m_pending.size() - complete >= 4)
        complete = m_pending.size();
    TRY(append_utf8_lossy(std::string_view(m_pending.data(), complete), out));
    size_t rest = m_pending.size() - complete;
    for (size_t i = 0; i < rest; ++i)
        m_pending[i] = m_pending[complete + i];
    m_pending.shrink_size(rest);
    return {};
}

ErrorOr<void> StreamDecoder::flush(Vector<char>& out)
{
    TRY(append_utf8_lossy(std::string_view(m_pending.data(), m_pending.size()), out));
    m_pending.clear();
    return {};
}

} // namespace aisos::engine
