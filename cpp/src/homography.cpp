#include "heatcore/homography.hpp"
#include "heatcore/parallel.hpp"

namespace heatcore {}
