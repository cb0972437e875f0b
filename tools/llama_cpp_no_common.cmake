# Read by CMake right after llama.cpp's own project() call, when tools/install.py compiles
# llama-cpp-python (CMAKE_ARGS: -DCMAKE_PROJECT_llama.cpp_INCLUDE=<this file>).
#
# llama-cpp-python forces LLAMA_BUILD_COMMON on, for its multimodal library (LLAVA_BUILD, which
# install.py turns off). Nothing else in the wheel uses llama.cpp's `common` helpers (argument
# parsing, chat templates in C++, JSON schemas, an HTTP client), and they are half the compile
# (441 s of CPU with them, 216 s without): turned off again here, after llama-cpp-python set the
# option and before llama.cpp reads it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
