#include "setd/server/client.hpp"

namespace setd::server {

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
