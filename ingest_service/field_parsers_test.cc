#include "ingest_service/field_parsers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_service/python_list.h"

namespace cratedig::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(PythonListTest, ParsesSingleAndDoubleQuotedItems) {
  absl::StatusOr<std::vector<std::string>> v =
      ParsePythonList("[\"Guns N' Roses\", 'X', 'It\\'s', \"a \\\"b\\\"\"]");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_THAT(*v, ElementsAre("Guns N' Roses", "X", "It's", "a \"b\""));
}

TEST(PythonListTest, ParsesEmptyListsAndWhitespace) {
  EXPECT_THAT(*ParsePythonList("[]"), IsEmpty());
  EXPECT_THAT(*ParsePythonList("  [ ]  "), IsEmpty());
  EXPECT_THAT(*ParsePythonList("['a',]"), ElementsAre("a"));
  EXPECT_THAT(*ParsePythonList("['']"), ElementsAre(""));
}

TEST(PythonListTest, DecodesEscapes) {
  EXPECT_THAT(
      *ParsePythonList("['a\\\\b', '\\xc9dith', '\\u00e9', '\\U0001F3B5', 'x\\ty']"),
      ElementsAre("a\\b",
                  "\xC3\x89"
                  "dith",
                  "\xC3\xA9", "\xF0\x9F\x8E\xB5", "x\ty"));
  // Unknown escapes stay as written, as in Python.
  EXPECT_THAT(*ParsePythonList("['\\d']"), ElementsAre("\\d"));
}

TEST(PythonListTest, RejectsMalformedLists) {
  EXPECT_THAT(ParsePythonList("Sara").status().message(),
              HasSubstr("must start with '['"));
  EXPECT_FALSE(ParsePythonList("['a'").ok());
  EXPECT_FALSE(ParsePythonList("['a' 'b']").ok());
  EXPECT_FALSE(ParsePythonList("['unclosed]").ok());
  EXPECT_FALSE(ParsePythonList("[a]").ok());
  EXPECT_FALSE(ParsePythonList("['a'] x").ok());
  EXPECT_FALSE(ParsePythonList("['\\ud800']").ok());
}

TEST(FieldParsersTest, ParsesDoublesWithExponents) {
  EXPECT_DOUBLE_EQ(*ParseDouble("1.84e-06"), 1.84e-06);
  EXPECT_DOUBLE_EQ(*ParseDouble("1.27E-05"), 1.27e-05);
  EXPECT_DOUBLE_EQ(*ParseDouble("-20.096"), -20.096);
  EXPECT_DOUBLE_EQ(*ParseDouble("0"), 0.0);
  EXPECT_FALSE(ParseDouble("abc").ok());
  EXPECT_FALSE(ParseDouble("1.2.3").ok());
  EXPECT_FALSE(ParseDouble("inf").ok());
  EXPECT_FALSE(ParseDouble("").ok());
}

TEST(FieldParsersTest, ParsesIntegersAlsoWrittenAsFloats) {
  EXPECT_EQ(*ParseInt64("230666"), 230666);
  EXPECT_EQ(*ParseInt64("4.0"), 4);
  EXPECT_EQ(*ParseInt64("-1"), -1);
  EXPECT_FALSE(ParseInt64("4.5").ok());
  EXPECT_FALSE(ParseInt64("four").ok());
}

TEST(FieldParsersTest, ParsesBooleanSpellings) {
  for (const char* t : {"True", "TRUE", "true", "1"}) EXPECT_TRUE(*ParseBool(t)) << t;
  for (const char* f : {"False", "FALSE", "false", "0"}) EXPECT_FALSE(*ParseBool(f)) << f;
  EXPECT_FALSE(ParseBool("yes").ok());
}

TEST(FieldParsersTest, MissingValues) {
  for (const char* m : {"", " ", "NA", "NaN", "nan"}) EXPECT_TRUE(IsMissingValue(m)) << m;
  EXPECT_FALSE(IsMissingValue("0"));
}

TEST(FieldParsersTest, ParsesReleaseDatesWithPrecision) {
  std::optional<v1::ReleaseDate> d = *ParseReleaseDate("1999-11-02");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->year(), 1999);
  EXPECT_EQ(d->month(), 11);
  EXPECT_EQ(d->day(), 2);
  EXPECT_EQ(d->precision(), v1::RELEASE_DATE_PRECISION_DAY);
  d = *ParseReleaseDate("1950-07");
  EXPECT_EQ(d->month(), 7);
  EXPECT_EQ(d->day(), 0);
  EXPECT_EQ(d->precision(), v1::RELEASE_DATE_PRECISION_MONTH);
  d = *ParseReleaseDate("1921");
  EXPECT_EQ(d->year(), 1921);
  EXPECT_EQ(d->month(), 0);
  EXPECT_EQ(d->precision(), v1::RELEASE_DATE_PRECISION_YEAR);
  EXPECT_FALSE(ParseReleaseDate("0000")->has_value());
  EXPECT_TRUE(ParseReleaseDate("2000-02-29").ok());
  for (const char* bad :
       {"1999-13-01", "1999-02-29", "99", "1999/01/01", "1999-1-1", "abcd"}) {
    EXPECT_FALSE(ParseReleaseDate(bad).ok()) << bad;
  }
}

TEST(FieldParsersTest, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("GORD\xC3\x83O \xE0\xB8\x9B \xF0\x9F\x8D\x93"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
}

}  // namespace
}  // namespace cratedig::ingest
