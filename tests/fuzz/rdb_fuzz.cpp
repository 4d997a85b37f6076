// libFuzzer target: decode_rdb() and restore_payload() on arbitrary bytes
// (tests/fuzz/run.sh builds and runs it). Checks, beyond "no crash, no
// sanitizer report, no unbounded allocation": every value a decode accepts
// survives dump_payload() -> restore_payload() with the same members, and
// with the same encoding under Redis 7.0's rules (no listpack). Under Redis
// 7.2's rules (listpack limits) a dump may legitimately change the encoding
// (a listpack blob kept as it is comes back as a plain set; a hashtable of
// integers converted from a long listpack comes back as an intset), so
// there the encoding after one round trip must survive a second one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "setd/db/value.hpp"
#include "setd/persist/rdb_decoder.hpp"

namespace {

using setd::persist::DecodeOptions;

std::vector<std::string> sorted_members(const setd::db::Object& v) {
  std::vector<std::string> out;
  if (v.type() == setd::db::Type::kString) {
    out.push_back(v.as_string().bytes);
  } else {
    v.as_set().for_each([&](std::string_view m) { out.emplace_back(m); });
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A decoded value must come back unchanged through a DUMP payload.
void check_round_trip(const setd::db::Object& v, const DecodeOptions& opts) {
  const bool listpack = opts.set_limits.listpack_enabled();
  for (bool compress : {true, false}) {
    const auto r = setd::persist::restore_payload(setd::persist::dump_payload(v, compress), opts);
    if (!r.value || r.value->type() != v.type() || sorted_members(*r.value) != sorted_members(v))
      __builtin_trap();
    if (v.type() != setd::db::Type::kSet) continue;
    if (!listpack && r.value->as_set().encoding() != v.as_set().encoding()) __builtin_trap();
    if (listpack) {
      const auto again =
          setd::persist::restore_payload(setd::persist::dump_payload(*r.value, compress), opts);
      if (!again.value || sorted_members(*again.value) != sorted_members(v) ||
          again.value->as_set().encoding() != r.value->as_set().encoding())
        __builtin_trap();
    }
  }
}

class CheckingVisitor final : public setd::persist::RdbVisitor {
 public:
  explicit CheckingVisitor(const DecodeOptions& opts) : opts_(opts) {}
  std::string on_key(setd::persist::LoadedKey&& k) override {
    check_round_trip(k.value, opts_);
    return {};
  }

 private:
  const DecodeOptions& opts_;
};

// Bytes whose remaining size is unknown, like a socket.
class UnknownSizeSource final : public setd::persist::Source {
 public:
  explicit UnknownSizeSource(std::string_view b) : inner_(b) {}
  size_t read(char* buf, size_t n) override {
    const size_t k = inner_.read(buf, n);
    offset_ += k;
    return k;
  }

 private:
  setd::persist::StringSource inner_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The checksum would reject nearly every mutation: off, so the fuzzer
  // reaches the value decoders. Small limits exercise conversions; one
  // input in two loads with Redis 7.0's rules (no listpack).
  DecodeOptions opts;
  opts.set_limits = (size & 4) != 0 ? setd::ds::SetLimits::redis70(8)
                                    : setd::ds::SetLimits{.max_intset_entries = 8,
                                                          .max_listpack_entries = 4,
                                                          .max_listpack_value = 6};
  opts.verify_checksum = false;
  opts.skip_unsupported = (size & 1) != 0;
  CheckingVisitor visitor(opts);
  if ((size & 2) != 0) {
    setd::persist::StringSource src(bytes);
    const auto r = setd::persist::decode_rdb(src, visitor, opts);
    if (!r.ok && r.error.empty()) __builtin_trap();
  } else {
    UnknownSizeSource src(bytes);
    const auto r = setd::persist::decode_rdb(src, visitor, opts);
    if (!r.ok && r.error.empty()) __builtin_trap();
  }
  const auto rr = setd::persist::restore_payload(bytes, opts);
  if (rr.value) {
    check_round_trip(*rr.value, opts);
  } else if (rr.error.empty()) {
    __builtin_trap();
  }
  return 0;
}
