#include "ingest_service/csv.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_service/test_util_internal.h"

namespace cratedig::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Reads every record of `data`, feeding the reader `chunk` bytes at a time.
std::vector<CsvRecord> ReadAll(const std::string& data, size_t chunk = 1 << 16) {
  CsvReader reader(std::make_unique<testing::StringSource>(data, chunk));
  std::vector<CsvRecord> records;
  CsvRecord record;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&record);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    records.push_back(record);
  }
  return records;
}

TEST(CsvReaderTest, ReadsPlainRecordsWithLineNumbers) {
  std::vector<CsvRecord> r = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(r[1].fields, ElementsAre("1", "2", "3"));
  EXPECT_EQ(r[0].line, 1);
  EXPECT_EQ(r[1].line, 2);
  EXPECT_THAT(r[1].error, IsEmpty());
}

TEST(CsvReaderTest, UnquotesQuotedFieldsWithCommasQuotesAndNewlines) {
  std::vector<CsvRecord> r =
      ReadAll("h1,h2\n\"a, b\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\r\nlast,\"\"\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_THAT(r[1].fields, ElementsAre("a, b", "say \"hi\""));
  EXPECT_THAT(r[2].fields, ElementsAre("two\nlines", "x"));
  EXPECT_EQ(r[2].line, 3);
  EXPECT_THAT(r[3].fields, ElementsAre("last", ""));
  EXPECT_EQ(r[3].line, 5);
}

TEST(CsvReaderTest, HandlesCrlfCrAndMissingFinalNewline) {
  std::vector<CsvRecord> r = ReadAll("a,b\r\n1,2\r3,4\n5,6");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_THAT(r[1].fields, ElementsAre("1", "2"));
  EXPECT_THAT(r[2].fields, ElementsAre("3", "4"));
  EXPECT_THAT(r[3].fields, ElementsAre("5", "6"));
  EXPECT_EQ(r[3].line, 4);
}

TEST(CsvReaderTest, KeepsCrlfInsideQuotesAndCountsItAsOneLine) {
  std::vector<CsvRecord> r = ReadAll("\"x\r\ny\",z\r\nnext,1\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].fields, ElementsAre("x\r\ny", "z"));
  EXPECT_EQ(r[1].line, 3);
}

TEST(CsvReaderTest, StripsUtf8BomOnlyAtTheStart) {
  std::vector<CsvRecord> r = ReadAll("\xEF\xBB\xBFid,name\n1,\xEF\xBB\xBFx\n", 1);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].fields, ElementsAre("id", "name"));
  EXPECT_THAT(r[1].fields, ElementsAre("1", "\xEF\xBB\xBFx"));
}

TEST(CsvReaderTest, SkipsBlankLinesButCountsThem) {
  std::vector<CsvRecord> r = ReadAll("a\n\n\r\nb\n\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].line, 4);
  EXPECT_THAT(r[1].fields, ElementsAre("b"));
}

TEST(CsvReaderTest, KeepsEmptyFieldsAndTrailingComma) {
  std::vector<CsvRecord> r = ReadAll(",a,,\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].fields, ElementsAre("", "a", "", ""));
}

TEST(CsvReaderTest, KeepsTextAfterClosingQuoteAndStrayQuotesLikePython) {
  std::vector<CsvRecord> r = ReadAll("\"ab\"cd,x\"y\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_THAT(r[0].fields, ElementsAre("abcd", "x\"y"));
}

TEST(CsvReaderTest, ReportsUnclosedQuoteWithColumn) {
  std::vector<CsvRecord> r = ReadAll("a,b\n1,\"never closed\n2,3\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[1].error_column, 2);
  EXPECT_THAT(r[1].error, ::testing::HasSubstr("not closed"));
}

TEST(CsvReaderTest, SameResultForEveryChunkSize) {
  const std::string data =
      "\xEF\xBB\xBFh1,h2\r\n\"q,\"\"\r\nx\",2\r\n\xF0\x9F\x8E\xB5,\"\"\r\n";
  std::vector<CsvRecord> expected = ReadAll(data);
  ASSERT_EQ(expected.size(), 3u);
  for (size_t chunk : {1, 2, 3, 5, 7}) {
    std::vector<CsvRecord> got = ReadAll(data, chunk);
    ASSERT_EQ(got.size(), expected.size()) << chunk;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].fields, expected[i].fields) << chunk;
      EXPECT_EQ(got[i].line, expected[i].line) << chunk;
    }
  }
  EXPECT_EQ(expected[2].line, 4);
  EXPECT_THAT(expected[1].fields, ElementsAre("q,\"\r\nx", "2"));
}

TEST(CsvReaderTest, EmptyInputHasNoRecords) { EXPECT_THAT(ReadAll(""), IsEmpty()); }

}  // namespace
}  // namespace cratedig::ingest
