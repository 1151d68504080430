// Competing processes for `bitnet bench train`: training throughput on a machine that is busy with
// something else (a build, another job) is what users meet, and where OpenMP's waiting policy
// decides whether a 2-thread step takes 1 s or 10 s. Each competitor is a forked child that
// streams through its own 32 MiB buffer (memory traffic and CPU, as a compiler's) until the
// CompetingLoad is destroyed.
#pragma once

#include <sys/types.h>

#include <vector>

namespace bitnet {

class CompetingLoad {
 public:
  explicit CompetingLoad(int processes);
  ~CompetingLoad();
  CompetingLoad(const CompetingLoad&) = delete;
  CompetingLoad& operator=(const CompetingLoad&) = delete;
  int processes() const { return static_cast<int>(children_.size()); }

 private:
  void stop();  // kills and reaps every child
  std::vector<pid_t> children_;
};

}  // namespace bitnet
