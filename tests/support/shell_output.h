// Runs a shell command line and returns what it wrote to stdout (stderr is left to the test's own
// output, or redirected in the command), for the tests that compare against a Python reference.
#pragma once

#include <cstdio>
#include <string>

namespace bitnet::testing {

struct ShellOutput {
  int status = -1;   // pclose's wait status: 0 when the command exited with 0
  std::string text;  // everything the command wrote to stdout
};

inline ShellOutput shell_output(const std::string& command) {
  ShellOutput result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.text.append(buffer, n);
  result.status = ::pclose(pipe);
  return result;
}

}  // namespace bitnet::testing
