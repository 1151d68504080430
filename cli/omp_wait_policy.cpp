// Restarting the process with a short OpenMP spin (see omp_wait_policy.h for why).
#include "cli/omp_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace bitnet::cli {

void use_short_omp_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  // Set before exec, so the new process finds it and does not restart again.
  if (setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace bitnet::cli
