#include "query_service/cli/flag_check.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"

// Flags of this test only, with the types of cratedig's own.
ABSL_FLAG(int, cli_test_k, 10, "test flag");
ABSL_FLAG(bool, cli_test_json, false, "test flag");
ABSL_FLAG(std::optional<double>, cli_test_timeout, std::nullopt, "test flag");

namespace cratedig::cli {
namespace {

TEST(FlagCheckTest, AcceptsKnownFlagsAndPositionals) {
  EXPECT_EQ(CheckFlags({"search", "--cli_test_k=5", "-", "--cli_test_json", "money"}),
            "");
  EXPECT_EQ(CheckFlags({"--nocli_test_json", "-cli_test_k", "7", "status"}), "");
  EXPECT_EQ(CheckFlags({"--cli_test_timeout=2.5", "--", "--bogus"}), "");
  EXPECT_EQ(CheckFlags({"--cli_test_timeout="}), "");
  EXPECT_EQ(CheckFlags({"--help", "--bogus"}), "");
}

TEST(FlagCheckTest, RejectsUnknownFlags) {
  EXPECT_EQ(CheckFlags({"search", "--bogus=1", "x"}), "unknown flag --bogus");
  EXPECT_EQ(CheckFlags({"--nocli_test_k"}), "unknown flag --nocli_test_k");
}

TEST(FlagCheckTest, RejectsBadOrMissingValues) {
  EXPECT_EQ(CheckFlags({"--cli_test_k=ten"}), "invalid value 'ten' for --cli_test_k");
  EXPECT_EQ(CheckFlags({"--cli_test_timeout=soon"}),
            "invalid value 'soon' for --cli_test_timeout");
  EXPECT_EQ(CheckFlags({"status", "--cli_test_k"}), "missing value for --cli_test_k");
}

TEST(FlagCheckTest, RepeatedFlagValuesKeepsEveryOccurrence) {
  EXPECT_EQ(RepeatedFlagValues({"--genre=rock", "recommend", "-genre", "jazz pop",
                                "--genres=x", "--genre=", "--", "--genre=no"},
                               "genre"),
            (std::vector<std::string>{"rock", "jazz pop", ""}));
  EXPECT_TRUE(RepeatedFlagValues({"--genre"}, "genre").empty());
}

TEST(FlagCheckTest, BoolFlagGivenSeesEveryForm) {
  for (const char* given :
       {"--exact", "-exact", "--exact=false", "--noexact", "--exact=1"}) {
    EXPECT_TRUE(BoolFlagGiven({"recommend", given, "ID"}, "exact")) << given;
  }
  EXPECT_FALSE(BoolFlagGiven({"recommend", "ID"}, "exact"));
  EXPECT_FALSE(BoolFlagGiven({"--exactly", "--nonexact", "exact"}, "exact"));
  EXPECT_FALSE(BoolFlagGiven({"recommend", "--", "--exact"}, "exact"));
}

TEST(FlagCheckTest, ExtractKnobsTakesOutMinMaxAndTargetArguments) {
  std::vector<std::string> args = {
      "recommend",        "--target_energy=0.8", "--min_tempo", "120", "--cli_test_k=5",
      "-max_loudness=-3", "--target_foo=1",      "ID",          "--",  "--min_x=1"};
  std::string error;
  auto knobs = ExtractKnobs(&args, &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(knobs,
            (std::vector<std::pair<std::string, std::string>>{{"target_energy", "0.8"},
                                                              {"min_tempo", "120"},
                                                              {"max_loudness", "-3"},
                                                              {"target_foo", "1"}}));
  EXPECT_EQ(args, (std::vector<std::string>{"recommend", "--cli_test_k=5", "ID", "--",
                                            "--min_x=1"}));
  std::vector<std::string> missing = {"--target_energy"};
  ExtractKnobs(&missing, &error);
  EXPECT_EQ(error, "missing value for --target_energy");
  // A real flag of that shape stays a flag.
  std::vector<std::string> real = {"--max_per_artist=2"};
  EXPECT_TRUE(ExtractKnobs(&real, &error).empty());
  EXPECT_EQ(real.size(), 1u);
}

}  // namespace
}  // namespace cratedig::cli
