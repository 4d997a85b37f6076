#include "setd/server/set_events.hpp"

#include "setd/base/json.hpp"
#include "setd/base/strconv.hpp"

namespace setd::server {

namespace {
constexpr std::string_view kChannels[] = {"set.added",
                                          "set.removed",
                                          "set.members_read",
                                          "set.ismember_check",
                                          "set.mismember_check",
                                          "set.cardinality",
                                          "set.random_draw",
                                          "set.popped",
                                          "set.moved",
                                          "set.intersection",
                                          "set.intersection_stored",
                                          "set.intercard",
                                          "set.union",
                                          "set.union_stored",
                                          "set.difference",
                                          "set.difference_stored",
                                          "set.scan",
                                          "set.unioncard",
                                          "set.diffcard"};
static_assert(sizeof(kChannels) / sizeof(kChannels[0]) == static_cast<size_t>(SetEvent::kCount));
}  // namespace

std::string_view set_event_channel(SetEvent e) { return kChannels[static_cast<size_t>(e)]; }

bool set_event_is_write(SetEvent e) {
  switch (e) {
    case SetEvent::kAdded:
    case SetEvent::kRemoved:
    case SetEvent::kPopped:
    case SetEvent::kMoved:
    case SetEvent::kIntersectionStored:
    case SetEvent::kUnionStored:
    case SetEvent::kDifferenceStored:
      return true;
    default:
      return false;
  }
}

SetEventJson::SetEventJson(std::string& buf, SetEvent e, int db) : buf_(buf) {
  buf_.clear();
  buf_ += "{\"event\":\"";
  buf_ += set_event_channel(e);
  buf_ += "\",\"db\":";
  buf_ += base::ll_to_string(db);
}

void SetEventJson::name(std::string_view field) {
  buf_ += ",\"";
  buf_ += field;
  buf_ += "\":";
}

SetEventJson& SetEventJson::str(std::string_view field, std::string_view value) {
  name(field);
  base::json_append_string(buf_, value);
  return *this;
}

SetEventJson& SetEventJson::num(std::string_view field, long long value) {
  name(field);
  buf_ += base::ll_to_string(value);
  return *this;
}

SetEventJson& SetEventJson::null(std::string_view field) {
  name(field);
  buf_ += "null";
  return *this;
}

SetEventJson& SetEventJson::strs(std::string_view field, std::span<const std::string_view> values) {
  name(field);
  buf_ += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) buf_ += ',';
    base::json_append_string(buf_, values[i]);
  }
  buf_ += ']';
  return *this;
}

std::string_view SetEventJson::finish() {
  buf_ += '}';
  return buf_;
}

void SetEventPublisher::publish(SetEventJson& json) {
  const std::string_view payload = json.finish();
  hub_.publish(set_event_channel(current_), payload);
}

void SetEventPublisher::refresh() {
  generation_ = hub_.generation();
  listening_ = 0;
  for (size_t i = 0; i < static_cast<size_t>(SetEvent::kCount); ++i)
    if (hub_.has_listener(kChannels[i])) listening_ |= 1u << i;
}

}  // namespace setd::server
