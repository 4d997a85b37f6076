#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "setd/proto/request_parser.hpp"

namespace setd::proto {
namespace {

using Status = RequestParser::Status;

// Feeds `input` in two pieces split at `split`, the way a connection would:
// the buffer always starts at the first unconsumed byte. Returns every
// command parsed, or the error text as the last element prefixed by "ERR:".
std::vector<std::vector<std::string>> feed(const std::string& input, size_t split) {
  RequestParser p;
  std::vector<std::vector<std::string>> out;
  std::string buf;
  auto drain = [&]() -> bool {
    for (;;) {
      size_t used = 0;
      const auto st = p.parse(buf, used);
      if (st == Status::kNeedMore) return true;
      if (st == Status::kError) {
        out.push_back({"ERR:" + p.error()});
        return false;
      }
      if (st == Status::kCommand) {
        std::vector<std::string> args;
        for (auto a : p.args()) args.emplace_back(a);
        out.push_back(args);
      }
      buf.erase(0, used);
    }
  };
  buf += input.substr(0, split);
  if (!drain()) return out;
  buf += input.substr(split);
  drain();
  return out;
}

using namespace std::string_literals;
const std::string kPipeline =
    "*3\r\n$4\r\nSADD\r\n$3\r\nkey\r\n$5\r\nm\0 1x\r\n"
    "*1\r\n$4\r\nPING\r\n"
    "\r\n"
    "*0\r\n"
    "ECHO \"a b\" 'c'\r\n"
    "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
    "PING\n"s;

TEST(RequestParser, EverySplitPointGivesTheSameCommands) {
  const std::string input(kPipeline.data(), kPipeline.size());
  const auto expected = feed(input, input.size());
  ASSERT_EQ(expected.size(), 5u);
  EXPECT_EQ(expected[0], (std::vector<std::string>{"SADD", "key", std::string("m\0 1x", 5)}));
  EXPECT_EQ(expected[1], (std::vector<std::string>{"PING"}));
  EXPECT_EQ(expected[2], (std::vector<std::string>{"ECHO", "a b", "c"}));
  EXPECT_EQ(expected[3], (std::vector<std::string>{"ECHO", ""}));
  EXPECT_EQ(expected[4], (std::vector<std::string>{"PING"}));
  for (size_t split = 0; split <= input.size(); ++split)
    EXPECT_EQ(feed(input, split), expected) << "split at " << split;
}

TEST(RequestParser, ByteByByte) {
  RequestParser p;
  std::string buf;
  int commands = 0;
  for (char c : kPipeline) {
    buf.push_back(c);
    for (;;) {
      size_t used = 0;
      const auto st = p.parse(buf, used);
      if (st == Status::kNeedMore) break;
      ASSERT_NE(st, Status::kError) << p.error();
      if (st == Status::kCommand) ++commands;
      buf.erase(0, used);
    }
  }
  EXPECT_EQ(commands, 5);
}

struct BadCase {
  std::string input;
  std::string error;
};

class RequestParserErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(RequestParserErrors, RedisErrorTextAtEverySplit) {
  const auto& c = GetParam();
  for (size_t split = 0; split <= c.input.size();
       split += std::max<size_t>(1, c.input.size() / 64)) {
    const auto out = feed(c.input, split);
    ASSERT_FALSE(out.empty()) << "split " << split;
    EXPECT_EQ(out.back()[0], "ERR:" + c.error) << "split " << split;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, RequestParserErrors,
    ::testing::Values(
        BadCase{"*abc\r\n", "Protocol error: invalid multibulk length"},
        BadCase{"*+1\r\n", "Protocol error: invalid multibulk length"},
        BadCase{"*01\r\n", "Protocol error: invalid multibulk length"},
        BadCase{"*2147483648\r\n", "Protocol error: invalid multibulk length"},
        BadCase{"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
        BadCase{"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
        BadCase{"*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length"},
        BadCase{"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"},
        BadCase{"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'"},
        BadCase{"*2\r\n$4\r\nECHO\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
        BadCase{"*1\r\n\r\n", "Protocol error: expected '$', got ' '"},
        BadCase{"SET \"a b\r\n", "Protocol error: unbalanced quotes in request"},
        BadCase{"SET 'a\r\n", "Protocol error: unbalanced quotes in request"},
        BadCase{"SET \"a\"b\r\n", "Protocol error: unbalanced quotes in request"},
        BadCase{std::string(65 * 1024, 'a'), "Protocol error: too big inline request"},
        BadCase{"*" + std::string(65 * 1024, '1'), "Protocol error: too big mbulk count string"},
        BadCase{"*1\r\n$" + std::string(65 * 1024, '1'),
                "Protocol error: too big bulk count string"}));

TEST(RequestParser, LimitsAreConfigurable) {
  RequestParser p({.max_bulk_len = 10, .max_inline = 64 * 1024});
  size_t used = 0;
  EXPECT_EQ(p.parse("*1\r\n$11\r\n", used), Status::kError);
  EXPECT_EQ(p.error(), "Protocol error: invalid bulk length");
  p.reset();
  EXPECT_EQ(p.parse("*1\r\n$10\r\n0123456789\r\n", used), Status::kCommand);
}

// A client that must authenticate: at most 10 arguments of 16 KiB (after
// the general checks, as in Redis).
TEST(RequestParser, UnauthenticatedLimits) {
  RequestParser p;
  p.set_unauthenticated(true);
  size_t used = 0;
  EXPECT_EQ(p.parse("*10\r\n", used), Status::kNeedMore);
  p.reset();
  EXPECT_EQ(p.parse("*11\r\n", used), Status::kError);
  EXPECT_EQ(p.error(), "Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(p.parse("*x\r\n", used), Status::kError);
  EXPECT_EQ(p.error(), "Protocol error: invalid multibulk length");
  EXPECT_EQ(p.parse("*1\r\n$16384\r\n", used), Status::kNeedMore);
  p.reset();
  EXPECT_EQ(p.parse("*1\r\n$16385\r\n", used), Status::kError);
  EXPECT_EQ(p.error(), "Protocol error: unauthenticated bulk length");
  EXPECT_EQ(p.parse("*1\r\n$-2\r\n", used), Status::kError);
  EXPECT_EQ(p.error(), "Protocol error: invalid bulk length");
  p.set_unauthenticated(false);
  EXPECT_EQ(p.parse("*11\r\n$16385\r\n", used), Status::kNeedMore);
}

TEST(RequestParser, MaxBulkLengthIsAccepted) {
  RequestParser p;
  size_t used = 0;
  // 512mb exactly is allowed (the payload has not arrived yet).
  EXPECT_EQ(p.parse("*1\r\n$536870912\r\n", used), Status::kNeedMore);
  EXPECT_GE(p.bytes_hint(), 536870912u);
}

TEST(RequestParser, HugeMultibulkCountIsNotPreallocated) {
  RequestParser p;
  size_t used = 0;
  EXPECT_EQ(p.parse("*2147483647\r\n", used), Status::kNeedMore);
}

TEST(RequestParser, BulkPayloadTrailerIsNotChecked) {
  RequestParser p;
  size_t used = 0;
  ASSERT_EQ(p.parse("*1\r\n$4\r\nPINGxx", used), Status::kCommand);
  EXPECT_EQ(used, 14u);
  EXPECT_EQ(p.args()[0], "PING");
}

TEST(RequestParser, InlineEmptyLinesAreSkipped) {
  RequestParser p;
  size_t used = 0;
  EXPECT_EQ(p.parse("   \r\nPING\r\n", used), Status::kEmpty);
  EXPECT_EQ(used, 5u);
}

}  // namespace
}  // namespace setd::proto
