#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <limits>
#include <string>

#include "setd/base/strconv.hpp"

using namespace setd::base;
using namespace std::string_literals;

namespace {

bool ll_ok(std::string_view s, long long expect) {
  long long v = 12345;
  return string_to_ll(s, v) && v == expect;
}
bool ll_bad(std::string_view s) {
  long long v = 12345;
  return !string_to_ll(s, v) && v == 12345;  // untouched on failure
}

TEST(BaseStrconv, StringToLlAccepts) {
  EXPECT_TRUE(ll_ok("0", 0));
  EXPECT_TRUE(ll_ok("1", 1));
  EXPECT_TRUE(ll_ok("-1", -1));
  EXPECT_TRUE(ll_ok("10", 10));
  EXPECT_TRUE(ll_ok("1234567890", 1234567890));
  EXPECT_TRUE(ll_ok("9223372036854775807", LLONG_MAX));
  EXPECT_TRUE(ll_ok("-9223372036854775808", LLONG_MIN));
  EXPECT_TRUE(ll_ok("-9223372036854775807", -LLONG_MAX));
}

// SADD k <x>; OBJECT ENCODING k on redis-server 7.0.15 gives "hashtable" for
// every one of these (string2ll rejects them), "intset" for the ones above.
TEST(BaseStrconv, StringToLlRejectsLikeRedis) {
  EXPECT_TRUE(ll_bad(""));
  EXPECT_TRUE(ll_bad("-0"));
  EXPECT_TRUE(ll_bad("007"));
  EXPECT_TRUE(ll_bad("00"));
  EXPECT_TRUE(ll_bad("-007"));
  EXPECT_TRUE(ll_bad("+1"));
  EXPECT_TRUE(ll_bad(" 1"));
  EXPECT_TRUE(ll_bad("1 "));
  EXPECT_TRUE(ll_bad("-"));
  EXPECT_TRUE(ll_bad("1a"));
  EXPECT_TRUE(ll_bad("0x10"));
  EXPECT_TRUE(ll_bad("1.0"));
  EXPECT_TRUE(ll_bad("1e3"));
  EXPECT_TRUE(ll_bad("9223372036854775808"));
  EXPECT_TRUE(ll_bad("-9223372036854775809"));
  EXPECT_TRUE(ll_bad("18446744073709551616"));
  EXPECT_TRUE(ll_bad("99999999999999999999"));
  EXPECT_TRUE(ll_bad("123456789012345678901"));  // 21 bytes
  EXPECT_TRUE(ll_bad("1\0"s));
  EXPECT_TRUE(ll_bad("\0"s));
  EXPECT_TRUE(ll_bad("\xd9\xa1"));  // non-ASCII digits
}

TEST(BaseStrconv, ParseLongLongArgIsStringToLl) {
  long long v = 0;
  EXPECT_TRUE(parse_long_long_arg("-42", v));
  EXPECT_EQ(v, -42);
  EXPECT_FALSE(parse_long_long_arg("-0", v));
  EXPECT_FALSE(parse_long_long_arg(" 5", v));
}

TEST(BaseStrconv, StringToUll) {
  unsigned long long v = 7;
  EXPECT_TRUE(string_to_ull("0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(string_to_ull("18446744073709551615", v));
  EXPECT_EQ(v, ULLONG_MAX);
  EXPECT_TRUE(string_to_ull("9223372036854775808", v));
  EXPECT_EQ(v, 9223372036854775808ULL);
  // strtoull fallback laxness (XADD s 007-1 -> "7-1", " 8" -> "8-0", "+9").
  EXPECT_TRUE(string_to_ull("007", v));
  EXPECT_EQ(v, 7u);
  EXPECT_TRUE(string_to_ull(" 8", v));
  EXPECT_EQ(v, 8u);
  EXPECT_TRUE(string_to_ull("+9", v));
  EXPECT_EQ(v, 9u);
  EXPECT_TRUE(string_to_ull("\t\n 10", v));
  EXPECT_EQ(v, 10u);
  EXPECT_TRUE(string_to_ull("-0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(string_to_ull("-01", v));  // strtoull negates modulo 2^64
  EXPECT_EQ(v, ULLONG_MAX);
  EXPECT_TRUE(string_to_ull("12\0garbage"s, v));  // C string: stops at NUL
  EXPECT_EQ(v, 12u);

  v = 7;
  EXPECT_FALSE(string_to_ull("-1", v));  // string2ll succeeded, negative
  EXPECT_FALSE(string_to_ull("-9223372036854775808", v));
  EXPECT_FALSE(string_to_ull("", v));
  EXPECT_FALSE(string_to_ull(" ", v));
  EXPECT_FALSE(string_to_ull("+", v));
  EXPECT_FALSE(string_to_ull("1 ", v));
  EXPECT_FALSE(string_to_ull("0x10", v));
  EXPECT_FALSE(string_to_ull("18446744073709551616", v));
  EXPECT_FALSE(string_to_ull("-18446744073709551616", v));
  EXPECT_FALSE(
      string_to_ull("\0"s
                    "5",
                    v));
  EXPECT_EQ(v, 7u);
}

TEST(BaseStrconv, StringToLd) {
  long double v = 0;
  EXPECT_TRUE(string_to_ld("10.5", v));
  EXPECT_EQ(v, 10.5L);
  EXPECT_TRUE(string_to_ld("-3", v));
  EXPECT_EQ(v, -3.0L);
  EXPECT_TRUE(string_to_ld("3.0e3", v));
  EXPECT_EQ(v, 3000.0L);
  EXPECT_TRUE(string_to_ld("0x10", v));  // INCRBYFLOAT accepts hex
  EXPECT_EQ(v, 16.0L);
  EXPECT_TRUE(string_to_ld("+1", v));
  EXPECT_EQ(v, 1.0L);
  EXPECT_TRUE(string_to_ld("007", v));
  EXPECT_EQ(v, 7.0L);
  EXPECT_TRUE(string_to_ld("inf", v));  // accepted; INCRBYFLOAT then refuses
  EXPECT_TRUE(std::isinf(v));
  EXPECT_TRUE(string_to_ld("4e-4940", v));  // denormal: ERANGE but not zero
  EXPECT_GT(v, 0.0L);
  EXPECT_TRUE(string_to_ld("1e4000", v));  // fits in an x86 long double
  EXPECT_TRUE(string_to_ld("-0", v));

  v = 99;
  EXPECT_FALSE(string_to_ld("", v));
  EXPECT_FALSE(string_to_ld(" 1", v));
  EXPECT_FALSE(string_to_ld("\t1", v));
  EXPECT_FALSE(string_to_ld("1 ", v));
  EXPECT_FALSE(string_to_ld("1x", v));
  EXPECT_FALSE(string_to_ld("nan", v));
  EXPECT_FALSE(string_to_ld("-nan", v));
  EXPECT_FALSE(string_to_ld("1e-5000", v));  // underflow to zero
  EXPECT_FALSE(string_to_ld("1e5000", v));   // overflow
  EXPECT_FALSE(string_to_ld("5\0"s, v));
  EXPECT_FALSE(string_to_ld("\0"s, v));
  EXPECT_EQ(v, 99.0L);

  // Length limit: MAX_LONG_DOUBLE_CHARS (5k) bytes or more is refused.
  std::string long_num(kMaxLongDoubleChars - 1, '0');
  long_num[0] = '1';
  long_num[1] = '.';
  EXPECT_TRUE(string_to_ld(long_num, v));
  EXPECT_EQ(v, 1.0L);
  long_num.push_back('0');
  EXPECT_FALSE(string_to_ld(long_num, v));
}

TEST(BaseStrconv, StringToDouble) {
  double v = 0;
  EXPECT_TRUE(string_to_double("1.5", v));
  EXPECT_EQ(v, 1.5);
  EXPECT_TRUE(string_to_double("-1e10", v));
  EXPECT_EQ(v, -1e10);
  EXPECT_TRUE(string_to_double("inf", v));
  EXPECT_EQ(v, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(string_to_double("-inf", v));
  EXPECT_EQ(v, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(string_to_double("+inf", v));
  EXPECT_TRUE(string_to_double("0x1p3", v));
  EXPECT_EQ(v, 8.0);
  EXPECT_TRUE(string_to_double("1e-320", v));  // denormal
  EXPECT_GT(v, 0.0);
  EXPECT_TRUE(string_to_double(".5", v));
  EXPECT_EQ(v, 0.5);
  EXPECT_TRUE(string_to_double("5.", v));
  EXPECT_EQ(v, 5.0);

  v = 42;
  EXPECT_FALSE(string_to_double("", v));
  EXPECT_FALSE(string_to_double(" 1", v));
  EXPECT_FALSE(string_to_double("1 ", v));
  EXPECT_FALSE(string_to_double("1x", v));
  EXPECT_FALSE(string_to_double("nan", v));
  EXPECT_FALSE(string_to_double("1e400", v));
  EXPECT_FALSE(string_to_double("1e-400", v));
  EXPECT_FALSE(string_to_double("1\0"s, v));
  EXPECT_FALSE(string_to_double(".", v));
  EXPECT_FALSE(string_to_double("-", v));
  EXPECT_EQ(v, 42.0);
  // Long inputs take the heap path.
  EXPECT_TRUE(string_to_double(std::string(300, '1'), v));
  EXPECT_TRUE(string_to_double("0." + std::string(300, '0') + "1", v));
  EXPECT_FALSE(string_to_double(std::string(300, '1') + " ", v));
}

TEST(BaseStrconv, LlToString) {
  char buf[kMaxLongLongChars];
  const long long cases[] = {0,   1,   -1,   9,         10,        -10,       99,        100,
                             101, 999, 1000, 123456789, LLONG_MAX, LLONG_MIN, -LLONG_MAX};
  for (long long c : cases) {
    const size_t n = ll_to_string(buf, c);
    EXPECT_EQ(std::string(buf, n), std::to_string(c));
    EXPECT_EQ(ll_to_string(c), std::to_string(c));
  }
  for (long long p = 1; p < LLONG_MAX / 10; p *= 10) {
    for (long long d : {p - 1, p, p + 1, -p, -(p - 1)})
      EXPECT_EQ(ll_to_string(d), std::to_string(d));
  }
  EXPECT_EQ(ull_to_string(buf, ULLONG_MAX), 20u);
  EXPECT_EQ(std::string(buf, 20), "18446744073709551615");
  EXPECT_EQ(ll_to_string(LLONG_MIN).size(), kMaxLongLongChars);
}

// Reply texts of INCRBYFLOAT on redis-server 7.0.15.
TEST(BaseStrconv, LdToStringHumanLikeIncrbyfloat) {
  EXPECT_EQ(ld_to_string_human(10.5L), "10.5");
  EXPECT_EQ(ld_to_string_human(10.5L + 0.1L), "10.6");
  EXPECT_EQ(ld_to_string_human(3.0e3L), "3000");
  EXPECT_EQ(ld_to_string_human(5.0e3L + 2.0e3L), "7000");
  EXPECT_EQ(ld_to_string_human(1.0L + -1.0L), "0");
  EXPECT_EQ(ld_to_string_human(-0.0L), "0");
  EXPECT_EQ(ld_to_string_human(-1e-19L), "0");  // "-0.00000000000000000" -> "0"
  EXPECT_EQ(ld_to_string_human(1.1L), "1.1");
  EXPECT_EQ(ld_to_string_human(1e20L), "100000000000000000000");
  EXPECT_EQ(ld_to_string_human(-2.5L), "-2.5");
  EXPECT_EQ(ld_to_string_human(0.1L), "0.1");
  EXPECT_EQ(ld_to_string_human(1e-17L), "0.00000000000000001");
  EXPECT_EQ(ld_to_string_human(1e-18L), "0");
  EXPECT_EQ(ld_to_string_human(16.0L + 1.1L), "17.1");  // "0x10" + 1.1
  EXPECT_EQ(ld_to_string_human(std::numeric_limits<long double>::infinity()), "inf");
  EXPECT_EQ(ld_to_string_human(-std::numeric_limits<long double>::infinity()), "-inf");
  long double big = 0;
  ASSERT_TRUE(string_to_ld("1e308", big));
  EXPECT_EQ(ld_to_string_human(big + big),
            "1999999999999999999933717593116912913211201996948311344155940959898434697376761237"
            "4420025384377707864089349445010802644630426949918792116719484162886039283753591820"
            "0039206381557326219209014213335878306791577877829121087126122536729803237260434173"
            "178506889763247582601711514636284849020905456510092687857156096");
  const std::string max = ld_to_string_human(std::numeric_limits<long double>::max());
  EXPECT_EQ(max.size(), 4933u);
}

// ZSCORE replies of redis-server 7.0.15 (addReplyDouble, "%.17g").
TEST(BaseStrconv, DoubleToResp) {
  EXPECT_EQ(double_to_resp(1.1), "1.1000000000000001");
  EXPECT_EQ(double_to_resp(3), "3");
  EXPECT_EQ(double_to_resp(0), "0");
  EXPECT_EQ(double_to_resp(-0.0), "-0");
  EXPECT_EQ(double_to_resp(0.1), "0.10000000000000001");
  EXPECT_EQ(double_to_resp(1e17), "1e+17");
  EXPECT_EQ(double_to_resp(1e-7), "9.9999999999999995e-08");
  EXPECT_EQ(double_to_resp(1e300), "1.0000000000000001e+300");
  EXPECT_EQ(double_to_resp(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(double_to_resp(2.1000000000000001), "2.1000000000000001");
  EXPECT_EQ(double_to_resp(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(double_to_resp(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(double_to_resp(-1.5), "-1.5");
}

TEST(BaseStrconv, CaseHelpers) {
  char buf[16];
  EXPECT_EQ(to_lower_ascii("SAdd", buf, sizeof(buf)), "sadd");
  EXPECT_EQ(to_lower_ascii("", buf, sizeof(buf)), "");
  EXPECT_EQ(to_lower_ascii("ABCDEFGHIJKLMNOP", buf, 16), "abcdefghijklmnop");
  const std::string_view too_long = to_lower_ascii("ABCDEFGHIJKLMNOPQ", buf, 16);
  EXPECT_TRUE(too_long.empty());
  EXPECT_EQ(too_long.data(), nullptr);
  EXPECT_EQ(to_lower_ascii("MiXeD\xc3\x89@[`{"), "mixed\xc3\x89@[`{");
  EXPECT_TRUE(iequals("SMEMBERS", "smembers"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("sadd", "sad"));
  EXPECT_FALSE(iequals("@", "`"));  // differ by 0x20 but are not letters
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_TRUE(iequals("a\0b"s, "A\0B"s));
}

}  // namespace
