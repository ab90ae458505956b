// The strict JSON parser and writer behind safetensors headers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "striate/io/json.h"

namespace striate::io {
namespace {

TEST(Json, ParsesEveryKind) {
  const Json v = parse_json(R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": {}} )");
  ASSERT_TRUE(v.is_object());
  const auto& a = v.find("a")->as_array();
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].as_int64(), 1);
  EXPECT_DOUBLE_EQ(a[1].as_double(), -2500.0);
  EXPECT_EQ(a[1].as_int64(), std::nullopt);  // not an integer literal
  EXPECT_TRUE(a[2].as_bool());
  EXPECT_FALSE(a[3].as_bool());
  EXPECT_TRUE(a[4].is_null());
  EXPECT_EQ(v.find("b")->find("c")->as_string(), "d");
  EXPECT_TRUE(v.find("e")->as_object().empty());
  EXPECT_EQ(v.find("missing"), nullptr);
  // Members keep document order.
  EXPECT_EQ(v.as_object()[0].first, "a");
  EXPECT_EQ(v.as_object()[2].first, "e");
}

TEST(Json, IntegersStayExactBeyondDoublePrecision) {
  const Json v = parse_json("[18446744073709551615, 9223372036854775807, -9223372036854775808, 18446744073709551616]");
  const auto& a = v.as_array();
  EXPECT_EQ(a[0].as_uint64(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(a[0].as_int64(), std::nullopt);
  EXPECT_EQ(a[1].as_int64(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(a[2].as_int64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(a[2].as_uint64(), std::nullopt);
  EXPECT_EQ(a[3].as_uint64(), std::nullopt);  // overflows
}

TEST(Json, DecodesEscapesAndUtf8) {
  const Json v = parse_json(R"("q\"b\\s\/\b\f\n\r\t \u00e9\u4e2d\ud83d\ude00 é")");
  EXPECT_EQ(v.as_string(), "q\"b\\s/\b\f\n\r\t \xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80 \xC3\xA9");
}

TEST(Json, WritesCompactTextThatParsesBack) {
  Json v = Json::object({{"name", Json::string("tab\there \"quoted\" \x01")},
                         {"n", Json::array({Json::number(int64_t{-3}), Json::number(uint64_t{18446744073709551615ull}),
                                            Json::number(0.1), Json::boolean(true), Json()})}});
  const std::string text = to_json(v);
  EXPECT_EQ(text, R"({"name":"tab\there \"quoted\" \u0001","n":[-3,18446744073709551615,0.1,true,null]})");
  const Json back = parse_json(text);
  EXPECT_EQ(back.find("name")->as_string(), "tab\there \"quoted\" \x01");
  EXPECT_EQ(back.find("n")->as_array()[2].as_double(), 0.1);
  EXPECT_EQ(to_json(back), text);
}

TEST(Json, DoublesRoundTripBitForBit) {
  for (double d : {0.1, 1.0 / 3.0, 1e-300, 6.02214076e23, -0.0, 5e-324, std::numeric_limits<double>::max()}) {
    const Json back = parse_json(to_json(Json::number(d)));
    EXPECT_EQ(std::signbit(back.as_double()), std::signbit(d));
    EXPECT_EQ(back.as_double(), d) << to_json(Json::number(d));
  }
  EXPECT_THROW(Json::number(std::nan("")), ValueError);
  EXPECT_THROW(Json::number(INFINITY), ValueError);
}

TEST(Json, RejectsWhatTheRfcRejects) {
  const char* bad[] = {
      "",              "   ",          "{",          "}",           "[1,]",        "{\"a\":1,}",  "{'a':1}",
      "{a:1}",         "[01]",         "[1.]",       "[.5]",        "[1e]",        "[+1]",        "[-]",
      "NaN",           "[Infinity]",   "tru",        "nul",         "\"abc",       "\"\\x\"",     "\"\\u12\"",
      "\"\\u12g4\"",   "\"\\ud800\"",  "\"\\udc00\"", "\"\\ud800\\u0041\"",        "\"a\nb\"",    "[1] [2]",
      "{\"a\" 1}",     "{\"a\":}",     "[1 2]",      "// c\n1",     "\"\xC3\"",    "\"\xC0\x80\"", "\"\xED\xA0\x80\"",
      "\"\xF4\x90\x80\x80\"", "\"\xFF\"",
  };
  for (const char* text : bad) EXPECT_THROW(parse_json(text), JsonError) << "accepted: " << text;
}

TEST(Json, RejectsDuplicateKeysAndSaysWhich) {
  try {
    parse_json(R"({"w": 1, "b": 2, "w": 3})");
    FAIL() << "duplicate key accepted";
  } catch (const JsonError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate key \"w\" at byte 17"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Json::object({{"x", Json()}, {"x", Json()}}), ValueError);
}

TEST(Json, LimitsNestingInsteadOfRecursingForever) {
  const std::string deep(100000, '[');
  EXPECT_THROW(parse_json(deep), JsonError);
  EXPECT_NO_THROW(parse_json("[[[1]]]", 3));
  EXPECT_THROW(parse_json("[[[[1]]]]", 3), JsonError);
}

TEST(Json, AccessorsCheckTheKind) {
  const Json v = parse_json("[1]");
  EXPECT_THROW(v.as_object(), ValueError);
  EXPECT_THROW(v.as_string(), ValueError);
  EXPECT_THROW(v.as_array()[0].as_bool(), ValueError);
  EXPECT_THROW(v.find("a"), ValueError);
}

TEST(Json, ValidatesUtf8) {
  EXPECT_TRUE(is_valid_utf8("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\x80"));  // overlong
}

}  // namespace
}  // namespace striate::io
