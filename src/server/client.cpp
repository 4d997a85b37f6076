#include "setd/server/client.hpp"

namespace setd::server {

size_t Client::memory_usage() const {
  size_t n = sizeof(Client) + query_buffer_cap + out.capacity() + pending_write;
  for (const auto& q : multi_queue) {
    n += sizeof(QueuedCommand) + q.args.size() * sizeof(std::string);
    for (const auto& a : q.args) n += a.size();
  }
  n += (subscriptions() + watched.size()) * sizeof(void*);
  return n;
}

void Client::push_message(std::string_view kind, std::string_view pattern, std::string_view channel,
                          std::string_view payload) {
  if (killed) return;
  const size_t start = begin_push();
  reply.push(pattern.empty() ? 3 : 4);
  reply.bulk(kind);
  if (!pattern.empty()) reply.bulk(pattern);
  reply.bulk(channel);
  reply.bulk(payload);
  end_push(start);
  if (transport) transport->wake();
}

void Client::deliver(std::string_view pattern, std::string_view channel, std::string_view payload) {
  push_message(pattern.empty() ? "message" : "pmessage", pattern, channel, payload);
}

void Client::ShardEndpoint::deliver(std::string_view, std::string_view channel,
                                    std::string_view payload) {
  owner_->push_message("smessage", {}, channel, payload);
}

}  // namespace setd::server
