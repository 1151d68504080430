// Forked competitors (see competing_load.h). The child touches only memory allocated before the
// fork and calls nothing that takes a lock, since the parent's other threads may hold one.
#include "trainer/competing_load.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bitnet {
namespace {

[[noreturn]] void compete(volatile uint64_t* buffer, size_t words) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
  for (uint64_t round = 0;; ++round) {
    for (size_t i = 0; i < words; i += 8) buffer[i] = buffer[i] * 6364136223846793005ull + round;
  }
}

}  // namespace

CompetingLoad::CompetingLoad(int processes) {
  constexpr size_t kWords = (size_t{32} << 20) / sizeof(uint64_t);
  for (int i = 0; i < processes; ++i) {
    auto* buffer = new uint64_t[kWords];  // the child's copy (copy-on-write); the parent frees its own
    std::memset(buffer, 0, kWords * sizeof(uint64_t));
    const pid_t pid = fork();
    if (pid == 0) compete(buffer, kWords);
    delete[] buffer;
    if (pid < 0) {
      stop();
      throw std::runtime_error("cannot start a competing process for the benchmark: " +
                               std::string(std::strerror(errno)));
    }
    children_.push_back(pid);
  }
}

CompetingLoad::~CompetingLoad() {
  stop();
}

void CompetingLoad::stop() {
  for (pid_t pid : children_) kill(pid, SIGKILL);
  for (pid_t pid : children_) waitpid(pid, nullptr, 0);
  children_.clear();
}

}  // namespace bitnet
