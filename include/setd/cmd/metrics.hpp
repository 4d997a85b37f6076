// The Prometheus exposition of the server's figures (GET /metrics, served by
// net/metrics_http.hpp when metrics-port is set): text format 0.0.4, every
// name prefixed setd_, base units (seconds, bytes), counters suffixed _total.
//
// It is built from the same figures INFO prints, read from the same
// structures (server::Stats, the command table's CommandStats and latency
// histograms, the databases, MemoryStats and the memory overhead, the
// persistence and replication states), not from INFO's text. It lives in
// cmd, not server, because the per-command figures belong to the command
// table and replication to repl, both of which sit above server.
//
// Dependency rule (module cmd): server, repl, db, base; no Asio, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "setd/server/server_state.hpp"

namespace setd::repl {
class Replication;
}

namespace setd::cmd {

class Registry;

// The HTTP Content-Type of render_metrics()'s text.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The per-command latency histograms' bucket bounds (seconds), as printed in
// le="..." and in ns; +Inf follows.
struct MetricsBucket {
  const char* le;
  int64_t ns;
};
inline constexpr MetricsBucket kLatencyBuckets[] = {
    {"1e-06", 1000},     {"2.5e-06", 2500},   {"5e-06", 5000},     {"1e-05", 10000},
    {"2.5e-05", 25000},  {"5e-05", 50000},    {"0.0001", 100000},  {"0.00025", 250000},
    {"0.0005", 500000},  {"0.001", 1000000},  {"0.0025", 2500000}, {"0.005", 5000000},
    {"0.01", 10000000},  {"0.025", 25000000}, {"0.05", 50000000},  {"0.1", 100000000},
    {"0.25", 250000000}, {"0.5", 500000000},  {"1", 1000000000},
};

// INFO memory's main figures (memory_family.cpp computes them as INFO does).
struct MemoryFigures {
  size_t used = 0;
  size_t rss = 0;
  size_t peak = 0;
  size_t startup = 0;
  size_t overhead = 0;
  size_t dataset = 0;
  size_t replication_backlog = 0;
  size_t clients_normal = 0;
  size_t clients_replicas = 0;
  size_t aof_buffer = 0;
  size_t scripts = 0;
  double fragmentation_ratio = 0;
};
MemoryFigures memory_figures(server::ServerState& s, const repl::Replication& r);

// The whole exposition, one sample per line, each family with HELP and TYPE.
std::string render_metrics(server::ServerState& s, const Registry& reg, const repl::Replication& r);

// A label value escaped as the text format wants (\\, \", \n).
std::string escape_label_value(std::string_view v);

}  // namespace setd::cmd
