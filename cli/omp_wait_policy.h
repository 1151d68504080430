// LibTorch's CPU operators, and our own parallel loops, run on OpenMP (the PyTorch wheel bundles
// GNU libgomp). By default libgomp's idle threads spin for up to 300,000 iterations at every
// barrier before they sleep. On a loaded machine a spinning thread takes the core from the thread
// that still holds work, and every parallel region waits for a descheduled thread: a 2-thread
// training step measured 9.8 s under a compiler's load against 2.3 s with passive waiting. Not
// spinning at all costs a kernel wake-up per parallel region instead: the idle 2-thread step of
// configs/tiny-fortunes.yaml took 173-192 ms sleeping at once against 149-157 ms with a spin of
// 1,000-3,000, while beside two competing processes both stayed within the run-to-run noise
// (354-502 ms passive, 400-448 ms with the short spin); a spin of 30,000 already took 498-1147 ms
// there.
#pragma once

namespace bitnet::cli {

// The default wait: a short spin (GOMP_SPINCOUNT=1000) and then sleep, unless the user chose a
// policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment). libgomp reads its environment
// once, when it is loaded (before main), so the process starts itself again with the setting; if
// that fails it carries on with libgomp's default (correct, only slower under load).
void use_short_omp_spin(char** argv);

}  // namespace bitnet::cli
