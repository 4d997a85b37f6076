// Traffic patterns every connection must survive, whatever carries it
// (plain TCP, TLS): each takes a factory of connected clients.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {

// A new client connected to the server under test, with this read timeout
// (ms).
using ClientFactory = std::function<std::unique_ptr<Client>(int timeout_ms)>;

// Plain TCP clients of `port`.
inline ClientFactory plain_clients(int port) {
  return [port](int timeout_ms) { return std::make_unique<Client>(port, timeout_ms); };
}

// Replies far beyond the socket buffers: sends stop part-way, reading
// pauses while the backlog is over its limit, and the rest of the pipeline
// runs when the client catches up. Nothing may be lost or reordered.
inline void expect_slow_reader_gets_every_reply(const ClientFactory& connect) {
  auto client = connect(10000);
  Client& slow = *client;
  std::string burst;
  for (int i = 0; i < 200; ++i)
    burst += Client::encode({"ECHO", std::to_string(i) + std::string(64 * 1024, 'x')});
  std::thread sender([&] { slow.send_raw(burst); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 200; ++i) {
    auto r = slow.read();
    ASSERT_TRUE(r.has_value()) << "reply " << i;
    ASSERT_EQ(r->str, std::to_string(i) + std::string(64 * 1024, 'x')) << "reply " << i;
  }
  sender.join();
  EXPECT_EQ(slow.call({"PING"}).str, "PONG");
}

// Small requests with big replies, all sent at once and read as fast as they
// come: reading pauses at the backlog limit with requests still in the
// input buffer, and each time the output drains those must run although
// the client sends nothing more.
inline void expect_fast_reader_gets_every_reply(const ClientFactory& connect) {
  auto client = connect(10000);
  Client& c = *client;
  c.call({"DEL", "fastreader"});
  for (int base = 0; base < 20000; base += 1000) {
    std::vector<std::string> args{"SADD", "fastreader"};
    for (int i = base; i < base + 1000; ++i) args.push_back("member:" + std::to_string(100000 + i));
    ASSERT_EQ(c.call(args).integer, 1000);
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string burst;
    for (int i = 0; i < 100; ++i) burst += "SMEMBERS fastreader\r\n";
    c.send_raw(burst);
    // Each reply: *20000, then 20000 times $13 member:1ddddd.
    const size_t reply = 8 + 20000 * 20;
    const std::string got = c.read_bytes(100 * reply);
    ASSERT_EQ(got.size(), 100 * reply) << "attempt " << attempt;
    for (int i = 0; i < 100; ++i) ASSERT_EQ(got.compare(i * reply, 8, "*20000\r\n"), 0) << i;
  }
  EXPECT_EQ(c.call({"DEL", "fastreader"}).integer, 1);
}

// Interleaved readiness of many sockets in one wake-up of the loop.
inline void expect_many_clients_get_their_own_replies(const ClientFactory& connect) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 60; ++i) clients.push_back(connect(5000));
  for (int round = 0; round < 20; ++round) {
    for (size_t i = 0; i < clients.size(); ++i)
      clients[i]->send({"ECHO", std::to_string(round) + ":" + std::to_string(i)});
    for (size_t i = 0; i < clients.size(); ++i) {
      auto r = clients[i]->read();
      ASSERT_TRUE(r.has_value());
      ASSERT_EQ(r->str, std::to_string(round) + ":" + std::to_string(i));
    }
  }
}

}  // namespace setd::testing
