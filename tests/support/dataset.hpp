// Whole-dataset snapshots over RESP, for persistence tests: every key of
// every database with its type, value, TTL and encoding, read the same way
// from setd and from redis-server, and a readable diff of two of them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {

struct KeyState {
  std::string type;                  // TYPE: "string" or "set"
  std::string value;                 // GET, for a string
  std::vector<std::string> members;  // SMEMBERS sorted, for a set
  std::string encoding;              // OBJECT ENCODING
  long long pexpiretime = -1;        // PEXPIRETIME: absolute ms, -1 without TTL
  long long pttl = -1;               // PTTL when read

  bool operator==(const KeyState&) const = default;
};

// Database number -> key -> state; only databases holding keys appear.
using Dataset = std::map<int, std::map<std::string, KeyState>>;

// Reads every key of databases 0..`dbs`-1 (pipelined, 256 keys at a time).
// The client is left on database 0.
inline Dataset capture_dataset(Client& c, int dbs = 16) {
  Dataset out;
  for (int db = 0; db < dbs; ++db) {
    if (c.call({"SELECT", std::to_string(db)}).is_error()) break;
    const RespValue keys = c.call({"KEYS", "*"});
    if (keys.elements.empty()) continue;
    auto& table = out[db];
    for (size_t base = 0; base < keys.elements.size(); base += 256) {
      const size_t end = std::min(keys.elements.size(), base + 256);
      std::string burst;
      for (size_t i = base; i < end; ++i) burst += Client::encode({"TYPE", keys.elements[i].str});
      c.send_raw(burst);
      std::vector<std::string> types;
      for (size_t i = base; i < end; ++i) types.push_back(c.read().value_or(RespValue{}).str);
      burst.clear();
      for (size_t i = base; i < end; ++i) {
        const std::string& k = keys.elements[i].str;
        burst += Client::encode({types[i - base] == "set" ? "SMEMBERS" : "GET", k});
        burst += Client::encode({"PEXPIRETIME", k});
        burst += Client::encode({"PTTL", k});
        burst += Client::encode({"OBJECT", "ENCODING", k});
      }
      c.send_raw(burst);
      for (size_t i = base; i < end; ++i) {
        KeyState st;
        st.type = types[i - base];
        const RespValue v = c.read().value_or(RespValue{});
        if (st.type == "set") {
          for (const auto& m : v.elements) st.members.push_back(m.str);
          std::sort(st.members.begin(), st.members.end());
        } else if (v.is_null() || v.is_error()) {
          st.value = "<" + v.to_string() + ">";
        } else {
          st.value = v.str;
        }
        st.pexpiretime = c.read().value_or(RespValue{}).integer;
        st.pttl = c.read().value_or(RespValue{}).integer;
        st.encoding = c.read().value_or(RespValue{}).str;
        table[keys.elements[i].str] = std::move(st);
      }
    }
  }
  c.call({"SELECT", "0"});
  return out;
}

// Number of keys in a captured dataset.
inline size_t dataset_size(const Dataset& d) {
  size_t n = 0;
  for (const auto& [db, t] : d) n += t.size();
  return n;
}

// A printable form of bytes (escaped, cut at `max` characters).
inline std::string printable(const std::string& s, size_t max = 60) {
  std::string out;
  for (const unsigned char ch : s.substr(0, max)) {
    if (ch >= 32 && ch < 127 && ch != '\\') {
      out.push_back(static_cast<char>(ch));
    } else if (ch == '\r' || ch == '\n') {
      out += ch == '\r' ? "\\r" : "\\n";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

struct DiffOptions {
  bool encodings = true;      // compare OBJECT ENCODING
  bool expire_times = true;   // compare PEXPIRETIME exactly
  long long pttl_slack = -1;  // >= 0: PTTL may differ by at most this (ms)
  bool ttl_presence = false;  // only whether a key has a TTL (PTTL >= 0)
  size_t max_lines = 12;
};

// The differences between `want` and `got`, one per line ("" when equal).
inline std::string dataset_diff(const Dataset& want, const Dataset& got, DiffOptions o = {}) {
  std::vector<std::string> lines;
  size_t total = 0;
  auto note = [&](int db, const std::string& key, const std::string& what) {
    ++total;
    if (lines.size() < o.max_lines)
      lines.push_back("db " + std::to_string(db) + " key '" + printable(key) + "': " + what);
  };
  std::map<int, bool> dbs;
  for (const auto& [db, t] : want) dbs[db] = true;
  for (const auto& [db, t] : got) dbs[db] = true;
  static const std::map<std::string, KeyState> kEmpty;
  for (const auto& [db, unused] : dbs) {
    const auto wi = want.find(db);
    const auto gi = got.find(db);
    const auto& w = wi == want.end() ? kEmpty : wi->second;
    const auto& g = gi == got.end() ? kEmpty : gi->second;
    if (w.size() != g.size())
      lines.insert(lines.begin(), "db " + std::to_string(db) + ": " + std::to_string(w.size()) +
                                      " keys expected, " + std::to_string(g.size()) + " found");
    for (const auto& [k, ws] : w) {
      const auto it = g.find(k);
      if (it == g.end()) {
        note(db, k, "missing (expected " + ws.type + ")");
        continue;
      }
      const KeyState& gs = it->second;
      if (ws.type != gs.type) {
        note(db, k, "type " + gs.type + ", expected " + ws.type);
        continue;
      }
      if (ws.value != gs.value)
        note(db, k, "value '" + printable(gs.value) + "', expected '" + printable(ws.value) + "'");
      if (ws.members != gs.members) {
        std::vector<std::string> lost, extra;
        std::set_difference(ws.members.begin(), ws.members.end(), gs.members.begin(),
                            gs.members.end(), std::back_inserter(lost));
        std::set_difference(gs.members.begin(), gs.members.end(), ws.members.begin(),
                            ws.members.end(), std::back_inserter(extra));
        note(db, k,
             std::to_string(gs.members.size()) + " members, expected " +
                 std::to_string(ws.members.size()) + "; missing " + std::to_string(lost.size()) +
                 (lost.empty() ? "" : " (e.g. '" + printable(lost[0]) + "')") + ", unexpected " +
                 std::to_string(extra.size()) +
                 (extra.empty() ? "" : " (e.g. '" + printable(extra[0]) + "')"));
      }
      if (o.encodings && ws.encoding != gs.encoding)
        note(db, k, "encoding " + gs.encoding + ", expected " + ws.encoding);
      if (o.expire_times && ws.pexpiretime != gs.pexpiretime)
        note(db, k,
             "PEXPIRETIME " + std::to_string(gs.pexpiretime) + ", expected " +
                 std::to_string(ws.pexpiretime));
      if (o.ttl_presence && (ws.pttl >= 0) != (gs.pttl >= 0))
        note(db, k,
             gs.pttl >= 0 ? "has a TTL (PTTL " + std::to_string(gs.pttl) + "), expected none"
                          : "has no TTL, expected one (PTTL " + std::to_string(ws.pttl) + ")");
      if (o.pttl_slack >= 0) {
        const bool both_persistent = ws.pttl == -1 && gs.pttl == -1;
        const bool close = ws.pttl >= 0 && gs.pttl >= 0 &&
                           std::max(ws.pttl, gs.pttl) - std::min(ws.pttl, gs.pttl) <= o.pttl_slack;
        if (!both_persistent && !close)
          note(db, k,
               "PTTL " + std::to_string(gs.pttl) + ", expected " + std::to_string(ws.pttl) +
                   " +- " + std::to_string(o.pttl_slack));
      }
    }
    for (const auto& [k, gs] : g)
      if (!w.count(k)) note(db, k, "unexpected " + gs.type + " key");
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (total > lines.size()) out += "... " + std::to_string(total) + " key differences in all\n";
  return out;
}

// SADD `members` to `key`, 1000 per command.
inline void sadd_batched(Client& c, const std::string& key,
                         const std::vector<std::string>& members) {
  for (size_t i = 0; i < members.size(); i += 1000) {
    std::vector<std::string> args{"SADD", key};
    for (size_t j = i; j < members.size() && j < i + 1000; ++j) args.push_back(members[j]);
    const RespValue r = c.call(args);
    if (r.is_error()) throw std::runtime_error("SADD " + key + ": " + r.str);
  }
}

// Sends `commands` pipelined (1000 at a time) and returns the replies.
inline std::vector<RespValue> call_pipelined(
    Client& c, const std::vector<std::vector<std::string>>& commands) {
  std::vector<RespValue> out;
  for (size_t i = 0; i < commands.size(); i += 1000) {
    std::string burst;
    const size_t end = std::min(commands.size(), i + 1000);
    for (size_t j = i; j < end; ++j) burst += Client::encode(commands[j]);
    c.send_raw(burst);
    for (size_t j = i; j < end; ++j) {
      auto r = c.read();
      if (!r) throw std::runtime_error("no reply in pipeline to " + commands[j][0]);
      out.push_back(std::move(*r));
    }
  }
  return out;
}

// Bytes that LZF cannot compress (a fixed pseudo-random sequence).
inline std::string noise(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (auto& ch : s) {
    seed = seed * 1103515245u + 12345u;
    ch = static_cast<char>(seed >> 16);
  }
  return s;
}

// Milliseconds since the epoch.
inline long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every kind of value an RDB file holds for setd, written with SET/SADD
// only (so the encodings are the ones a fresh load gives too): strings
// (empty, binary, integers up to the int64 bounds and beyond, short, LZF
// compressible, 1 MB both compressible and not), sets (intsets of 16, 32
// and 64-bit members, hashtables, one of `big_set` members), TTLs with
// millisecond parts, keys in databases 0, 1, 5 and 15. Works on setd and
// on redis-server alike.
inline void fill_sample_dataset(Client& c, size_t big_set = 200000) {
  auto ok = [&](const std::vector<std::string>& args) {
    const RespValue r = c.call(args);
    if (r.is_error()) throw std::runtime_error(args[0] + " " + args[1] + ": " + r.str);
  };
  ok({"SELECT", "0"});
  const std::vector<std::pair<std::string, std::string>> strings = {
      {"str:empty", ""},
      {"str:bin", std::string("a\0b\r\n\xff\x01", 7)},
      {"str:0", "0"},
      {"str:-1", "-1"},
      {"str:int8", "-128"},
      {"str:int16", "-32768"},
      {"str:int32", "2147483647"},
      {"str:int32min", "-2147483648"},
      {"str:int64max", "9223372036854775807"},
      {"str:int64min", "-9223372036854775808"},
      {"str:beyond64", "9223372036854775808"},
      {"str:below64", "-9223372036854775809"},
      {"str:leading0", "007"},
      {"str:plus", "+5"},
      {"str:short", "hello world"},
      {"str:20", std::string(20, 'a')},
      {"str:21", std::string(21, 'a')},
      {"str:lzf", std::string(300, 'x') + "tail" + std::string(300, 'y')},
      {"str:noise", noise(500, 7)},
      {"str:1mb", noise(1 << 20, 11)},
      {"str:1mb-z", std::string(1 << 20, 'z')},
      {std::string("key\0with\r\nbytes", 15), "binary key"},
      {"12345", "integer-looking key"},
  };
  for (const auto& [k, v] : strings) ok({"SET", k, v});
  ok({"SADD", "set:i16", "1", "2", "3", "-32768", "32767"});
  ok({"SADD", "set:i32", "1", "-40000", "2147483647", "-2147483648"});
  ok({"SADD", "set:i64", "-9223372036854775808", "9223372036854775807", "5"});
  ok({"SADD", "set:ht", "a", "b", "c"});
  ok({"SADD", "set:mixed", "1", "2", "x"});
  ok({"SADD", "set:leading0", "007", "7"});
  ok({"SADD", "set:bin", std::string("\0", 1), std::string("m\r\n\xfe", 4), std::string(100, 'L')});
  std::vector<std::string> members;
  for (int i = 0; i < 512; ++i) members.push_back(std::to_string(i * 7 - 1000));
  sadd_batched(c, "set:512ints", members);
  members.push_back("999999");
  sadd_batched(c, "set:513ints", members);
  members.clear();
  for (size_t i = 0; i < big_set; ++i) members.push_back("member:" + std::to_string(i));
  sadd_batched(c, "set:big", members);
  // TTLs with millisecond parts, relative and absolute.
  const long long now = unix_ms();
  ok({"SET", "ttl:str", "expiring", "PX", "3600123"});
  ok({"SET", "ttl:int", "42", "PXAT", std::to_string(now + 7200457)});
  ok({"SADD", "ttl:set", "p", "q"});
  ok({"PEXPIRE", "ttl:set", "5400789"});
  ok({"SADD", "ttl:intset", "10", "20"});
  ok({"PEXPIREAT", "ttl:intset", std::to_string(now + 86400001)});
  ok({"SELECT", "1"});
  ok({"SET", "str:a", "in db 1"});
  ok({"SADD", "set:s", "x", "y", "z"});
  ok({"SET", "ttl:db1", "v", "PX", "1800999"});
  ok({"SELECT", "5"});
  for (int i = 0; i < 100; ++i) {
    ok({"SET", "k:" + std::to_string(i), std::to_string(i * i)});
    ok({"SADD", "s:" + std::to_string(i), std::to_string(i), "m" + std::to_string(i)});
  }
  ok({"SELECT", "15"});
  ok({"SET", "last", "db 15", "PX", "9000001"});
  ok({"SADD", "last-set", "1"});
  ok({"SELECT", "0"});
}

// Writes over fill_sample_dataset()'s keys whose effect is not the command
// itself (what the AOF logs differs): random (SPOP), relative expiries,
// float increments, in-place string edits, a transaction, set stores, key
// moves, RESTORE, a lazily expired key, SWAPDB and FLUSHDB. Works on setd
// and redis-server alike.
inline void apply_write_effects(Client& c) {
  auto ok = [&](const std::vector<std::string>& args) {
    const RespValue r = c.call(args);
    if (r.is_error()) ADD_FAILURE() << args[0] << " " << args[1] << ": " << r.str;
    return r;
  };
  ok({"SELECT", "0"});
  ok({"SPOP", "set:ht"});
  ok({"SPOP", "set:big", "700"});
  ok({"SPOP", "set:i16", "100"});  // the whole set: deleted
  ok({"SRANDMEMBER", "set:big", "5"});
  ok({"EXPIRE", "str:short", "1000"});
  ok({"PEXPIRE", "set:mixed", "777777"});
  ok({"SETEX", "setex", "500", "v"});
  ok({"PSETEX", "psetex", "500123", "v"});
  ok({"SET", "ex", "v", "EX", "1234"});
  ok({"GETEX", "str:noise", "PX", "99999"});
  ok({"GETDEL", "str:-1"});
  ok({"INCRBYFLOAT", "str:int32", "1.5"});
  ok({"INCRBYFLOAT", "float", "3.0e3"});
  ok({"INCRBYFLOAT", "float", "0.1"});
  ok({"INCR", "counter"});
  ok({"INCRBY", "counter", "41"});
  ok({"APPEND", "str:short", "!"});
  ok({"SETRANGE", "str:20", "30", "x"});
  ok({"MULTI"});
  ok({"SADD", "tx", "1", "2", "3", "4"});
  ok({"SPOP", "tx"});
  ok({"SET", "tx:str", "in multi", "PX", "600000"});
  ok({"EXEC"});
  ok({"SMOVE", "set:ht", "moved", "nonexistent-member"});
  ok({"SMOVE", "set:mixed", "moved", "x"});
  ok({"SINTERSTORE", "inter", "set:512ints", "set:513ints"});
  ok({"SUNIONSTORE", "union", "set:i32", "set:i64"});
  ok({"SDIFFSTORE", "diff", "set:513ints", "set:512ints"});
  ok({"RENAME", "str:lzf", "renamed"});
  ok({"COPY", "set:bin", "copied"});
  ok({"MOVE", "str:plus", "7"});
  ok({"PERSIST", "ttl:set"});
  ok({"SREM", "set:leading0", "7"});
  ok({"RESTORE", "restored", "100000", c.call({"DUMP", "set:i32"}).str});
  ok({"SET", "short-lived", "v", "PX", "30"});
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  ok({"GET", "short-lived"});  // expired: deleted now (and logged as DEL)
  ok({"SWAPDB", "1", "5"});
  ok({"SELECT", "15"});
  ok({"FLUSHDB"});
  ok({"SADD", "after-flush", "a"});
  ok({"SELECT", "0"});
}

}  // namespace setd::testing
