# Where LibTorch comes from: the user's own when they set Torch_DIR (a cluster's LibTorch, say),
# otherwise the `torch` wheel that scripts/setup installs into .venv/ (the wheel carries the
# headers, the shared libraries and TorchConfig.cmake). A CUDA build of LibTorch needs the CUDA
# toolkit (nvcc, cuBLAS) at configure time; a CPU build needs none.
if(NOT Torch_DIR AND NOT DEFINED ENV{Torch_DIR})
  file(GLOB BITNET_VENV_TORCH_DIRS
       "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/torch/share/cmake/Torch")
  if(BITNET_VENV_TORCH_DIRS)
    list(GET BITNET_VENV_TORCH_DIRS 0 BITNET_VENV_TORCH_DIR)
    set(Torch_DIR "${BITNET_VENV_TORCH_DIR}" CACHE PATH "LibTorch's CMake config (from .venv)")
  endif()
endif()
# TorchConfig.cmake finds its libraries and its Caffe2 config with PATHS hints, which CMake
# searches after the system prefixes: a machine that also has Debian's libtorch-dev would link
# that LibTorch 1.13 into this build. Putting this LibTorch's prefix first in CMAKE_PREFIX_PATH
# makes every one of those searches find its own files first.
set(BITNET_TORCH_CONFIG_DIR "${Torch_DIR}")
if(NOT BITNET_TORCH_CONFIG_DIR AND DEFINED ENV{Torch_DIR})
  set(BITNET_TORCH_CONFIG_DIR "$ENV{Torch_DIR}")
endif()
if(BITNET_TORCH_CONFIG_DIR)
  get_filename_component(BITNET_TORCH_PREFIX "${BITNET_TORCH_CONFIG_DIR}/../../.." ABSOLUTE)
  list(PREPEND CMAKE_PREFIX_PATH "${BITNET_TORCH_PREFIX}")
endif()
# A CUDA LibTorch's config enables CMake's CUDA language itself: name the GPU generations before
# it does (Ampere, Hopper, Blackwell machine code, plus PTX newer GPUs compile at load time), for
# our kernels (CMAKE_CUDA_ARCHITECTURES) and for the flags LibTorch's config computes
# (TORCH_CUDA_ARCH_LIST; it cannot detect a GPU on a machine without one).
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90-real;100-real;120")
endif()
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0;10.0;12.0+PTX")
endif()
find_package(Torch REQUIRED)
# The PyTorch wheel's libtorch.so exports copies of standard-library functions (std::filesystem,
# string streams, ...) from the newer libstdc++ it was built with. Calls from our code bound to
# them crash (std::filesystem::remove_all jumps to a null address), and the dynamic linker binds
# to the first library in the executable's needed list that defines a symbol. Naming libstdc++
# before any other library makes that the system's own.
add_link_options("LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")
message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR}")
