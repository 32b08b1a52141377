#include "query_service/cli/flag_check.h"

#include <gtest/gtest.h>

#include <optional>

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

}  // namespace
}  // namespace cratedig::cli
