// Micro-benchmarks of the instruments (Google Benchmark; linked with
// benchmark_main): what latency-tracking adds to a call (one
// LatencyHistogram::record), and what one scrape of the metrics endpoint
// costs the server (render_metrics, with 12 commands in the table used and
// their histograms filled; the HTTP exchange is not included).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/metrics.hpp"
#include "setd/server/latency.hpp"
#include "setd/server/server_state.hpp"

namespace {

void BM_LatencyHistogramRecord(benchmark::State& state) {
  setd::server::LatencyHistogram h;
  // Durations of 1 to 64 µs, as the dispatcher records them (µs * 1000).
  std::vector<int64_t> ns(1024);
  uint64_t x = 88172645463325252ull;
  for (auto& v : ns) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = static_cast<int64_t>(1 + x % 64) * 1000;
  }
  size_t i = 0;
  for (auto _ : state) {
    h.record(ns[i++ & 1023]);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h.total());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LatencyHistogramRecord);

void BM_RenderMetrics(benchmark::State& state) {
  setd::server::Config config;
  config.set("save", "", false);
  setd::server::ServerState s(std::move(config));
  setd::cmd::Dispatcher d(s);
  setd::server::Client& c = s.add_client();
  auto run = [&](std::vector<std::string_view> args) {
    d.dispatch(c, args);
    c.out.clear();
  };
  for (int i = 0; i < 1000; ++i) {
    const std::string m = std::to_string(i);
    run({"sadd", "s", m});
    run({"sismember", "s", m});
    run({"smismember", "s", m, "x"});
    run({"scard", "s"});
    run({"srem", "t", m});
    run({"set", "k" + m, m});
    run({"get", "k" + m});
    run({"exists", "k" + m});
    run({"del", "nokey"});
    run({"ping"});
    run({"type", "s"});
    run({"incr", "n"});
  }
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = setd::cmd::render_metrics(s, d.registry(), d.replication());
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderMetrics)->Unit(benchmark::kMicrosecond);

}  // namespace
