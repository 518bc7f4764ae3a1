#pragma once

namespace aisos {
inline constexpr const char* version = "0.1.0";
}
