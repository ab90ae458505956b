#include "striate/io/json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <unordered_set>

namespace striate::io {

namespace {

const char* kind_name(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::Null: return "null";
    case Json::Kind::Bool: return "a boolean";
    case Json::Kind::Number: return "a number";
    case Json::Kind::String: return "a string";
    case Json::Kind::Array: return "an array";
    case Json::Kind::Object: return "an object";
  }
  return "?";
}

void expect_kind(Json::Kind actual, Json::Kind wanted) {
  STRIATE_CHECK(actual == wanted, ValueError, "Json: expected ", kind_name(wanted), ", got ", kind_name(actual));
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The length of the well-formed UTF-8 sequence starting at s[0] (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_sequence_length(const unsigned char* s, size_t available) {
  const unsigned char c = s[0];
  size_t length;
  uint32_t min_cp;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { length = 2; min_cp = 0x80; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { length = 3; min_cp = 0x800; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { length = 4; min_cp = 0x10000; cp = c & 0x07; }
  else return 0;
  if (available < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

class JsonParser {
 public:
  JsonParser(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Json parse_document() {
    skip_whitespace();
    Json value = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw JsonError(detail::concat(what, " at byte ", pos_));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_whitespace() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  void expect(char c) {
    if (at_end()) fail(detail::concat("expected '", c, "' but the text ended"));
    if (text_[pos_] != c) fail(detail::concat("expected '", c, "'"));
    ++pos_;
  }

  Json parse_value(int depth) {
    if (at_end()) fail("expected a value but the text ended");
    switch (text_[pos_]) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': {
        Json v;
        v.kind_ = Json::Kind::String;
        v.text_ = parse_string();
        return v;
      }
      case 't': parse_literal("true"); return Json::boolean(true);
      case 'f': parse_literal("false"); return Json::boolean(false);
      case 'n': parse_literal("null"); return Json();
      default: return parse_number();
    }
  }

  void parse_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("invalid literal");
    pos_ += word.size();
  }

  void check_depth(int depth) {
    if (depth > max_depth_) fail(detail::concat("nesting deeper than ", max_depth_, " levels"));
  }

  Json parse_object(int depth) {
    check_depth(depth);
    Json v;
    v.kind_ = Json::Kind::Object;
    expect('{');
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return v;
    }
    std::unordered_set<std::string> keys;
    while (true) {
      skip_whitespace();
      if (peek() != '"') fail("expected a string key");
      const size_t key_pos = pos_;
      std::string key = parse_string();
      if (!keys.insert(key).second) {
        pos_ = key_pos;
        fail(detail::concat("duplicate key ", json_quote(key)));
      }
      skip_whitespace();
      expect(':');
      skip_whitespace();
      Json value = parse_value(depth);
      v.object_.emplace_back(std::move(key), std::move(value));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return v;
    }
  }

  Json parse_array(int depth) {
    check_depth(depth);
    Json v;
    v.kind_ = Json::Kind::Array;
    expect('[');
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return v;
    }
    while (true) {
      skip_whitespace();
      v.array_.push_back(parse_value(depth));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return v;
    }
  }

  uint32_t parse_hex4() {
    if (text_.size() - pos_ < 4) fail("truncated \\u escape");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= c - '0';
      else if (c >= 'a' && c <= 'f') value |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') value |= c - 'A' + 10;
      else fail("invalid hex digit in \\u escape");
    }
    return value;
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character in string");
      if (c == '\\') {
        ++pos_;
        if (at_end()) fail("unterminated escape");
        const char e = text_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t cp = parse_hex4();
            if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (text_.substr(pos_, 2) != "\\u") fail("unpaired high surrogate in \\u escape");
              pos_ += 2;
              const uint32_t low = parse_hex4();
              if (low < 0xDC00 || low > 0xDFFF) fail("invalid low surrogate in \\u escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default: --pos_; fail("invalid escape");
        }
        continue;
      }
      const size_t n = utf8_sequence_length(reinterpret_cast<const unsigned char*>(text_.data()) + pos_,
                                            text_.size() - pos_);
      if (n == 0) fail("invalid UTF-8 in string");
      out.append(text_.data() + pos_, n);
      pos_ += n;
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  Json parse_number() {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (is_digit(peek())) {
      while (is_digit(peek())) ++pos_;
    } else {
      pos_ = start;
      fail("expected a value");
    }
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) fail("expected a digit after the decimal point");
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) fail("expected a digit in the exponent");
      while (is_digit(peek())) ++pos_;
    }
    Json v;
    v.kind_ = Json::Kind::Number;
    v.text_.assign(text_.substr(start, pos_ - start));
    return v;
  }

  std::string_view text_;
  int max_depth_;
  size_t pos_ = 0;
};

Json Json::boolean(bool value) {
  Json v;
  v.kind_ = Kind::Bool;
  v.bool_ = value;
  return v;
}

Json Json::number(int64_t value) {
  Json v;
  v.kind_ = Kind::Number;
  v.text_ = std::to_string(value);
  return v;
}

Json Json::number(uint64_t value) {
  Json v;
  v.kind_ = Kind::Number;
  v.text_ = std::to_string(value);
  return v;
}

Json Json::number(double value) {
  STRIATE_CHECK(std::isfinite(value), ValueError, "Json::number: JSON cannot represent ", value);
  char buffer[64];
  // Shortest text that reads back as the same double.
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  Json v;
  v.kind_ = Kind::Number;
  v.text_.assign(buffer, result.ptr);
  return v;
}

Json Json::string(std::string value) {
  Json v;
  v.kind_ = Kind::String;
  v.text_ = std::move(value);
  return v;
}

Json Json::array(Array items) {
  Json v;
  v.kind_ = Kind::Array;
  v.array_ = std::move(items);
  return v;
}

Json Json::object(Object members) {
  std::unordered_set<std::string_view> keys;
  for (const auto& member : members)
    STRIATE_CHECK(keys.insert(member.first).second, ValueError, "Json::object: duplicate key ",
                  json_quote(member.first));
  Json v;
  v.kind_ = Kind::Object;
  v.object_ = std::move(members);
  return v;
}

bool Json::as_bool() const {
  expect_kind(kind_, Kind::Bool);
  return bool_;
}

const std::string& Json::as_string() const {
  expect_kind(kind_, Kind::String);
  return text_;
}

const Json::Array& Json::as_array() const {
  expect_kind(kind_, Kind::Array);
  return array_;
}

const Json::Object& Json::as_object() const {
  expect_kind(kind_, Kind::Object);
  return object_;
}

const std::string& Json::number_text() const {
  expect_kind(kind_, Kind::Number);
  return text_;
}

std::optional<uint64_t> Json::as_uint64() const {
  const std::string& t = number_text();
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> Json::as_int64() const {
  const std::string& t = number_text();
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return value;
}

double Json::as_double() const {
  const std::string& t = number_text();
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  // The grammar was checked on parsing; only overflow can fail here.
  if (ec == std::errc::result_out_of_range) return t[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  return value;
}

const Json* Json::find(std::string_view key) const {
  for (const auto& member : as_object())
    if (member.first == key) return &member.second;
  return nullptr;
}

bool is_valid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence_length(bytes + i, text.size() - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Json parse_json(std::string_view text, int max_depth) { return JsonParser(text, max_depth).parse_document(); }

std::string json_quote(std::string_view text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

namespace {

void write_json(std::string& out, const Json& value) {
  switch (value.kind()) {
    case Json::Kind::Null: out += "null"; break;
    case Json::Kind::Bool: out += value.as_bool() ? "true" : "false"; break;
    case Json::Kind::Number: out += value.number_text(); break;
    case Json::Kind::String: out += json_quote(value.as_string()); break;
    case Json::Kind::Array: {
      out += '[';
      bool first = true;
      for (const Json& item : value.as_array()) {
        if (!first) out += ',';
        first = false;
        write_json(out, item);
      }
      out += ']';
      break;
    }
    case Json::Kind::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.as_object()) {
        if (!first) out += ',';
        first = false;
        out += json_quote(key);
        out += ':';
        write_json(out, item);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string to_json(const Json& value) {
  std::string out;
  write_json(out, value);
  return out;
}

}  // namespace striate::io
