// Restarting the process with passive OpenMP waiting (see omp_wait_policy.h for why).
#include "cli/omp_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace bitnet::cli {

void use_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  // Set before exec, so the new process finds it and does not restart again.
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace bitnet::cli
