#include "heatcore/kde.hpp"
#include "heatcore/parallel.hpp"

namespace heatcore {}
