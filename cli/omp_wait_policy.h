// LibTorch's CPU operators run on OpenMP (the PyTorch wheel bundles GNU libgomp). By default
// libgomp's idle threads spin for a while at every barrier before they sleep. On an idle machine
// that saves a wake-up; on a loaded one a spinning thread takes the core from the thread that
// still holds work, and every parallel region waits for a descheduled thread: a 2-thread training
// step measured 9.8 s under a compiler's load against 2.3 s with passive waiting.
#pragma once

namespace bitnet::cli {

// Makes OpenMP threads sleep rather than spin while they wait, unless the user chose a policy
// (OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment). libgomp reads its environment once, when
// it is loaded (before main), so the process starts itself again with OMP_WAIT_POLICY=PASSIVE; if
// that fails it carries on with the default policy (correct, only slower under load).
void use_passive_omp_wait(char** argv);

}  // namespace bitnet::cli
