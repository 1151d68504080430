// The precompiled header every LibTorch target shares (see cmake/torch.cmake).
#pragma once
#include <torch/torch.h>
