// SORT and SORT_RO on sets, as Redis 7.0's sort.c: numeric or ALPHA order,
// ASC/DESC, LIMIT, BY and GET patterns resolved against string keys ("->"
// hash-field patterns find nothing: setd has no hashes), "#" for the member
// itself, BY without '*' for no sorting. setd has no lists, so SORT ... STORE
// can only store an empty result (which, as in Redis, deletes the
// destination); a non-empty one is refused.
#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "setd/acl/user.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

namespace nf = server::notify;

bool kw(std::string_view arg, std::string_view keyword) {
  return is(base::c_string_view(arg), keyword);
}

// Redis's lookupKeyByPattern: the value a BY/GET pattern names for
// `member`. "#" is the member itself; otherwise the first '*' is replaced
// by the member and the string key of that name is read (a
// "key*->field" pattern reads a hash field: setd has no hashes, so it finds
// nothing, though the key is still looked up). nullopt when there is
// nothing (no '*', missing key, not a string). Patterns are read as C
// strings up to a NUL where Redis does so.
std::optional<std::string> lookup_by_pattern(Context& ctx, std::string_view pattern,
                                             std::string_view member) {
  const std::string_view cpat = base::c_string_view(pattern);
  if (cpat == "#") return std::string(member);
  const size_t star = cpat.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  const size_t arrow = cpat.find("->", star + 1);
  const bool field = arrow != std::string_view::npos && arrow + 2 < cpat.size();
  const size_t suffix_end = field ? arrow : pattern.size();
  std::string key;
  key.reserve(pattern.size() + member.size());
  key.append(pattern.substr(0, star));
  key.append(member);
  key.append(pattern.substr(star + 1, suffix_end - star - 1));
  const db::Value* v = lookup_read(ctx, key);
  if (v == nullptr || field || v->type() != db::Type::kString) return std::nullopt;
  return std::string(v->str());
}

// Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess: whether one of the
// client's selectors allows this command and reads every key (~* or %R~*).
// BY and GET patterns may name any key, so they need that.
bool full_key_access(Context& ctx) {
  const acl::User* user = ctx.client.user;
  if (user == nullptr) return true;
  std::vector<size_t> positions, specs;
  std::vector<acl::KeyRef> keys;
  if (ctx.spec.extract_keys(ctx.args, positions, &specs)) {
    for (size_t i = 0; i < positions.size(); ++i)
      keys.push_back({positions[i], ctx.spec.key_acl_perms(specs[i], ctx.args)});
  }
  const acl::CommandRequest req{
      ctx.spec.acl_id, !ctx.spec.container.empty(), ctx.spec.has(kNoAuth), ctx.args, keys, {}};
  for (const acl::Selector& s : user->selectors()) {
    size_t pos = 0;
    if (s.check(req, pos) != acl::Verdict::kOk) continue;
    if (s.all_keys) return true;
    for (const acl::KeyPattern& k : s.keys)
      if ((k.perms & acl::kPermRead) && k.pattern.text() == "*") return true;
  }
  return false;
}

// Redis's compareStringObjects: bytes, then length.
int binary_compare(std::string_view a, std::string_view b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// Redis's collateStringObjects: strcoll() on the C strings (up to a NUL).
int collate(const std::string& a, const std::string& b) {
  return std::strcoll(a.c_str(), b.c_str());
}

struct Item {
  std::string member;
  double score = 0;
  std::optional<std::string> by;  // ALPHA with BY: the value sorted by
};

// SORT (readonly false) and SORT_RO.
void sort_generic(Context& ctx, bool readonly) {
  bool desc = false, alpha = false, dontsort = false;
  long long limit_start = 0, limit_count = -1;
  std::optional<std::string_view> sortby, storekey;
  std::vector<std::string_view> gets;
  std::optional<bool> full_access;
  const auto patterns_allowed = [&] {
    if (!full_access) full_access = full_key_access(ctx);
    return *full_access;
  };
  for (size_t j = 2; j < ctx.argc(); ++j) {
    const size_t left = ctx.argc() - j - 1;
    const std::string_view a = ctx.arg(j);
    if (kw(a, "asc")) {
      desc = false;
    } else if (kw(a, "desc")) {
      desc = true;
    } else if (kw(a, "alpha")) {
      alpha = true;
    } else if (kw(a, "limit") && left >= 2) {
      if (!parse_ll(ctx, ctx.arg(j + 1), limit_start) ||
          !parse_ll(ctx, ctx.arg(j + 2), limit_count))
        return;
      j += 2;
    } else if (!readonly && kw(a, "store") && left >= 1) {
      storekey = ctx.arg(++j);
    } else if (kw(a, "by") && left >= 1) {
      sortby = ctx.arg(j + 1);
      // A pattern without '*' names no per-member key: nothing to sort by
      // (and that stays so even if another BY follows).
      if (base::c_string_view(*sortby).find('*') == std::string_view::npos) {
        dontsort = true;
      } else if (!patterns_allowed()) {
        ctx.rb.error("ERR BY option of SORT denied due to insufficient ACL permissions.");
        return;
      }
      ++j;
    } else if (kw(a, "get") && left >= 1) {
      if (!patterns_allowed()) {
        ctx.rb.error("ERR GET option of SORT denied due to insufficient ACL permissions.");
        return;
      }
      gets.push_back(ctx.arg(++j));
    } else {
      ctx.syntax_error();
      return;
    }
  }

  const db::Value* v = lookup_read(ctx, ctx.arg(1));
  if (v != nullptr && v->type() != db::Type::kSet) {
    ctx.wrong_type();
    return;
  }
  // Unsorted output would be the set's own order, which differs between a
  // master and its replicas: with STORE, or inside a script, a set is
  // sorted ALPHA instead.
  if (dontsort && v != nullptr && (storekey || ctx.server.script_running())) {
    dontsort = false;
    alpha = true;
    sortby.reset();
  }

  std::vector<Item> items;
  if (v != nullptr) {
    items.reserve(v->as_set().size());
    v->as_set().for_each([&](std::string_view m) { items.push_back({std::string(m)}); });
  }
  const auto n = static_cast<long long>(items.size());
  long long start = std::min(std::max(limit_start, 0LL), n);
  limit_count = std::min(std::max(limit_count, -1LL), n);
  long long end = limit_count < 0 ? n - 1 : start + limit_count - 1;
  if (start >= n) {
    start = n - 1;
    end = n - 2;
  }
  if (end >= n) end = n - 1;

  bool conversion_error = false;
  if (!dontsort) {
    for (Item& it : items) {
      std::optional<std::string> byval;
      if (sortby) {
        byval = lookup_by_pattern(ctx, *sortby, it.member);
        if (!byval) continue;
      }
      if (alpha) {
        if (sortby) it.by = std::move(byval);
        continue;
      }
      // strtod on the C string, as Redis: trailing bytes (before any NUL),
      // out-of-range values and NaN are errors; "" is 0.
      const std::string& text = sortby ? *byval : it.member;
      char* eptr = nullptr;
      errno = 0;
      it.score = std::strtod(text.c_str(), &eptr);
      if (*eptr != '\0' || errno == ERANGE || std::isnan(it.score)) conversion_error = true;
    }
    const bool store = storekey.has_value();
    const bool by = sortby.has_value();
    const auto compare = [&](const Item& x, const Item& y) {
      int c = 0;
      if (!alpha) {
        if (x.score > y.score)
          c = 1;
        else if (x.score < y.score)
          c = -1;
        else
          c = binary_compare(x.member, y.member);
      } else if (by) {
        if (!x.by || !y.by)
          c = x.by.has_value() == y.by.has_value() ? 0 : (!x.by ? -1 : 1);
        else
          c = store ? binary_compare(*x.by, *y.by) : collate(*x.by, *y.by);
      } else {
        c = store ? binary_compare(x.member, y.member) : collate(x.member, y.member);
      }
      return desc ? -c : c;
    };
    // Stable, as glibc's qsort (a merge sort) that Redis calls; not worth
    // doing when the scores already failed (and NaN would not order).
    if (!conversion_error)
      std::stable_sort(items.begin(), items.end(),
                       [&](const Item& x, const Item& y) { return compare(x, y) < 0; });
  }

  const long long count = end - start + 1;
  const long long outputlen = gets.empty() ? count : static_cast<long long>(gets.size()) * count;
  if (conversion_error) {
    ctx.rb.error("ERR One or more scores can't be converted into double");
    return;
  }
  if (!storekey) {
    ctx.rb.array(static_cast<size_t>(outputlen));
    for (long long j = start; j <= end; ++j) {
      const std::string& m = items[static_cast<size_t>(j)].member;
      if (gets.empty()) ctx.rb.bulk(m);
      for (const std::string_view g : gets) {
        if (auto val = lookup_by_pattern(ctx, g, m))
          ctx.rb.bulk(*val);
        else
          ctx.rb.null();
      }
    }
    return;
  }
  if (outputlen > 0) {
    // Redis would store a list here.
    ctx.rb.error("ERR SORT ... STORE of a non-empty result is not supported: setd has no lists");
    return;
  }
  if (ctx.db().erase(*storekey)) {
    key_modified(ctx, *storekey);
    notify(ctx, nf::kGeneric, "del", *storekey);
  }
  ctx.rb.integer(0);
}

void sort_cmd(Context& ctx) { sort_generic(ctx, false); }
void sort_ro_cmd(Context& ctx) { sort_generic(ctx, true); }

// Redis's sortGetKeys: the sorted key, and the last STORE's destination
// (options are skipped with their arguments, as SORT reads them).
bool sort_keys(std::span<const std::string_view> args, std::vector<size_t>& positions,
               std::vector<size_t>* specs) {
  if (args.size() < 2) return false;
  positions.push_back(1);
  if (specs) specs->push_back(0);
  size_t store = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (kw(a, "limit"))
      i += 2;
    else if (kw(a, "get") || kw(a, "by"))
      i += 1;
    else if (kw(a, "store") && i + 1 < args.size())
      store = i + 1;
  }
  if (store != 0) {
    positions.push_back(store);
    if (specs) specs->push_back(2);
  }
  return true;
}

// SORT_RO's (sortROGetKeys): the sorted key only.
bool sort_ro_keys(std::span<const std::string_view> args, std::vector<size_t>& positions,
                  std::vector<size_t>* specs) {
  if (args.size() < 2) return false;
  positions.push_back(1);
  if (specs) specs->push_back(0);
  return true;
}

// BY/GET patterns belong to the "unknown" key spec 1, STORE's destination
// to spec 2; ALPHA's token is documented under the name "sorting".
void sort_docs(std::vector<ArgDoc>& args) {
  for (ArgDoc& a : args) {
    if (a.type == "pattern") a.key_spec_index = 1;
    if (a.name == "destination") a.key_spec_index = 2;
    if (a.token == "ALPHA") a.name = "sorting";
  }
}

CommandSpec sort_spec(std::string name, std::string flags, Handler h, std::string summary,
                      std::string since, std::string args, bool store) {
  CommandSpec s = make_command(
      std::move(name), -2, std::move(flags), h, "generic", std::move(summary), std::move(since),
      "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "
      "number of returned elements. When the elements are not sorted, complexity is O(N).",
      std::move(args), "@set @sortedset @list @dangerous");
  KeySpec key;
  key.flags = "RO access";
  KeySpec patterns;
  patterns.flags = "RO access";
  patterns.unknown = true;
  patterns.notes =
      "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive "
      "from the content of the key we sort";
  s.keys = {key, patterns};
  if (store) {
    KeySpec dest;
    dest.flags = "OW update";
    dest.unknown = true;
    dest.notes =
        "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear "
        "anywhere in the argument array";
    s.keys.push_back(dest);
  }
  s.get_keys = store ? sort_keys : sort_ro_keys;
  s.adjust_docs = sort_docs;
  return s;
}

}  // namespace

// Adds SORT and SORT_RO with Redis 7.0's COMMAND INFO / DOCS.
void register_sort_commands(Registry& r) {
  const std::string common =
      "key [BY pattern:pattern] [offset_count= LIMIT offset:integer count:integer] "
      "[GET pattern:pattern]... [order= ASC | DESC] [ALPHA]";
  r.add(sort_spec("sort", "write denyoom", sort_cmd,
                  "Sort the elements in a list, set or sorted set", "1.0.0",
                  common + " [STORE destination]", true));
  r.add(sort_spec("sort_ro", "readonly", sort_ro_cmd,
                  "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
                  "7.0.0", common, false));
}

}  // namespace setd::cmd
