#pragma once

// Shared by the rpk tests: reading the sample modules, a valid manifest.

#include "rpk/sdk/include/aisos/abi.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aisos::rpk::test {

inline std::vector<uint8_t> read_file(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw std::runtime_error("cannot open " + path);
    return { std::istreambuf_iterator<char>(file), {} };
}

inline std::vector<uint8_t> bytes_of(std::string_view text) { return { text.begin(), text.end() }; }

// The manifests below and the expected messages ("kernel has 1") name ABI 1.
static_assert(AISOS_ABI_VERSION == 1, "the ABI version changed: update the rpk test manifests");

inline constexpr std::string_view example_manifest = R"({
  "name": "hello",
  "version": "1.0.0",
  "abi": 1,
  "entry": "hello.elf",
  "priority": "normal",
  "permissions": {
    "fs_read": ["/models", "/data/hello"],
    "fs_write": ["/data/hello"],
    "routes": [ {"path": "/hello", "methods": ["GET", "POST"], "access": "public"},
                {"path": "/v1/*", "methods": ["GET","POST"], "access": "user"},
                {"path": "/ws", "websocket": true, "access": "user"} ],
    "max_memory_mib": 64,
    "max_threads": 8
  }
})";

} // namespace aisos::rpk::test
