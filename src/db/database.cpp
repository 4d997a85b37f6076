#include "setd/db/database.hpp"

#include "setd/base/clock.hpp"
#include "setd/base/memory.hpp"

namespace setd::db {

bool Database::expire_if_needed(std::string_view key) {
  if (keys_.expires_size() == 0) return false;
  const ExpiryMode mode = expiry_mode();
  if (mode == ExpiryMode::kSuspended) return false;
  Value* v = keys_.find(key);
  if (v == nullptr || !v->has_expire() || v->expire_ms() > base::now_ms()) return false;
  if (mode == ExpiryMode::kReportOnly) return true;  // a replica: the master deletes it
  before_change(key, *v);
  // `key` may be the entry's own view: keep a copy for the hook.
  const std::string name(key);
  const int64_t start = base::monotonic_us();
  remove(name, *v, free_control_ != nullptr && free_control_->lazy_expire);
  last_expire_delete_us_ = base::monotonic_us() - start;
  if (on_expired) on_expired(*this, name);
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
  const Value* v = keys_.find(key);
  if (v == nullptr || !v->has_expire() || expiry_mode() == ExpiryMode::kSuspended) return v;
  return v->expire_ms() <= base::now_ms() ? nullptr : v;
}

bool Database::is_expired(std::string_view key) const {
  if (keys_.expires_size() == 0 || expiry_mode() == ExpiryMode::kSuspended) return false;
  const Value* v = keys_.find(key);
  return v != nullptr && v->has_expire() && v->expire_ms() <= base::now_ms();
}

Value& Database::set(std::string_view key, Object o, bool keep_ttl, int64_t expire_ms) {
  o.stamp_access();
  if (Value* existing = keys_.find(key)) {
    before_change(key, *existing);
    // An overwrite keeps the key's LFU counter (Redis's dbOverwrite).
    if (access_tracking().lfu) o.lru = existing->lru();
    if (expire_ms < 0 && keep_ttl) expire_ms = existing->expire_ms();
    // lazyfree-lazy-server-del: the old set goes to the lazy freer (Redis's
    // dbOverwrite); a string is one allocation, freed here.
    if (existing->type() == Type::kSet && free_control_ != nullptr &&
        free_control_->lazy_server_del && free_control_->lazy_free) {
      const size_t bytes = existing->heap_bytes();
      free_control_->lazy_free(Object::set(std::move(existing->as_set())), bytes);
    }
    return keys_.replace(*existing, std::move(o), expire_ms, mark_);
  }
  // A new value is never part of a running snapshot: born marked.
  return keys_.insert(key, std::move(o), expire_ms, mark_);
}

Value& Database::add(std::string_view key, Object o, int64_t expire_ms, bool keep_lru) {
  if (!keep_lru) o.stamp_access();
  return keys_.insert(key, std::move(o), expire_ms, mark_);
}

bool Database::remove(std::string_view key, Value& v, bool lazy) {
  const std::string name(key);  // `key` may be the entry's own view
  const size_t bytes = v.heap_bytes();
  if (lazy && free_control_ != nullptr && free_control_->lazy_free) {
    auto taken = keys_.take(name);
    if (!taken) return false;
    free_control_->lazy_free(std::move(taken->first), bytes);
    return true;
  }
  base::note_freed(bytes);
  return keys_.erase(name);
}

bool Database::erase(std::string_view key) {
  if (expire_if_needed(key)) return false;
  Value* v = keys_.find(key);
  if (v == nullptr) return false;
  before_change(key, *v);
  return remove(key, *v, free_control_ != nullptr && free_control_->lazy_server_del);
}

bool Database::erase_sync(std::string_view key) {
  if (expire_if_needed(key)) return false;
  Value* v = keys_.find(key);
  if (v == nullptr) return false;
  before_change(key, *v);
  return remove(key, *v, false);
}

bool Database::rehash_for(int64_t budget_us) {
  if (!keys_.rehashing()) return false;
  const int64_t start = base::monotonic_us();
  while (keys_.rehash_step(100))
    if (base::monotonic_us() - start >= budget_us) break;
  return true;
}

bool Database::evict(std::string_view key) {
  Value* v = keys_.find(key);
  if (v == nullptr) return false;
  before_change(key, *v);
  const std::string name(key);
  return keys_.erase(name);  // the evictor notes what was freed
}

std::optional<Object> Database::evict_take(std::string_view key) {
  Value* v = keys_.find(key);
  if (v == nullptr) return std::nullopt;
  before_change(key, *v);
  const std::string name(key);
  auto taken = keys_.take(name);
  if (!taken) return std::nullopt;
  return std::move(taken->first);
}

std::optional<std::pair<Object, int64_t>> Database::take(std::string_view key) {
  if (expire_if_needed(key)) return std::nullopt;
  Value* v = keys_.find(key);
  if (v == nullptr) return std::nullopt;
  before_change(key, *v);
  const std::string name(key);
  return keys_.take(name);
}

void Database::clear() {
  if (observer_ != nullptr) observer_->before_clear(*this);
  base::note_freed(keys_.size() * 64);  // an estimate: entries, buckets, small values
  keys_.clear();
  avg_ttl_ = 0;
  expire_cursor_ = 0;
}

Keyspace Database::take_contents() {
  Keyspace out(std::move(keys_));
  avg_ttl_ = 0;
  expire_cursor_ = 0;
  return out;
}

int64_t Database::expire_at(std::string_view key) const {
  const Value* v = keys_.find(key);
  return v ? v->expire_ms() : -1;
}

Value* Database::set_expire(std::string_view key, int64_t when_ms) {
  Value* v = keys_.find(key);
  if (v == nullptr) return nullptr;
  before_change(key, *v);
  return &keys_.set_expire(*v, when_ms);
}

bool Database::persist(std::string_view key) {
  Value* v = keys_.find(key);
  if (v == nullptr || !v->has_expire()) return false;
  before_change(key, *v);
  keys_.set_expire(*v, -1);
  return true;
}

std::optional<std::string> Database::random_key(base::Rng& rng) {
  // Bounded retries: when every key is expired, give up after a while, as
  // Redis does, rather than loop.
  for (int tries = 0; tries < 100 && keys_.size() > 0; ++tries) {
    Value* v = keys_.random(rng);
    if (v == nullptr) return std::nullopt;
    std::string key(v->key());
    if (!expire_if_needed(key)) return key;
  }
  return std::nullopt;
}

std::pair<size_t, size_t> Database::expire_cycle_step(size_t samples) {
  if (keys_.expires_size() == 0 || expiry_mode() != ExpiryMode::kActive) return {0, 0};
  std::vector<std::string> due;
  size_t sampled = 0, visited = 0;
  long long ttl_sum = 0, ttl_count = 0;
  const int64_t now = base::now_ms();
  // Whole buckets at a time, from where the last step stopped, until enough
  // keys with a TTL were seen (or enough keys at all, when few have one).
  do {
    expire_cursor_ = keys_.scan(expire_cursor_, [&](Value& v) {
      ++visited;
      if (!v.has_expire()) return;
      ++sampled;
      const int64_t when = v.expire_ms();
      if (when <= now) {
        due.emplace_back(v.key());
      } else {
        ttl_sum += when - now;
        ++ttl_count;
      }
    });
  } while (expire_cursor_ != 0 && sampled < samples && visited < samples * kVisitsPerSample);
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
  keys_.swap(other.keys_);
  std::swap(avg_ttl_, other.avg_ttl_);
  std::swap(expire_cursor_, other.expire_cursor_);
}

}  // namespace setd::db
