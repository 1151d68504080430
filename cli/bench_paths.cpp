// Run-time lookup of the benchmark helpers (see bench_paths.h).
#include "cli/bench_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace bitnet::cli {

namespace fs = std::filesystem;

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this program's path (/proc/self/exe): " + ec.message());
  return exe.parent_path().string();
}

std::string bench_script(const std::string& name) {
  const fs::path p = fs::path(executable_dir()) / ".." / "share" / "bitnet" / "bench" / name;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    throw std::runtime_error("bench script " + name + " is not at " + p.lexically_normal().string() +
                             " (the build copies bench/*.py there; rebuild, or run bitnet from its build tree)");
  }
  return p.lexically_normal().string();
}

std::string bench_kernels_program() {
  const fs::path p = fs::path(executable_dir()) / "bitnet_bench_kernels";
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    throw std::runtime_error(p.string() + " was not built (configure with -DBITNET_BUILD_BENCH=ON, the default)");
  }
  return p.string();
}

std::string bench_python() {
  if (const char* python = std::getenv("BITNET_PYTHON"); python != nullptr && *python != '\0') return python;
  for (fs::path dir = executable_dir(); !dir.empty(); dir = dir.parent_path()) {
    const fs::path venv = dir / ".venv" / "bin" / "python";
    if (::access(venv.c_str(), X_OK) == 0) return venv.string();
    if (dir == dir.parent_path()) break;
  }
  return "python3";
}

}  // namespace bitnet::cli
