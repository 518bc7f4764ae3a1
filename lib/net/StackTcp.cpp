// The Stack's TCP demultiplexing: the connection table (hashed by the
// 4-tuple with a secret key), passive opens on listeners, RSTs for
// segments nobody owns, and freeing finished connections.
#include "lib/net/Checksum.h"
#include "lib/net/Stack.h"
#include "lib/net/TcpSequence.h"
#include "lib/net/Wire.h"

namespace aisos::net {

size_t Stack::bucket_of(Ipv4Address remote, uint16_t remote_port, uint16_t local_port) const
{
    uint8_t key[8];
    store_be32(key, remote.value);
    store_be16(key + 4, remote_port);
    store_be16(key + 6, local_port);
    return static_cast<size_t>(siphash24(m_hash_key, key)) & m_bucket_mask;
}

TcpSocket* Stack::find_connection(Ipv4Address remote, uint16_t remote_port, uint16_t local_port)
{
    for (TcpSocket* socket = m_buckets[bucket_of(remote, remote_port, local_port)]; socket; socket = socket->m_hash_next) {
        if (socket->m_remote_port == remote_port && socket->m_local_port == local_port && socket->m_remote_address == remote)
            return socket;
    }
    return nullptr;
}

void Stack::insert_connection(TcpSocket& socket)
{
    size_t bucket = bucket_of(socket.m_remote_address, socket.m_remote_port, socket.m_local_port);
    socket.m_hash_next = m_buckets[bucket];
    m_buckets[bucket] = &socket;
    socket.m_hashed = true;
    socket.m_all_prev = nullptr;
    socket.m_all_next = m_all_connections;
    if (m_all_connections)
        m_all_connections->m_all_prev = &socket;
    m_all_connections = &socket;
    ++m_connection_count;
}

void Stack::unhash_connection(TcpSocket& socket)
{
    if (!socket.m_hashed)
        return;
    TcpSocket** link = &m_buckets[bucket_of(socket.m_remote_address, socket.m_remote_port, socket.m_local_port)];
    while (*link && *link != &socket)
        link = &(*link)->m_hash_next;
    if (*link)
        *link = socket.m_hash_next;
    socket.m_hash_next = nullptr;
    socket.m_hashed = false;
}

void Stack::remove_connection(TcpSocket& socket)
{
    unhash_connection(socket);
    if (socket.m_all_prev)
        socket.m_all_prev->m_all_next = socket.m_all_next;
    else
        m_all_connections = socket.m_all_next;
    if (socket.m_all_next)
        socket.m_all_next->m_all_prev = socket.m_all_prev;
    --m_connection_count;
}

uint32_t Stack::initial_sequence_number(Ipv4Address remote, uint16_t remote_port, uint16_t local_port) const
{
    // RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
    // with M a timer ticking every 4 microseconds.
    uint8_t key[12];
    store_be32(key, m_address.value);
    store_be16(key + 4, local_port);
    store_be32(key + 6, remote.value);
    store_be16(key + 10, remote_port);
    uint32_t f = static_cast<uint32_t>(siphash24(m_isn_key, key));
    return static_cast<uint32_t>(m_now / 4000) + f;
}

ErrorOr<TcpListener*> Stack::tcp_listen(uint16_t port, size_t backlog)
{
    if (port == 0)
        return Error::invalid("TCP port 0");
    if (backlog == 0)
        return Error::invalid("TCP backlog 0");
    for (TcpListener* listener = m_listeners; listener; listener = listener->m_next) {
        if (listener->m_port == port)
            return Error { ErrorCode::Exists, "TCP port already listening" };
    }
    void* memory = TRY(m_allocator.allocate(sizeof(TcpListener), alignof(TcpListener)));
    auto* listener = new (memory) TcpListener(*this, port, backlog);
    listener->m_next = m_listeners;
    m_listeners = listener;
    return listener;
}

ErrorOr<TcpSocket*> Stack::tcp_connect(Ipv4Address remote, uint16_t port)
{
    if (!m_configured)
        return Error { ErrorCode::Busy, "no address configured yet" };
    if (port == 0 || remote.is_zero() || remote.is_broadcast() || remote.is_multicast() || is_local_broadcast(remote))
        return Error::invalid("TCP connect: bad destination");
    if (m_connection_count >= m_config.tcp_max_connections)
        return Error { ErrorCode::NoSpace, "TCP connection limit reached" };
    // Ephemeral ports (RFC 6056 range 49152-65535) from a random start.
    constexpr uint32_t first = 49152, count = 65536 - 49152;
    uint32_t start = static_cast<uint32_t>(random() % count);
    uint16_t local_port = 0;
    for (uint32_t i = 0; i < count; ++i) {
        auto candidate = static_cast<uint16_t>(first + (start + i) % count);
        if (!find_connection(remote, port, candidate)) {
            local_port = candidate;
            break;
        }
    }
    if (!local_port)
        return Error { ErrorCode::NoSpace, "no free ephemeral port" };
    void* memory = TRY(m_allocator.allocate(sizeof(TcpSocket), alignof(TcpSocket)));
    auto* socket = new (memory) TcpSocket(*this, static_cast<uint64_t>(m_config.tcp_min_rto_ms) * 1'000'000);
    socket->m_local_port = local_port;
    socket->m_remote_address = remote;
    socket->m_remote_port = port;
    insert_connection(*socket);
    auto started = socket->start_active_open(initial_sequence_number(remote, port, local_port), m_now);
    if (started.is_error()) {
        free_connection(*socket);
        return started.error();
    }
    return socket;
}

void Stack::handle_tcp(Ipv4Address source, Ipv4Address destination, std::span<const uint8_t> bytes)
{
    ++m_counters.tcp_in;
    // TCP is unicast only (RFC 1122 4.2.3.10).
    if (!m_configured || !(destination == m_address) || source.is_zero()) {
        ++m_counters.ip_not_for_us;
        return;
    }
    if (bytes.size() < tcp_header_size || bytes.size() > 0xffff) {
        ++m_counters.tcp_malformed;
        return;
    }
    if (m_rx_checksum == RxChecksum::Unverified) {
        ChecksumAccumulator sum;
        add_pseudo_header(sum, source.value, destination.value, IpProtocol::Tcp, static_cast<uint16_t>(bytes.size()));
        sum.add(bytes);
        if (sum.finish() != 0) {
            ++m_counters.tcp_bad_checksum;
            return;
        }
    }
    auto parsed = parse_tcp_segment(bytes);
    if (parsed.is_error()) {
        ++m_counters.tcp_malformed;
        return;
    }
    TcpSegment& segment = parsed.value();
    if (segment.source_port == 0 || segment.destination_port == 0) {
        ++m_counters.tcp_malformed;
        return;
    }

    if (TcpSocket* socket = find_connection(source, segment.source_port, segment.destination_port)) {
        // RFC 9293 3.10.7.4 / RFC 6191: a new SYN above the old connection's
        // sequence space may reopen a connection in TIME-WAIT.
        bool reopen = socket->m_state == TcpState::TimeWait && segment.flags == TcpFlag::Syn && seq_gt(segment.sequence, socket->m_rcv_nxt);
        if (!reopen && socket->m_state != TcpState::Closed) {
            socket->segment_arrived(segment, m_now);
            return;
        }
        // A closed connection (perhaps still waiting for its owner to
        // release it) gives up the 4-tuple.
        socket->enter_closed();
        unhash_connection(*socket);
        if (socket->can_be_freed())
            free_connection(*socket);
    }

    TcpListener* listener = m_listeners;
    while (listener && listener->m_port != segment.destination_port)
        listener = listener->m_next;
    if (!listener) {
        // RFC 9293 3.10.7.1 (CLOSED): any segment but a RST gets a RST.
        if (!segment.has(TcpFlag::Rst)) {
            ++m_counters.tcp_no_socket;
            send_reset_for(source, segment);
        }
        return;
    }
    // RFC 9293 3.10.7.2 (LISTEN): "first, check for a RST": ignore it.
    if (segment.has(TcpFlag::Rst))
        return;
    // "second, check for an ACK": any acknowledgment is bad in LISTEN:
    // <SEQ=SEG.ACK><CTL=RST>.
    if (segment.has(TcpFlag::Ack)) {
        ++m_counters.tcp_no_socket;
        send_reset_for(source, segment);
        return;
    }
    // "third, check for a SYN".
    if (!segment.has(TcpFlag::Syn) || segment.has(TcpFlag::Fin))
        return;
    passive_open(*listener, source, segment);
}

void Stack::passive_open(TcpListener& listener, Ipv4Address remote, const TcpSegment& syn)
{
    // SYN flood bound: half-open connections per listener, the accept queue
    // and all connections are limited; excess SYNs are dropped silently so
    // legitimate clients simply retry.
    if (listener.m_half_open >= m_config.tcp_syn_backlog || listener.m_accept_length >= listener.m_backlog) {
        ++m_counters.tcp_backlog_full;
        return;
    }
    if (m_connection_count >= m_config.tcp_max_connections && !recycle_time_wait()) {
        ++m_counters.tcp_connection_limit;
        return;
    }
    void* memory = nullptr;
    if (auto allocation = m_allocator.allocate(sizeof(TcpSocket), alignof(TcpSocket)); allocation.is_error()) {
        ++m_counters.tcp_out_of_memory;
        return;
    } else {
        memory = allocation.value();
    }
    auto* socket = new (memory) TcpSocket(*this, static_cast<uint64_t>(m_config.tcp_min_rto_ms) * 1'000'000);
    socket->m_local_port = listener.m_port;
    socket->m_remote_address = remote;
    socket->m_remote_port = syn.source_port;
    insert_connection(*socket);
    uint32_t iss = initial_sequence_number(remote, syn.source_port, listener.m_port);
    socket->start_passive_open(listener, remote, syn, iss, m_now);
}

bool Stack::recycle_time_wait()
{
    // A server that closes first collects TIME-WAIT connections (2*MSL
    // each); when they fill the table, the one closest to expiring gives
    // way to a new connection, as Linux does past tcp_max_tw_buckets.
    TcpSocket* oldest = nullptr;
    for (TcpSocket* socket = m_all_connections; socket; socket = socket->m_all_next) {
        if (socket->m_state == TcpState::TimeWait && socket->m_released && (!oldest || socket->m_close_deadline < oldest->m_close_deadline))
            oldest = socket;
    }
    if (!oldest)
        return false;
    oldest->enter_closed();
    free_connection(*oldest);
    ++m_counters.tcp_time_wait_recycled;
    return true;
}

void Stack::send_reset_for(Ipv4Address remote, const TcpSegment& segment)
{
    // RFC 9293 3.10.7.1: if the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
    // <CTL=RST,ACK>; if on, <SEQ=SEG.ACK><CTL=RST>.
    TcpHeaderFields fields {};
    fields.source_port = segment.destination_port;
    fields.destination_port = segment.source_port;
    if (segment.has(TcpFlag::Ack)) {
        fields.sequence = segment.acknowledgment;
        fields.flags = TcpFlag::Rst;
    } else {
        fields.sequence = 0;
        fields.acknowledgment = segment.sequence + segment.length();
        fields.flags = TcpFlag::Rst | TcpFlag::Ack;
    }
    uint8_t* out = ip_payload();
    size_t length = write_tcp_header(out, fields);
    ChecksumAccumulator sum;
    add_pseudo_header(sum, m_address.value, remote.value, IpProtocol::Tcp, static_cast<uint16_t>(length));
    sum.add({ out, length });
    store_be16(out + 16, sum.finish());
    if (send_ipv4(remote, IpProtocol::Tcp, length) != SendResult::Dropped)
        ++m_counters.tcp_out;
}

void Stack::note_output_blocked(TcpSocket& socket)
{
    if (!socket.m_output_blocked) {
        socket.m_output_blocked = true;
        ++m_blocked_outputs;
    }
}

void Stack::reap_connections()
{
    if (!m_reap_due)
        return;
    m_reap_due = false;
    for (TcpSocket* socket = m_all_connections; socket;) {
        TcpSocket* next = socket->m_all_next;
        if (socket->can_be_freed())
            free_connection(*socket);
        socket = next;
    }
}

void Stack::free_connection(TcpSocket& socket)
{
    remove_connection(socket);
    if (socket.m_listener)
        socket.m_listener->unlink(socket);
    socket.release_buffers();
    socket.~TcpSocket();
    m_allocator.free(&socket);
}

bool Stack::invariants_hold() const
{
    size_t count = 0;
    uint64_t active = 0;
    for (const TcpSocket* socket = m_all_connections; socket; socket = socket->m_all_next) {
        ++count;
        if (socket->m_all_next && socket->m_all_next->m_all_prev != socket)
            return false;
        if (!socket->invariants_hold())
            return false;
        switch (socket->m_state) {
        case TcpState::Established:
        case TcpState::FinWait1:
        case TcpState::FinWait2:
        case TcpState::CloseWait:
        case TcpState::Closing:
        case TcpState::LastAck:
            ++active;
            break;
        default:
            break;
        }
        if (socket->m_hashed) {
            const TcpSocket* found = nullptr;
            for (const TcpSocket* entry = m_buckets[bucket_of(socket->m_remote_address, socket->m_remote_port, socket->m_local_port)]; entry; entry = entry->m_hash_next) {
                if (entry == socket)
                    found = entry;
            }
            if (!found)
                return false;
        }
    }
    if (count != m_connection_count || active != m_counters.tcp_connections_active)
        return false;
    for (const TcpListener* listener = m_listeners; listener; listener = listener->m_next) {
        size_t half_open = 0, queued = 0;
        for (const TcpSocket* socket = m_all_connections; socket; socket = socket->m_all_next) {
            if (socket->m_listener == listener) {
                if (socket->m_queued)
                    ++queued;
                else
                    ++half_open;
            }
        }
        if (half_open != listener->m_half_open || queued != listener->m_accept_length)
            return false;
    }
    return true;
}

} // namespace aisos::net
