// SIGINT/SIGTERM handling for long runs: the handler only records the signal; the training loop
// polls it between steps, finishes the step, checkpoints and exits with a resume hint.
#pragma once

namespace bitnet {

void install_stop_handlers();
// The signal number received since install_stop_handlers(), or 0.
int stop_signal_received();

}  // namespace bitnet
