#include "lib/net/http/HttpMetrics.h"

namespace aisos::http {

void write_http_metrics(FormatSink& sink, const HttpCounters& counters)
{
    auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
        format(sink, "# HELP aisos_http_{} {}\n# TYPE aisos_http_{} counter\naisos_http_{} {}\n", name, help, name, name, value);
    };
    auto gauge = [&](std::string_view name, std::string_view help, uint64_t value) {
        format(sink, "# HELP aisos_http_{} {}\n# TYPE aisos_http_{} gauge\naisos_http_{} {}\n", name, help, name, name, value);
    };
    counter("connections_accepted_total", "Connections taken by the HTTP server.", counters.connections_accepted);
    counter("connections_rejected_total", "Connections refused (limit reached or out of memory).", counters.connections_rejected);
    gauge("connections_active", "Open HTTP connections.", counters.connections_active);
    counter("requests_total", "Request heads received, valid or not.", counters.requests);
    format(sink, "# HELP aisos_http_responses_total Responses sent, by status code.\n# TYPE aisos_http_responses_total counter\n");
    for (uint16_t status = 100; status < 600; ++status) {
        if (counters.responses_by_status[status])
            format(sink, "aisos_http_responses_total{{code=\"{}\"}} {}\n", status, counters.responses_by_status[status]);
    }
    format(sink, "# HELP aisos_http_responses_by_class_total Responses sent, by status class.\n# TYPE aisos_http_responses_by_class_total counter\n");
    for (int group = 1; group <= 5; ++group)
        format(sink, "aisos_http_responses_by_class_total{{class=\"{}xx\"}} {}\n", group, counters.responses_by_class[group]);
    counter("received_bytes_total", "Bytes read from clients.", counters.bytes_received);
    counter("sent_bytes_total", "Bytes written to clients.", counters.bytes_sent);
    counter("bad_requests_total", "Requests refused as malformed.", counters.bad_requests);
    format(sink, "# HELP aisos_http_timeouts_total Connections timed out, by phase.\n# TYPE aisos_http_timeouts_total counter\n");
    format(sink, "aisos_http_timeouts_total{{phase=\"header\"}} {}\n", counters.timeouts_header);
    format(sink, "aisos_http_timeouts_total{{phase=\"body\"}} {}\n", counters.timeouts_body);
    format(sink, "aisos_http_timeouts_total{{phase=\"idle\"}} {}\n", counters.timeouts_idle);
    format(sink, "aisos_http_timeouts_total{{phase=\"send\"}} {}\n", counters.timeouts_send);
    counter("aborted_connections_total", "Connections reset in the middle of a request.", counters.aborted_connections);
    counter("websocket_upgrades_total", "WebSocket sessions opened.", counters.websocket_upgrades);
    gauge("websocket_active", "Open WebSocket sessions.", counters.websocket_active);
    counter("websocket_messages_received_total", "WebSocket messages received (counted when a session ends).", counters.websocket_messages_received);
}

} // namespace aisos::http
