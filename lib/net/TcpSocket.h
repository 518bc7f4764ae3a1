#pragma once

// One TCP connection (RFC 9293), created by a passive open (the owner gets
// it from TcpListener::accept()) or an active one (Stack::tcp_connect()).
// The owner talks to it through the byte-stream calls below; everything
// else (segments, timers) is driven by the Stack.
// Not thread-safe: call it only from the network core, between
// Stack::receive() and Stack::poll() calls.

#include "lib/net/Addresses.h"
#include "lib/net/ByteRing.h"
#include "lib/net/RttEstimator.h"
#include "lib/net/SequenceRanges.h"
#include "lib/net/TcpSegment.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class Stack;
class TcpListener;

enum class TcpState : uint8_t {
    Closed,
    Listen, // listeners only; connections never hold it
    SynSent, // reserved for active open
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
};
const char* tcp_state_name(TcpState);

enum class Nagle : uint8_t { Enabled, Disabled };

class TcpSocket {
public:
    // Copies up to destination.size() received bytes out; 0 when none.
    size_t receive(std::span<uint8_t> destination);
    // Copies as much as fits into the send buffer and starts sending;
    // returns the number of bytes accepted (0 once closing or closed).
    size_t send(std::span<const uint8_t> data);
    size_t send_space() const;
    size_t available() const { return m_receive_buffer.size(); }
    // Everything sent has been acknowledged.
    bool all_sent_acknowledged() const { return m_send_buffer.size() == 0 && m_snd_una == m_snd_max; }
    // The peer sent FIN and every byte before it has been read.
    bool peer_closed() const { return m_fin_received && available() == 0; }
    // Graceful close: FIN after the queued data.
    void close();
    // Abortive close: RST now, queued data is discarded.
    void abort();
    // Nothing more will happen on this connection: the owner may release().
    bool is_closed() const { return m_state == TcpState::Closed || m_state == TcpState::TimeWait; }
    // An active open completed the handshake (false while SYN-SENT).
    bool is_connected() const { return m_state != TcpState::SynSent && m_state != TcpState::SynReceived && m_state != TcpState::Closed; }
    bool was_reset() const { return m_reset; }
    // The owner is done with the handle. A connection still open is closed
    // gracefully; the stack frees everything once the connection is over.
    void release();

    // Nagle::Disabled sends small segments at once (streamed responses).
    void set_nagle(Nagle nagle) { m_nagle = nagle; }
    // Keepalive probes after `idle_ms` without traffic, every `interval_ms`,
    // resetting the connection after `probes` unanswered ones. idle_ms 0 disables.
    void set_keepalive(uint32_t idle_ms, uint32_t interval_ms = 75'000, uint8_t probes = 9);

    Ipv4Address remote_address() const { return m_remote_address; }
    uint16_t remote_port() const { return m_remote_port; }
    uint16_t local_port() const { return m_local_port; }
    TcpState state() const { return m_state; }

    // Introspection for tests and metrics.
    uint32_t congestion_window() const { return m_cwnd; }
    uint32_t slow_start_threshold() const { return m_ssthresh; }
    uint32_t send_mss() const { return m_mss; }
    uint32_t send_window() const { return m_snd_wnd; }
    uint8_t send_window_scale() const { return m_snd_wscale; }
    uint8_t receive_window_scale() const { return m_rcv_wscale; }
    const RttEstimator& rtt() const { return m_rtt; }
    bool in_fast_recovery() const { return m_in_recovery; }

private:
    friend class Stack;
    friend class TcpListener;

    TcpSocket(Stack& stack, uint64_t min_rto_ns)
        : m_stack(stack)
        , m_rtt(min_rto_ns)
    {
    }

    // Called by the Stack.
    void start_passive_open(TcpListener&, Ipv4Address remote, const TcpSegment& syn, uint32_t iss, uint64_t now_ns);
    ErrorOr<void> start_active_open(uint32_t iss, uint64_t now_ns);
    void syn_sent_segment_arrived(const TcpSegment&, uint64_t now_ns);
    void apply_syn_options(const TcpSegment& syn);
    uint8_t receive_window_shift() const;
    void segment_arrived(const TcpSegment&, uint64_t now_ns);
    void handle_timers(uint64_t now_ns);
    uint64_t next_deadline() const;
    void output(uint64_t now_ns);
    bool can_be_freed() const;
    bool invariants_hold() const;
    void release_buffers();

    // Input steps (RFC 9293 section 3.10.7.4).
    bool segment_acceptable(const TcpSegment&) const;
    void process_reset(const TcpSegment&);
    bool process_ack(const TcpSegment&, uint64_t now_ns);
    void process_new_ack(uint32_t ack, uint64_t now_ns);
    void process_duplicate_ack(uint64_t now_ns);
    void process_text(uint32_t sequence, std::span<const uint8_t> payload, bool fin, uint64_t now_ns);
    void process_fin(uint64_t now_ns);
    bool enter_established(uint64_t now_ns);
    void enter_time_wait(uint64_t now_ns);
    void enter_closed();
    void set_state(TcpState);

    // Output helpers.
    enum class Sent : uint8_t { Yes, No };
    Sent send_segment(uint32_t sequence, uint8_t flags, size_t data_offset, size_t data_length);
    void send_ack() { send_segment(m_snd_nxt, TcpFlag::Ack, 0, 0); }
    void send_challenge_ack();
    void send_reset();
    void retransmit_first_segment();
    uint16_t advertised_window_field(uint8_t flags);
    void schedule_ack(uint64_t now_ns);
    void maybe_send_window_update();
    uint32_t flight_size() const { return m_snd_max - m_snd_una; }
    size_t unsent_data() const;
    bool fin_in_flight() const;

    // Timer events.
    void retransmission_timeout(uint64_t now_ns);
    void persist_timeout(uint64_t now_ns);
    void keepalive_timeout(uint64_t now_ns);
    void arm_retransmit(uint64_t now_ns);
    void note_deadline(uint64_t deadline_ns);

    Stack& m_stack;
    TcpListener* m_listener { nullptr }; // while half-open or in the accept queue
    TcpState m_state { TcpState::Closed };
    Ipv4Address m_remote_address;
    uint16_t m_remote_port { 0 };
    uint16_t m_local_port { 0 };

    // Send sequence space (RFC 9293 3.3.1). SND.MAX is the highest sequence
    // sent so far: after a timeout SND.NXT goes back to SND.UNA (go-back-N)
    // while ACKs up to SND.MAX stay acceptable.
    uint32_t m_iss { 0 };
    uint32_t m_snd_una { 0 };
    uint32_t m_snd_nxt { 0 };
    uint32_t m_snd_max { 0 };
    uint32_t m_snd_wnd { 0 }; // scaled
    uint32_t m_max_snd_wnd { 0 };
    uint32_t m_snd_wl1 { 0 };
    uint32_t m_snd_wl2 { 0 };
    uint8_t m_snd_wscale { 0 };
    uint32_t m_mss { 536 }; // effective send MSS

    // Receive sequence space. RCV.ADV is the right edge we advertised; it
    // never moves left (RFC 9293 3.8.6.2.2).
    uint32_t m_irs { 0 };
    uint32_t m_rcv_nxt { 0 };
    uint32_t m_rcv_adv { 0 };
    uint8_t m_rcv_wscale { 0 };

    // Congestion control (RFC 5681, NewReno RFC 6582).
    uint32_t m_cwnd { 0 };
    uint32_t m_ssthresh { 0xffffffffu };
    uint32_t m_bytes_acked_in_ca { 0 };
    uint32_t m_recover { 0 };
    uint8_t m_duplicate_acks { 0 };
    bool m_in_recovery { false };

    // Round-trip timing (one segment at a time, Karn's rule).
    RttEstimator m_rtt;
    bool m_timing { false };
    uint32_t m_timed_sequence { 0 };
    uint64_t m_timing_start_ns { 0 };
    uint8_t m_retransmit_count { 0 };

    // Timers: absolute deadlines in ns, 0 when off.
    uint64_t m_retransmit_deadline { 0 };
    uint64_t m_persist_deadline { 0 };
    uint64_t m_delayed_ack_deadline { 0 };
    uint64_t m_keepalive_deadline { 0 };
    uint64_t m_close_deadline { 0 }; // TIME-WAIT end, or orphaned FIN-WAIT-2 limit
    uint8_t m_persist_backoff { 0 };
    uint8_t m_keepalive_probes_sent { 0 };
    uint32_t m_keepalive_idle_ms { 0 };
    uint32_t m_keepalive_interval_ms { 75'000 };
    uint8_t m_keepalive_max_probes { 9 };

    // ACK generation (RFC 9293 3.8.6.3, RFC 5681 4.2).
    uint8_t m_unacked_segments { 0 };
    bool m_ack_now { false };

    // Data.
    ByteRing m_send_buffer; // starts at SND.UNA
    ByteRing m_receive_buffer; // in-order data not yet read; OOO data past its end
    SequenceRanges m_out_of_order;
    bool m_fin_queued { false }; // close() called: FIN follows the send buffer
    bool m_fin_acked { false };
    bool m_fin_received { false };
    bool m_out_of_order_fin { false };
    uint32_t m_out_of_order_fin_sequence { 0 };
    bool m_reset { false };
    bool m_released { false };
    bool m_accepted { false };
    bool m_queued { false }; // in the listener's accept queue (else half-open while m_listener is set)
    bool m_force_send { false }; // persist timer: send a small segment despite SWS avoidance
    bool m_window_scaling { false }; // both sides sent the window scale option
    bool m_output_blocked { false }; // the NIC ring was full
    Nagle m_nagle { Nagle::Enabled };

    // Stack bookkeeping.
    TcpSocket* m_hash_next { nullptr };
    bool m_hashed { false };
    TcpSocket* m_all_prev { nullptr };
    TcpSocket* m_all_next { nullptr };
    TcpSocket* m_accept_next { nullptr };
};

} // namespace aisos::net
