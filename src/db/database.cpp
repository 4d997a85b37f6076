#include "setd/db/database.hpp"

#include "setd/base/clock.hpp"
#include "setd/base/memory.hpp"

namespace setd::db {

bool Database::expire_if_needed(std::string_view key) {
  if (expires_.size() == 0) return false;
  const ExpiryMode mode = expiry_mode();
  if (mode == ExpiryMode::kSuspended) return false;
  const int64_t* when = expires_.find(key);
  if (!when || *when > base::now_ms()) return false;
  if (mode == ExpiryMode::kReportOnly) return true;  // a replica: the master deletes it
  if (observer_ != nullptr) {
    if (Value* v = keys_.find(key)) before_change(key, *v);
  }
  // Tell the hook first: it may want to read the key's name before it goes.
  if (auto v = keys_.take(key)) base::note_freed(v->heap_bytes());
  expires_.erase(key);
  if (on_expired) on_expired(*this, key);
  return true;
}

Value* Database::find(std::string_view key) {
  if (expire_if_needed(key)) return nullptr;
  return keys_.find(key);
}

Value* Database::find_for_write(std::string_view key) {
  Value* v = find(key);
  if (v != nullptr) before_change(key, *v);
  return v;
}

void Database::prepare_write(std::string_view key) {
  if (observer_ == nullptr) return;
  if (Value* v = keys_.find(key)) before_change(key, *v);
}

const Value* Database::peek(std::string_view key) const {
  if (is_expired(key)) return nullptr;
  return keys_.find(key);
}

bool Database::is_expired(std::string_view key) const {
  if (expires_.size() == 0 || expiry_mode() == ExpiryMode::kSuspended) return false;
  const int64_t* when = expires_.find(key);
  return when && *when <= base::now_ms();
}

Value& Database::set(std::string_view key, Value v, bool keep_ttl) {
  v.lru_seconds = lru_clock();
  v.snap_mark = mark_;  // a new value is never part of a running snapshot
  if (Value* existing = keys_.find(key)) {
    before_change(key, *existing);
    if (!keep_ttl) expires_.erase(key);
    base::note_freed(existing->heap_bytes());
    *existing = std::move(v);
    return *existing;
  }
  if (!keep_ttl) expires_.erase(key);
  return *keys_.insert(key, std::move(v)).first;
}

Value& Database::add(std::string_view key, Value v) {
  v.lru_seconds = lru_clock();
  v.snap_mark = mark_;
  return *keys_.insert(key, std::move(v)).first;
}

bool Database::erase(std::string_view key) {
  if (expire_if_needed(key)) return false;
  if (observer_ != nullptr) {
    if (Value* v = keys_.find(key)) before_change(key, *v);
  }
  auto v = keys_.take(key);
  if (!v) return false;
  base::note_freed(v->heap_bytes());
  expires_.erase(key);
  return true;
}

std::optional<std::pair<Value, int64_t>> Database::take(std::string_view key) {
  if (expire_if_needed(key)) return std::nullopt;
  if (observer_ != nullptr) {
    if (Value* v = keys_.find(key)) before_change(key, *v);
  }
  auto v = keys_.take(key);
  if (!v) return std::nullopt;
  int64_t ttl = -1;
  if (auto when = expires_.take(key)) ttl = *when;
  return std::make_pair(std::move(*v), ttl);
}

void Database::clear() {
  if (observer_ != nullptr) observer_->before_clear(*this);
  base::note_freed(keys_.size() * 64);  // an estimate: entries, buckets, small values
  keys_.clear();
  expires_.clear();
  avg_ttl_ = 0;
}

std::pair<ds::Dict<Value>, ds::Dict<int64_t>> Database::take_contents() {
  std::pair<ds::Dict<Value>, ds::Dict<int64_t>> out{std::move(keys_), std::move(expires_)};
  avg_ttl_ = 0;
  return out;
}

int64_t Database::expire_at(std::string_view key) const {
  const int64_t* when = expires_.find(key);
  return when ? *when : -1;
}

void Database::set_expire(std::string_view key, int64_t when_ms) {
  if (observer_ != nullptr) {
    if (Value* v = keys_.find(key)) before_change(key, *v);
  }
  if (int64_t* when = expires_.find(key))
    *when = when_ms;
  else
    expires_.insert(key, when_ms);
}

bool Database::persist(std::string_view key) {
  if (observer_ != nullptr && expires_.contains(key)) {
    if (Value* v = keys_.find(key)) before_change(key, *v);
  }
  return expires_.erase(key);
}

std::optional<std::string> Database::random_key(base::Rng& rng) {
  // Bounded retries: when every key is expired, give up after a while, as
  // Redis does, rather than loop.
  for (int tries = 0; tries < 100 && keys_.size() > 0; ++tries) {
    auto entry = keys_.random_entry(rng);
    if (!entry) return std::nullopt;
    std::string key(entry->first);
    if (!expire_if_needed(key)) return key;
  }
  return std::nullopt;
}

std::pair<size_t, size_t> Database::expire_cycle_step(base::Rng& rng, size_t samples) {
  if (expires_.size() == 0 || expiry_mode() != ExpiryMode::kActive) return {0, 0};
  std::vector<std::string> due;
  size_t sampled = 0;
  long long ttl_sum = 0, ttl_count = 0;
  const int64_t now = base::now_ms();
  expires_.sample(rng, samples, [&](std::string_view key, int64_t& when) {
    ++sampled;
    if (when <= now) {
      due.emplace_back(key);
    } else {
      ttl_sum += when - now;
      ++ttl_count;
    }
  });
  for (const auto& key : due) expire_if_needed(key);
  if (ttl_count) {
    const long long avg = ttl_sum / ttl_count;
    // Running estimate, as Redis's avg_ttl.
    avg_ttl_ = avg_ttl_ ? (avg_ttl_ / 50) * 49 + avg / 50 : avg;
  }
  return {sampled, due.size()};
}

void Database::swap_contents(Database& other) {
  if (observer_ != nullptr) observer_->before_swap(*this, other);
  std::swap(keys_, other.keys_);
  std::swap(expires_, other.expires_);
  std::swap(avg_ttl_, other.avg_ttl_);
}

}  // namespace setd::db
