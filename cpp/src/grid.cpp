#include "heatcore/grid.hpp"
#include "heatcore/parallel.hpp"

namespace heatcore {}
