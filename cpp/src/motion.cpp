#include "heatcore/motion.hpp"
#include "heatcore/parallel.hpp"

namespace heatcore {}
