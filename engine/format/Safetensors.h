#pragma once

// safetensors reader: u64 header length, JSON header {name: {dtype, shape,
// data_offsets}} (+ optional __metadata__), then the raw data. Every shape
// and offset is checked against the file before a tensor is exposed.

#include "engine/format/Json.h"
#include "engine/format/TensorDesc.h"

namespace aisos::engine {

class SafetensorsFile {
public:
    static ErrorOr<SafetensorsFile> parse(u8 const* data, size_t size);

    Vector<TensorDesc> const& tensors() const { return m_tensors; }
    TensorDesc const* find_tensor(std::string_view name) const;

private:
    JsonDocument m_header;
    Vector<TensorDesc> m_tensors;
};

} // namespace aisos::engine
