// motion kernels: plain C++ API (pointers + sizes). No Python types.
#pragma once
#include <cstddef>
#include <cstdint>

namespace heatcore {}
