// COMMAND INFO and COMMAND DOCS of every command setd implements, compared
// with redis-server 7.0 over RESP2 and RESP3: byte for byte for a command
// without subcommands; for a container (CLIENT, CONFIG, COMMAND, OBJECT,
// PUBSUB) as reply trees with the subcommands put in name order -- Redis
// lists them in the order of a hash table seeded at random on start-up --
// and Redis's subcommands that setd does not implement left out (each one
// setd does implement is also compared on its own, byte for byte).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

// Not in Redis 7.0: SUNIONCARD and SDIFFCARD are setd's own; CLIENT SETINFO
// came with Redis 7.2 (client libraries send it on connect).
const std::set<std::string> kSetdOnly = {"sunioncard", "sdiffcard", "client|setinfo"};

bool have_redis_server() { return !shell("command -v redis-server").empty(); }

std::set<std::string> names_of(const RespValue& list) {
  std::set<std::string> out;
  for (const auto& e : list.elements) out.insert(e.str);
  return out;
}

// A COMMAND INFO entry's subcommands (its 10th element) restricted to
// `keep`, in name order.
void canonical_info(RespValue& entry, const std::set<std::string>& keep) {
  if (entry.kind != K::kArray || entry.elements.size() != 10) return;
  auto& subs = entry.elements[9].elements;
  std::erase_if(subs, [&](const RespValue& s) {
    return s.elements.empty() || keep.count(s.elements[0].str) == 0;
  });
  std::sort(subs.begin(), subs.end(), [](const RespValue& a, const RespValue& b) {
    return a.elements[0].str < b.elements[0].str;
  });
}

// A COMMAND DOCS document's "subcommands" likewise. Maps are flat
// [key, value, ...] lists in both protocols.
void canonical_doc(RespValue& doc, const std::set<std::string>& keep) {
  auto& fields = doc.elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].str != "subcommands") continue;
    auto& subs = fields[i + 1].elements;
    std::vector<std::pair<RespValue, RespValue>> pairs;
    for (size_t j = 0; j + 1 < subs.size(); j += 2)
      if (keep.count(subs[j].str)) pairs.emplace_back(subs[j], subs[j + 1]);
    std::sort(pairs.begin(), pairs.end(),
              [](const auto& a, const auto& b) { return a.first.str < b.first.str; });
    subs.clear();
    for (auto& [name, sub] : pairs) {
      subs.push_back(std::move(name));
      subs.push_back(std::move(sub));
    }
  }
}

// The reply to COMMAND INFO|DOCS <name> in canonical form.
RespValue canonical(RespValue v, bool docs, const std::set<std::string>& keep) {
  if (!docs) {
    for (auto& entry : v.elements) canonical_info(entry, keep);
  } else {
    for (size_t i = 1; i < v.elements.size(); i += 2) canonical_doc(v.elements[i], keep);
  }
  return v;
}

TEST(CommandTableVsRedis, InfoAndDocsOfEveryCommandMatch) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  const auto mine = names_of(s.call({"COMMAND", "LIST"}));
  const auto theirs = names_of(r.call({"COMMAND", "LIST"}));
  std::set<std::string> keep;  // what both implement
  for (const auto& name : mine) {
    if (kSetdOnly.count(name)) {
      EXPECT_EQ(theirs.count(name), 0u) << name << " is in redis-server after all";
      continue;
    }
    EXPECT_EQ(theirs.count(name), 1u) << name << " is not in redis-server";
    if (theirs.count(name)) keep.insert(name);
  }
  ASSERT_GT(keep.size(), 100u);
  const auto is_container = [&](const std::string& name) {
    const auto it = theirs.lower_bound(name + "|");
    return it != theirs.end() && it->starts_with(name + "|");
  };
  for (int proto = 2; proto <= 3; ++proto) {
    s.call({"HELLO", std::to_string(proto)});
    r.call({"HELLO", std::to_string(proto)});
    for (const auto& name : keep) {
      for (const std::string what : {"INFO", "DOCS"}) {
        const auto [mine_raw, mine_reply] = s.call_raw({"COMMAND", what, name});
        const auto [their_raw, their_reply] = r.call_raw({"COMMAND", what, name});
        const std::string where = "RESP" + std::to_string(proto) + " COMMAND " + what + " " + name;
        ASSERT_FALSE(mine_reply.elements.empty()) << where;
        if (!is_container(name)) {
          EXPECT_EQ(mine_raw, their_raw) << where << "\n  setd:  " << mine_reply.to_string()
                                         << "\n  redis: " << their_reply.to_string();
          continue;
        }
        const bool docs = what == "DOCS";
        EXPECT_EQ(canonical(mine_reply, docs, keep).to_string(),
                  canonical(their_reply, docs, keep).to_string())
            << where;
      }
    }
  }
}

// Which of a container's subcommands setd leaves out, spelled out so that a
// new one (or a lost one) is noticed.
TEST(CommandTableVsRedis, ContainersLackOnlyTheKnownSubcommands) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  Client s(setd.port()), r(redis.port());
  const auto mine = names_of(s.call({"COMMAND", "LIST"}));
  std::set<std::string> missing;
  for (const auto& name : names_of(r.call({"COMMAND", "LIST"}))) {
    const size_t bar = name.find('|');
    if (bar != std::string::npos && mine.count(name.substr(0, bar)) && !mine.count(name))
      missing.insert(name);
  }
  EXPECT_EQ(missing, (std::set<std::string>{}));
}

// SUNIONCARD and SDIFFCARD describe themselves as SINTERCARD does: the same
// COMMAND INFO but for the name, and the same arguments (SUNIONCARD's APPROX
// aside).
TEST(CommandTableVsRedis, SetdOnlyCardCommandsAreShapedLikeSintercard) {
  ServerProcess setd(setd_binary());
  Client s(setd.port());
  for (int proto = 2; proto <= 3; ++proto) {
    s.call({"HELLO", std::to_string(proto)});
    auto inter = s.call({"COMMAND", "INFO", "sintercard"});
    const auto inter_docs = s.call({"COMMAND", "DOCS", "sintercard"});
    ASSERT_EQ(inter_docs.elements.size(), 2u);
    const auto arguments = [](const RespValue& doc) {
      for (size_t i = 0; i + 1 < doc.elements.size(); i += 2)
        if (doc.elements[i].str == "arguments") return doc.elements[i + 1];
      return RespValue{};
    };
    for (const std::string name : {"sunioncard", "sdiffcard"}) {
      inter.elements[0].elements[0].str = name;
      EXPECT_EQ(s.call({"COMMAND", "INFO", name}).to_string(), inter.to_string()) << name;
      const auto docs = s.call({"COMMAND", "DOCS", name});
      ASSERT_EQ(docs.elements.size(), 2u) << name;
      auto args = arguments(docs.elements[1]);
      std::erase_if(args.elements, [](const RespValue& a) {
        return a.elements.size() >= 2 && a.elements[1].str == "approx";
      });
      EXPECT_EQ(args.to_string(), arguments(inter_docs.elements[1]).to_string()) << name;
    }
  }
}

}  // namespace
}  // namespace setd::testing
