// One TCP connection: RFC 9293 event processing ("SEGMENT ARRIVES", user
// calls, timeouts), RFC 6298 retransmission timer, RFC 5681/6582 congestion
// control (slow start, congestion avoidance, fast retransmit, NewReno fast
// recovery), RFC 7323 window scaling, delayed ACKs, Nagle and SWS
// avoidance, persist and keepalive timers. Quoted RFC text marks the rule
// each branch implements.
#include "lib/net/TcpSocket.h"

#include "lib/net/Checksum.h"
#include "lib/net/Stack.h"
#include "lib/net/TcpSequence.h"
#include "lib/net/Wire.h"

namespace aisos::net {

namespace {
constexpr uint64_t ms = 1'000'000;
constexpr uint8_t max_retransmits = 12; // about 4 minutes of backoff at 200 ms min RTO
constexpr uint8_t max_syn_ack_retransmits = 5;
constexpr uint8_t max_syn_retransmits = 6;
constexpr uint8_t max_orphan_probes = 8;
constexpr uint64_t orphan_fin_wait_2_ns = 60'000 * ms;
constexpr uint32_t default_mss = 536; // RFC 9293 3.7.1
constexpr uint32_t min_mss = 64;
constexpr uint32_t max_cwnd = 1u << 30;

uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

bool is_active_state(TcpState state)
{
    switch (state) {
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
    case TcpState::Closing:
    case TcpState::LastAck:
        return true;
    default:
        return false;
    }
}
}

const char* tcp_state_name(TcpState state)
{
    switch (state) {
    case TcpState::Closed:
        return "CLOSED";
    case TcpState::Listen:
        return "LISTEN";
    case TcpState::SynSent:
        return "SYN-SENT";
    case TcpState::SynReceived:
        return "SYN-RECEIVED";
    case TcpState::Established:
        return "ESTABLISHED";
    case TcpState::FinWait1:
        return "FIN-WAIT-1";
    case TcpState::FinWait2:
        return "FIN-WAIT-2";
    case TcpState::CloseWait:
        return "CLOSE-WAIT";
    case TcpState::Closing:
        return "CLOSING";
    case TcpState::LastAck:
        return "LAST-ACK";
    case TcpState::TimeWait:
        return "TIME-WAIT";
    }
    return "?";
}

void TcpSocket::set_state(TcpState state)
{
    bool was_active = is_active_state(m_state);
    bool active = is_active_state(state);
    if (was_active && !active)
        --m_stack.m_counters.tcp_connections_active;
    else if (!was_active && active)
        ++m_stack.m_counters.tcp_connections_active;
    m_state = state;
}

void TcpSocket::note_deadline(uint64_t deadline_ns) { m_stack.note_deadline(deadline_ns); }

void TcpSocket::arm_retransmit(uint64_t now_ns)
{
    m_retransmit_deadline = now_ns + m_rtt.rto_ns();
    note_deadline(m_retransmit_deadline);
}

uint64_t TcpSocket::next_deadline() const
{
    uint64_t deadline = ~0ull;
    for (uint64_t d : { m_retransmit_deadline, m_persist_deadline, m_delayed_ack_deadline, m_keepalive_deadline, m_close_deadline }) {
        if (d && d < deadline)
            deadline = d;
    }
    return deadline == ~0ull ? 0 : deadline;
}

bool TcpSocket::can_be_freed() const
{
    return m_state == TcpState::Closed && (m_released || !m_accepted);
}

bool TcpSocket::invariants_hold() const
{
    if (!seq_leq(m_snd_una, m_snd_nxt) || !seq_leq(m_snd_nxt, m_snd_max))
        return false;
    if (m_state == TcpState::Closed)
        return !m_retransmit_deadline && !m_persist_deadline && !m_delayed_ack_deadline && !m_keepalive_deadline && !m_close_deadline; // inert
    if (m_state == TcpState::SynReceived || m_state == TcpState::SynSent)
        return m_snd_max - m_snd_una <= 1 && (m_send_buffer.is_allocated() == m_accepted);
    if (m_send_buffer.is_allocated() && !m_fin_acked) {
        // Only data and at most one FIN can be in flight.
        if (m_snd_max - m_snd_una > m_send_buffer.size() + (m_fin_queued ? 1 : 0))
            return false;
    }
    if (!seq_leq(m_rcv_nxt, m_rcv_adv) || (m_rcv_adv - m_rcv_nxt) > (65535u << m_rcv_wscale))
        return false;
    if (m_receive_buffer.is_allocated()) {
        if (m_receive_buffer.size() > m_receive_buffer.capacity())
            return false;
        uint32_t limit = m_rcv_nxt + static_cast<uint32_t>(m_receive_buffer.free_space());
        for (size_t i = 0; i < m_out_of_order.count(); ++i) {
            auto range = m_out_of_order[i];
            if (!seq_gt(range.begin, m_rcv_nxt) || !seq_lt(range.begin, range.end) || seq_gt(range.end, limit))
                return false;
            if (i > 0 && !seq_gt(range.begin, m_out_of_order[i - 1].end))
                return false;
        }
    }
    if (m_cwnd == 0 && m_state != TcpState::Closed && m_send_buffer.is_allocated())
        return false;
    return true;
}

void TcpSocket::release_buffers()
{
    m_send_buffer.release(m_stack.m_allocator);
    m_receive_buffer.release(m_stack.m_allocator);
    m_out_of_order.clear();
}

// ---------------------------------------------------------------------------
// Opening

void TcpSocket::start_passive_open(TcpListener& listener, Ipv4Address remote, const TcpSegment& syn, uint32_t iss, uint64_t now_ns)
{
    // RFC 9293 3.10.7.2, LISTEN, "third, check for a SYN": "Set RCV.NXT to
    // SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS should be selected and a SYN
    // segment sent of the form <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT
    // is set to ISS+1 and SND.UNA to ISS. The connection state should be
    // changed to SYN-RECEIVED."
    m_listener = &listener;
    ++listener.m_half_open;
    m_remote_address = remote;
    set_state(TcpState::SynReceived);
    m_irs = syn.sequence;
    m_rcv_nxt = syn.sequence + 1;
    m_rcv_adv = m_rcv_nxt;
    m_iss = iss;
    m_snd_una = iss;
    m_snd_nxt = iss;
    m_snd_max = iss;
    m_recover = iss;

    apply_syn_options(syn);
    // "The window field in a segment where the SYN bit is set MUST NOT be scaled."
    m_snd_wnd = syn.window;
    m_max_snd_wnd = syn.window;
    m_snd_wl1 = syn.sequence;
    m_snd_wl2 = iss;

    send_segment(iss, TcpFlag::Syn | TcpFlag::Ack, 0, 0);
    m_snd_nxt = iss + 1;
    m_snd_max = iss + 1;
    m_timing = true;
    m_timed_sequence = iss;
    m_timing_start_ns = now_ns;
    arm_retransmit(now_ns);
}

uint8_t TcpSocket::receive_window_shift() const
{
    uint8_t shift = 0;
    while (shift < 14 && (65535ull << shift) < m_stack.m_config.tcp_receive_buffer)
        ++shift;
    return shift;
}

void TcpSocket::apply_syn_options(const TcpSegment& syn)
{
    uint32_t our_mss = m_stack.m_config.mtu - 40u;
    uint32_t peer_mss = syn.options.has_mss ? syn.options.mss : default_mss;
    m_mss = max32(min32(peer_mss, our_mss), min_mss);
    // RFC 7323 2.2: scaling is on only when both SYNs carry the option; a
    // shift above 14 is used as 14.
    if (syn.options.has_window_scale) {
        m_window_scaling = true;
        m_snd_wscale = syn.options.window_scale > 14 ? 14 : syn.options.window_scale;
        m_rcv_wscale = receive_window_shift();
    } else {
        m_window_scaling = false;
        m_snd_wscale = 0;
        m_rcv_wscale = 0;
    }
}

ErrorOr<void> TcpSocket::start_active_open(uint32_t iss, uint64_t now_ns)
{
    // RFC 9293 3.10.1 OPEN (active): "A SYN segment of the form
    // <SEQ=ISS><CTL=SYN> is sent. Set SND.UNA to ISS, SND.NXT to ISS+1,
    // enter SYN-SENT state".
    auto& config = m_stack.m_config;
    TRY(m_receive_buffer.allocate(m_stack.m_allocator, config.tcp_receive_buffer));
    TRY(m_send_buffer.allocate(m_stack.m_allocator, config.tcp_send_buffer));
    m_accepted = true;
    set_state(TcpState::SynSent);
    m_iss = iss;
    m_snd_una = iss;
    m_snd_nxt = iss;
    m_snd_max = iss;
    m_recover = iss;
    // Offer window scaling; it is dropped if the SYN-ACK does not carry it.
    m_window_scaling = true;
    m_rcv_wscale = receive_window_shift();
    send_segment(iss, TcpFlag::Syn, 0, 0);
    m_snd_nxt = iss + 1;
    m_snd_max = iss + 1;
    m_timing = true;
    m_timed_sequence = iss;
    m_timing_start_ns = now_ns;
    arm_retransmit(now_ns);
    return {};
}

void TcpSocket::syn_sent_segment_arrived(const TcpSegment& segment, uint64_t now_ns)
{
    // RFC 9293 3.10.7.3, SYN-SENT. "first, check the ACK bit": "If
    // SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit
    // is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>".
    bool ack = segment.has(TcpFlag::Ack);
    if (ack && (seq_leq(segment.acknowledgment, m_iss) || seq_gt(segment.acknowledgment, m_snd_max))) {
        if (!segment.has(TcpFlag::Rst))
            m_stack.send_reset_for(m_remote_address, segment);
        return;
    }
    // "second, check the RST bit": "If the ACK was acceptable, then signal
    // to the user 'error: connection reset', drop the segment, enter CLOSED
    // state ... Otherwise (no ACK), drop the segment and return."
    if (segment.has(TcpFlag::Rst)) {
        if (ack) {
            m_reset = true;
            ++m_stack.m_counters.tcp_connections_reset;
            enter_closed();
        }
        return;
    }
    // "fourth, check the SYN bit".
    if (!segment.has(TcpFlag::Syn))
        return;
    m_irs = segment.sequence;
    m_rcv_nxt = segment.sequence + 1;
    m_rcv_adv = m_rcv_nxt;
    apply_syn_options(segment);
    m_snd_wnd = segment.window; // never scaled in a SYN
    m_max_snd_wnd = m_snd_wnd;
    m_snd_wl1 = segment.sequence;
    m_snd_wl2 = segment.acknowledgment;
    if (ack) {
        // "If SND.UNA > ISS (our SYN has been ACKed), change the connection
        // state to ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT>
        // <CTL=ACK> and send it."
        m_snd_una = segment.acknowledgment;
        if (m_timing && m_retransmit_count == 0)
            m_rtt.add_sample(now_ns - m_timing_start_ns);
        m_timing = false;
        m_retransmit_count = 0;
        m_retransmit_deadline = 0;
        if (!enter_established(now_ns))
            return;
        m_ack_now = true;
        if (!segment.payload.empty() || segment.has(TcpFlag::Fin))
            process_text(segment.sequence + 1, segment.payload, segment.has(TcpFlag::Fin), now_ns);
        output(now_ns);
        return;
    }
    // "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." (simultaneous open)
    set_state(TcpState::SynReceived);
    send_segment(m_iss, TcpFlag::Syn | TcpFlag::Ack, 0, 0);
}

bool TcpSocket::enter_established(uint64_t now_ns)
{
    auto& config = m_stack.m_config;
    // A passive open allocates its buffers only now, so a SYN flood costs
    // no buffer memory; an active open already has them.
    ErrorOr<void> receive {};
    ErrorOr<void> send {};
    if (!m_receive_buffer.is_allocated())
        receive = m_receive_buffer.allocate(m_stack.m_allocator, config.tcp_receive_buffer);
    if (!receive.is_error() && !m_send_buffer.is_allocated())
        send = m_send_buffer.allocate(m_stack.m_allocator, config.tcp_send_buffer);
    if (receive.is_error() || send.is_error()) {
        ++m_stack.m_counters.tcp_out_of_memory;
        send_reset();
        m_reset = true;
        enter_closed();
        return false;
    }
    set_state(TcpState::Established);
    // RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)).
    m_cwnd = min32(10 * m_mss, max32(2 * m_mss, 14600));
    m_ssthresh = 0xffffffffu; // RFC 5681 3.1: "arbitrarily high"
    ++m_stack.m_counters.tcp_connections_opened;
    if (m_listener)
        m_listener->enqueue(*this);
    (void)now_ns;
    return true;
}

// ---------------------------------------------------------------------------
// SEGMENT ARRIVES (RFC 9293 3.10.7.4, the synchronized states)

bool TcpSocket::segment_acceptable(const TcpSegment& segment) const
{
    // "There are four cases for the acceptability test for an incoming
    // segment" (SEG.LEN zero or not, RCV.WND zero or not). A zero window
    // accepts SEG.SEQ = RCV.NXT so that ACKs and RSTs are still processed
    // ("special allowance should be made to accept valid ACKs, URGs, and
    // RSTs"); the data is trimmed off afterwards.
    uint32_t window = m_rcv_adv - m_rcv_nxt;
    uint32_t length = segment.length();
    uint32_t sequence = segment.sequence;
    auto in_window = [&](uint32_t s) { return seq_leq(m_rcv_nxt, s) && seq_lt(s, m_rcv_nxt + window); };
    if (window == 0)
        return sequence == m_rcv_nxt;
    if (length == 0)
        return in_window(sequence);
    return in_window(sequence) || in_window(sequence + length - 1);
}

void TcpSocket::segment_arrived(const TcpSegment& segment, uint64_t now_ns)
{
    if (m_state == TcpState::Closed || m_state == TcpState::Listen)
        return;
    if (m_state == TcpState::SynSent) {
        syn_sent_segment_arrived(segment, now_ns);
        return;
    }
    if (m_keepalive_idle_ms) {
        m_keepalive_probes_sent = 0;
        m_keepalive_deadline = now_ns + m_keepalive_idle_ms * ms;
        note_deadline(m_keepalive_deadline);
    }

    // A retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost:
    // answer it again rather than with a bare ACK.
    if (m_state == TcpState::SynReceived && segment.has(TcpFlag::Syn) && !segment.has(TcpFlag::Ack) && segment.sequence == m_irs) {
        send_segment(m_iss, TcpFlag::Syn | TcpFlag::Ack, 0, 0);
        return;
    }

    // "first, check sequence number": "If an incoming segment is not
    // acceptable, an acknowledgment should be sent in reply (unless the RST
    // bit is set, if so drop the segment and return)".
    if (!segment_acceptable(segment)) {
        if (!segment.has(TcpFlag::Rst))
            send_ack();
        if (m_state == TcpState::TimeWait && segment.has(TcpFlag::Fin)) {
            // A retransmitted FIN: "restart the 2 MSL timeout".
            enter_time_wait(now_ns);
        }
        return;
    }

    // Trim to the window: drop what was received already (a retransmitted
    // SYN counts first) and what lies beyond the right edge.
    uint32_t sequence = segment.sequence;
    std::span<const uint8_t> payload = segment.payload;
    bool syn = segment.has(TcpFlag::Syn);
    bool fin = segment.has(TcpFlag::Fin);
    if (seq_lt(sequence, m_rcv_nxt)) {
        uint32_t skip = m_rcv_nxt - sequence;
        if (syn) {
            syn = false;
            --skip;
            ++sequence;
        }
        if (skip > payload.size())
            skip = static_cast<uint32_t>(payload.size());
        payload = payload.subspan(skip);
        sequence += skip;
    }
    uint32_t window = m_rcv_adv - m_rcv_nxt;
    uint32_t offset = sequence - m_rcv_nxt;
    uint32_t room = offset < window ? window - offset : 0;
    if (payload.size() > room) {
        payload = payload.first(room);
        fin = false;
        m_ack_now = true; // tell the sender where the window ends (zero-window probes)
    }

    // "second, check the RST bit". RFC 5961 3.2: "If the RST bit is set and
    // the sequence number exactly matches the next expected sequence number
    // (RCV.NXT), then TCP MUST reset the connection ... Otherwise, TCP MUST
    // send an ACK (challenge ACK)".
    if (segment.has(TcpFlag::Rst)) {
        if (segment.sequence != m_rcv_nxt) {
            send_challenge_ack();
            return;
        }
        process_reset(segment);
        return;
    }

    // "fourth, check the SYN bit". SYN-RECEIVED of a passive open: "return
    // this connection to the LISTEN state" (here: drop the embryonic
    // connection). Synchronized states, RFC 5961 4.2: "send a 'challenge ACK'".
    if (syn) {
        if (m_state == TcpState::SynReceived) {
            enter_closed();
            return;
        }
        send_challenge_ack();
        return;
    }

    // "fifth, check the ACK field": "if the ACK bit is off, drop the segment and return".
    if (!segment.has(TcpFlag::Ack))
        return;
    if (!process_ack(segment, now_ns))
        return;

    // "seventh, process the segment text" (ESTABLISHED, FIN-WAIT-1,
    // FIN-WAIT-2). In CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT "this
    // should not occur since a FIN has been received from the remote side.
    // Ignore the segment text."
    switch (m_state) {
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
        process_text(sequence, payload, fin, now_ns);
        break;
    case TcpState::CloseWait:
    case TcpState::Closing:
    case TcpState::LastAck:
        break;
    case TcpState::TimeWait:
        // "The only thing that can arrive in this state is a retransmission
        // of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
        if (fin) {
            m_ack_now = true;
            enter_time_wait(now_ns);
        }
        break;
    default:
        return;
    }
    output(now_ns);
}

void TcpSocket::process_reset(const TcpSegment&)
{
    // SYN-RECEIVED (passive): "return this connection to LISTEN state" —
    // the embryonic connection simply goes away.
    // ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT: "any outstanding RECEIVEs and
    // SEND should receive 'reset' responses ... Enter the CLOSED state".
    // CLOSING, LAST-ACK, TIME-WAIT: "enter the CLOSED state, delete the TCB".
    if (m_state != TcpState::SynReceived && m_state != TcpState::TimeWait) {
        m_reset = true;
        ++m_stack.m_counters.tcp_connections_reset;
    }
    enter_closed();
}

bool TcpSocket::process_ack(const TcpSegment& segment, uint64_t now_ns)
{
    uint32_t ack = segment.acknowledgment;
    if (m_state == TcpState::SynReceived) {
        // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and
        // continue processing with the variables below set to: SND.WND <-
        // SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK. If the segment
        // acknowledgment is not acceptable, form a reset segment
        // <SEQ=SEG.ACK><CTL=RST> and send it."
        if (!(seq_lt(m_snd_una, ack) && seq_leq(ack, m_snd_max))) {
            m_stack.send_reset_for(m_remote_address, segment);
            return false;
        }
        if (!enter_established(now_ns))
            return false;
        if (m_timing && m_retransmit_count == 0)
            m_rtt.add_sample(now_ns - m_timing_start_ns);
        m_timing = false;
        m_retransmit_count = 0;
        m_retransmit_deadline = 0;
        m_snd_una = ack;
        m_snd_nxt = ack;
        m_snd_wnd = static_cast<uint32_t>(segment.window) << m_snd_wscale;
        m_max_snd_wnd = m_snd_wnd;
        m_snd_wl1 = segment.sequence;
        m_snd_wl2 = ack;
        m_recover = m_iss;
        return true;
    }

    // RFC 5961 5.2: acceptable acknowledgments lie in
    // (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT (SND.MAX here). "If the
    // ACK acknowledges something not yet sent (SEG.ACK > SND.NXT), then send
    // an ACK, drop the segment, and return."
    if (seq_gt(ack, m_snd_max)) {
        send_ack();
        return false;
    }
    if (seq_lt(ack, m_snd_una - m_max_snd_wnd)) {
        send_challenge_ack();
        return false;
    }

    uint32_t scaled_window = static_cast<uint32_t>(segment.window) << m_snd_wscale;
    // RFC 5681 2, DUPLICATE ACKNOWLEDGMENT: no data, no SYN/FIN, ACK equal
    // to SND.UNA, window unchanged, and data outstanding.
    bool duplicate = ack == m_snd_una && segment.payload.empty() && !segment.has(TcpFlag::Syn) && !segment.has(TcpFlag::Fin)
        && scaled_window == m_snd_wnd && m_snd_una != m_snd_max;

    if (seq_gt(ack, m_snd_una))
        process_new_ack(ack, now_ns);
    else if (duplicate)
        process_duplicate_ack(now_ns);
    else if (ack == m_snd_una)
        m_duplicate_acks = 0; // RFC 5681: the run of duplicates must be consecutive

    // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated.
    // If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)),
    // set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
    if (seq_geq(ack, m_snd_una) && (seq_lt(m_snd_wl1, segment.sequence) || (m_snd_wl1 == segment.sequence && seq_leq(m_snd_wl2, ack)))) {
        m_snd_wnd = scaled_window;
        m_snd_wl1 = segment.sequence;
        m_snd_wl2 = ack;
        if (m_snd_wnd > m_max_snd_wnd)
            m_max_snd_wnd = m_snd_wnd;
        if (m_snd_wnd > 0) {
            m_persist_deadline = 0;
            m_persist_backoff = 0;
        }
    }

    switch (m_state) {
    case TcpState::FinWait1:
        // "In addition to the processing for the ESTABLISHED state, if the
        // FIN segment is now acknowledged, then enter FIN-WAIT-2."
        if (m_fin_acked) {
            set_state(TcpState::FinWait2);
            if (m_released) {
                m_close_deadline = now_ns + orphan_fin_wait_2_ns;
                note_deadline(m_close_deadline);
            }
        }
        break;
    case TcpState::Closing:
        // "if the ACK acknowledges our FIN, then enter the TIME-WAIT state;
        // otherwise, ignore the segment."
        if (m_fin_acked)
            enter_time_wait(now_ns);
        return false;
    case TcpState::LastAck:
        // "If our FIN is now acknowledged, delete the TCB, enter the CLOSED
        // state, and return."
        if (m_fin_acked) {
            enter_closed();
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

void TcpSocket::process_new_ack(uint32_t ack, uint64_t now_ns)
{
    uint32_t acked = ack - m_snd_una;
    size_t buffered = m_send_buffer.size();
    size_t data_acked = acked;
    if (data_acked > buffered) {
        // The ACK covers our FIN too (it was sent: the ACK is =< SND.MAX).
        data_acked = buffered;
        m_fin_acked = true;
    }
    m_send_buffer.discard(data_acked);
    m_snd_una = ack;
    if (seq_lt(m_snd_nxt, m_snd_una))
        m_snd_nxt = m_snd_una;
    m_retransmit_count = 0;

    // RFC 6298 with Karn's rule: one timed segment, never a retransmitted one.
    if (m_timing && seq_gt(ack, m_timed_sequence)) {
        m_rtt.add_sample(now_ns - m_timing_start_ns);
        m_timing = false;
    }

    bool partial = false;
    if (m_in_recovery) {
        if (seq_geq(ack, m_recover)) {
            // RFC 6582 3.2 step 3, full acknowledgment: "Set cwnd to either
            // (1) min (ssthresh, max(FlightSize, SMSS) + SMSS) or (2) ssthresh".
            m_cwnd = min32(m_ssthresh, max32(flight_size(), m_mss) + m_mss);
            m_in_recovery = false;
            m_duplicate_acks = 0;
        } else {
            // Partial acknowledgment: "retransmit the first unacknowledged
            // segment ... deflate the congestion window by the amount of new
            // data acknowledged ... If the partial ACK acknowledges at least
            // one SMSS of new data, then add back SMSS bytes".
            partial = true;
            retransmit_first_segment();
            m_cwnd = m_cwnd > acked ? m_cwnd - acked : 0;
            if (acked >= m_mss)
                m_cwnd += m_mss;
            if (m_cwnd < m_mss)
                m_cwnd = m_mss;
        }
    } else {
        m_duplicate_acks = 0;
        if (m_cwnd < m_ssthresh) {
            // RFC 5681 3.1 slow start: "cwnd += min (N, SMSS)".
            m_cwnd += min32(acked, m_mss);
        } else {
            // Congestion avoidance: one SMSS per cwnd of acknowledged data.
            m_bytes_acked_in_ca += acked;
            if (m_bytes_acked_in_ca >= m_cwnd) {
                m_bytes_acked_in_ca -= m_cwnd;
                m_cwnd += m_mss;
            }
        }
        if (m_cwnd > max_cwnd)
            m_cwnd = max_cwnd;
    }

    // RFC 6298 5.2: "When all outstanding data has been acknowledged, turn
    // off the retransmission timer." 5.3: "When an ACK is received that
    // acknowledges new data, restart the retransmission timer".
    if (m_snd_una == m_snd_max)
        m_retransmit_deadline = 0;
    else if (!partial || m_retransmit_deadline)
        arm_retransmit(now_ns);
}

void TcpSocket::process_duplicate_ack(uint64_t)
{
    if (m_duplicate_acks < 255)
        ++m_duplicate_acks;
    if (m_in_recovery) {
        // RFC 5681 3.2 step 4: "For each additional duplicate ACK received
        // (after the third), cwnd MUST be incremented by SMSS."
        m_cwnd += m_mss;
        return;
    }
    if (m_duplicate_acks != 3)
        return;
    // RFC 6582 3.2 step 2: fast retransmit only if the cumulative ACK
    // covers more than "recover" (not a leftover of an earlier loss).
    if (!seq_gt(m_snd_una, m_recover))
        return;
    // RFC 5681 3.2 step 2: "ssthresh = max (FlightSize / 2, 2*SMSS)",
    // step 3: retransmit, "cwnd = ssthresh + 3*SMSS".
    m_ssthresh = max32(flight_size() / 2, 2 * m_mss);
    m_recover = m_snd_max;
    m_in_recovery = true;
    ++m_stack.m_counters.tcp_fast_retransmits;
    retransmit_first_segment();
    m_cwnd = m_ssthresh + 3 * m_mss;
}

void TcpSocket::process_text(uint32_t sequence, std::span<const uint8_t> payload, bool fin, uint64_t now_ns)
{
    uint32_t offset = sequence - m_rcv_nxt;
    size_t free = m_receive_buffer.free_space();
    if (offset > free) {
        payload = {};
        fin = false;
    } else if (payload.size() > free - offset) {
        payload = payload.first(free - offset);
        fin = false;
    }
    if (offset != 0) {
        // Out of order: park the bytes at their final place in the ring and
        // remember the range; ACK at once (RFC 5681 4.2: "an immediate
        // ACK SHOULD be generated when an out-of-order segment arrives").
        if (!payload.empty()) {
            if (m_out_of_order.add(sequence, sequence + static_cast<uint32_t>(payload.size()))) {
                m_receive_buffer.write_past_end(offset, payload);
                ++m_stack.m_counters.tcp_out_of_order_segments;
            } else {
                ++m_stack.m_counters.tcp_out_of_order_dropped;
                fin = false;
            }
        }
        if (fin) {
            m_out_of_order_fin = true;
            m_out_of_order_fin_sequence = sequence + static_cast<uint32_t>(payload.size());
        }
        m_ack_now = true;
        return;
    }

    if (!payload.empty()) {
        m_receive_buffer.write(payload);
        uint32_t delivered = static_cast<uint32_t>(payload.size());
        m_rcv_nxt += delivered;
        if (m_out_of_order.count()) {
            // This segment may fill a hole: pull in the parked data that is
            // now contiguous, and ACK at once (RFC 5681 4.2).
            uint32_t end = m_out_of_order.advance(m_rcv_nxt);
            uint32_t extra = end - m_rcv_nxt;
            m_receive_buffer.commit(extra);
            m_rcv_nxt = end;
            delivered += extra;
            m_ack_now = true;
        }
        m_stack.m_counters.tcp_bytes_received += delivered;
        if (m_released)
            m_receive_buffer.discard(m_receive_buffer.size()); // nobody will read it
        if (m_out_of_order_fin && m_out_of_order_fin_sequence == m_rcv_nxt)
            fin = true;
        // Delayed ACK: every second segment, or after the delay.
        ++m_unacked_segments;
        schedule_ack(now_ns);
    }
    if (fin)
        process_fin(now_ns);
}

void TcpSocket::process_fin(uint64_t now_ns)
{
    // "eighth, check the FIN bit": "advance RCV.NXT over the FIN, and send
    // an acknowledgment for the FIN."
    m_fin_received = true;
    m_out_of_order_fin = false;
    m_out_of_order.clear();
    m_rcv_nxt += 1;
    m_ack_now = true;
    switch (m_state) {
    case TcpState::SynReceived:
    case TcpState::Established:
        // "Enter the CLOSE-WAIT state."
        set_state(TcpState::CloseWait);
        break;
    case TcpState::FinWait1:
        // "If our FIN has been ACKed (perhaps in this segment), then enter
        // TIME-WAIT, start the time-wait timer, turn off the other timers;
        // otherwise, enter the CLOSING state."
        if (m_fin_acked)
            enter_time_wait(now_ns);
        else
            set_state(TcpState::Closing);
        break;
    case TcpState::FinWait2:
        // "Enter the TIME-WAIT state. Start the time-wait timer, turn off the other timers."
        enter_time_wait(now_ns);
        break;
    default:
        break;
    }
}

void TcpSocket::enter_time_wait(uint64_t now_ns)
{
    set_state(TcpState::TimeWait);
    m_retransmit_deadline = 0;
    m_persist_deadline = 0;
    m_keepalive_deadline = 0;
    m_close_deadline = now_ns + 2ull * m_stack.m_config.tcp_msl_ms * ms;
    note_deadline(m_close_deadline);
    if (m_released)
        release_buffers(); // a TIME-WAIT connection only needs its sequence numbers
}

void TcpSocket::enter_closed()
{
    set_state(TcpState::Closed);
    m_retransmit_deadline = 0;
    m_persist_deadline = 0;
    m_delayed_ack_deadline = 0;
    m_keepalive_deadline = 0;
    m_close_deadline = 0;
    m_ack_now = false;
    m_stack.m_reap_due = true;
}

// ---------------------------------------------------------------------------
// Output

void TcpSocket::schedule_ack(uint64_t now_ns)
{
    // RFC 9293 3.8.6.3 / RFC 5681 4.2: "an ACK SHOULD be generated for at
    // least every second full-sized segment, and MUST be generated within
    // 500 ms of the arrival of the first unacknowledged packet."
    if (m_unacked_segments >= 2) {
        m_ack_now = true;
        return;
    }
    if (!m_delayed_ack_deadline) {
        m_delayed_ack_deadline = now_ns + static_cast<uint64_t>(m_stack.m_config.tcp_delayed_ack_ms) * ms;
        note_deadline(m_delayed_ack_deadline);
    }
}

uint16_t TcpSocket::advertised_window_field(uint8_t flags)
{
    uint32_t capacity = static_cast<uint32_t>(m_stack.m_config.tcp_receive_buffer);
    if ((flags & TcpFlag::Syn) || m_state == TcpState::SynReceived || !m_receive_buffer.is_allocated()) {
        // Before the buffers exist (SYN-ACK) offer the configured size; the
        // SYN-ACK's window is never scaled.
        uint32_t window = min32(capacity, 65535u);
        if (seq_gt(m_rcv_nxt + window, m_rcv_adv))
            m_rcv_adv = m_rcv_nxt + window;
        return static_cast<uint16_t>(window);
    }
    uint32_t free = static_cast<uint32_t>(m_receive_buffer.free_space());
    uint32_t limit = 65535u << m_rcv_wscale;
    if (free > limit)
        free = limit;
    uint32_t edge = m_rcv_nxt + free;
    if (seq_gt(edge, m_rcv_adv)) {
        // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): move the right edge
        // only by at least min(buffer/2, MSS).
        uint32_t increase = edge - m_rcv_adv;
        if (increase >= min32(capacity / 2, m_mss))
            m_rcv_adv = edge;
    }
    // Never shrink the window (RFC 9293 3.8.6.2.2): keep the old right edge.
    if (seq_lt(m_rcv_adv, m_rcv_nxt))
        m_rcv_adv = m_rcv_nxt;
    uint32_t window = m_rcv_adv - m_rcv_nxt;
    // Round up so the edge the peer computes is never left of RCV.ADV;
    // the few bytes beyond free space are trimmed on arrival.
    uint32_t field = (window + (1u << m_rcv_wscale) - 1) >> m_rcv_wscale;
    if (field > 65535)
        field = 65535;
    m_rcv_adv = m_rcv_nxt + (field << m_rcv_wscale);
    return static_cast<uint16_t>(field);
}

TcpSocket::Sent TcpSocket::send_segment(uint32_t sequence, uint8_t flags, size_t data_offset, size_t data_length)
{
    uint8_t* out = m_stack.ip_payload();
    TcpHeaderFields fields {};
    fields.source_port = m_local_port;
    fields.destination_port = m_remote_port;
    fields.sequence = sequence;
    fields.acknowledgment = (flags & TcpFlag::Ack) ? m_rcv_nxt : 0;
    fields.flags = flags;
    fields.window = (flags & TcpFlag::Rst) ? 0 : advertised_window_field(flags);
    if (flags & TcpFlag::Syn) {
        fields.include_mss = true;
        fields.mss = static_cast<uint16_t>(m_stack.m_config.mtu - 40u);
        fields.include_window_scale = m_window_scaling;
        fields.window_scale = m_rcv_wscale;
    }
    size_t header_length = write_tcp_header(out, fields);
    if (data_length)
        m_send_buffer.peek(data_offset, { out + header_length, data_length });
    size_t length = header_length + data_length;
    ChecksumAccumulator sum;
    add_pseudo_header(sum, m_stack.m_address.value, m_remote_address.value, IpProtocol::Tcp, static_cast<uint16_t>(length));
    sum.add({ out, length });
    store_be16(out + 16, sum.finish());
    auto result = m_stack.send_ipv4(m_remote_address, IpProtocol::Tcp, length);
    if (result == Stack::SendResult::Busy) {
        m_stack.note_output_blocked(*this);
        return Sent::No;
    }
    ++m_stack.m_counters.tcp_out;
    if (flags & TcpFlag::Ack) {
        m_unacked_segments = 0;
        m_ack_now = false;
        m_delayed_ack_deadline = 0;
    }
    return Sent::Yes;
}

void TcpSocket::send_challenge_ack()
{
    ++m_stack.m_counters.tcp_challenge_acks;
    send_ack();
}

void TcpSocket::send_reset()
{
    // RFC 9293 3.10.4 ABORT: "a reset segment should be formed and sent:
    // <SEQ=SND.NXT><CTL=RST>".
    send_segment(m_snd_nxt, TcpFlag::Rst, 0, 0);
}

size_t TcpSocket::unsent_data() const
{
    uint32_t offset = m_snd_nxt - m_snd_una;
    size_t buffered = m_send_buffer.size();
    return offset < buffered ? buffered - offset : 0;
}

bool TcpSocket::fin_in_flight() const
{
    return m_fin_queued && !m_fin_acked && (m_snd_max - m_snd_una) > m_send_buffer.size();
}

void TcpSocket::retransmit_first_segment()
{
    size_t buffered = m_send_buffer.size();
    size_t length = buffered < m_mss ? buffered : m_mss;
    uint8_t flags = TcpFlag::Ack;
    if (length == buffered && fin_in_flight())
        flags |= TcpFlag::Fin;
    if (length == 0 && !(flags & TcpFlag::Fin))
        return;
    if (length && length == buffered)
        flags |= TcpFlag::Psh;
    // Karn: an RTT measured across a retransmission is ambiguous.
    m_timing = false;
    ++m_stack.m_counters.tcp_retransmits;
    send_segment(m_snd_una, flags, 0, length);
}

void TcpSocket::output(uint64_t now_ns)
{
    bool can_send_data = m_send_buffer.is_allocated()
        && (m_state == TcpState::Established || m_state == TcpState::CloseWait || m_state == TcpState::FinWait1 || m_state == TcpState::Closing || m_state == TcpState::LastAck);
    while (can_send_data) {
        size_t buffered = m_send_buffer.size();
        uint32_t offset = m_snd_nxt - m_snd_una;
        if (offset > buffered)
            break; // data and FIN are all out
        size_t remaining = buffered - offset;
        uint32_t window = min32(m_snd_wnd, m_cwnd);
        size_t usable = window > offset ? window - offset : 0;
        size_t length = remaining;
        if (length > usable)
            length = usable;
        if (length > m_mss)
            length = m_mss;
        bool fin = m_fin_queued && offset + length == buffered;
        bool nothing_in_flight = m_snd_una == m_snd_max;
        if (length == 0 && !fin) {
            // Data waits for the window. With nothing in flight no ACK will
            // come to reopen it: the persist timer probes (RFC 9293 3.8.6.1).
            if (remaining && nothing_in_flight && !m_persist_deadline) {
                uint64_t timeout = m_rtt.rto_ns() << (m_persist_backoff < 8 ? m_persist_backoff : 8);
                if (timeout > RttEstimator::max_rto_ns)
                    timeout = RttEstimator::max_rto_ns;
                m_persist_deadline = now_ns + timeout;
                note_deadline(m_persist_deadline);
            }
            break;
        }
        bool retransmission = seq_lt(m_snd_nxt, m_snd_max);
        if (length > 0 && length < m_mss && !fin && !retransmission && !m_force_send) {
            // Nagle (RFC 896, RFC 9293 3.7.4): a small segment goes out only
            // when nothing is unacknowledged (or Nagle is off) and it holds
            // all the data we have. Sender SWS avoidance (3.8.6.2.1): or
            // when it is at least half the largest window the peer offered.
            bool all_data = length == remaining;
            bool nagle_allows = all_data && (m_nagle == Nagle::Disabled || nothing_in_flight);
            bool sws_allows = length >= m_max_snd_wnd / 2;
            if (!nagle_allows && !sws_allows) {
                if (nothing_in_flight && !m_persist_deadline) {
                    m_persist_deadline = now_ns + m_rtt.rto_ns();
                    note_deadline(m_persist_deadline);
                }
                break;
            }
        }
        uint8_t flags = TcpFlag::Ack;
        if (length && offset + length == buffered)
            flags |= TcpFlag::Psh;
        if (fin)
            flags |= TcpFlag::Fin;
        if (send_segment(m_snd_nxt, flags, offset, length) == Sent::No)
            break;
        m_force_send = false;
        if (!retransmission && length) {
            m_stack.m_counters.tcp_bytes_sent += length;
            if (!m_timing) {
                m_timing = true;
                m_timed_sequence = m_snd_nxt;
                m_timing_start_ns = now_ns;
            }
        } else if (retransmission) {
            ++m_stack.m_counters.tcp_retransmits;
        }
        m_snd_nxt += static_cast<uint32_t>(length) + (fin ? 1 : 0);
        if (seq_gt(m_snd_nxt, m_snd_max))
            m_snd_max = m_snd_nxt;
        if (!m_retransmit_deadline)
            arm_retransmit(now_ns);
        m_persist_deadline = 0;
        if (fin)
            break;
    }
    if (m_ack_now && m_state != TcpState::Closed && m_state != TcpState::SynReceived)
        send_ack();
}

void TcpSocket::maybe_send_window_update()
{
    if (m_state != TcpState::Established && m_state != TcpState::FinWait1 && m_state != TcpState::FinWait2)
        return;
    uint32_t capacity = static_cast<uint32_t>(m_receive_buffer.capacity());
    uint32_t window = m_rcv_adv - m_rcv_nxt;
    uint32_t free = static_cast<uint32_t>(m_receive_buffer.free_space());
    uint32_t limit = 65535u << m_rcv_wscale;
    if (free > limit)
        free = limit;
    if (free <= window)
        return;
    // The window we last advertised has shrunk below half the buffer and
    // reading freed at least min(buffer/2, MSS): tell the sender now.
    if (window < capacity / 2 && free - window >= min32(capacity / 2, m_mss))
        send_ack();
}

// ---------------------------------------------------------------------------
// Timers

void TcpSocket::handle_timers(uint64_t now_ns)
{
    if (m_retransmit_deadline && now_ns >= m_retransmit_deadline)
        retransmission_timeout(now_ns);
    if (m_persist_deadline && now_ns >= m_persist_deadline)
        persist_timeout(now_ns);
    if (m_delayed_ack_deadline && now_ns >= m_delayed_ack_deadline) {
        m_delayed_ack_deadline = 0;
        if (m_state != TcpState::Closed && m_state != TcpState::SynReceived)
            send_ack();
    }
    if (m_keepalive_deadline && now_ns >= m_keepalive_deadline)
        keepalive_timeout(now_ns);
    if (m_close_deadline && now_ns >= m_close_deadline) {
        // TIME-WAIT: "If the time-wait timeout expires on a connection,
        // delete the TCB, enter the CLOSED state, and return." Also an
        // orphaned FIN-WAIT-2 whose peer never closes.
        m_close_deadline = 0;
        if (m_state == TcpState::TimeWait || m_state == TcpState::FinWait2)
            enter_closed();
    }
}

void TcpSocket::retransmission_timeout(uint64_t now_ns)
{
    m_retransmit_deadline = 0;
    if (m_state == TcpState::SynSent) {
        if (m_retransmit_count >= max_syn_retransmits) {
            ++m_stack.m_counters.tcp_connections_timed_out;
            m_reset = true; // the connection attempt failed
            enter_closed();
            return;
        }
        ++m_retransmit_count;
        ++m_stack.m_counters.tcp_timeouts;
        m_rtt.back_off();
        m_timing = false;
        send_segment(m_iss, TcpFlag::Syn, 0, 0);
        arm_retransmit(now_ns);
        return;
    }
    if (m_state == TcpState::SynReceived) {
        if (m_retransmit_count >= max_syn_ack_retransmits) {
            ++m_stack.m_counters.tcp_connections_timed_out;
            enter_closed();
            return;
        }
        ++m_retransmit_count;
        ++m_stack.m_counters.tcp_timeouts;
        m_rtt.back_off();
        m_timing = false;
        send_segment(m_iss, TcpFlag::Syn | TcpFlag::Ack, 0, 0);
        arm_retransmit(now_ns);
        return;
    }
    if (m_snd_una == m_snd_max)
        return;
    if (m_retransmit_count >= max_retransmits) {
        ++m_stack.m_counters.tcp_connections_timed_out;
        ++m_stack.m_counters.tcp_connections_reset;
        send_reset();
        m_reset = true;
        enter_closed();
        return;
    }
    ++m_retransmit_count;
    ++m_stack.m_counters.tcp_timeouts;
    // RFC 5681 3.1 (4): "ssthresh = max (FlightSize / 2, 2*SMSS)" and
    // "cwnd to no more than the loss window, LW, which equals 1 full-sized
    // segment". RFC 6582 4.1: after a timeout, "recover" is the highest
    // sequence number sent. RFC 6298 5.5: back off the timer; 5.4:
    // retransmit the earliest unacknowledged segment (go-back-N from SND.UNA).
    m_ssthresh = max32(flight_size() / 2, 2 * m_mss);
    m_cwnd = m_mss;
    m_bytes_acked_in_ca = 0;
    m_in_recovery = false;
    m_duplicate_acks = 0;
    m_recover = m_snd_max;
    m_snd_nxt = m_snd_una;
    m_timing = false;
    m_rtt.back_off();
    output(now_ns);
    if (!m_retransmit_deadline && m_snd_una != m_snd_max)
        arm_retransmit(now_ns);
}

void TcpSocket::persist_timeout(uint64_t now_ns)
{
    m_persist_deadline = 0;
    if (!m_send_buffer.is_allocated() || unsent_data() == 0)
        return;
    if (m_snd_wnd == 0) {
        if (m_released && m_persist_backoff >= max_orphan_probes) {
            // Nobody owns this connection and the peer keeps its window shut
            // (a way to pin server memory): give up.
            ++m_stack.m_counters.tcp_connections_timed_out;
            abort();
            return;
        }
        // Zero-window probe: like Linux, a segment with an old sequence
        // number (SND.UNA - 1) and no data; the receiver must answer with an
        // ACK that carries its current window.
        ++m_stack.m_counters.tcp_zero_window_probes;
        send_segment(m_snd_una - 1, TcpFlag::Ack, 0, 0);
        if (m_persist_backoff < 16)
            ++m_persist_backoff;
        uint64_t timeout = m_rtt.rto_ns() << (m_persist_backoff < 8 ? m_persist_backoff : 8);
        if (timeout > RttEstimator::max_rto_ns)
            timeout = RttEstimator::max_rto_ns;
        m_persist_deadline = now_ns + timeout;
        note_deadline(m_persist_deadline);
        return;
    }
    // A small window held back by SWS avoidance: send what fits anyway.
    m_force_send = true;
    output(now_ns);
    m_force_send = false;
}

void TcpSocket::keepalive_timeout(uint64_t now_ns)
{
    m_keepalive_deadline = 0;
    if (m_keepalive_idle_ms == 0 || (m_state != TcpState::Established && m_state != TcpState::CloseWait))
        return;
    if (m_keepalive_probes_sent >= m_keepalive_max_probes) {
        ++m_stack.m_counters.tcp_connections_timed_out;
        ++m_stack.m_counters.tcp_connections_reset;
        send_reset();
        m_reset = true;
        enter_closed();
        return;
    }
    // RFC 1122 4.2.3.6: a probe is a segment with SEG.SEQ = SND.NXT-1 and
    // no data, which the peer answers with an ACK.
    ++m_keepalive_probes_sent;
    ++m_stack.m_counters.tcp_keepalive_probes;
    send_segment(m_snd_una - 1, TcpFlag::Ack, 0, 0);
    m_keepalive_deadline = now_ns + static_cast<uint64_t>(m_keepalive_interval_ms) * ms;
    note_deadline(m_keepalive_deadline);
}

// ---------------------------------------------------------------------------
// User calls

size_t TcpSocket::receive(std::span<uint8_t> destination)
{
    if (!m_receive_buffer.is_allocated())
        return 0;
    size_t length = m_receive_buffer.read(destination);
    if (length)
        maybe_send_window_update();
    return length;
}

size_t TcpSocket::send_space() const
{
    if ((m_state != TcpState::Established && m_state != TcpState::CloseWait) || m_fin_queued || !m_send_buffer.is_allocated())
        return 0;
    return m_send_buffer.free_space();
}

size_t TcpSocket::send(std::span<const uint8_t> data)
{
    if (send_space() == 0)
        return 0;
    size_t accepted = m_send_buffer.write(data);
    if (accepted)
        output(m_stack.m_now);
    return accepted;
}

void TcpSocket::close()
{
    // RFC 9293 3.10.4 CLOSE: ESTABLISHED: "Queue this until all preceding
    // SENDs have been segmentized, then form a FIN segment and send it. In
    // any case, enter FIN-WAIT-1 state." CLOSE-WAIT: "Queue this request
    // until all preceding SENDs have been segmentized; then send a FIN
    // segment, enter LAST-ACK state."
    if (m_state == TcpState::Established) {
        m_fin_queued = true;
        set_state(TcpState::FinWait1);
        output(m_stack.m_now);
    } else if (m_state == TcpState::CloseWait) {
        m_fin_queued = true;
        set_state(TcpState::LastAck);
        output(m_stack.m_now);
    } else if (m_state == TcpState::SynSent) {
        // SYN-SENT: "Delete the TCB and return 'error: closing' responses".
        enter_closed();
    } else if (m_state == TcpState::SynReceived) {
        // Only an active open in a simultaneous open gets here; nothing was
        // sent yet, so abandon the attempt.
        abort();
    }
}

void TcpSocket::abort()
{
    // RFC 9293 3.10.5 ABORT: in synchronized states "a reset segment should
    // be formed and sent ... enter CLOSED state".
    if (m_state == TcpState::Closed)
        return;
    if (m_state != TcpState::TimeWait) {
        send_reset();
        ++m_stack.m_counters.tcp_connections_reset;
        m_reset = true;
    }
    enter_closed();
}

void TcpSocket::release()
{
    if (m_released)
        return;
    m_released = true;
    if (is_closed()) {
        if (m_state == TcpState::TimeWait)
            release_buffers();
        m_stack.m_reap_due = true;
        return;
    }
    // Unread data when the owner gives up: the peer must learn that it was
    // not consumed (RFC 2525 2.17), so reset instead of a graceful close.
    if (available() > 0) {
        abort();
        return;
    }
    close();
    if (m_state == TcpState::FinWait2) {
        m_close_deadline = m_stack.m_now + orphan_fin_wait_2_ns;
        note_deadline(m_close_deadline);
    }
}

void TcpSocket::set_keepalive(uint32_t idle_ms, uint32_t interval_ms, uint8_t probes)
{
    m_keepalive_idle_ms = idle_ms;
    m_keepalive_interval_ms = interval_ms ? interval_ms : 1;
    m_keepalive_max_probes = probes;
    m_keepalive_probes_sent = 0;
    if (idle_ms == 0 || is_closed()) {
        m_keepalive_deadline = 0;
        return;
    }
    m_keepalive_deadline = m_stack.m_now + static_cast<uint64_t>(idle_ms) * ms;
    note_deadline(m_keepalive_deadline);
}

} // namespace aisos::net
