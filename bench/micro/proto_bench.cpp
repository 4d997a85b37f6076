// Micro-benchmarks of the RESP parser and reply builder.
#include <benchmark/benchmark.h>

#include <string>

#include "setd/proto/reply_builder.hpp"
#include "setd/proto/request_parser.hpp"

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

void parse_all(benchmark::State& state, const std::string& input, int commands) {
  setd::proto::RequestParser parser;
  for (auto _ : state) {
    std::string_view view(input);
    size_t consumed = 0;
    int n = 0;
    while (!view.empty()) {
      auto st = parser.parse(view, consumed);
      if (st != setd::proto::RequestParser::Status::kCommand) break;
      benchmark::DoNotOptimize(parser.args().data());
      view.remove_prefix(consumed);
      ++n;
    }
    if (n != commands) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations() * commands);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}

void BM_ParsePingPipeline(benchmark::State& state) {
  parse_all(state, repeat("*1\r\n$4\r\nPING\r\n", 16), 16);
}
BENCHMARK(BM_ParsePingPipeline);

void BM_ParseSaddPipeline(benchmark::State& state) {
  parse_all(state, repeat("*3\r\n$4\r\nSADD\r\n$6\r\nmyset1\r\n$12\r\nelement:1234\r\n", 16), 16);
}
BENCHMARK(BM_ParseSaddPipeline);

void BM_ParseInline(benchmark::State& state) {
  parse_all(state, repeat("SADD myset1 element:1234\r\n", 16), 16);
}
BENCHMARK(BM_ParseInline);

void BM_ParseLargeMultibulk(benchmark::State& state) {
  std::string cmd = "*1002\r\n$4\r\nSADD\r\n$3\r\nkey\r\n";
  for (int i = 0; i < 1000; ++i) {
    const std::string m = "member:" + std::to_string(i);
    cmd += "$" + std::to_string(m.size()) + "\r\n" + m + "\r\n";
  }
  parse_all(state, cmd, 1);
}
BENCHMARK(BM_ParseLargeMultibulk);

void BM_ReplyArrayOfBulks(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    setd::proto::ReplyBuilder rb(&out, 2);
    rb.array(100);
    for (int i = 0; i < 100; ++i) rb.bulk("member:123456");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_ReplyArrayOfBulks);

}  // namespace
