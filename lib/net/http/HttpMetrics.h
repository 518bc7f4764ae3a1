#pragma once

// The HTTP server's counters in the Prometheus text exposition format, for
// GET /metrics. Metric names start with aisos_http_.

#include "lib/base/Format.h"
#include "lib/net/http/HttpServer.h"

namespace aisos::http {

void write_http_metrics(FormatSink&, const HttpCounters&);

} // namespace aisos::http
