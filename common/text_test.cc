#include "common/text.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cratedig {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Norm(absl::string_view text) {
  absl::StatusOr<std::string> out = NormalizeText(text);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

TEST(NormalizeTextTest, RemovesAccents) {
  EXPECT_EQ(Norm("Rehén"), "rehen");
  EXPECT_EQ(Norm("Beyoncé"), "beyonce");
  EXPECT_EQ(Norm("Sigur Rós – Ágætis byrjun"), "sigur ros agætis byrjun");
  // Decomposed input (e + combining acute) gives the same result.
  EXPECT_EQ(Norm("Rehe\xCC\x81n"), "rehen");
}

TEST(NormalizeTextTest, CaseFolds) {
  EXPECT_EQ(Norm("ß"), "ss");
  EXPECT_EQ(Norm("STRASSE Straße"), "strasse strasse");
  EXPECT_EQ(Norm("ΣΊΣΥΦΟΣ"), "σισυφοσ");
}

TEST(NormalizeTextTest, CompatibilityForms) {
  EXPECT_EQ(Norm("ｆｕｌｌｗｉｄｔｈ"), "fullwidth");
  EXPECT_EQ(Norm("ﬁne"), "fine");
  EXPECT_EQ(Norm("x²"), "x2");
}

TEST(NormalizeTextTest, PunctuationAndSpacesCollapse) {
  EXPECT_EQ(Norm("  Despacito - Remix (feat. Justin Bieber)!! "),
            "despacito remix feat justin bieber");
  EXPECT_EQ(Norm("AC/DC"), "ac dc");
  EXPECT_EQ(Norm("a\t\n\u00A0b"), "a b");
  EXPECT_EQ(Norm("Don't ★ Stop"), "dont stop");
  EXPECT_EQ(Norm("..."), "");
  EXPECT_EQ(Norm(""), "");
}

TEST(NormalizeTextTest, KeepsOtherScripts) {
  EXPECT_EQ(Norm("東京事変"), "東京事変");
  EXPECT_EQ(Norm("Мумий Тролль"), "мумии тролль");  // й decomposes to и + breve
  EXPECT_EQ(Norm("हिन्दी"), "हिनदी");                // virama is a nonspacing mark
}

TEST(NormalizeTextTest, RejectsInvalidUtf8) {
  for (const std::string& bad : {std::string("abc\xFF"), std::string("\xC3"),
                                 std::string("\xED\xA0\x80"), std::string("\xC0\xAF")}) {
    absl::StatusOr<std::string> out = NormalizeText(bad);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(out.status().message(), "text is not valid UTF-8");
  }
}

TEST(TokenizeTest, SplitsOnSpaces) {
  EXPECT_THAT(Tokenize("hello  world 2"), ElementsAre("hello", "world", "2"));
  EXPECT_THAT(Tokenize(""), IsEmpty());
  EXPECT_THAT(Tokenize(" "), IsEmpty());
}

TEST(TokenizeTest, SegmentsUnspacedScriptsIntoWords) {
  EXPECT_THAT(Tokenize("東京事変"), ElementsAre("東京", "事変"));
  EXPECT_THAT(Tokenize("ฉันรักคุณ"), ElementsAre("ฉัน", "รัก", "คุณ"));
  EXPECT_THAT(Tokenize("abc東京def 1"), ElementsAre("abc", "東京", "def", "1"));
  EXPECT_THAT(Tokenize("서울"), ElementsAre("서울"));  // Hangul uses spaces
}

TEST(TokenizeTest, TrainingAndQueryAgreeOnUnspacedWords) {
  // The title and a query holding one of its words give that word alike.
  auto title = TextWords("ฉันรักคุณ (Live)");
  auto query = TextWords("รัก");
  ASSERT_TRUE(title.ok() && query.ok());
  EXPECT_THAT(*query, ElementsAre("รัก"));
  EXPECT_THAT(*title, ::testing::Contains("รัก"));
  // Thai vowel signs and tone marks survive normalisation; Latin accents do not.
  EXPECT_EQ(*NormalizeText("คุณ Rehén"), "คุณ rehen");
  EXPECT_EQ(*NormalizeText("ก\u0301"), "ก") << "a Latin accent on a Thai letter goes";
  // Kept marks normalise to themselves (NormalizeText is idempotent).
  for (const char* text : {"น้ำ", "ทำ", "ສະບາຍດີ", "សួស្តី", "မင်္ဂလာပါ", "a\u0E31", " \u0E31ก",
                           "ก\u0E31\u0E48\u0301"}) {
    auto once = NormalizeText(text);
    ASSERT_TRUE(once.ok()) << text;
    EXPECT_EQ(*NormalizeText(*once), *once) << text;
  }
  EXPECT_THAT(Tokenize(*NormalizeText("ສະບາຍດີ ເພື່ອນ")),
              ::testing::SizeIs(::testing::Ge(2u)));
}

TEST(StemTest, EnglishStems) {
  EXPECT_EQ(Stem("running"), "run");
  EXPECT_EQ(Stem("songs"), "song");
  EXPECT_EQ(Stem("love"), "love");
  EXPECT_EQ(Stem("Running"), "run");
}

TEST(StemTest, NonAsciiTokensUnchanged) {
  EXPECT_EQ(Stem("東"), "東");
  EXPECT_EQ(Stem("2pac"), "2pac");
  EXPECT_EQ(Stem("1999"), "1999");
  EXPECT_EQ(Stem("niños"), "niños");
  EXPECT_EQ(Stem(""), "");
}

TEST(StemTest, ThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &mismatches] {
      for (int i = 0; i < 2000; ++i) {
        if (Stem("running") != "run" || Stem("dancing") != "danc") ++mismatches[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST(AnalyzeTextTest, AllSteps) {
  absl::StatusOr<std::vector<std::string>> terms =
      AnalyzeText("Running Songs — Café 東京");
  ASSERT_TRUE(terms.ok()) << terms.status();
  EXPECT_THAT(*terms, ElementsAre("run", "song", "cafe", "東京"));
  EXPECT_EQ(AnalyzeText("\xFF").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TextWordsTest, NormalisedUnstemmedWords) {
  absl::StatusOr<std::vector<std::string>> words =
      TextWords("Running Songs — Rehén, CAFÉ!");
  ASSERT_TRUE(words.ok()) << words.status();
  EXPECT_THAT(*words, ElementsAre("running", "songs", "rehen", "cafe"));
  EXPECT_EQ(TextWords("\xFF").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NormalizeTextTest, ApostrophesInsideWordsJoinThem) {
  EXPECT_EQ(*NormalizeText("Don't Stop"), "dont stop");
  EXPECT_EQ(*NormalizeText("Don\u2019t"), "dont");
  EXPECT_EQ(*NormalizeText("'Til Tuesday'"), "til tuesday");
  EXPECT_EQ(*NormalizeText("rock 'n' roll"), "rock n roll");
  EXPECT_EQ(*NormalizeText("Don\u02BCt \u02BCbout"), "dont bout");
}

// A run of mixed apostrophes inside a word once joined differently on the second pass
// (the modifier letter apostrophe U+02BC counted as a letter before an ASCII one).
TEST(NormalizeTextTest, IsIdempotentAroundApostropheRuns) {
  for (const char* text : {"x\u02BC's", "x'\u02BCs", "a\u2019\u02BC'b", "x\u02BC 's",
                           "\u02BC'x", "x'\u0301s", "rock \u02BC\u02BCn' roll"}) {
    absl::StatusOr<std::string> once = NormalizeText(text);
    ASSERT_TRUE(once.ok()) << text;
    EXPECT_EQ(*NormalizeText(*once), *once) << text;
  }
  EXPECT_EQ(*NormalizeText("x\u02BC's"), "xs");
}

TEST(CoreTitleTest, DropsVersionSuffixes) {
  EXPECT_EQ(CoreTitle("Hey Jude - Remastered 2015"), "Hey Jude");
  EXPECT_EQ(CoreTitle("Despacito - Remix"), "Despacito");
  EXPECT_EQ(CoreTitle("Stand By Me (feat. X) [Live]"), "Stand By Me");
  EXPECT_EQ(CoreTitle("Song \u2013 Live at Wembley"), "Song");
  EXPECT_EQ(CoreTitle("  Plain title "), "Plain title");
  // Nothing before the suffix: the whole title stays.
  EXPECT_EQ(CoreTitle("(I Can't Get No) Satisfaction"), "(I Can't Get No) Satisfaction");
  EXPECT_EQ(CoreTitle("(Intro)"), "(Intro)");
  EXPECT_EQ(CoreTitle("- Remix"), "- Remix");
  EXPECT_EQ(CoreTitle(""), "");
}

}  // namespace
}  // namespace cratedig
