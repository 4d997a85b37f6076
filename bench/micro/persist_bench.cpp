// Micro-benchmarks of the persist module (Google Benchmark; linked with
// benchmark_main): serializing and loading hashtable sets of 25k and 1M
// members "m:<i>" (the snapshot's hot loop), intsets, and CRC-64.
// Items are members (or bytes for CRC-64).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "setd/db/value.hpp"
#include "setd/ds/set_object.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace {

using setd::db::Object;
using setd::ds::SetObject;

Object member_set(size_t n) {
  SetObject s = SetObject::empty_hashtable(n);
  for (size_t i = 0; i < n; ++i) s.add("m:" + std::to_string(i), setd::ds::SetLimits::redis70());
  return Object::set(std::move(s));
}

const Object& cached_set(size_t n) {
  static const Object million = member_set(1000000);
  static const Object small = member_set(25000);
  return n == 1000000 ? million : small;
}

void BM_EncodeHashtableSet(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const Object& v = cached_set(n);
  std::string out;
  setd::persist::RdbEncoder enc(&out);
  for (auto _ : state) {
    out.clear();
    enc.key_value("key", v, -1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_EncodeHashtableSet)->Arg(25000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_EncodeIntset512(benchmark::State& state) {
  SetObject s;
  for (int i = 0; i < 512; ++i) s.add(std::to_string(i * 1000), setd::ds::SetLimits::redis70());
  const Object v = Object::set(std::move(s));
  std::string out;
  setd::persist::RdbEncoder enc(&out);
  for (auto _ : state) {
    out.clear();
    enc.key_value("key", v, -1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 512));
}
BENCHMARK(BM_EncodeIntset512);

class Discard final : public setd::persist::RdbVisitor {
 public:
  std::string on_key(setd::persist::LoadedKey&& k) override {
    benchmark::DoNotOptimize(k.value.as_set().size());
    return {};
  }
};

void BM_DecodeHashtableSet(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::string file;
  setd::persist::RdbEncoder enc(&file);
  enc.magic();
  enc.key_value("key", cached_set(n), -1);
  enc.eof();
  enc.u64_le(setd::persist::crc64(0, file));
  Discard visitor;
  for (auto _ : state) {
    setd::persist::StringSource src(file);
    const auto r = setd::persist::decode_rdb(src, visitor, {});
    if (!r.ok) state.SkipWithError(r.error.c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_DecodeHashtableSet)->Arg(25000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_Crc64(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(setd::persist::crc64(0, data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc64)->Arg(64)->Arg(1 << 20);

}  // namespace
