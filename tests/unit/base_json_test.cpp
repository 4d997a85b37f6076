#include <gtest/gtest.h>

#include <string>

#include "setd/base/json.hpp"

using setd::base::json_append_string;
using namespace std::string_literals;

namespace {

std::string json(std::string_view s) {
  std::string out;
  json_append_string(out, s);
  return out;
}

TEST(BaseJson, Ascii) {
  EXPECT_EQ(json(""), "\"\"");
  EXPECT_EQ(json("hello"), "\"hello\"");
  EXPECT_EQ(json("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(json("\x7f"), "\"\x7f\"");
}

TEST(BaseJson, ControlCharacters) {
  EXPECT_EQ(json("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json("\0"s), R"("\u0000")");
  EXPECT_EQ(json("\x01\x1f\x0b"), R"("\u0001\u001f\u000b")");
}

TEST(BaseJson, AppendsToExisting) {
  std::string out = "{\"k\":";
  json_append_string(out, "v");
  out += '}';
  EXPECT_EQ(out, R"({"k":"v"})");
}

TEST(BaseJson, ValidUtf8IsCopied) {
  EXPECT_EQ(json("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json("\xc2\x80"), "\"\xc2\x80\"");                  // U+0080
  EXPECT_EQ(json("\xdf\xbf"), "\"\xdf\xbf\"");                  // U+07FF
  EXPECT_EQ(json("\xe0\xa0\x80"), "\"\xe0\xa0\x80\"");          // U+0800
  EXPECT_EQ(json("\xe2\x82\xac"), "\"\xe2\x82\xac\"");          // euro sign
  EXPECT_EQ(json("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");          // U+D7FF
  EXPECT_EQ(json("\xee\x80\x80"), "\"\xee\x80\x80\"");          // U+E000
  EXPECT_EQ(json("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"");          // U+FFFF
  EXPECT_EQ(json("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\"");  // U+10000
  EXPECT_EQ(json("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");  // emoji
  EXPECT_EQ(json("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF
}

TEST(BaseJson, InvalidBytesAreEscaped) {
  EXPECT_EQ(json("\xff"), R"("\u00ff")");
  EXPECT_EQ(json("\x80"), R"("\u0080")");  // lone continuation
  EXPECT_EQ(json("a\xfe"
                 "b"),
            R"("a\u00feb")");
  EXPECT_EQ(json("\xc0\xaf"), R"("\u00c0\u00af")");                      // overlong '/'
  EXPECT_EQ(json("\xc1\xbf"), R"("\u00c1\u00bf")");                      // overlong
  EXPECT_EQ(json("\xe0\x80\xaf"), R"("\u00e0\u0080\u00af")");            // overlong 3-byte
  EXPECT_EQ(json("\xe0\x9f\xbf"), R"("\u00e0\u009f\u00bf")");            // overlong 3-byte
  EXPECT_EQ(json("\xf0\x8f\xbf\xbf"), R"("\u00f0\u008f\u00bf\u00bf")");  // overlong 4-byte
  EXPECT_EQ(json("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");            // surrogate U+D800
  EXPECT_EQ(json("\xed\xbf\xbf"), R"("\u00ed\u00bf\u00bf")");            // surrogate U+DFFF
  EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");  // > U+10FFFF
  EXPECT_EQ(json("\xf5\x80\x80\x80"), R"("\u00f5\u0080\u0080\u0080")");
  // Truncated sequences: the lead byte is escaped, decoding resumes after it.
  EXPECT_EQ(json("\xc3"), R"("\u00c3")");
  EXPECT_EQ(json("\xe2\x82"), R"("\u00e2\u0082")");
  EXPECT_EQ(json("\xe2\x82"
                 "a"),
            R"("\u00e2\u0082a")");
  EXPECT_EQ(json("\xf0\x9f\x98"), R"("\u00f0\u009f\u0098")");
  EXPECT_EQ(json("\xc3\xc3\xa9"), "\"\\u00c3\xc3\xa9\"");  // bad lead, then valid
}

}  // namespace
