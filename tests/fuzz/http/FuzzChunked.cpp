// libFuzzer target: the chunked decoder, fed in pieces whose sizes come
// from the input. Invariants: consumed framing plus data never exceeds the
// input, data spans stay inside it, and the result (data, done or error)
// does not depend on how the input was split.
#include "lib/net/http/ChunkedDecoder.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace aisos::http;

namespace {

struct Outcome {
    std::string data;
    int status; // 0 incomplete, 1 done, 2 error
    size_t consumed;
};

Outcome decode(const uint8_t* input, size_t size, size_t piece)
{
    ChunkedDecoder decoder(64, 256);
    Outcome outcome { {}, 0, 0 };
    size_t position = 0;
    size_t available = 0;
    while (true) {
        available = available + piece < size ? available + piece : size;
        auto step = decoder.advance({ input + position, available - position });
        if (step.consumed > available - position)
            __builtin_trap();
        position += step.consumed;
        if (step.status == ChunkedDecoder::Status::Error) {
            outcome.status = 2;
            break;
        }
        if (step.status == ChunkedDecoder::Status::Done) {
            outcome.status = 1;
            break;
        }
        if (step.status == ChunkedDecoder::Status::Data) {
            if (step.data_length == 0 || step.data_length > available - position)
                __builtin_trap();
            // Take the data in two parts to exercise partial consumption.
            size_t first = (step.data_length + 1) / 2;
            outcome.data.append(reinterpret_cast<const char*>(input + position), first);
            decoder.consume_data(first);
            position += first;
            continue;
        }
        if (available == size)
            break;
    }
    outcome.consumed = position;
    if (decoder.data_total() != outcome.data.size())
        __builtin_trap();
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = 1 + data[0] % 17;
    auto whole = decode(data + 1, size - 1, size);
    auto split = decode(data + 1, size - 1, piece);
    if (whole.status != split.status || whole.data != split.data)
        __builtin_trap();
    if (whole.status == 1 && whole.consumed != split.consumed)
        __builtin_trap();
    return 0;
}
