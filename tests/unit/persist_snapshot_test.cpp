// The fork-free snapshot (persist/snapshot.hpp) is a true point-in-time
// image: whatever happens to the databases while it is written, the dump
// holds exactly the keys, values and TTLs of the moment it started.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "setd/db/database.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/snapshot.hpp"

namespace setd::persist {
namespace {

// What a key holds, comparable: type, value (sorted members for sets), TTL.
struct Entry {
  std::string type;
  std::vector<std::string> value;
  int64_t expire = -1;
  bool operator==(const Entry&) const = default;
};
using Image = std::map<std::pair<int, std::string>, Entry>;

Entry describe(db::ValueView v, int64_t expire) {
  Entry e;
  e.expire = expire;
  if (v.type == db::Type::kString) {
    e.type = "string";
    e.value = {std::string(v.str)};
  } else {
    e.type = "set";
    v.set->for_each([&](std::string_view m) { e.value.emplace_back(m); });
    std::sort(e.value.begin(), e.value.end());
  }
  return e;
}

Image image_of(std::vector<std::unique_ptr<db::Database>>& dbs) {
  Image img;
  for (size_t i = 0; i < dbs.size(); ++i) {
    dbs[i]->for_each([&](std::string_view k, db::Value& v) {
      img[{static_cast<int>(i), std::string(k)}] = describe(v, dbs[i]->expire_at(k));
    });
  }
  return img;
}

class StringSink final : public SnapshotSink {
 public:
  void write(std::string&& chunk) override {
    ++chunks;
    bytes += chunk;
  }
  void finish() override {
    const uint64_t crc = crc64(0, bytes);
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
    finished = true;
  }
  size_t backlog() const override { return 0; }
  std::string bytes;
  int chunks = 0;
  bool finished = false;
};

class Collect final : public RdbVisitor {
 public:
  std::string on_key(LoadedKey&& k) override {
    auto [it, added] = img.try_emplace({k.db, k.key}, describe(k.value, k.expire_ms));
    if (!added) return "key written twice: " + k.key;
    return "";
  }
  Image img;
};

Image decode(const std::string& bytes) {
  StringSource src(bytes);
  Collect c;
  const auto r = decode_rdb(src, c, {});
  EXPECT_TRUE(r.ok) << r.error << " at " << r.offset;
  return c.img;
}

db::Object set_of(std::initializer_list<std::string_view> members) {
  ds::SetObject s;
  for (auto m : members) s.add(m, ds::SetLimits::redis70());
  return db::Object::set(std::move(s));
}

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() {
    for (int i = 0; i < 3; ++i) dbs.push_back(std::make_unique<db::Database>(i));
  }
  std::vector<db::Database*> raw() {
    std::vector<db::Database*> out;
    for (auto& d : dbs) out.push_back(d.get());
    return out;
  }
  void fill(int n) {
    for (int i = 0; i < n; ++i) {
      auto& d = *dbs[static_cast<size_t>(i % 3)];
      const std::string k = "k" + std::to_string(i);
      if (i % 2)
        d.add(k, db::Object::string("v" + std::to_string(i)));
      else
        d.add(k, set_of({"a", std::to_string(i), "m" + std::to_string(i)}));
      if (i % 5 == 0) d.set_expire(k, 4000000000000 + i);
    }
  }
  std::vector<std::unique_ptr<db::Database>> dbs;
};

TEST_F(SnapshotTest, QuietDatabasesAreWrittenWhole) {
  fill(1000);
  const Image before = image_of(dbs);
  StringSink sink;
  Snapshot snap(raw(), &sink, {});
  while (!snap.step(7, SIZE_MAX)) {
  }
  EXPECT_TRUE(sink.finished);
  EXPECT_EQ(decode(sink.bytes), before);
  EXPECT_EQ(snap.keys_written(), 1000u);
}

TEST_F(SnapshotTest, ChangesDuringTheSnapshotAreNotInIt) {
  fill(600);
  const Image at_start = image_of(dbs);
  StringSink sink;
  Snapshot snap(raw(), &sink, {});
  snap.step(50, SIZE_MAX);
  // Every kind of change, to keys saved already and to keys not reached yet.
  for (int i = 0; i < 600; i += 7) {
    auto& d = *dbs[static_cast<size_t>(i % 3)];
    const std::string k = "k" + std::to_string(i);
    switch (i % 6) {
      case 0:
        if (db::Value* v = d.find_for_write(k))
          v->as_set().add("new-member", ds::SetLimits::redis70());
        break;
      case 1:
        d.set(k, db::Object::string("overwritten"));
        break;
      case 2:
        d.erase(k);
        break;
      case 3:
        d.set_expire(k, 4100000000000);
        break;
      case 4:
        d.persist(k);
        break;
      default:
        d.take(k);
        break;
    }
    d.add("after" + std::to_string(i), db::Object::string("x"));
  }
  while (!snap.step(13, SIZE_MAX)) {
  }
  EXPECT_EQ(decode(sink.bytes), at_start);
}

TEST_F(SnapshotTest, FlushAndSwapDuringTheSnapshot) {
  fill(900);
  const Image at_start = image_of(dbs);
  StringSink sink;
  Snapshot snap(raw(), &sink, {});
  snap.step(100, SIZE_MAX);
  dbs[1]->clear();  // FLUSHDB of a database not walked yet
  dbs[1]->add("new-in-1", db::Object::string("x"));
  dbs[0]->swap_contents(*dbs[2]);  // SWAPDB 0 2
  dbs[0]->erase("k2");             // was in db 2 at the start
  dbs[2]->set("k3", db::Object::string("changed"));
  snap.step(100, SIZE_MAX);
  dbs[0]->clear();
  while (!snap.step(31, SIZE_MAX)) {
  }
  EXPECT_EQ(decode(sink.bytes), at_start);
}

TEST_F(SnapshotTest, ExpiryDuringTheSnapshotKeepsTheKeyInIt) {
  dbs[0]->add("soon", db::Object::string("v"));
  dbs[0]->set_expire("soon", 1);  // already due: the next lookup deletes it
  for (int i = 0; i < 100; ++i) dbs[0]->add("k" + std::to_string(i), db::Object::string("v"));
  const Image at_start = image_of(dbs);
  StringSink sink;
  Snapshot snap(raw(), &sink, {});
  EXPECT_EQ(dbs[0]->find("soon"), nullptr);  // lazy expiry
  while (!snap.step(10, SIZE_MAX)) {
  }
  EXPECT_EQ(decode(sink.bytes), at_start);
}

// Random operations interleaved with random slices, many times over.
TEST_F(SnapshotTest, RandomInterleavingsArePointInTime) {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 30; ++round) {
    for (auto& d : dbs) d->clear();
    fill(static_cast<int>(rng() % 400));
    const Image at_start = image_of(dbs);
    StringSink sink;
    Snapshot snap(raw(), &sink, {});
    int n = 0;
    while (!snap.step(1 + rng() % 20, SIZE_MAX)) {
      for (int ops = static_cast<int>(rng() % 6); ops > 0; --ops) {
        auto& d = *dbs[rng() % 3];
        const std::string k = "k" + std::to_string(rng() % 450);
        switch (rng() % 9) {
          case 0:
            if (db::Value* v = d.find_for_write(k); v && v->type() == db::Type::kSet)
              v->as_set().add("r" + std::to_string(n++), ds::SetLimits::redis70());
            break;
          case 1:
            d.set(k, db::Object::string("s" + std::to_string(n++)));
            break;
          case 2:
            d.erase(k);
            break;
          case 3:
            if (d.find(k)) d.set_expire(k, 4200000000000);
            break;
          case 4:
            d.persist(k);
            break;
          case 5:
            if (rng() % 20 == 0) d.clear();
            break;
          case 6:
            if (rng() % 20 == 0) dbs[0]->swap_contents(*dbs[1 + rng() % 2]);
            break;
          case 7:
            if (auto t = d.take(k))
              dbs[rng() % 3]->set("moved" + std::to_string(n++), std::move(t->first));
            break;
          default:
            if (!d.find(k)) d.add(k, db::Object::string("late"));
            break;
        }
      }
    }
    ASSERT_EQ(decode(sink.bytes), at_start) << "round " << round;
  }
}

// An abandoned snapshot writes nothing more but still marks every key, so
// the next one is complete.
TEST_F(SnapshotTest, AbortedSnapshotLeavesTheNextOneWhole) {
  fill(500);
  {
    StringSink sink;
    Snapshot snap(raw(), &sink, {});
    snap.step(40, SIZE_MAX);
    snap.abort();
    const size_t written = sink.bytes.size();
    while (!snap.step(40, SIZE_MAX)) {
    }
    EXPECT_EQ(sink.bytes.size(), written);
    EXPECT_FALSE(sink.finished);
  }
  for (int i = 0; i < 3; ++i) {  // and again, whatever the marks are now
    StringSink sink;
    Snapshot snap(raw(), &sink, {});
    const Image at_start = image_of(dbs);
    while (!snap.step(9, SIZE_MAX)) {
    }
    EXPECT_EQ(decode(sink.bytes), at_start);
  }
}

// Big sets touched before the walk reached them are walked a bucket at a
// time; whatever happens to them afterwards, the image holds them as they
// were.
TEST_F(SnapshotTest, BigSetsChangedMidSnapshotAreSavedAsTheyWere) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 6; ++round) {
    for (auto& d : dbs) d->clear();
    for (int k = 0; k < 12; ++k) {
      ds::SetObject s;
      for (int i = 0; i < 3000 + k * 100; ++i)
        s.add("m" + std::to_string(i), ds::SetLimits::redis70());
      dbs[static_cast<size_t>(k % 3)]->add("big" + std::to_string(k),
                                           db::Object::set(std::move(s)));
      if (k % 4 == 0)
        dbs[static_cast<size_t>(k % 3)]->set_expire("big" + std::to_string(k), 4e12 + k);
    }
    fill(50);
    const Image at_start = image_of(dbs);
    StringSink sink;
    Snapshot snap(raw(), &sink, {});
    int n = 0;
    while (!snap.step(1 + rng() % 5, SIZE_MAX)) {
      for (int ops = static_cast<int>(rng() % 30); ops > 0; --ops) {
        const int k = static_cast<int>(rng() % 12);
        auto& d = *dbs[static_cast<size_t>(k % 3)];
        const std::string key = "big" + std::to_string(k);
        switch (rng() % 10) {
          case 0:
            d.erase(key);
            break;
          case 1:
            d.set(key, db::Object::string("replaced"));
            break;
          case 2:
            if (auto t = d.take(key))
              dbs[rng() % 3]->set("moved" + std::to_string(n++), std::move(t->first));
            break;
          case 3:
            if (rng() % 10 == 0) d.clear();
            break;
          default:
            if (db::Value* v = d.find_for_write(key); v && v->type() == db::Type::kSet) {
              if (rng() % 2)
                v->as_set().add("new" + std::to_string(n++), ds::SetLimits::redis70());
              else
                v->as_set().remove("m" + std::to_string(rng() % 3000));
            }
            break;
        }
      }
    }
    ASSERT_EQ(decode(sink.bytes), at_start) << "round " << round;
  }
}

// A handler that replaces a value in place (INCRBYFLOAT: *v = new value)
// between two snapshots must not hide the key from the second one: the mark
// belongs to the entry, not to the value.
TEST_F(SnapshotTest, ValuesReplacedInPlaceStayInTheNextSnapshot) {
  dbs[0]->add("k", db::Object::string("1"));
  for (int round = 0; round < 3; ++round) {
    {
      StringSink sink;
      Snapshot snap(raw(), &sink, {});
      while (!snap.step(100, SIZE_MAX)) {
      }
    }
    dbs[0]->find_for_write("k");  // what a handler does before changing a value
    dbs[0]->set("k", db::Object::string("v" + std::to_string(round)), true);
    const Image now = image_of(dbs);
    StringSink sink;
    Snapshot snap(raw(), &sink, {});
    while (!snap.step(100, SIZE_MAX)) {
    }
    ASSERT_EQ(decode(sink.bytes), now) << "round " << round;
  }
}

TEST_F(SnapshotTest, AofCommandFormatRebuildsTheDataset) {
  dbs[0]->add("s", set_of({"a", "b"}));
  dbs[2]->add("str", db::Object::string("v"));
  dbs[2]->set_expire("str", 4000000000000);
  StringSink sink;
  SnapshotOptions o;
  o.format = SnapshotFormat::kAofCommands;
  Snapshot snap(raw(), &sink, o);
  while (!snap.step(100, SIZE_MAX)) {
  }
  const std::string text = sink.bytes.substr(0, sink.bytes.size() - 8);
  EXPECT_NE(text.find("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$4\r\nSADD\r\n$1\r\ns\r\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("*3\r\n$3\r\nSET\r\n$3\r\nstr\r\n$1\r\nv\r\n*3\r\n$9\r\nPEXPIREAT\r\n$3\r\n"
                      "str\r\n$13\r\n4000000000000\r\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace setd::persist
