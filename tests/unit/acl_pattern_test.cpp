// acl::Pattern's fast paths ("literal", "prefix*") agree with the glob
// matcher (Redis's stringmatchlen) on every input.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "setd/acl/user.hpp"
#include "setd/base/glob.hpp"

namespace setd::acl {
namespace {

TEST(AclPattern, FastPathsAgreeWithGlob) {
  const std::vector<std::string> patterns = {"",    "*",     "a",     "ab",     "a*",
                                             "ab*", "key:*", "k?y",   "[ab]*",  "a\\*",
                                             "a**", "*a",    "user:", "user:*", "**"};
  std::mt19937 rng(7);
  const std::string alphabet = "abk:ey*u";
  for (const auto& p : patterns) {
    const Pattern pat(p);
    for (int i = 0; i < 2000; ++i) {
      std::string s;
      const int len = static_cast<int>(rng() % 7);
      for (int j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
      if (i % 5 == 0) s = p.substr(0, p.size() > 0 ? p.size() - 1 : 0) + s;
      EXPECT_EQ(pat.matches(s), base::glob_match(p, s))
          << "pattern '" << p << "' string '" << s << "'";
    }
  }
}

TEST(AclPattern, EdgeCases) {
  EXPECT_FALSE(Pattern("*").matches(""));
  EXPECT_TRUE(Pattern("*").matches("x"));
  EXPECT_TRUE(Pattern("abc*").matches("abc"));
  EXPECT_FALSE(Pattern("abc*").matches("ab"));
  EXPECT_TRUE(Pattern("").matches(""));
  EXPECT_FALSE(Pattern("").matches("a"));
}

}  // namespace
}  // namespace setd::acl
