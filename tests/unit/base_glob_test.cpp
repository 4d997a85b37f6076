#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "setd/base/glob.hpp"

using setd::base::glob_match;
using namespace std::string_literals;

namespace {

TEST(BaseGlob, Literals) {
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_FALSE(glob_match("a", ""));
  EXPECT_TRUE(glob_match("hello", "hello"));
  EXPECT_FALSE(glob_match("hello", "hell"));
  EXPECT_FALSE(glob_match("hell", "hello"));
  EXPECT_FALSE(glob_match("Hello", "hello"));
  EXPECT_TRUE(glob_match("Hello", "hello", true));
  EXPECT_TRUE(glob_match("hello", "HELLO", true));
}

TEST(BaseGlob, Star) {
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("*", "a"));
  // Redis quirk: '*' needs at least one byte of string left to be looked at;
  // an empty string only matches the empty pattern (KEYS/SCAN special-case
  // the exact pattern "*"). Verified with SSCAN MATCH ** on a set holding "".
  EXPECT_FALSE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("**", ""));
  EXPECT_TRUE(glob_match("a*", "a"));
  EXPECT_TRUE(glob_match("a**", "a"));
  EXPECT_TRUE(glob_match("h*llo", "hllo"));
  EXPECT_TRUE(glob_match("h*llo", "heeeello"));
  EXPECT_FALSE(glob_match("h*llo", "heeeelo"));
  EXPECT_TRUE(glob_match("*llo", "hello"));
  EXPECT_TRUE(glob_match("he*", "hello"));
  EXPECT_TRUE(glob_match("*l*", "hello"));
  EXPECT_FALSE(glob_match("*x*", "hello"));
  EXPECT_TRUE(glob_match("***a***b***", "xxaxxbxx"));
  EXPECT_TRUE(glob_match("a*b*c", "abc"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYcd"));
  EXPECT_TRUE(glob_match("*a", "aaa"));
  EXPECT_TRUE(glob_match("*?", "x"));
  EXPECT_FALSE(glob_match("*?", ""));
}

TEST(BaseGlob, QuestionMark) {
  EXPECT_TRUE(glob_match("h?llo", "hello"));
  EXPECT_TRUE(glob_match("h?llo", "hallo"));
  EXPECT_FALSE(glob_match("h?llo", "hllo"));
  EXPECT_TRUE(glob_match("???", "abc"));
  EXPECT_FALSE(glob_match("???", "ab"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_TRUE(glob_match("?", "\0"s));
}

TEST(BaseGlob, Brackets) {
  EXPECT_TRUE(glob_match("h[ae]llo", "hello"));
  EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[ae]llo", "hillo"));
  EXPECT_TRUE(glob_match("h[^e]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(glob_match("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(glob_match("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(glob_match("[z-a]", "m"));  // reversed range
  EXPECT_FALSE(glob_match("[z-a]", "A"));
  EXPECT_TRUE(glob_match("[^a-c]", "d"));
  EXPECT_FALSE(glob_match("[^a-c]", "b"));
  EXPECT_TRUE(glob_match("[a-cx-z]", "y"));
  // '-' at the start of a set is literal.
  EXPECT_TRUE(glob_match("[-a]", "-"));
  EXPECT_TRUE(glob_match("[-a]", "a"));
  EXPECT_TRUE(glob_match("[ab]*", "bzzz"));
  EXPECT_TRUE(glob_match("[*]", "*"));
  EXPECT_FALSE(glob_match("[*]", "a"));
  EXPECT_TRUE(glob_match("[?]", "?"));
}

// Every expectation below was checked against redis-server 7.0.15
// (SSCAN ... MATCH).
TEST(BaseGlob, BracketCornerCasesLikeRedis) {
  // "[]" is an empty set: it matches nothing, and "[]]" is the empty set
  // followed by a literal ']'.
  EXPECT_FALSE(glob_match("[]", "]"));
  EXPECT_FALSE(glob_match("[]", "a"));
  EXPECT_FALSE(glob_match("[]]", "]"));
  EXPECT_FALSE(glob_match("[]]", "a"));
  EXPECT_FALSE(glob_match("[]a]", "a"));
  EXPECT_FALSE(glob_match("[]x", "ax"));
  // "[^]" negates the empty set: any single byte.
  EXPECT_TRUE(glob_match("[^]", "x"));
  EXPECT_TRUE(glob_match("[^]", "]"));
  EXPECT_TRUE(glob_match("[^]x", "ax"));
  // "[a-]" takes the ']' as the range end (']'..'a') and stays open, so a
  // following 'x' joins the set.
  EXPECT_TRUE(glob_match("[a-]", "_"));
  EXPECT_TRUE(glob_match("[a-]", "]"));
  EXPECT_FALSE(glob_match("[a-]", "-"));
  EXPECT_FALSE(glob_match("[a-]x", "ax"));
  EXPECT_TRUE(glob_match("[a-]x", "x"));
  EXPECT_FALSE(glob_match("a[", "a"));
  EXPECT_TRUE(glob_match("[a\\", "\\"));
  EXPECT_TRUE(glob_match("[^", "^"));
  EXPECT_FALSE(glob_match("[\\-]", "\\"));
  EXPECT_FALSE(glob_match("[a\\-z]", "m"));
  EXPECT_TRUE(glob_match("a\\", "a\\"));
  EXPECT_FALSE(glob_match("a\\", "a"));
}

TEST(BaseGlob, UnterminatedBracket) {
  EXPECT_TRUE(glob_match("[abc", "a"));
  EXPECT_TRUE(glob_match("[abc", "c"));
  EXPECT_FALSE(glob_match("[abc", "d"));
  EXPECT_FALSE(glob_match("[abc", "ab"));
  EXPECT_FALSE(glob_match("[", "["));
  EXPECT_FALSE(glob_match("[", ""));
  EXPECT_TRUE(glob_match("[^", "x"));
  EXPECT_TRUE(glob_match("[^", "^"));
  EXPECT_FALSE(glob_match("[^", "xy"));
  EXPECT_FALSE(glob_match("a[", "a"));
  EXPECT_TRUE(glob_match("x[^a", "xb"));
  EXPECT_FALSE(glob_match("x[^a", "xa"));
  EXPECT_TRUE(glob_match("[a\\", "\\"));  // lone trailing backslash is literal
}

TEST(BaseGlob, Escapes) {
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "a"));
  EXPECT_TRUE(glob_match("\\?", "?"));
  EXPECT_FALSE(glob_match("\\?", "a"));
  EXPECT_TRUE(glob_match("\\[a]", "[a]"));
  EXPECT_TRUE(glob_match("\\\\", "\\"));
  EXPECT_TRUE(glob_match("\\a", "a"));
  EXPECT_TRUE(glob_match("a\\", "a\\"));  // trailing backslash is literal
  EXPECT_FALSE(glob_match("a\\", "a"));
  EXPECT_TRUE(glob_match("[\\]]", "]"));
  EXPECT_TRUE(glob_match("[\\^a]", "^"));
  EXPECT_TRUE(glob_match("[\\-]", "-"));
  EXPECT_FALSE(glob_match("[\\-]", "\\"));
  EXPECT_TRUE(glob_match("[a\\-z]", "-"));
  EXPECT_FALSE(glob_match("[a\\-z]", "m"));
  EXPECT_TRUE(glob_match("*\\*", "abc*"));
  // Inside brackets an escaped byte is compared case-sensitively even with
  // nocase, exactly like Redis.
  EXPECT_TRUE(glob_match("[\\A]", "A", true));
  EXPECT_FALSE(glob_match("[\\A]", "a", true));
  EXPECT_TRUE(glob_match("\\A", "a", true));
}

TEST(BaseGlob, NoCase) {
  EXPECT_TRUE(glob_match("[a-c]", "B", true));
  EXPECT_FALSE(glob_match("[a-c]", "B", false));
  EXPECT_TRUE(glob_match("[A-C]", "b", true));
  EXPECT_TRUE(glob_match("[abc]", "B", true));
  EXPECT_TRUE(glob_match("[^abc]", "d", true));
  EXPECT_FALSE(glob_match("[^abc]", "B", true));
  EXPECT_TRUE(glob_match("maxmemory-p*", "MAXMEMORY-POLICY", true));
  // Only ASCII folds.
  EXPECT_FALSE(glob_match("\xc3\xa9", "\xc3\x89", true));
}

TEST(BaseGlob, BinarySafe) {
  const std::string pat = "a\0*\0b"s;
  EXPECT_TRUE(glob_match(pat, "a\0\0b"s));
  EXPECT_TRUE(glob_match(pat, "a\0xyz\0b"s));
  EXPECT_FALSE(glob_match(pat, "a\0xyzb"s));
  EXPECT_TRUE(glob_match("[\0-\x02]"s, "\x01"s));
  EXPECT_TRUE(glob_match("?"s, "\xff"s));
  EXPECT_TRUE(glob_match("\xff*"s, "\xff\xfe"s));
}

TEST(BaseGlob, SignedCharRanges) {
  // Redis compares range bounds as signed chars: 0x80..0xff are negative.
  EXPECT_TRUE(glob_match("[\x80-\xff]", "\x90"));
  EXPECT_FALSE(glob_match("[\x80-\xff]", "a"));
  // [a-\xff] is really [\xff-a] = bytes -1..97 : includes NUL..'a', not 'b'
  // and not 0x80.
  EXPECT_TRUE(glob_match("[a-\xff]", "\xff"));
  EXPECT_TRUE(glob_match("[a-\xff]", "0"));
  EXPECT_FALSE(glob_match("[a-\xff]", "b"));
  EXPECT_FALSE(glob_match("[a-\xff]", "\x80"));
}

TEST(BaseGlob, NestingLimitLikeRedis) {
  // redis-server 7.0.15: KEYS ("*a" x 1000) matches a key of 1100 'a's,
  // ("*a" x 1001) does not; ("a*" x 1001) still matches.
  const std::string key(1100, 'a');
  std::string p1000;
  for (int i = 0; i < 1000; ++i) p1000 += "*a";
  EXPECT_TRUE(glob_match(p1000, key));
  EXPECT_FALSE(glob_match(p1000 + "*a", key));
  std::string q;
  for (int i = 0; i < 1001; ++i) q += "a*";
  EXPECT_TRUE(glob_match(q, key));
}

TEST(BaseGlob, PathologicalPatternsAreFast) {
  const std::string s(20000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
  EXPECT_FALSE(glob_match("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*?b", s));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a", s));
  std::string many;
  for (int i = 0; i < 900; ++i) many += "*a";
  EXPECT_FALSE(glob_match(many + "b", s));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

}  // namespace
