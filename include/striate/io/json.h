// A small, strict JSON value with a parser and a compact writer.
//
// Enough for safetensors headers and checkpoint metadata, and it ships with
// the library, so nothing needs installing on a training machine. Strict
// means RFC 8259 and nothing more: no comments, no trailing commas, no NaN,
// valid UTF-8 only, and (stricter than the RFC) no duplicate object keys,
// because a duplicated tensor name in a header is corruption, not a choice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "striate/core/error.h"

namespace striate::io {

// Malformed JSON text; the message gives the byte offset of the problem.
class JsonError : public ValueError {
  using ValueError::ValueError;
};

class Json {
 public:
  enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  // Members in document order; keys are unique.
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  static Json boolean(bool value);
  static Json number(int64_t value);
  static Json number(uint64_t value);
  static Json number(double value);  // finite only: JSON has no NaN or infinity
  static Json string(std::string value);
  static Json array(Array items);
  static Json object(Object members);  // duplicate keys are a ValueError

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Each accessor throws ValueError when the value is of another kind.
  bool as_bool() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;
  // Numbers keep their text, so integers beyond 2^53 stay exact. These give
  // the value when it is an integer literal (no fraction, no exponent) that
  // fits the type, and nullopt otherwise.
  std::optional<uint64_t> as_uint64() const;
  std::optional<int64_t> as_int64() const;
  double as_double() const;
  const std::string& number_text() const;
  // The member named `key` of an object, or null when absent.
  const Json* find(std::string_view key) const;

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;  // a string's value, or a number's literal text
  Array array_;
  Object object_;

  friend class JsonParser;
};

// Parses exactly one JSON value (whitespace around it allowed). Nesting
// deeper than `max_depth` is rejected rather than recursed into, so hostile
// input cannot exhaust the stack.
Json parse_json(std::string_view text, int max_depth = 64);

// Compact text with no whitespace; strings are escaped as JSON requires.
std::string to_json(const Json& value);

// Whether `text` is well-formed UTF-8 (what JSON strings must hold).
bool is_valid_utf8(std::string_view text);

// The JSON string literal for `text`, quotes included.
std::string json_quote(std::string_view text);

}  // namespace striate::io
