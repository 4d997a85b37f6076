// In-process command runner for unit tests: a real ServerState and
// Dispatcher with clients that have no socket. run({"sadd","k","v"}) returns
// the parsed reply.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "setd/cmd/dispatcher.hpp"
#include "setd/proto/reply_reader.hpp"
#include "setd/script/engine.hpp"
#include "setd/server/server_state.hpp"

namespace setd::testing {

using proto::RespValue;

class Runner {
 public:
  // No save points: an in-process server must never write dump.rdb into
  // the test's working directory (FLUSHALL saves when there are some).
  Runner()
      : state_(no_save_points()),
        dispatcher_(state_),
        scripts_(script::install(dispatcher_)),
        client_(&state_.add_client()) {}

  server::ServerState& state() { return state_; }
  cmd::Dispatcher& dispatcher() { return dispatcher_; }
  server::Client& client() { return *client_; }

  // Another client of the same server (pub/sub, WATCH tests).
  server::Client& new_client() { return state_.add_client(); }

  RespValue run(std::initializer_list<std::string_view> args) { return run_as(*client_, args); }
  RespValue run(const std::vector<std::string>& args) { return run_as(*client_, args); }

  RespValue run_as(server::Client& c, std::initializer_list<std::string_view> args) {
    std::vector<std::string_view> v(args);
    return exec(c, v);
  }
  RespValue run_as(server::Client& c, const std::vector<std::string>& args) {
    std::vector<std::string_view> v(args.begin(), args.end());
    return exec(c, v);
  }

  // Every reply (or push) waiting in a client's buffer, in order.
  std::vector<RespValue> drain(server::Client& c) {
    std::vector<RespValue> out;
    if (&c == client_) out.swap(pending_pushes_);
    std::string_view buf = c.out;
    while (!buf.empty()) {
      size_t used = 0;
      auto v = proto::read_reply(buf, used);
      if (!v) break;
      out.push_back(std::move(*v));
      buf.remove_prefix(used);
    }
    c.out.clear();
    return out;
  }

 private:
  static server::Config no_save_points() {
    server::Config c;
    c.set("save", "", false);
    return c;
  }

  RespValue exec(server::Client& c, const std::vector<std::string_view>& args) {
    const size_t before = c.out.size();
    dispatcher_.dispatch(c, args);
    if (c.out.size() == before) return RespValue{};  // no reply (CLIENT REPLY OFF ...)
    std::string_view buf(c.out);
    buf.remove_prefix(before);
    // The command's own reply is the last one written; pushes may precede it.
    std::vector<RespValue> replies;
    while (!buf.empty()) {
      size_t used = 0;
      auto v = proto::read_reply(buf, used);
      if (!v) break;
      replies.push_back(std::move(*v));
      buf.remove_prefix(used);
    }
    c.out.resize(before);
    if (replies.empty()) return RespValue{};
    // Keep pushes (messages) queued for drain(); return the reply proper.
    RespValue last = std::move(replies.back());
    replies.pop_back();
    for (auto& r : replies) pending_pushes_.push_back(std::move(r));
    return last;
  }

  server::ServerState state_;
  cmd::Dispatcher dispatcher_;
  std::unique_ptr<script::Engine> scripts_;  // EVAL, FUNCTION
  server::Client* client_;
  std::vector<RespValue> pending_pushes_;
};

// A propagation sink that records what call() hands on (AOF, replicas) as
// "<db>: ARG ARG ...", for propagation tests.
class PropagationCapture : public server::PropagationSink {
 public:
  void feed(int db, std::span<const std::string> args) override {
    std::string line = std::to_string(db) + ":";
    for (const auto& a : args) line += " " + a;
    lines.push_back(line);
  }
  std::vector<std::string> take() {
    std::vector<std::string> out;
    out.swap(lines);
    return out;
  }
  std::vector<std::string> lines;
};

// Shorthands for assertions.
inline std::string S(const RespValue& v) { return v.to_string(); }

}  // namespace setd::testing
