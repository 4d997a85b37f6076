#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "setd/proto/reply_builder.hpp"
#include "setd/proto/reply_reader.hpp"

namespace setd::proto {
namespace {

std::string build(int resp, void (*fn)(ReplyBuilder&)) {
  std::string out;
  ReplyBuilder rb(&out, resp);
  fn(rb);
  return out;
}

TEST(ReplyBuilder, ScalarsAreTheSameInBothProtocols) {
  for (int resp : {2, 3}) {
    EXPECT_EQ(build(resp, [](ReplyBuilder& rb) { rb.simple("OK"); }), "+OK\r\n");
    EXPECT_EQ(build(resp, [](ReplyBuilder& rb) { rb.integer(-42); }), ":-42\r\n");
    EXPECT_EQ(build(resp, [](ReplyBuilder& rb) { rb.bulk(std::string_view("a\0b", 3)); }),
              std::string("$3\r\na\0b\r\n", 9));
    EXPECT_EQ(build(resp, [](ReplyBuilder& rb) { rb.bulk(""); }), "$0\r\n\r\n");
    EXPECT_EQ(build(resp, [](ReplyBuilder& rb) { rb.array(2); }), "*2\r\n");
    EXPECT_EQ(build(resp, [](ReplyBuilder& rb) { rb.bulk_ll(1234); }), "$4\r\n1234\r\n");
  }
}

TEST(ReplyBuilder, Resp3TypesAndTheirResp2Fallbacks) {
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.null(); }), "$-1\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.null(); }), "_\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.null_array(); }), "*-1\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.null_array(); }), "_\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.map(2); }), "*4\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.map(2); }), "%2\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.set(3); }), "*3\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.set(3); }), "~3\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.push(3); }), "*3\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.push(3); }), ">3\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.boolean(true); }), ":1\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.boolean(false); }), "#f\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.dbl(1.5); }), "$3\r\n1.5\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.dbl(1.5); }), ",1.5\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.dbl(std::numeric_limits<double>::infinity()); }),
            ",inf\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.dbl(-std::numeric_limits<double>::infinity()); }),
            "$4\r\n-inf\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.dbl(0.1); }), "$19\r\n0.10000000000000001\r\n");
  EXPECT_EQ(build(2, [](ReplyBuilder& rb) { rb.verbatim("hi"); }), "$2\r\nhi\r\n");
  EXPECT_EQ(build(3, [](ReplyBuilder& rb) { rb.verbatim("hi"); }), "=6\r\ntxt:hi\r\n");
}

TEST(ReplyBuilder, ErrorsGetACodeAndLoseNewlines) {
  std::string out;
  ReplyBuilder rb(&out);
  rb.error("WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(rb.last_error_code(), "WRONGTYPE");
  rb.error("no code here\r\nsecond line");
  EXPECT_EQ(rb.last_error_code(), "ERR");
  rb.error("-ERR dash given");
  EXPECT_EQ(out,
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
            "-ERR no code here  second line\r\n"
            "-ERR dash given\r\n");
  EXPECT_EQ(rb.error_count(), 3u);
}

TEST(ReplyBuilder, DeferredLengths) {
  for (int resp : {2, 3}) {
    std::string out = "+before\r\n";
    ReplyBuilder rb(&out, resp);
    const size_t mark = rb.begin_deferred();
    rb.bulk("k");
    rb.integer(1);
    rb.end_deferred(mark, 1, ReplyBuilder::Aggregate::kMap);
    EXPECT_EQ(out,
              std::string("+before\r\n") + (resp == 3 ? "%1" : "*2") + "\r\n$1\r\nk\r\n:1\r\n");
  }
  std::string out;
  ReplyBuilder rb(&out, 3);
  const size_t mark = rb.begin_deferred();
  rb.end_deferred(mark, 0, ReplyBuilder::Aggregate::kSet);
  EXPECT_EQ(out, "~0\r\n");
}

TEST(ReplyReader, RoundTripsEveryType) {
  std::string out;
  ReplyBuilder rb(&out, 3);
  rb.array(8);
  rb.simple("OK");
  rb.integer(7);
  rb.bulk("x");
  rb.null();
  rb.map(1);
  rb.bulk("k");
  rb.dbl(2.5);
  rb.set(1);
  rb.boolean(true);
  rb.verbatim("text");
  rb.error("ERR boom");
  size_t used = 0;
  auto v = read_reply(out, used);
  ASSERT_TRUE(v);
  EXPECT_EQ(used, out.size());
  EXPECT_EQ(v->to_string(),
            "[OK, (integer) 7, \"x\", (nil), {\"k\": (double) 2.5}, ~[(true)], \"text\", "
            "(error) ERR boom]");
  // Incomplete input: no value, nothing consumed.
  EXPECT_FALSE(read_reply(out.substr(0, out.size() - 1), used));
}

}  // namespace
}  // namespace setd::proto
