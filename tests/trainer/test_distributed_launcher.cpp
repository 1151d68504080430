// The launcher's pure parts: which exit code a multi-rank run reports, and port selection.
#include <csignal>

#include <gtest/gtest.h>

#include "cli/launcher.h"

namespace bitnet::cli {
namespace {

TEST(Launcher, WorstExitCodePrefersErrorsOverCleanStopsOverSuccess) {
  EXPECT_EQ(worst_exit_code({0, 0}), 0);
  EXPECT_EQ(worst_exit_code({0, 128 + SIGTERM}), 128 + SIGTERM);
  EXPECT_EQ(worst_exit_code({128 + SIGTERM, 128 + SIGTERM}), 128 + SIGTERM);
  EXPECT_EQ(worst_exit_code({128 + SIGTERM, 1}), 1);              // a failure outranks a clean stop
  EXPECT_EQ(worst_exit_code({1, 128 + SIGKILL}), 128 + SIGKILL);  // the killed rank's code is kept
  EXPECT_EQ(worst_exit_code({128 + SIGINT, 0, 128 + SIGTERM}), 128 + SIGTERM);
  EXPECT_EQ(worst_exit_code({}), 0);
}

TEST(Launcher, FreePortIsAUsablePortNumber) {
  const int port = free_loopback_port();
  EXPECT_GT(port, 0);
  EXPECT_LE(port, 65535);
}

}  // namespace
}  // namespace bitnet::cli
