// The operator's instruments against redis-server 7.0: MONITOR (its lines,
// with timestamps and ports masked; what is shown and what is not; the
// monitor's own restrictions), SLOWLOG (entries with their trimming and
// redaction), LATENCY (LATEST / HISTORY / GRAPH / RESET / DOCTOR / HELP /
// HISTOGRAM), INFO latencystats, and the directives behind them (CONFIG
// SET validation, CONFIG GET).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"

namespace setd::testing {
namespace {

using Args = std::vector<std::string>;
using K = RespValue::Kind;

const std::vector<std::string> kDebug = {"--enable-debug-command", "yes"};

// Monitor output with what differs by nature masked: the timestamp
// ("+1339518083.107412 " -> "+T ") and client ports.
std::string mask_monitor(const std::string& raw) {
  static const std::regex ts(R"(\+[0-9]+\.[0-9]{6} )");
  static const std::regex port(R"(127\.0\.0\.1:[0-9]+)");
  std::string out = std::regex_replace(raw, ts, "+T ");
  return std::regex_replace(out, port, "127.0.0.1:P");
}

// Every digit run as "N" (graphs and reports with times and latencies).
std::string mask_digits(const std::string& s) {
  static const std::regex digits("[0-9]+");
  return std::regex_replace(s, digits, "N");
}

class Instruments : public ::testing::Test {
 protected:
  Instruments() : d_(7, kDebug, kDebug) {}
  Differential d_;
};

TEST_F(Instruments, MonitorLinesAsRedis) {
  ClientPair mon(d_);
  mon.run({"MONITOR"});
  const std::vector<Args> cmds = {
      {"SET", "a", "1"},
      {"SADD", "s", "x y", std::string("a\"b\\c\n\r\t\a\b\x01\xff", 13)},
      {"AUTH", "foo"},
      {"AUTH", "u", "p"},
      {"AUTH", "a", "b", "c"},
      {"HELLO", "2", "AUTH", "default", "pw", "SETNAME", "cli"},
      {"SELECT", "2"},
      {"PING"},
      {"MULTI"},
      {"SADD", "s", "1"},
      {"SMEMBERS", "s"},
      {"EXEC"},
      {"EXEC"},
      {"MULTI"},
      {"NOSUCHCOMMAND"},
      {"EXEC"},
      {"EVAL", "redis.call('sadd', KEYS[1], 'v') return redis.call('scard', KEYS[1])", "1", "k"},
      {"EVALSHA", "0000000000000000000000000000000000000000", "0"},
      {"CONFIG", "SET", "slowlog-max-len", "100"},
      {"DEBUG", "SLEEP", "0"},
      {"SLOWLOG", "LEN"},
      {"CLIENT", "SETNAME", "x"},
      {"SELECT", "0"},
      {"ECHO", ""},
      {"SCARD", "s"},
  };
  for (const auto& c : cmds) d_.run(c, Compare::kType);
  const std::string x = mask_monitor(mon.setd().read_raw_until_close(300));
  const std::string y = mask_monitor(mon.redis().read_raw_until_close(300));
  EXPECT_EQ(x, y);
  EXPECT_NE(x.find("[2 lua] \"sadd\" \"k\" \"v\""), std::string::npos) << x;

  // The monitor itself: keyspace commands are refused, others run (and are
  // shown after their reply); RESET leaves monitor mode.
  mon.run({"GET", "a"});
  mon.run({"SADD", "s", "z"});
  std::string px = mask_monitor(mon.setd().read_raw_until_close(100));
  std::string py = mask_monitor(mon.redis().read_raw_until_close(100));
  EXPECT_EQ(px, py);
  d_.run_bytes_on(mon.setd(), mon.redis(), {"PING"});
  px = mask_monitor(mon.setd().read_raw_until_close(200));
  py = mask_monitor(mon.redis().read_raw_until_close(200));
  EXPECT_EQ(px, py);
  EXPECT_EQ(px, "+T [0 127.0.0.1:P] \"PING\"\r\n<open>");
  // MONITOR again: ignored, no reply.
  mon.setd().send({"MONITOR"});
  mon.redis().send({"MONITOR"});
  d_.run({"SCARD", "s"});
  px = mask_monitor(mon.setd().read_raw_until_close(200));
  py = mask_monitor(mon.redis().read_raw_until_close(200));
  EXPECT_EQ(px, py);
  mon.run({"RESET"});
  d_.run({"SCARD", "s"});
  EXPECT_EQ(mon.setd().read_raw_until_close(200), "<open>");
  EXPECT_EQ(mon.redis().read_raw_until_close(200), "<open>");

  // Inside a transaction MONITOR cannot block.
  ClientPair tx(d_);
  tx.run({"MULTI"});
  tx.run({"MONITOR"});
  tx.run({"EXEC"});
}

TEST_F(Instruments, MonitorCountsAsAConnectedClientAndFlagsO) {
  ClientPair mon(d_);
  mon.run({"MONITOR"});
  const auto info = [](Client& c) {
    const RespValue v = c.call({"INFO", "clients"});
    std::smatch m;
    static const std::regex re("connected_clients:([0-9]+)");
    return std::regex_search(v.str, m, re) ? m[1].str() : std::string("?");
  };
  EXPECT_EQ(info(d_.setd()), info(d_.redis()));
  const auto flags = [](Client& c) {
    const RespValue v = c.call({"CLIENT", "LIST"});
    std::string out;
    static const std::regex re(" flags=([A-Za-z]+) ");
    for (std::sregex_iterator it(v.str.begin(), v.str.end(), re), end; it != end; ++it)
      out += (*it)[1].str() + ",";
    return out;
  };
  EXPECT_EQ(flags(d_.setd()), flags(d_.redis()));
}

// A monitor is never disconnected for being idle (Redis treats it as a
// replica), unlike an ordinary client.
TEST(InstrumentsTimeout, MonitorsNeverTimeOut) {
  Differential d(8, {"--timeout", "1"}, {"--timeout", "1"});
  ClientPair mon(d);
  ClientPair idle(d);
  mon.run({"MONITOR"});
  idle.run({"PING"});
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  EXPECT_EQ(idle.closed(1000), std::make_pair(true, true));
  EXPECT_EQ(mon.closed(500), std::make_pair(false, false));
}

// SLOWLOG GET with what differs by nature masked: the id (relative to the
// newest), the time, the duration and client ports.
std::string canonical_slowlog(const RespValue& v) {
  if (v.kind != K::kArray) return v.to_string();
  std::string out;
  const long long top = v.elements.empty() ? 0 : v.elements.front().elements.at(0).integer;
  for (const auto& e : v.elements) {
    if (e.elements.size() != 6) return "bad entry " + e.to_string();
    out += "#" + std::to_string(top - e.elements[0].integer);
    out += e.elements[1].integer > 1600000000 ? " T" : " bad-time";
    out += e.elements[2].integer >= 0 ? " D " : " bad-duration ";
    out += e.elements[3].to_string() + " " + mask_monitor(e.elements[4].str) + " " +
           e.elements[5].str + "\n";
  }
  return out;
}

TEST_F(Instruments, SlowlogEntriesAsRedis) {
  d_.run({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  d_.run({"SLOWLOG", "RESET"});
  d_.run({"CLIENT", "SETNAME", "nm"});
  Args big = {"SADD", "big"};
  for (int i = 0; i < 40; ++i) big.push_back(std::to_string(i));
  const std::vector<Args> cmds = {
      {"SET", "a", "1"},
      {"AUTH", "foo"},
      {"AUTH", "u", "p"},
      {"HELLO", "2", "AUTH", "default", "pw"},
      {"CONFIG", "SET", "requirepass", "", "masterauth", "x"},
      {"CONFIG", "SET", "masteruser", "u", "nosuch", "v"},
      {"ACL", "SETUSER", "bob", "on", ">pass", "~*"},
      {"EVAL", "redis.call('sadd', KEYS[1], 'v') return 1", "1", "k"},
      {"MULTI"},
      {"SADD", "s", "1"},
      {"EXEC"},
      big,
      {"SADD", "s2", std::string(200, 'x')},
      {"SADD", "s3", std::string(129, 'y'), std::string(128, 'z')},
  };
  for (const auto& c : cmds) d_.run(c, Compare::kType);
  d_.run({"SLOWLOG", "GET", "-1"}, canonical_slowlog);
  d_.run({"SLOWLOG", "GET"}, canonical_slowlog);
  d_.run({"SLOWLOG", "GET", "2"}, canonical_slowlog);
  d_.run({"SLOWLOG", "GET", "0"}, canonical_slowlog);
  d_.run({"SLOWLOG", "LEN"});

  // Errors and help.
  for (const Args& a : std::vector<Args>{{"SLOWLOG", "GET", "-2"},
                                         {"SLOWLOG", "GET", "x"},
                                         {"SLOWLOG", "GET", "1", "2"},
                                         {"SLOWLOG", "LEN", "x"},
                                         {"SLOWLOG", "RESET", "1"},
                                         {"SLOWLOG", "foo"},
                                         {"SLOWLOG"},
                                         {"SLOWLOG", "HELP"}})
    d_.run(a);

  // slowlog-max-len trims at the next command; a negative threshold stops
  // logging (and trimming).
  d_.run({"CONFIG", "SET", "slowlog-max-len", "3"});
  d_.run({"SLOWLOG", "LEN"});
  d_.run({"SLOWLOG", "LEN"});
  d_.run({"CONFIG", "SET", "slowlog-log-slower-than", "-1"});
  d_.run({"SLOWLOG", "RESET"});
  d_.run({"SET", "b", "2"});
  d_.run({"SLOWLOG", "LEN"});
  d_.run({"CONFIG", "SET", "slowlog-log-slower-than", "1000000"});
  d_.run({"SET", "b", "3"});
  d_.run({"SLOWLOG", "LEN"});
  // DEBUG SLEEP is slow enough for the default threshold.
  d_.run({"CONFIG", "SET", "slowlog-log-slower-than", "10000"});
  d_.run({"DEBUG", "SLEEP", "0.02"});
  d_.run({"SLOWLOG", "GET"}, canonical_slowlog);
}

TEST_F(Instruments, LatencyMonitorAsRedis) {
  // Off: nothing recorded, and DOCTOR says so.
  d_.run({"DEBUG", "SLEEP", "0.02"});
  d_.run({"LATENCY", "LATEST"});
  d_.run_bytes({"LATENCY", "DOCTOR"});
  // Well above what a command takes on a loaded machine (CI runs tests in
  // parallel): only the sleep is an event.
  d_.run({"CONFIG", "SET", "latency-monitor-threshold", "100"});
  d_.run({"DEBUG", "SLEEP", "0.15"});
  d_.run({"SET", "k", "v"});  // fast, below the threshold
  const auto latest = [](const RespValue& v) {
    // [event, time, latest ms, max ms]: the event and the latencies' floor.
    if (v.kind != K::kArray) return v.to_string();
    std::string out;
    for (const auto& e : v.elements) {
      if (e.elements.size() != 4) return "bad " + e.to_string();
      out += e.elements[0].str + (e.elements[1].integer > 1600000000 ? " T" : " bad-time") +
             (e.elements[2].integer >= 150 ? " >=150" : " <150") +
             (e.elements[3].integer >= 150 ? " >=150" : " <150") + "\n";
    }
    return out;
  };
  d_.run({"LATENCY", "LATEST"}, latest);
  const auto history = [](const RespValue& v) {
    if (v.kind != K::kArray) return v.to_string();
    std::string out;
    for (const auto& e : v.elements)
      out += std::to_string(e.elements.size()) + (e.elements.at(1).integer >= 150 ? " >=150\n" : "");
    return out;
  };
  d_.run({"LATENCY", "HISTORY", "command"}, history);
  d_.run({"LATENCY", "HISTORY", "nosuchevent"});
  d_.run({"LATENCY", "GRAPH", "nosuchevent"});
  {
    // The graph's labels are the seconds since each sample: they may differ
    // by one across the two servers, so only the shape is compared.
    const std::vector<std::string> graph{"LATENCY", "GRAPH", "command"};
    const std::string x = d_.setd().call_raw(graph).first;
    const std::string y = d_.redis().call_raw(graph).first;
    EXPECT_EQ(mask_digits(x), mask_digits(y));
  }
  {
    // The report's event lines (the advice may differ: anonymous huge
    // pages depend on the process).
    const auto head = [](const RespValue& v) {
      const std::string s = mask_digits(v.str);
      const size_t advice = s.find("\nI have a few advices");
      return s.substr(0, advice);
    };
    d_.run({"LATENCY", "DOCTOR"}, head);
  }
  d_.run({"LATENCY", "HELP"});
  d_.run({"LATENCY", "RESET", "COMMAND", "nosuch"});
  d_.run({"LATENCY", "RESET"});
  d_.run({"LATENCY", "LATEST"});
  d_.run({"LATENCY", "nosuch"});
  d_.run({"LATENCY", "HISTORY"});
  d_.run({"LATENCY", "GRAPH", "a", "b"});
}

// Deleting a big expired set is an "expire-del" event on both.
TEST_F(Instruments, ExpiredKeyDeletionIsAnExpireDelEvent) {
  d_.run(
      {"EVAL", "for i = 1, 300000 do redis.call('sadd', KEYS[1], 'member:' .. i) end", "1", "big"});
  d_.run({"CONFIG", "SET", "latency-monitor-threshold", "1"});
  d_.run({"PEXPIRE", "big", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  d_.run({"EXISTS", "big"});
  const auto has_expire_del = [](const RespValue& v) {
    for (const auto& e : v.elements)
      if (!e.elements.empty() && e.elements[0].str == "expire-del") return std::string("yes");
    return std::string("no: ") + v.to_string();
  };
  d_.run({"LATENCY", "LATEST"}, has_expire_del);
}

// LATENCY HISTOGRAM's reply with the bucket counts checked for shape: the
// command names and calls exactly, the buckets at Redis's labels and
// cumulative up to the calls.
std::string canonical_histogram(const RespValue& v) {
  if (!v.is_aggregate()) return v.to_string();
  static const std::set<long long> labels = [] {
    std::set<long long> s;
    for (long long level = 1024; level <= (1LL << 31); level *= 2)
      s.insert((level + level / 128 - 1) / 1000);
    s.insert(1073741);
    return s;
  }();
  std::vector<std::string> parts;
  const std::string kind = v.kind == K::kMap ? "map" : "array";
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    const RespValue& body = v.elements[i + 1];
    std::string p = v.elements[i].str + ":" + (body.kind == K::kMap ? "map" : "array") + ":";
    if (body.elements.size() != 4) return "bad " + body.to_string();
    p += body.elements[0].str + "=" + std::to_string(body.elements[1].integer) + "," +
         body.elements[2].str + ":";
    const RespValue& buckets = body.elements[3];
    long long prev = 0, last = 0;
    bool ok = buckets.elements.size() % 2 == 0 && !buckets.elements.empty();
    for (size_t j = 0; ok && j + 1 < buckets.elements.size(); j += 2) {
      ok = labels.count(buckets.elements[j].integer) && buckets.elements[j + 1].integer > prev;
      prev = buckets.elements[j + 1].integer;
      last = prev;
    }
    p += ok && last == body.elements[1].integer ? "cumulative" : "BAD " + buckets.to_string();
    parts.push_back(p);
  }
  std::sort(parts.begin(), parts.end());
  std::string out = kind + "{";
  for (const auto& p : parts) out += p + ";";
  return out + "}";
}

TEST_F(Instruments, LatencyHistogramAsRedis) {
  d_.run({"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 200; ++i) d_.run({"SADD", "s", std::to_string(i)});
  d_.run({"DEBUG", "SLEEP", "0.003"});
  d_.run({"LATENCY", "HISTOGRAM", "sadd"}, canonical_histogram);
  d_.run({"LATENCY", "HISTOGRAM", "SADD", "nosuch", "debug", "config", "config|resetstat",
          "config|get|x"},
         canonical_histogram);
  d_.run({"LATENCY", "HISTOGRAM", "nosuch"});
  d_.run({"LATENCY", "HISTOGRAM"}, canonical_histogram);
  for (Client* c : {&d_.setd(), &d_.redis()}) c->call({"HELLO", "3"});
  d_.run({"LATENCY", "HISTOGRAM", "sadd", "debug"}, canonical_histogram);
  d_.run_bytes({"LATENCY", "HISTOGRAM", "nosuch"});
}

// INFO latencystats: the lines' names and format (values masked).
std::string canonical_latencystats(const RespValue& v) {
  static const std::regex value("=[0-9]+\\.[0-9]{3}");
  std::vector<std::string> lines;
  std::string s = v.str;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find("\r\n", start);
    if (end == std::string::npos) end = s.size();
    lines.push_back(std::regex_replace(s.substr(start, end - start), value, "=V"));
    start = end + 2;
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST_F(Instruments, InfoLatencystatsAsRedis) {
  d_.run({"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 50; ++i) d_.run({"SADD", "s", std::to_string(i)});
  d_.run({"SMEMBERS", "s"}, Compare::kUnordered);
  d_.run({"INFO", "latencystats"}, canonical_latencystats);
  d_.run({"CONFIG", "SET", "latency-tracking-info-percentiles", "0 50.5 99.999 100"});
  d_.run({"CONFIG", "GET", "latency-tracking-info-percentiles"});
  d_.run({"INFO", "latencystats"}, canonical_latencystats);
  d_.run({"CONFIG", "SET", "latency-tracking-info-percentiles", ""});
  d_.run({"INFO", "latencystats"}, canonical_latencystats);
  d_.run({"CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"});
  d_.run({"CONFIG", "SET", "latency-tracking", "no"});
  d_.run({"INFO", "latencystats"});
  d_.run({"CONFIG", "SET", "latency-tracking", "yes"});
  // The values: every sadd took at least 1 µs, so p0 >= 1.000.
  const RespValue v = d_.setd().call({"INFO", "latencystats"});
  static const std::regex sadd(
      R"(latency_percentiles_usec_sadd:p50=([0-9]+\.[0-9]{3}),p99=([0-9]+\.[0-9]{3}),p99\.9=([0-9]+\.[0-9]{3}))");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(v.str, m, sadd)) << v.str;
  EXPECT_LE(std::stod(m[1].str()), std::stod(m[2].str()));
  EXPECT_LE(std::stod(m[2].str()), std::stod(m[3].str()));
  // Not among the default sections; among "all" and "everything".
  const auto has = [](const RespValue& r) {
    return r.str.find("# Latencystats") != std::string::npos ? "yes" : "no";
  };
  d_.run({"INFO"}, [&](const RespValue& r) { return std::string(has(r)); });
  d_.run({"INFO", "all"}, [&](const RespValue& r) { return std::string(has(r)); });
  d_.run({"INFO", "everything"}, [&](const RespValue& r) { return std::string(has(r)); });
}

TEST_F(Instruments, DirectivesAsRedis) {
  for (const Args& a : std::vector<Args>{
           {"CONFIG", "GET", "slowlog-log-slower-than"},
           {"CONFIG", "GET", "slowlog-max-len"},
           {"CONFIG", "GET", "latency-monitor-threshold"},
           {"CONFIG", "GET", "latency-tracking"},
           {"CONFIG", "GET", "latency-tracking-info-percentiles"},
           {"CONFIG", "SET", "slowlog-max-len", "-1"},
           {"CONFIG", "SET", "slowlog-max-len", "x"},
           {"CONFIG", "SET", "slowlog-max-len", "9223372036854775808"},
           {"CONFIG", "SET", "slowlog-max-len", "9223372036854775807"},
           {"CONFIG", "SET", "slowlog-log-slower-than", "-2"},
           {"CONFIG", "SET", "slowlog-log-slower-than", "1.5"},
           {"CONFIG", "SET", "slowlog-log-slower-than", "-1"},
           {"CONFIG", "SET", "latency-monitor-threshold", "-1"},
           {"CONFIG", "SET", "latency-monitor-threshold", "100"},
           {"CONFIG", "SET", "latency-tracking", "maybe"},
           {"CONFIG", "SET", "latency-tracking", "NO"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", "101"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", "abc"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", "-0.1"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", "50  99"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", " 50"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", "inf"},
           {"CONFIG", "SET", "latency-tracking-info-percentiles", "0x10 1e1 99.99900"},
           {"CONFIG", "GET", "slowlog-log-slower-than"},
           {"CONFIG", "GET", "slowlog-max-len"},
           {"CONFIG", "GET", "latency-monitor-threshold"},
           {"CONFIG", "GET", "latency-tracking"},
           {"CONFIG", "GET", "latency-tracking-info-percentiles"},
       })
    d_.run(a);
}

}  // namespace
}  // namespace setd::testing
