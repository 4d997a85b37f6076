// The `struct` library scripts get: struct.pack, struct.unpack and
// struct.size, with the format language of Roberto Ierusalimschy's struct 0.2
// as redis-server 7.0 builds it (x86-64, `long` as the integer type).
//
// A format is a sequence of options:
//   >  <      big / little endian from here on (native by default)
//   ![n]      maximum alignment n (a power of 2; no n: the alignment of a
//             double in a struct, at least that of an int); the default is 1
//   x         one zero byte of padding
//   b B       signed / unsigned char       h H  short      l L  long
//   T         size_t                       i[n] I[n]  n-byte int (default: int)
//   f d       float / double in the current byte order
//   s         zero-terminated string
//   c[n]      n bytes (default 1); c0 packs the whole string and unpacks as
//             many bytes as the number read just before says
//   ' '       ignored
// Integer options align to min(size, alignment); c, s and control options
// do not align.
//
// Out-of-range conversions (a double beyond what `long` holds, NaN) give the
// bytes redis-server's x86-64 build gives, written out here as well-defined
// code rather than left to the compiler.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "setd/script/lua_libs.hpp"

namespace setd::script {

namespace {

enum class ByteOrder { kBig, kLittle };

constexpr ByteOrder kNativeOrder =
    std::endian::native == std::endian::little ? ByteOrder::kLittle : ByteOrder::kBig;

// Integer options hold at most this many bytes.
constexpr int kIntSizeLimit = 32;

// '!' without a number: how far a double is aligned after a char, or an
// int's size if that is more.
struct DoubleAfterChar {
  char c;
  double d;
};
constexpr std::size_t kDoubleSlack = sizeof(DoubleAfterChar) - sizeof(double);
constexpr int kDefaultMaxAlign =
    static_cast<int>(kDoubleSlack > sizeof(int) ? kDoubleSlack : sizeof(int));

struct Layout {
  ByteOrder order = kNativeOrder;
  int max_align = 1;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

// The decimal number at `*cursor`, advancing past it; `fallback` if there is none.
int read_count(lua_State* L, const char** cursor, int fallback) {
  const char* p = *cursor;
  if (!is_digit(*p)) return fallback;
  int value = 0;
  while (is_digit(*p)) {
    const int digit = *p - '0';
    if (value > std::numeric_limits<int>::max() / 10 ||
        value * 10 > std::numeric_limits<int>::max() - digit) {
      luaL_error(L, "integral size overflow");
    }
    value = value * 10 + digit;
    ++p;
  }
  *cursor = p;
  return value;
}

// Bytes option `opt` occupies (0 for s, c0 and the control options); reads
// the count that follows c, i and I.
std::size_t option_size(lua_State* L, char opt, const char** cursor) {
  switch (opt) {
    case 'b':
    case 'B':
      return sizeof(char);
    case 'h':
    case 'H':
      return sizeof(short);
    case 'l':
    case 'L':
      return sizeof(long);
    case 'T':
      return sizeof(std::size_t);
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'x':
      return 1;
    case 'c':
      return static_cast<std::size_t>(read_count(L, cursor, 1));
    case 'i':
    case 'I': {
      const int n = read_count(L, cursor, static_cast<int>(sizeof(int)));
      if (n > kIntSizeLimit) {
        luaL_error(L, "integral size %d is larger than limit of %d", n, kIntSizeLimit);
      }
      return static_cast<std::size_t>(n);
    }
    default:
      return 0;
  }
}

// Zero bytes to insert at offset `pos` before an item of `size` bytes. The
// mask arithmetic is the library's, also for sizes that are not powers of 2.
std::size_t padding_before(std::size_t pos, const Layout& layout, char opt, std::size_t size) {
  if (size == 0 || opt == 'c') return 0;
  const std::size_t unit = size > static_cast<std::size_t>(layout.max_align)
                               ? static_cast<std::size_t>(layout.max_align)
                               : size;
  return (unit - (pos & (unit - 1))) & (unit - 1);
}

// ' ', '<', '>' and '!'; anything else is not an option.
void apply_control(lua_State* L, char opt, const char** cursor, Layout* layout) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      layout->order = ByteOrder::kBig;
      return;
    case '<':
      layout->order = ByteOrder::kLittle;
      return;
    case '!': {
      const int align = read_count(L, cursor, kDefaultMaxAlign);
      if (!is_power_of_two(align)) luaL_error(L, "alignment %d is not a power of 2", align);
      layout->max_align = align;
      return;
    }
    default:
      luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
  }
}

bool is_integer_option(char opt) {
  switch (opt) {
    case 'b':
    case 'B':
    case 'h':
    case 'H':
    case 'l':
    case 'L':
    case 'T':
    case 'i':
    case 'I':
      return true;
    default:
      return false;
  }
}

// x86-64's cvttsd2si: truncation, and INT64_MIN for NaN and out-of-range values.
std::int64_t truncate_like_x86(double d) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (d >= -kTwo63 && d < kTwo63) return static_cast<std::int64_t>(d);
  return std::numeric_limits<std::int64_t>::min();
}

// The bits a double becomes when redis-server's build converts it to
// `unsigned long` (values >= 2^63 go through d - 2^63 and a flip of the top bit).
std::uint64_t to_unsigned_like_x86(double d) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(d >= kTwo63)) return static_cast<std::uint64_t>(truncate_like_x86(d));
  return static_cast<std::uint64_t>(truncate_like_x86(d - kTwo63)) ^ (std::uint64_t{1} << 63);
}

// The integer bits struct.pack writes for a Lua number: negative numbers go
// through `long`, the others straight to `unsigned long`.
std::uint64_t integer_bits(double n) {
  if (n < 0) return static_cast<std::uint64_t>(truncate_like_x86(n));
  return to_unsigned_like_x86(n);
}

// `size` bytes of `bits` in `order`; bytes past the eighth are zero.
void append_integer(std::string* out, std::uint64_t bits, std::size_t size, ByteOrder order) {
  const std::size_t start = out->size();
  out->append(size, '\0');
  for (std::size_t k = 0; k < size && k < 8; ++k) {
    const auto byte = static_cast<char>((bits >> (8 * k)) & 0xff);
    const std::size_t at = order == ByteOrder::kLittle ? k : size - 1 - k;
    (*out)[start + at] = byte;
  }
}

// Reads `size` bytes at `data` as an integer, keeping the last eight bytes
// read (the low-order ones). A signed read sign-extends from bit
// size*8-1, which for sizes above 8 the x86 shift reduces modulo 64.
double read_integer(const char* data, std::size_t size, ByteOrder order, bool is_signed) {
  std::uint64_t bits = 0;
  for (std::size_t k = 0; k < size; ++k) {
    const std::size_t at = order == ByteOrder::kBig ? k : size - 1 - k;
    bits = (bits << 8) | static_cast<unsigned char>(data[at]);
  }
  if (!is_signed) return static_cast<double>(bits);
  const unsigned shift = (static_cast<unsigned>(size) * 8u - 1u) & 63u;
  const std::uint64_t sign_mask = ~std::uint64_t{0} << shift;
  if ((bits & sign_mask) != 0) bits |= sign_mask;
  return static_cast<double>(static_cast<std::int64_t>(bits));
}

// Copies `n` bytes in `order` from/to native order.
void copy_ordered(unsigned char* dst, const unsigned char* src, std::size_t n, ByteOrder order) {
  for (std::size_t k = 0; k < n; ++k) dst[k] = src[order == kNativeOrder ? k : n - 1 - k];
}

template <typename Float>
void append_float(std::string* out, Float value, ByteOrder order) {
  unsigned char native[sizeof(Float)];
  unsigned char wire[sizeof(Float)];
  std::memcpy(native, &value, sizeof(Float));
  copy_ordered(wire, native, sizeof(Float), order);
  out->append(reinterpret_cast<const char*>(wire), sizeof(Float));
}

template <typename Float>
Float read_float(const char* data, ByteOrder order) {
  unsigned char native[sizeof(Float)];
  copy_ordered(native, reinterpret_cast<const unsigned char*>(data), sizeof(Float), order);
  Float value;
  std::memcpy(&value, native, sizeof(Float));
  return value;
}

// struct.pack(fmt, ...) -> string
int struct_pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Layout layout;
  int arg = 2;
  // A nil right after the arguments, as the library leaves there: a missing
  // argument is reported as "got nil", not "got no value".
  lua_pushnil(L);
  std::string out;
  while (*fmt != '\0') {
    const char opt = *fmt++;
    std::size_t size = option_size(L, opt, &fmt);
    out.append(padding_before(out.size(), layout, opt, size), '\0');
    if (is_integer_option(opt)) {
      append_integer(&out, integer_bits(luaL_checknumber(L, arg++)), size, layout.order);
      continue;
    }
    switch (opt) {
      case 'x':
        out.push_back('\0');
        break;
      case 'f':
        append_float(&out, static_cast<float>(luaL_checknumber(L, arg++)), layout.order);
        break;
      case 'd':
        append_float(&out, static_cast<double>(luaL_checknumber(L, arg++)), layout.order);
        break;
      case 'c':
      case 's': {
        std::size_t len = 0;
        const char* s = luaL_checklstring(L, arg, &len);
        ++arg;
        if (size == 0) size = len;
        // The library names the argument after this one here.
        if (len < size) luaL_argerror(L, arg, "string too short");
        out.append(s, size);
        if (opt == 's') out.push_back('\0');
        break;
      }
      default:
        apply_control(L, opt, &fmt, &layout);
    }
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

// struct.unpack(fmt, data [, init]) -> values..., next position
int struct_unpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  std::size_t data_len = 0;
  const char* data = luaL_checklstring(L, 2, &data_len);
  // A negative init wraps to a huge position, as in the library.
  std::size_t pos = static_cast<std::size_t>(luaL_optinteger(L, 3, 1));
  if (pos == 0) luaL_argerror(L, 3, "offset must be 1 or greater");
  --pos;
  Layout layout;
  int results = 0;
  const auto check_fits = [&](std::size_t size) {
    if (size > data_len || pos > data_len - size) luaL_argerror(L, 2, "data string too short");
  };
  while (*fmt != '\0') {
    const char opt = *fmt++;
    std::size_t size = option_size(L, opt, &fmt);
    pos += padding_before(pos, layout, opt, size);
    check_fits(size);
    luaL_checkstack(L, 2, "too many results");  // a value and the next position
    if (is_integer_option(opt)) {
      const bool is_signed = opt >= 'a' && opt <= 'z';
      lua_pushnumber(L, read_integer(data + pos, size, layout.order, is_signed));
      ++results;
      pos += size;
      continue;
    }
    switch (opt) {
      case 'x':
        break;
      case 'f':
        lua_pushnumber(L, static_cast<double>(read_float<float>(data + pos, layout.order)));
        ++results;
        break;
      case 'd':
        lua_pushnumber(L, read_float<double>(data + pos, layout.order));
        ++results;
        break;
      case 'c':
        if (size == 0) {
          // c0: the length is the value just unpacked, which it replaces.
          if (results == 0 || !lua_isnumber(L, -1))
            luaL_error(L, "format 'c0' needs a previous size");
          size = static_cast<std::size_t>(to_unsigned_like_x86(lua_tonumber(L, -1)));
          lua_pop(L, 1);
          --results;
          check_fits(size);
        }
        lua_pushlstring(L, data + pos, size);
        ++results;
        break;
      case 's': {
        const void* nul = std::memchr(data + pos, '\0', data_len - pos);
        if (nul == nullptr) luaL_error(L, "unfinished string in data");
        const std::size_t len =
            static_cast<std::size_t>(static_cast<const char*>(nul) - (data + pos));
        lua_pushlstring(L, data + pos, len);
        ++results;
        size = len + 1;
        break;
      }
      default:
        apply_control(L, opt, &fmt, &layout);
    }
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return results + 1;
}

// struct.size(fmt) -> bytes a pack with this format produces
int struct_size(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Layout layout;
  std::size_t pos = 0;
  while (*fmt != '\0') {
    const char opt = *fmt++;
    const std::size_t size = option_size(L, opt, &fmt);
    pos += padding_before(pos, layout, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    // Letters and digits the format does not know count as zero bytes here.
    if (!is_alnum(opt)) apply_control(L, opt, &fmt, &layout);
    pos += size;
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos));
  return 1;
}

constexpr luaL_Reg kStructFunctions[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {nullptr, nullptr},
};

}  // namespace

int open_struct(lua_State* L) {
  luaL_register(L, "struct", kStructFunctions);
  return 1;
}

}  // namespace setd::script
