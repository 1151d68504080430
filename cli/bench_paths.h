// Where `bitnet bench` finds the helpers it runs, found at run time from the executable's own
// location (no source or build path is compiled into the binary, so a build tree can move):
//   bench scripts       <dir of bitnet>/../share/bitnet/bench/NAME (the build copies bench/*.py there)
//   bitnet_bench_kernels <dir of bitnet>/bitnet_bench_kernels (built beside bitnet)
//   Python              $BITNET_PYTHON; else the first .venv/bin/python in the directories above
//                       bitnet (a build inside a checkout finds the checkout's .venv); else python3
#pragma once

#include <string>

namespace bitnet::cli {

// The directory holding the running executable.
std::string executable_dir();
// The bench script NAME; std::runtime_error naming where it looked when it is not there.
std::string bench_script(const std::string& name);
// The kernel benchmark program; std::runtime_error when it was not built (BITNET_BUILD_BENCH=OFF).
std::string bench_kernels_program();
// The Python that runs the bench scripts (see above).
std::string bench_python();

}  // namespace bitnet::cli
