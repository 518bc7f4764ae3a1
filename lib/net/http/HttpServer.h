#pragma once

// The HTTP/1.1 server (RFC 9112) of aiSOS. Portable: it talks to
// connections through ByteStream, gets time as a parameter and memory from
// an Allocator. Single-threaded: everything happens inside poll(), which
// the network core calls in its loop; handlers must never block.
//
//   HttpServer server(heap, router, limits);
//   server.set_server_name("aiSOS/0.1.0");
//   server.set_authenticator(&auth);
//   server.set_release_callback([](void* socket_table, ByteStream* stream) { ... }, &table);
//   on a new TCP connection:  if (server.accept(stream, { ip, port }).is_error()) stream->abort(), free it;
//   every loop iteration:     server.set_wall_clock(rtc_seconds); server.poll(tsc_ns);
//
// Per connection it allocates once, at accept (the connection state with
// its input and output buffers, HttpLimits::input_buffer_size and
// output_buffer_size; the input buffer grows once if a request head needs
// it, bounded by the head limits); per request only the handler object.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/net/http/Authenticator.h"
#include "lib/net/http/ByteStream.h"
#include "lib/net/http/HttpLimits.h"
#include "lib/net/http/HttpRequest.h"
#include "lib/net/http/Router.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

struct HttpCounters {
    uint64_t connections_accepted { 0 };
    uint64_t connections_rejected { 0 }; // over max_connections or out of memory
    uint64_t connections_active { 0 };
    uint64_t requests { 0 };             // request heads received (valid or not)
    uint64_t responses { 0 };
    uint64_t responses_by_class[6] {};   // [1]..[5] = 1xx..5xx
    uint64_t responses_by_status[600] {}; // exact status codes
    uint64_t bytes_received { 0 };
    uint64_t bytes_sent { 0 };
    uint64_t bad_requests { 0 };         // heads or bodies refused as malformed
    uint64_t timeouts_header { 0 };
    uint64_t timeouts_body { 0 };
    uint64_t timeouts_idle { 0 };
    uint64_t timeouts_send { 0 };
    uint64_t aborted_connections { 0 };  // reset by us or the peer mid-request
    uint64_t websocket_upgrades { 0 };
    uint64_t websocket_active { 0 };
    uint64_t websocket_messages_received { 0 };
};

class HttpServer {
public:
    HttpServer(Allocator&, Router&, const HttpLimits& = {});
    ~HttpServer(); // aborts every connection (releasing its stream)
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void set_authenticator(Authenticator* authenticator) { m_authenticator = authenticator; }
    // The Server field value, e.g. "aiSOS/0.1.0" (referenced, not copied).
    void set_server_name(std::string_view name) { m_server_name = name; }
    // Wall-clock time for the Date field (the kernel's RTC), in Unix seconds.
    void set_wall_clock(uint64_t unix_seconds);

    // Called once per stream the server stops using (after close or abort):
    // the owner may then free it. Never called from inside accept().
    using ReleaseCallback = void (*)(void* context, ByteStream*);
    void set_release_callback(ReleaseCallback callback, void* context)
    {
        m_release = callback;
        m_release_context = context;
    }

    // Takes a new connection. On error (max_connections reached, out of
    // memory) the stream stays the caller's, who should abort it.
    ErrorOr<void> accept(ByteStream*, ClientInfo);
    // Drives every connection: reads, parses, calls handlers, writes, times out.
    void poll(uint64_t now_ns);

    const HttpCounters& counters() const { return m_counters; }
    size_t active_connections() const { return m_connection_count; }
    const HttpLimits& limits() const { return m_limits; }

    struct Connection;

private:
    bool step(Connection&);
    bool step_head(Connection&);
    bool step_body(Connection&);
    bool step_respond(Connection&);
    bool step_websocket(Connection&);
    bool step_closing(Connection&);
    void process_head(Connection&, size_t skipped, size_t head_length);
    void start_websocket(Connection&, const Route&);
    void respond_error(Connection&, uint16_t status, std::string_view message);
    void finish_request(Connection&);
    void begin_close(Connection&);
    void abort_connection(Connection&);
    void destroy_handler(Connection&, bool aborted);
    void end_websocket(Connection&);
    void count_response(uint16_t status);
    size_t read_into(Connection&, uint8_t* buffer, size_t capacity);
    void flush(Connection&);
    void release(Connection&);
    std::string_view date();

    Allocator& m_allocator;
    Router& m_router;
    HttpLimits m_limits;
    Authenticator* m_authenticator { nullptr };
    std::string_view m_server_name { "aiSOS" };
    ReleaseCallback m_release { nullptr };
    void* m_release_context { nullptr };
    Connection* m_connections { nullptr };
    size_t m_connection_count { 0 };
    uint64_t m_now { 0 };
    uint64_t m_wall_clock { 0 };
    uint64_t m_date_second { ~uint64_t(0) };
    char m_date[32] {};
    size_t m_max_head_size { 0 };
    HttpCounters m_counters;
};

} // namespace aisos::http
