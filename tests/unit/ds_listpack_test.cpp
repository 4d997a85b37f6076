// Unit tests for setd::ds::ListPack: order, header and entry escapes,
// erase_if, randomness against a model, and the heap bytes of the shapes
// the header comment documents (measured with malloc_usable_size).
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "setd/base/allocator.hpp"
#include "setd/base/random.hpp"
#include "setd/ds/listpack.hpp"
#include "setd/ds/set_object.hpp"

namespace setd::ds {
namespace {

std::vector<std::string> contents(const ListPack& lp) {
  std::vector<std::string> out;
  lp.for_each([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

// Heap bytes of a set: none when a count byte and the entries fit in the
// word, else the entries (1 + len per short member) and, from 65535
// members on, a 4-byte count (below, the count is in the word).
size_t expected_bytes(const std::vector<std::string>& ms) {
  size_t entries = 0;
  for (const auto& m : ms) entries += ListPack::entry_bytes(m.size());
  if (1 + entries <= ListPack::kInlineBytes) return 0;  // small sets live in the word
  return entries + (ms.size() < 0xFFFF ? 0 : 4);
}

TEST(ListPack, EmptyAndOneWord) {
  static_assert(sizeof(ListPack) == sizeof(void*));
  ListPack lp;
  EXPECT_TRUE(lp.empty());
  EXPECT_EQ(lp.size(), 0u);
  EXPECT_FALSE(lp.contains(""));
  EXPECT_FALSE(lp.erase("a"));
  EXPECT_EQ(lp.memory_bytes(), 0u);
  EXPECT_EQ(lp.allocation(), nullptr);
  EXPECT_TRUE(contents(lp).empty());
}

TEST(ListPack, InsertionOrderAndExactBytes) {
  ListPack lp;
  EXPECT_TRUE(lp.insert("b"));
  EXPECT_TRUE(lp.insert(""));
  EXPECT_TRUE(lp.insert("abc"));
  EXPECT_FALSE(lp.insert("b"));
  EXPECT_FALSE(lp.insert(""));
  EXPECT_EQ(lp.size(), 3u);
  EXPECT_EQ(contents(lp), (std::vector<std::string>{"b", "", "abc"}));
  EXPECT_EQ(lp.memory_bytes(), 2u + 1 + 4);  // the entries; the count is in the word
  EXPECT_EQ(lp.at(0), "b");
  EXPECT_EQ(lp.at(1), "");
  EXPECT_EQ(lp.at(2), "abc");
  EXPECT_TRUE(lp.contains("abc"));
  EXPECT_FALSE(lp.contains("ab"));
  EXPECT_FALSE(lp.contains("abcd"));
  EXPECT_TRUE(lp.erase("b"));  // the others keep their order
  EXPECT_EQ(contents(lp), (std::vector<std::string>{"", "abc"}));
  // 1 + 1 + 4 bytes: back in the word, the heap blob freed.
  EXPECT_EQ(lp.memory_bytes(), 0u);
  EXPECT_TRUE(lp.is_inline());
  EXPECT_EQ(lp.allocation(), nullptr);
  EXPECT_EQ(lp.at(1), "abc");
  EXPECT_TRUE(lp.erase(""));
  EXPECT_TRUE(lp.erase("abc"));
  EXPECT_TRUE(lp.empty());
  EXPECT_EQ(lp.allocation(), nullptr);  // freed
  EXPECT_TRUE(lp.insert("again"));
  EXPECT_EQ(contents(lp), (std::vector<std::string>{"again"}));
}

TEST(ListPack, BinarySafeAndLongMembers) {
  ListPack lp;
  const std::string zeros("\0\0\xff", 3);
  const std::string l254(254, 'x'), l255(255, 'y'), l300(300, 'z'), l70k(70000, 'w');
  for (const auto& m : {zeros, l254, l255, l300, l70k}) EXPECT_TRUE(lp.insert(m));
  for (const auto& m : {zeros, l254, l255, l300, l70k}) EXPECT_TRUE(lp.contains(m));
  EXPECT_FALSE(lp.contains(std::string(255, 'x')));
  EXPECT_FALSE(lp.contains(std::string(300, 'y')));
  EXPECT_EQ(lp.memory_bytes(), expected_bytes({zeros, l254, l255, l300, l70k}));
  EXPECT_EQ(lp.at(3), l300);
  EXPECT_TRUE(lp.erase(l255));
  EXPECT_EQ(contents(lp), (std::vector<std::string>{zeros, l254, l300, l70k}));
  EXPECT_EQ(lp.memory_bytes(), expected_bytes({zeros, l254, l300, l70k}));
}

TEST(ListPack, CountMovesIntoTheBlockAt65535) {
  // The word holds counts up to 65534; from 65535 members on the count is
  // the block's first 4 bytes, and back in the word below. Members of 1..3
  // bytes keep the O(n) walks of this O(n^2) build short.
  ListPack lp;
  std::vector<std::string> model;
  auto member = [](size_t i) {
    std::string m;
    do {
      m.push_back(static_cast<char>(i & 0xFF));
      i >>= 8;
    } while (i != 0);
    return m;
  };
  constexpr size_t kTop = 0xFFFF + 2;
  for (size_t i = 0; i < kTop; ++i) {
    model.push_back(member(i));
    lp.append(model.back());
    if (i + 3 >= 0xFFFF || i < 3) {
      ASSERT_EQ(lp.size(), model.size());
      ASSERT_EQ(lp.memory_bytes(), expected_bytes(model)) << i;
    }
  }
  EXPECT_FALSE(lp.insert(member(0xFFFE)));
  EXPECT_TRUE(lp.contains(member(kTop - 1)));
  EXPECT_EQ(lp.at(kTop - 1), member(kTop - 1));
  ListPack copy(lp);
  EXPECT_EQ(copy.size(), kTop);
  EXPECT_EQ(copy.memory_bytes(), lp.memory_bytes());
  for (int k = 0; k < 4; ++k) {  // 65537 -> 65533 members, across the line
    const std::string m = model[model.size() / 2];
    model.erase(model.begin() + static_cast<std::ptrdiff_t>(model.size() / 2));
    ASSERT_TRUE(lp.erase(m));
    ASSERT_EQ(lp.size(), model.size());
    ASSERT_EQ(lp.memory_bytes(), expected_bytes(model));
    ASSERT_EQ(lp.at(model.size() - 1), model.back());
  }
  EXPECT_EQ(contents(lp), model);
  EXPECT_EQ(lp.erase_if([](size_t i, std::string_view) { return i >= 2; }), model.size() - 2);
  EXPECT_EQ(contents(lp), (std::vector<std::string>{model[0], model[1]}));
  EXPECT_TRUE(lp.is_inline());  // 1 + 2 + 2 bytes
  EXPECT_EQ(contents(copy).size(), kTop);
}

TEST(ListPack, EraseIfInOnePass) {
  ListPack lp;
  for (int i = 0; i < 300; ++i) lp.append("k" + std::to_string(i));
  std::vector<size_t> seen;
  const size_t removed = lp.erase_if([&](size_t index, std::string_view m) {
    seen.push_back(index);
    EXPECT_EQ(m, "k" + std::to_string(index));
    return index % 3 != 0;
  });
  EXPECT_EQ(removed, 200u);
  EXPECT_EQ(seen.size(), 300u);
  std::vector<std::string> model;
  for (int i = 0; i < 300; i += 3) model.push_back("k" + std::to_string(i));
  EXPECT_EQ(contents(lp), model);
  EXPECT_EQ(lp.memory_bytes(), expected_bytes(model));
  EXPECT_EQ(lp.erase_if([](size_t, std::string_view) { return false; }), 0u);
  EXPECT_EQ(contents(lp), model);
  EXPECT_EQ(lp.erase_if([](size_t, std::string_view) { return true; }), 100u);
  EXPECT_TRUE(lp.empty());
  EXPECT_EQ(lp.allocation(), nullptr);
}

TEST(ListPack, SmallBlobsLiveInTheWord) {
  ListPack lp;
  EXPECT_TRUE(lp.is_inline());
  EXPECT_TRUE(lp.insert("m123"));  // 1 + 1 + 4 = 6 bytes
  EXPECT_TRUE(lp.is_inline());
  EXPECT_EQ(lp.allocation(), nullptr);
  EXPECT_TRUE(lp.insert("x"));  // 8 bytes: to the heap
  EXPECT_FALSE(lp.is_inline());
  EXPECT_EQ(lp.memory_bytes(), 7u);  // the entries; the count is in the word
  EXPECT_FALSE(lp.insert("m123"));
  EXPECT_EQ(contents(lp), (std::vector<std::string>{"m123", "x"}));
  ListPack copy(lp);  // a heap copy
  EXPECT_FALSE(copy.is_inline());
  EXPECT_NE(copy.allocation(), lp.allocation());
  EXPECT_TRUE(lp.erase("m123"));  // 3 bytes: back in the word
  EXPECT_TRUE(lp.is_inline());
  EXPECT_EQ(contents(lp), (std::vector<std::string>{"x"}));
  EXPECT_EQ(contents(copy), (std::vector<std::string>{"m123", "x"}));
  // Inline: copies and moves carry the members in the word.
  ListPack c2(lp);
  EXPECT_TRUE(c2.is_inline());
  ListPack moved(std::move(lp));
  EXPECT_TRUE(lp.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(contents(moved), (std::vector<std::string>{"x"}));
  EXPECT_EQ(contents(c2), (std::vector<std::string>{"x"}));
  EXPECT_TRUE(c2.insert("ab"));  // 1 + 2 + 3 = 6: stays inline
  EXPECT_TRUE(c2.insert(""));    // 7: still inline
  EXPECT_TRUE(c2.is_inline());
  EXPECT_EQ(contents(c2), (std::vector<std::string>{"x", "ab", ""}));
  EXPECT_EQ(c2.erase_if([](size_t, std::string_view m) { return m == "ab"; }), 1u);
  EXPECT_EQ(contents(c2), (std::vector<std::string>{"x", ""}));
  base::Rng rng(7);
  EXPECT_EQ(c2.size(), 2u);
  const std::string popped = c2.pop_random(rng);
  EXPECT_TRUE(popped == "x" || popped.empty());
  EXPECT_EQ(c2.size(), 1u);
  // A SetObject holding an inline listpack moves it as its word.
  SetObject so = SetObject::empty_listpack();
  EXPECT_TRUE(so.add("m1", SetLimits{}));
  SetObject so2(std::move(so));
  EXPECT_EQ(so2.encoding_name(), "listpack");
  EXPECT_TRUE(so2.contains("m1"));
  EXPECT_EQ(so2.memory_bytes(), 0u);
}

TEST(ListPack, CopyAndMove) {
  ListPack a;
  for (const char* m : {"x", "y", "z"}) a.insert(m);
  ListPack b = a;
  b.erase("y");
  EXPECT_EQ(contents(a), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(contents(b), (std::vector<std::string>{"x", "z"}));
  ListPack c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(c.size(), 2u);
  b = c;
  a = std::move(c);
  EXPECT_EQ(contents(a), contents(b));
  ListPack empty;
  a = empty;
  EXPECT_TRUE(a.empty());
}

TEST(ListPack, MatchesModelUnderRandomOperations) {
  base::Rng rng(2024);
  ListPack lp;
  std::vector<std::string> model;
  for (int step = 0; step < 20000; ++step) {
    const std::string m = rng.below(20) == 0 ? std::string(250 + rng.below(10), 'L')
                                             : "v" + std::to_string(rng.below(400));
    switch (rng.below(4)) {
      case 0:
      case 1: {
        const bool absent = std::find(model.begin(), model.end(), m) == model.end();
        ASSERT_EQ(lp.insert(m), absent);
        if (absent) model.push_back(m);
        break;
      }
      case 2: {
        const auto it = std::find(model.begin(), model.end(), m);
        ASSERT_EQ(lp.erase(m), it != model.end());
        if (it != model.end()) model.erase(it);
        break;
      }
      default:
        if (!model.empty()) {
          const std::string p = lp.pop_random(rng);
          const auto it = std::find(model.begin(), model.end(), p);
          ASSERT_NE(it, model.end()) << p;
          model.erase(it);
        }
    }
    ASSERT_EQ(lp.size(), model.size());
    if (step % 97 == 0) {
      ASSERT_EQ(contents(lp), model);
      ASSERT_EQ(lp.memory_bytes(), expected_bytes(model));
    }
  }
}

TEST(ListPack, RandomIsUniform) {
  ListPack lp;
  for (int i = 0; i < 40; ++i) lp.append("r" + std::to_string(i));
  base::Rng rng(77);
  std::map<std::string, int> hist;
  constexpr int kDraws = 80000;
  for (int i = 0; i < kDraws; ++i) ++hist[std::string(lp.random(rng))];
  ASSERT_EQ(hist.size(), 40u);
  const double e = kDraws / 40.0;
  double chi2 = 0;
  for (const auto& [m, h] : hist) chi2 += (h - e) * (h - e) / e;
  EXPECT_LT(chi2, 72.05);  // 39 degrees of freedom, p = 0.001
}

// --- memory ----------------------------------------------------------------

// What a 1-member, a 5-tag and a 50-member set cost on the heap: the blob
// (exact request and malloc_usable_size under this process's allocator),
// plus the 8-byte SetObject the key's value holds. The numbers printed are
// the ones quoted in listpack.hpp.
struct Shape {
  const char* name;
  std::vector<std::string> members;
};

TEST(ListPack, MemoryOfTheDocumentedShapes) {
  std::vector<std::string> fifty, fifty_wide;
  for (int j = 0; j < 50; ++j) {
    fifty.push_back("m:" + std::to_string(j));
    fifty_wide.push_back("m:" + std::to_string(1000000 + j * 7919));  // 9 bytes each
  }
  const Shape shapes[] = {
      {"1 member \"user:12345\"", {"user:12345"}},
      {"5 tags", {"red", "green", "blue", "urgent", "done"}},
      {"5 tags of 24 entry bytes", {"nosql", "linux", "perf", "go", "sql"}},
      {"50 members m:0..m:49", fifty},
      {"50 members m:<7 digits>", fifty_wide},
  };
  // The sets are built by adding (a realloc per member), then measured as
  // a copy makes them (one malloc of the exact size): glibc's realloc may
  // leave a grown block larger than a fresh one, which says more about the
  // history of the heap than about the layout.
  auto usable = [](const SetObject& s) {
    return malloc_usable_size(const_cast<void*>(s.as_listpack()->allocation()));
  };
  std::vector<size_t> fresh;
  for (const Shape& sh : shapes) {
    SetObject built = SetObject::empty_listpack();
    for (const auto& m : sh.members) ASSERT_TRUE(built.add(m, SetLimits{}));
    ASSERT_EQ(built.encoding(), SetObject::Encoding::kListPack);
    const SetObject s = built.clone();
    const size_t requested = s.memory_bytes();
    EXPECT_EQ(requested, expected_bytes(sh.members));
    EXPECT_GE(usable(s), requested);
    fresh.push_back(usable(s));
    const auto n = static_cast<double>(sh.members.size());
    std::printf(
        "[ info     ] %-26s blob %4zu bytes (usable %4zu, as built %4zu): %.2f bytes/member, "
        "+8 SetObject: %.2f\n",
        sh.name, requested, usable(s), usable(built), static_cast<double>(usable(s)) / n,
        static_cast<double>(usable(s) + sizeof(SetObject)) / n);
  }
  // The targets the layout is for: one member well inside 64 bytes per key
  // with its key, five short tags inside 96, 50 short members at most 10
  // bytes each (usable bytes: glibc rounds more than mimalloc does).
  EXPECT_LE(fresh[0], 24u);
  EXPECT_LE(fresh[1], 40u);
  EXPECT_LE(fresh[3] + sizeof(SetObject), 500u);
  // With the count in the word, five tags whose entries take 24 bytes are a
  // 24-byte block (glibc: a 32-byte chunk, not the 48 a 25th byte costs).
  EXPECT_LE(fresh[2], base::alloc::usable_size(24));
}

}  // namespace
}  // namespace setd::ds
