// glibc's malloc and LibTorch's CPU tensors. By default glibc serves every allocation above its
// (adaptive, at most 32 MiB) mmap threshold with a fresh mmap and hands freed heap tops back to
// the kernel past 128 KiB. A training step allocates and frees the same activation-sized buffers
// (MiBs each) every step, so each step paid again for page faults and zeroed pages: 11.5% of a
// 1-thread tiny-fortunes step was in the kernel's page-fault path.
#pragma once

#include <string>

namespace bitnet {

// Keeps freed memory in the process for the next step: allocations up to 32 MiB come from the
// heap, and free heap stays mapped up to 1 GiB. Does nothing when the user tuned malloc through
// the environment (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_, or
// glibc.malloc tunables in GLIBC_TUNABLES), or on a C library other than glibc.
void keep_freed_memory_for_reuse();

// What keep_freed_memory_for_reuse() chose, in words (benchmark headers).
std::string host_memory_policy();

// Environment settings that give another process (a Python peer) the same malloc behaviour; empty
// when the user's own environment already decides it.
std::string host_memory_env_for_peer();

}  // namespace bitnet
