#pragma once

// Builds GGUF files in memory for tests, byte by byte as the spec lays them out.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace aisos::engine::test {

class GgufBuilder {
public:
    struct Tensor {
        std::string name;
        std::vector<uint64_t> dims;
        uint32_t type;
        std::vector<uint8_t> data;
    };

    explicit GgufBuilder(uint32_t version = 3)
        : m_version(version)
    {
    }

    void add_u32(std::string const& key, uint32_t v) { kv(key, 4, &v, 4); }
    void add_i32(std::string const& key, int32_t v) { kv(key, 5, &v, 4); }
    void add_f32(std::string const& key, float v) { kv(key, 6, &v, 4); }
    void add_bool(std::string const& key, bool v) { uint8_t b = v; kv(key, 7, &b, 1); }
    void add_u64(std::string const& key, uint64_t v) { kv(key, 10, &v, 8); }
    void add_string(std::string const& key, std::string const& v)
    {
        std::vector<uint8_t> bytes;
        put_string(bytes, v);
        kv(key, 8, bytes.data(), bytes.size());
    }
    void add_string_array(std::string const& key, std::vector<std::string> const& values)
    {
        std::vector<uint8_t> bytes;
        put(bytes, uint32_t(8));
        put(bytes, uint64_t(values.size()));
        for (auto const& v : values)
            put_string(bytes, v);
        kv(key, 9, bytes.data(), bytes.size());
    }
    template<typename T>
    void add_array(std::string const& key, uint32_t element_type, std::vector<T> const& values)
    {
        std::vector<uint8_t> bytes;
        put(bytes, element_type);
        put(bytes, uint64_t(values.size()));
        for (auto const& v : values)
            put(bytes, v);
        kv(key, 9, bytes.data(), bytes.size());
    }
    // A raw value of any type id (for malformed-input tests).
    void add_raw(std::string const& key, uint32_t type, std::vector<uint8_t> const& bytes) { kv(key, type, bytes.data(), bytes.size()); }

    void add_tensor(std::string const& name, std::vector<uint64_t> dims, uint32_t type, std::vector<uint8_t> data)
    {
        m_tensors.push_back({ name, std::move(dims), type, std::move(data) });
    }

    void set_alignment(uint32_t alignment) { m_alignment = alignment; }

    std::vector<uint8_t> build() const
    {
        std::vector<uint8_t> out;
        out.insert(out.end(), { 'G', 'G', 'U', 'F' });
        put(out, m_version);
        put(out, uint64_t(m_tensors.size()));
        put(out, uint64_t(m_kv_count));
        out.insert(out.end(), m_kv.begin(), m_kv.end());
        uint64_t offset = 0;
        std::vector<uint64_t> offsets;
        for (auto const& t : m_tensors) {
            put_string(out, t.name);
            put(out, uint32_t(t.dims.size()));
            for (auto d : t.dims)
                put(out, d);
            put(out, t.type);
            put(out, offset);
            offsets.push_back(offset);
            offset += (t.data.size() + m_alignment - 1) / m_alignment * m_alignment;
        }
        while (out.size() % m_alignment)
            out.push_back(0);
        for (auto const& t : m_tensors) {
            out.insert(out.end(), t.data.begin(), t.data.end());
            while (out.size() % m_alignment)
                out.push_back(0);
        }
        return out;
    }

    template<typename T>
    static void put(std::vector<uint8_t>& out, T const& v)
    {
        uint8_t bytes[sizeof(T)];
        std::memcpy(bytes, &v, sizeof(T));
        out.insert(out.end(), bytes, bytes + sizeof(T));
    }
    static void put_string(std::vector<uint8_t>& out, std::string const& s)
    {
        put(out, uint64_t(s.size()));
        out.insert(out.end(), s.begin(), s.end());
    }

private:
    void kv(std::string const& key, uint32_t type, void const* value, size_t size)
    {
        put_string(m_kv, key);
        put(m_kv, type);
        auto const* p = static_cast<uint8_t const*>(value);
        m_kv.insert(m_kv.end(), p, p + size);
        ++m_kv_count;
    }

    uint32_t m_version;
    uint32_t m_alignment { 32 };
    std::vector<uint8_t> m_kv;
    size_t m_kv_count { 0 };
    std::vector<Tensor> m_tensors;
};

} // namespace aisos::engine::test
