#include "lib/crypto/Argon2id.h"
#include "lib/crypto/Blake2b.h"
#include "lib/crypto/ConstantTime.h"

#include <bit>

namespace aisos::crypto {

namespace {

constexpr uint32_t argon2_version = 0x13;
constexpr uint32_t argon2_type_id = 2; // Argon2id
constexpr size_t block_words = 128;    // 1024 bytes
constexpr size_t block_bytes = block_words * 8;
constexpr uint32_t sync_points = 4; // slices per pass

struct Block {
    uint64_t v[block_words];
};

void store32_le(uint8_t* p, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        p[i] = uint8_t(value >> (8 * i));
}

void update_le32(Blake2b& blake, uint32_t value)
{
    uint8_t bytes[4];
    store32_le(bytes, value);
    blake.update(std::span<const uint8_t>(bytes, 4));
}

// H' (RFC 9106 §3.3): a variable-length hash built from BLAKE2b.
void variable_hash(uint8_t* out, size_t out_length, std::span<const uint8_t> input)
{
    if (out_length <= Blake2b::max_digest_size) {
        Blake2b blake(out_length);
        update_le32(blake, uint32_t(out_length));
        blake.update(input);
        blake.finish(out);
        return;
    }
    uint8_t v[64];
    Blake2b first(64);
    update_le32(first, uint32_t(out_length));
    first.update(input);
    first.finish(v);
    __builtin_memcpy(out, v, 32);
    size_t position = 32;
    size_t remaining = out_length - 32;
    while (remaining > 64) {
        Blake2b next(64);
        next.update(std::span<const uint8_t>(v, 64));
        next.finish(v);
        __builtin_memcpy(out + position, v, 32);
        position += 32;
        remaining -= 32;
    }
    Blake2b last(remaining);
    last.update(std::span<const uint8_t>(v, 64));
    last.finish(out + position);
    secure_zero(v, sizeof(v));
}

// The BlaMka mixing of Argon2's permutation P (RFC 9106 §3.6): BLAKE2b's
// G with the additions replaced by x + y + 2 * lo32(x) * lo32(y).
inline uint64_t blamka(uint64_t x, uint64_t y)
{
    return x + y + 2 * (uint64_t(uint32_t(x)) * uint64_t(uint32_t(y)));
}

inline void mix(uint64_t& a, uint64_t& b, uint64_t& c, uint64_t& d)
{
    a = blamka(a, b);
    d = std::rotr(d ^ a, 32);
    c = blamka(c, d);
    b = std::rotr(b ^ c, 24);
    a = blamka(a, b);
    d = std::rotr(d ^ a, 16);
    c = blamka(c, d);
    b = std::rotr(b ^ c, 63);
}

// P on sixteen 64-bit words, given by their indices into a block.
inline void permute(uint64_t* v, const size_t (&i)[16])
{
    mix(v[i[0]], v[i[4]], v[i[8]], v[i[12]]);
    mix(v[i[1]], v[i[5]], v[i[9]], v[i[13]]);
    mix(v[i[2]], v[i[6]], v[i[10]], v[i[14]]);
    mix(v[i[3]], v[i[7]], v[i[11]], v[i[15]]);
    mix(v[i[0]], v[i[5]], v[i[10]], v[i[15]]);
    mix(v[i[1]], v[i[6]], v[i[11]], v[i[12]]);
    mix(v[i[2]], v[i[7]], v[i[8]], v[i[13]]);
    mix(v[i[3]], v[i[4]], v[i[9]], v[i[14]]);
}

enum class Overwrite : uint8_t { Replace, XorInto };

// The compression function G (RFC 9106 §3.5): out = P(X ^ Y) ^ X ^ Y,
// XORed into the old contents of out from the second pass on (version 0x13).
void compress(const Block& x, const Block& y, Block& out, Overwrite overwrite)
{
    Block r;
    Block keep;
    for (size_t i = 0; i < block_words; ++i) {
        r.v[i] = x.v[i] ^ y.v[i];
        keep.v[i] = overwrite == Overwrite::XorInto ? r.v[i] ^ out.v[i] : r.v[i];
    }
    // Rows: the block as an 8x8 matrix of 16-byte registers; each row is 16 consecutive words.
    for (size_t row = 0; row < 8; ++row) {
        size_t b = 16 * row;
        const size_t indices[16] = { b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15 };
        permute(r.v, indices);
    }
    // Columns: register pairs 2c, 2c+1 of every row.
    for (size_t column = 0; column < 8; ++column) {
        size_t b = 2 * column;
        const size_t indices[16] = { b, b + 1, b + 16, b + 17, b + 32, b + 33, b + 48, b + 49, b + 64, b + 65, b + 80, b + 81, b + 96, b + 97, b + 112, b + 113 };
        permute(r.v, indices);
    }
    for (size_t i = 0; i < block_words; ++i)
        out.v[i] = keep.v[i] ^ r.v[i];
}

void block_from_bytes(Block& block, const uint8_t* bytes)
{
    for (size_t i = 0; i < block_words; ++i) {
        uint64_t value = 0;
        for (int j = 7; j >= 0; --j)
            value = (value << 8) | bytes[8 * i + j];
        block.v[i] = value;
    }
}

void block_to_bytes(const Block& block, uint8_t* bytes)
{
    for (size_t i = 0; i < block_words; ++i) {
        for (int j = 0; j < 8; ++j)
            bytes[8 * i + j] = uint8_t(block.v[i] >> (8 * j));
    }
}

struct Instance {
    Block* memory;
    uint32_t lanes;
    uint32_t lane_length;
    uint32_t segment_length;
    uint32_t passes;
    uint32_t total_blocks;
};

// Generates the next block of 128 pseudo-random values for data-independent
// addressing (RFC 9106 §3.4.1.2): G(0, G(0, input)) with the counter bumped.
void next_addresses(Block& address, Block& input)
{
    static constexpr Block zero {};
    ++input.v[6];
    compress(zero, input, address, Overwrite::Replace);
    Block temporary = address;
    compress(zero, temporary, address, Overwrite::Replace);
}

// RFC 9106 §3.4.2: maps J1 to a block of the reference area.
uint32_t reference_index(const Instance& instance, uint32_t pass, uint32_t slice, uint32_t index, uint32_t j1, bool same_lane)
{
    uint64_t area;
    if (pass == 0) {
        if (slice == 0)
            area = index - 1; // only this lane's blocks so far, without the previous one
        else if (same_lane)
            area = uint64_t(slice) * instance.segment_length + index - 1;
        else
            area = uint64_t(slice) * instance.segment_length - (index == 0 ? 1 : 0);
    } else {
        if (same_lane)
            area = uint64_t(instance.lane_length) - instance.segment_length + index - 1;
        else
            area = uint64_t(instance.lane_length) - instance.segment_length - (index == 0 ? 1 : 0);
    }
    uint64_t x = (uint64_t(j1) * uint64_t(j1)) >> 32;
    uint64_t y = (area * x) >> 32;
    uint64_t relative = area - 1 - y;
    uint64_t start = 0;
    if (pass != 0)
        start = slice == sync_points - 1 ? 0 : uint64_t(slice + 1) * instance.segment_length;
    return uint32_t((start + relative) % instance.lane_length);
}

void fill_segment(const Instance& instance, uint32_t pass, uint32_t lane, uint32_t slice)
{
    // Argon2id: data-independent addressing in the first half of the first pass.
    bool data_independent = pass == 0 && slice < sync_points / 2;
    Block address {};
    Block input {};
    if (data_independent) {
        input.v[0] = pass;
        input.v[1] = lane;
        input.v[2] = slice;
        input.v[3] = instance.total_blocks;
        input.v[4] = instance.passes;
        input.v[5] = argon2_type_id;
    }
    uint32_t start = 0;
    if (pass == 0 && slice == 0) {
        start = 2; // the first two blocks of each lane come from H0
        if (data_independent)
            next_addresses(address, input);
    }
    uint64_t current = uint64_t(lane) * instance.lane_length + uint64_t(slice) * instance.segment_length + start;
    uint64_t previous = current % instance.lane_length == 0 ? current + instance.lane_length - 1 : current - 1;
    for (uint32_t i = start; i < instance.segment_length; ++i, ++current, ++previous) {
        if (current % instance.lane_length == 1)
            previous = current - 1;
        uint64_t pseudo_random;
        if (data_independent) {
            if (i % block_words == 0)
                next_addresses(address, input);
            pseudo_random = address.v[i % block_words];
        } else {
            pseudo_random = instance.memory[previous].v[0];
        }
        uint32_t reference_lane = uint32_t((pseudo_random >> 32) % instance.lanes);
        if (pass == 0 && slice == 0)
            reference_lane = lane;
        uint32_t index = reference_index(instance, pass, slice, i, uint32_t(pseudo_random), reference_lane == lane);
        const Block& reference = instance.memory[uint64_t(reference_lane) * instance.lane_length + index];
        compress(instance.memory[previous], reference, instance.memory[current], pass == 0 ? Overwrite::Replace : Overwrite::XorInto);
    }
}

} // namespace

ErrorOr<void> Argon2Params::validate() const
{
    if (parallelism < 1 || parallelism > max_parallelism)
        return Error::invalid("argon2: parallelism out of range");
    if (iterations < 1 || iterations > max_iterations)
        return Error::invalid("argon2: iterations out of range");
    if (memory_kib < 8 * parallelism)
        return Error::invalid("argon2: memory below 8 KiB per lane");
    if (memory_kib > max_memory_kib)
        return Error::invalid("argon2: memory above the limit");
    return {};
}

ErrorOr<void> argon2id(Allocator& allocator, const Argon2Params& params, const Argon2Input& input, std::span<uint8_t> tag)
{
    TRY(params.validate());
    if (tag.size() < argon2_min_tag_size || tag.size() > argon2_max_tag_size)
        return Error::invalid("argon2: tag length out of range");
    if (input.salt.size() < argon2_min_salt_size)
        return Error::invalid("argon2: salt shorter than 8 bytes");
    if (input.password.size() > 0xffffffffu || input.salt.size() > 0xffffffffu || input.secret.size() > 0xffffffffu || input.associated_data.size() > 0xffffffffu)
        return Error::invalid("argon2: input too long");

    // m' = 4p * floor(m / 4p) blocks (RFC 9106 §3.2 step 5).
    uint32_t total_blocks = params.memory_kib / (sync_points * params.parallelism) * (sync_points * params.parallelism);
    Instance instance;
    instance.lanes = params.parallelism;
    instance.lane_length = total_blocks / params.parallelism;
    instance.segment_length = instance.lane_length / sync_points;
    instance.passes = params.iterations;
    instance.total_blocks = total_blocks;
    void* memory = TRY(allocator.allocate(size_t(total_blocks) * sizeof(Block), 16));
    instance.memory = static_cast<Block*>(memory);

    // H0 (RFC 9106 §3.2 step 1).
    uint8_t h0[Blake2b::max_digest_size + 8];
    {
        Blake2b blake(64);
        update_le32(blake, params.parallelism);
        update_le32(blake, uint32_t(tag.size()));
        update_le32(blake, params.memory_kib);
        update_le32(blake, params.iterations);
        update_le32(blake, argon2_version);
        update_le32(blake, argon2_type_id);
        update_le32(blake, uint32_t(input.password.size()));
        blake.update(input.password);
        update_le32(blake, uint32_t(input.salt.size()));
        blake.update(input.salt);
        update_le32(blake, uint32_t(input.secret.size()));
        blake.update(input.secret);
        update_le32(blake, uint32_t(input.associated_data.size()));
        blake.update(input.associated_data);
        blake.finish(h0);
    }

    // The first two blocks of every lane: H'(H0 || LE32(j) || LE32(lane)).
    uint8_t block_bytes_buffer[block_bytes];
    for (uint32_t lane = 0; lane < params.parallelism; ++lane) {
        for (uint32_t j = 0; j < 2; ++j) {
            store32_le(h0 + 64, j);
            store32_le(h0 + 68, lane);
            variable_hash(block_bytes_buffer, block_bytes, std::span<const uint8_t>(h0, sizeof(h0)));
            block_from_bytes(instance.memory[uint64_t(lane) * instance.lane_length + j], block_bytes_buffer);
        }
    }

    for (uint32_t pass = 0; pass < params.iterations; ++pass) {
        for (uint32_t slice = 0; slice < sync_points; ++slice) {
            for (uint32_t lane = 0; lane < params.parallelism; ++lane)
                fill_segment(instance, pass, lane, slice);
        }
    }

    // C = XOR of the last column; tag = H'^T(C).
    Block final_block = instance.memory[instance.lane_length - 1];
    for (uint32_t lane = 1; lane < params.parallelism; ++lane) {
        const Block& last = instance.memory[uint64_t(lane) * instance.lane_length + instance.lane_length - 1];
        for (size_t i = 0; i < block_words; ++i)
            final_block.v[i] ^= last.v[i];
    }
    block_to_bytes(final_block, block_bytes_buffer);
    variable_hash(tag.data(), tag.size(), std::span<const uint8_t>(block_bytes_buffer, block_bytes));

    secure_zero(block_bytes_buffer, sizeof(block_bytes_buffer));
    secure_zero(&final_block, sizeof(final_block));
    secure_zero(h0, sizeof(h0));
    secure_zero(memory, size_t(total_blocks) * sizeof(Block));
    allocator.free(memory);
    return {};
}

} // namespace aisos::crypto
