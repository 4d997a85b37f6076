#include "setd/server/client.hpp"

namespace setd::server {

void Client::deliver(std::string_view pattern, std::string_view channel, std::string_view payload) {
  if (killed) return;
  if (pattern.empty()) {
    reply.push(3);
    reply.bulk("message");
  } else {
    reply.push(4);
    reply.bulk("pmessage");
    reply.bulk(pattern);
  }
  reply.bulk(channel);
  reply.bulk(payload);
  if (transport) transport->wake();
}

}  // namespace setd::server
