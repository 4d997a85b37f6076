#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "setd/base/split_args.hpp"

using setd::base::split_args;
using namespace std::string_literals;
using Args = std::vector<std::string>;

namespace {

TEST(BaseSplitArgs, Plain) {
  EXPECT_EQ(split_args(""), Args{});
  EXPECT_EQ(split_args("   \t \r\n"), Args{});
  EXPECT_EQ(split_args("set"), (Args{"set"}));
  EXPECT_EQ(split_args("set key value"), (Args{"set", "key", "value"}));
  EXPECT_EQ(split_args("  set\t key \r\n value  "), (Args{"set", "key", "value"}));
  // \v and \f are skipped between arguments but do not end a bare word.
  EXPECT_EQ(split_args("\v\fa\vb c"), (Args{"a\vb", "c"}));
  EXPECT_EQ(split_args("a\\nb"), (Args{"a\\nb"}));  // no escapes outside quotes
}

TEST(BaseSplitArgs, DoubleQuotes) {
  EXPECT_EQ(split_args("\"hello world\""), (Args{"hello world"}));
  EXPECT_EQ(split_args("\"\""), (Args{""}));
  EXPECT_EQ(split_args("a \"\" b"), (Args{"a", "", "b"}));
  EXPECT_EQ(split_args(R"("\n\r\t\b\a\\\"")"), (Args{"\n\r\t\b\a\\\""}));
  EXPECT_EQ(split_args(R"("\x41\x62\xff\x00z")"), (Args{"Ab\xff\0z"s}));
  EXPECT_EQ(split_args(R"("\xAf")"), (Args{"\xaf"}));
  // Not two hex digits: the backslash just quotes the 'x'.
  EXPECT_EQ(split_args(R"("a\x41\x4g\q")"), (Args{"aAx4gq"}));  // checked on redis-server
  EXPECT_EQ(split_args(R"("\x4")"), (Args{"x4"}));
  EXPECT_EQ(split_args(R"("it's")"), (Args{"it's"}));
  EXPECT_EQ(split_args("\"a\tb\""), (Args{"a\tb"}));
}

TEST(BaseSplitArgs, SingleQuotes) {
  EXPECT_EQ(split_args("'hello world'"), (Args{"hello world"}));
  EXPECT_EQ(split_args(R"('a\'b')"), (Args{"a'b"}));
  EXPECT_EQ(split_args(R"('a\nb\\c\"')"), (Args{R"(a\nb\\c\")"}));
  EXPECT_EQ(split_args("''"), (Args{""}));
  EXPECT_EQ(split_args(R"('say "hi"')"), (Args{"say \"hi\""}));
}

TEST(BaseSplitArgs, QuoteInsideWord) {
  EXPECT_EQ(split_args("ab\"c d\""), (Args{"abc d"}));
  EXPECT_EQ(split_args("ab'c d' e"), (Args{"abc d", "e"}));
}

TEST(BaseSplitArgs, Errors) {
  EXPECT_EQ(split_args("\"abc"), std::nullopt);
  EXPECT_EQ(split_args("'abc"), std::nullopt);
  EXPECT_EQ(split_args("set \"a\"b"), std::nullopt);  // closing quote then a byte
  EXPECT_EQ(split_args("'a'b"), std::nullopt);
  EXPECT_EQ(split_args("\"a\"\"b\""), std::nullopt);
  EXPECT_EQ(split_args("\"abc\\\""), std::nullopt);  // escaped quote does not close
  EXPECT_EQ(split_args("\"abc\\"), std::nullopt);
  EXPECT_EQ(split_args("'abc\\'"), std::nullopt);
}

TEST(BaseSplitArgs, ClosingQuoteFollowers) {
  EXPECT_EQ(split_args("\"a\"\tb"), (Args{"a", "b"}));
  EXPECT_EQ(split_args("\"a\"\vb"), (Args{"a", "b"}));  // isspace() after a quote
  EXPECT_EQ(split_args("'a'\n"), (Args{"a"}));
}

TEST(BaseSplitArgs, CStringSemantics) {
  // Redis sees a C string: the line ends at the first NUL.
  EXPECT_EQ(split_args("a b\0c d"s), (Args{"a", "b"}));
  EXPECT_EQ(split_args("\"a\0\" b"s), std::nullopt);
  EXPECT_EQ(split_args("\0abc"s), Args{});
}

}  // namespace
