// libFuzzer target: setd::proto::RequestParser on arbitrary bytes, fed in
// random pieces (tests/fuzz/run.sh builds and runs it). The first input byte
// seeds the split points. Checks, beyond "no crash, no sanitizer report":
// every result stays inside the buffer, parsing always progresses, and the
// commands parsed from pieces are the commands parsed from the whole input
// (up to the first error of either: size limits may fire earlier on pieces,
// as in Redis).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "setd/proto/request_parser.hpp"

namespace {

using setd::proto::RequestParser;
using Commands = std::vector<std::vector<std::string>>;

struct Outcome {
  Commands commands;
  bool error = false;
};

// Parses `input`, handing the parser `next_piece()` more bytes each time it
// needs more; stops at the end of the input or the first error.
template <class NextPiece>
Outcome parse_all(std::string_view input, NextPiece next_piece) {
  setd::proto::ParserLimits limits;
  limits.max_bulk_len = 1 << 16;
  limits.max_inline = 256;
  RequestParser parser(limits);
  Outcome out;
  std::string buf;
  size_t fed = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    size_t consumed = 0;
    const auto st = parser.parse(buf, consumed);
    switch (st) {
      case RequestParser::Status::kCommand: {
        if (consumed == 0 || consumed > buf.size()) __builtin_trap();
        std::vector<std::string> args;
        for (std::string_view a : parser.args()) args.emplace_back(a);
        out.commands.push_back(std::move(args));
        buf.erase(0, consumed);
        break;
      }
      case RequestParser::Status::kEmpty:
        if (consumed == 0 || consumed > buf.size()) __builtin_trap();
        buf.erase(0, consumed);
        break;
      case RequestParser::Status::kNeedMore: {
        if (fed == input.size()) return out;
        const size_t n = std::min(input.size() - fed, next_piece());
        buf.append(input.substr(fed, n));
        fed += n;
        break;
      }
      case RequestParser::Status::kError:
        if (parser.error().empty()) __builtin_trap();
        out.error = true;
        return out;
    }
  }
  __builtin_trap();  // no progress
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t state = data[0] * 2654435761u + 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = parse_all(input, [&] { return input.size(); });
  const Outcome pieces = parse_all(input, [&] {
    state = state * 1103515245u + 12345u;
    return static_cast<size_t>(1 + (state >> 16) % 17);
  });
  const size_t common = std::min(whole.commands.size(), pieces.commands.size());
  for (size_t i = 0; i < common; ++i)
    if (whole.commands[i] != pieces.commands[i]) __builtin_trap();
  if (!whole.error && !pieces.error && whole.commands.size() != pieces.commands.size())
    __builtin_trap();
  return 0;
}
