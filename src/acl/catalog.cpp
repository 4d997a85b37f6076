#include "setd/acl/catalog.hpp"

#include <stdexcept>

namespace setd::acl {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

const std::vector<Catalog::Row> kRedisRows = {
#include "redis_commands.inc"
};

// Commands setd has that Redis 7.0 lacks: CLIENT SETINFO (Redis 7.2's
// categories) and setd's own set commands.
const std::vector<Catalog::Row> kSetdExtraRows = {
    {"client|setinfo", "@slow @connection"},
    {"sdiffcard", "@read @set @slow"},
    {"sunioncard", "@read @set @slow"},
};

}  // namespace

uint64_t category_bit(std::string_view name) {
  const std::string l = lower(name);
  for (size_t i = 0; i < kCategoryCount; ++i)
    if (kCategoryNames[i] == l) return 1ull << i;
  return 0;
}

Catalog::Catalog(const std::vector<Row>& rows, const std::vector<Row>& extra_rows) {
  entries_.reserve(rows.size() + extra_rows.size());
  const size_t redis_rows = rows.size();
  std::vector<Row> all = rows;
  all.insert(all.end(), extra_rows.begin(), extra_rows.end());
  for (const auto& row : all) {
    CatalogEntry e;
    e.name = lower(row.name);
    e.id = static_cast<int>(entries_.size());
    e.extra = entries_.size() >= redis_rows;
    std::string_view cats = row.categories;
    while (!cats.empty()) {
      const size_t sp = cats.find(' ');
      std::string_view w = cats.substr(0, sp);
      if (!w.empty() && w[0] == '@') {
        const uint64_t bit = category_bit(w.substr(1));
        if (bit == 0) throw std::invalid_argument("unknown category " + std::string(w));
        e.categories |= bit;
      }
      if (sp == std::string_view::npos) break;
      cats.remove_prefix(sp + 1);
    }
    const size_t bar = e.name.find('|');
    if (bar != std::string::npos) {
      const CatalogEntry* parent = find(e.name.substr(0, bar));
      if (parent == nullptr) throw std::invalid_argument("subcommand before its container");
      e.parent = parent->id;
      entries_[static_cast<size_t>(parent->id)].subs.push_back(e.id);
    } else {
      top_.push_back(e.id);
    }
    entries_.push_back(std::move(e));
  }
  if (entries_.size() >= kFutureCommandsBit) throw std::length_error("catalog too large");
}

const Catalog& Catalog::redis() {
  static const Catalog catalog(kRedisRows, kSetdExtraRows);
  return catalog;
}

const CatalogEntry* Catalog::find(std::string_view fullname) const {
  const std::string l = lower(fullname);
  const size_t bar = l.find('|');
  auto find_top = [&](std::string_view name) -> const CatalogEntry* {
    for (const int id : top_)
      if (entries_[static_cast<size_t>(id)].name == name) return &entries_[static_cast<size_t>(id)];
    return nullptr;
  };
  if (bar == std::string::npos) return find_top(l);
  if (l.find('|', bar + 1) != std::string::npos) return nullptr;
  const CatalogEntry* top = find_top(std::string_view(l).substr(0, bar));
  if (top == nullptr) return nullptr;
  for (const int id : top->subs)
    if (entries_[static_cast<size_t>(id)].name == l) return &entries_[static_cast<size_t>(id)];
  return nullptr;
}

}  // namespace setd::acl
