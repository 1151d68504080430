// Signal flag (see stop_signal.h). A signal handler can reach no object, so this one
// sig_atomic_t is the process-wide state it writes; nothing else is global.
#include "trainer/stop_signal.h"

#include <csignal>

namespace bitnet {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int signo) {
  if (g_stop_signal != 0) {
    // A second Ctrl-C means "now": restore the default action and re-raise.
    std::signal(signo, SIG_DFL);
    std::raise(signo);
    return;
  }
  g_stop_signal = signo;
}

}  // namespace

void install_stop_handlers() {
  g_stop_signal = 0;
  std::signal(SIGINT, record_stop_signal);
  std::signal(SIGTERM, record_stop_signal);
}

int stop_signal_received() {
  return g_stop_signal;
}

}  // namespace bitnet
