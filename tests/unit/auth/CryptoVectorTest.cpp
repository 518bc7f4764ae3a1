// Test vectors for the crypto under auth: FIPS 180-4 (SHA-256), RFC 4231
// (HMAC-SHA256), RFC 8439 (ChaCha20), RFC 7693 (BLAKE2b), RFC 9106
// (Argon2id), plus constant-time comparison, entropy health tests and the CSPRNG.
#include "TestHelpers.h"
#include "host/MallocAllocator.h"
#include "lib/crypto/Argon2id.h"
#include "lib/crypto/Blake2b.h"
#include "lib/crypto/ChaCha20.h"
#include "lib/crypto/ConstantTime.h"
#include "lib/crypto/Csprng.h"
#include "lib/crypto/EntropyHealth.h"
#include "lib/crypto/HmacSha256.h"
#include "lib/crypto/Sha256.h"

#include <gtest/gtest.h>
#include <set>
#include <string>

using namespace aisos;
using namespace aisos::crypto;
using namespace aisos::auth::test;

TEST(Sha256, Fips180Vectors)
{
    EXPECT_EQ(to_hex(Sha256::hash("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(Sha256::hash("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(to_hex(Sha256::hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(to_hex(Sha256::hash("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionA)
{
    Sha256 sha;
    std::string chunk(1000, 'a');
    for (int i = 0; i < 1000; ++i)
        sha.update(chunk);
    EXPECT_EQ(to_hex(sha.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitUpdatesMatchOneShot)
{
    std::string text;
    for (int i = 0; i < 300; ++i)
        text += char('a' + i % 26);
    auto expected = Sha256::hash(text);
    for (size_t split = 0; split <= text.size(); split += 7) {
        Sha256 sha;
        sha.update(std::string_view(text).substr(0, split));
        sha.update(std::string_view(text).substr(split));
        EXPECT_EQ(sha.finish(), expected) << split;
    }
}

TEST(HmacSha256, Rfc4231Vectors)
{
    struct Case {
        std::vector<uint8_t> key;
        std::string data;
        const char* mac;
    };
    Case cases[] = {
        { std::vector<uint8_t>(20, 0x0b), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { { 'J', 'e', 'f', 'e' }, "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { std::vector<uint8_t>(20, 0xaa), std::string(50, '\xdd'), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { from_hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { std::vector<uint8_t>(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { std::vector<uint8_t>(131, 0xaa),
            "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    };
    for (auto& c : cases)
        EXPECT_EQ(to_hex(HmacSha256::mac(c.key, as_bytes(c.data))), c.mac) << c.data;

    // Test case 5: truncated to 128 bits.
    std::vector<uint8_t> key(20, 0x0c);
    auto mac = HmacSha256::mac(key, as_bytes("Test With Truncation"));
    EXPECT_EQ(to_hex(std::vector<uint8_t>(mac.begin(), mac.begin() + 16)), "a3b6167473100ee06e0c796c2955552b");
}

TEST(ChaCha20, Rfc8439BlockFunction)
{
    // RFC 8439 §2.3.2.
    auto key = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    auto nonce = from_hex("000000090000004a00000000");
    ChaCha20 cipher(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 12>(nonce.data(), 12), 1);
    std::vector<uint8_t> block(64);
    cipher.keystream(block);
    EXPECT_EQ(to_hex(block),
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

TEST(ChaCha20, Rfc8439Encryption)
{
    // RFC 8439 §2.4.2, encrypted in uneven pieces to cross block edges.
    auto key = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    auto nonce = from_hex("000000000000004a00000000");
    std::string plaintext = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    std::vector<uint8_t> data(plaintext.begin(), plaintext.end());
    ChaCha20 cipher(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 12>(nonce.data(), 12), 1);
    cipher.apply(std::span<uint8_t>(data).subspan(0, 13));
    cipher.apply(std::span<uint8_t>(data).subspan(13, 60));
    cipher.apply(std::span<uint8_t>(data).subspan(73));
    EXPECT_EQ(to_hex(data),
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
        "5af90bbf74a35be6b40b8eedf2785e42874d");
    ChaCha20 decipher(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 12>(nonce.data(), 12), 1);
    decipher.apply(data);
    EXPECT_EQ(std::string(data.begin(), data.end()), plaintext);
}

TEST(Blake2b, Rfc7693Vector)
{
    uint8_t out[64];
    Blake2b::hash(as_bytes("abc"), out);
    EXPECT_EQ(to_hex(std::span<const uint8_t>(out, 64)),
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST(Blake2b, KeyedAndShortDigests)
{
    // Reference values from Python's hashlib.blake2b.
    std::vector<uint8_t> key(64), data(256);
    for (int i = 0; i < 64; ++i)
        key[i] = uint8_t(i);
    for (int i = 0; i < 256; ++i)
        data[i] = uint8_t(i);
    uint8_t out[64];
    Blake2b keyed(64, key);
    keyed.update(std::span<const uint8_t>(data).subspan(0, 128)); // exactly one block, then more
    keyed.update(std::span<const uint8_t>(data).subspan(128));
    keyed.finish(out);
    EXPECT_EQ(to_hex(std::span<const uint8_t>(out, 64)),
        "b72071e096277edebb8ee5134dd3714996307ba3a55aa4733d412abbe28e909e"
        "10e57e6fbfb4ef53b3b960518294ff889a90829254412e2a60b85add07a3674f");

    Blake2b empty_keyed(64, key);
    empty_keyed.finish(out);
    EXPECT_EQ(to_hex(std::span<const uint8_t>(out, 64)),
        "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
        "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");

    uint8_t short_out[20];
    Blake2b::hash(std::span<const uint8_t>(data).subspan(0, 200), short_out);
    EXPECT_EQ(to_hex(std::span<const uint8_t>(short_out, 20)), "b83a5733ce63f2dd8266ea8ec93333d7935142cf");
}

TEST(Argon2id, Rfc9106Vector)
{
    // RFC 9106 §5.3: m=32 KiB, t=3, p=4, 32-byte tag.
    MallocAllocator allocator;
    std::vector<uint8_t> password(32, 0x01), salt(16, 0x02), secret(8, 0x03), associated(12, 0x04);
    uint8_t tag[32];
    Argon2Params params { .memory_kib = 32, .iterations = 3, .parallelism = 4 };
    auto result = argon2id(allocator, params, { password, salt, secret, associated }, tag);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(to_hex(std::span<const uint8_t>(tag, 32)), "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(Argon2id, RejectsBadParameters)
{
    MallocAllocator allocator;
    std::vector<uint8_t> password(8, 'p'), salt(16, 's'), short_salt(7, 's');
    uint8_t tag[32];
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = 7, .iterations = 1, .parallelism = 1 }, { password, salt }, tag).is_error());
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = 64, .iterations = 0, .parallelism = 1 }, { password, salt }, tag).is_error());
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = 64, .iterations = 1, .parallelism = 0 }, { password, salt }, tag).is_error());
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = 64, .iterations = 1, .parallelism = 9 }, { password, salt }, tag).is_error()); // m < 8p
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = Argon2Params::max_memory_kib + 1, .iterations = 1, .parallelism = 1 }, { password, salt }, tag).is_error());
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = 64, .iterations = 1, .parallelism = 1 }, { password, short_salt }, tag).is_error());
    EXPECT_TRUE(argon2id(allocator, { .memory_kib = 64, .iterations = 1, .parallelism = 1 }, { password, salt }, std::span<uint8_t>(tag, 3)).is_error());
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(Argon2id, OutOfMemoryIsAnError)
{
    MallocAllocator allocator;
    allocator.fail_after(0);
    std::vector<uint8_t> password(8, 'p'), salt(16, 's');
    uint8_t tag[32];
    auto result = argon2id(allocator, { .memory_kib = 64, .iterations = 1, .parallelism = 1 }, { password, salt }, tag);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
}

TEST(Argon2id, DifferentInputsGiveDifferentTags)
{
    MallocAllocator allocator;
    std::vector<uint8_t> salt(16, 's');
    uint8_t a[32], b[32], c[32];
    Argon2Params params { .memory_kib = 64, .iterations = 1, .parallelism = 1 };
    ASSERT_FALSE(argon2id(allocator, params, { as_bytes("password1"), salt }, a).is_error());
    ASSERT_FALSE(argon2id(allocator, params, { as_bytes("password2"), salt }, b).is_error());
    ASSERT_FALSE(argon2id(allocator, params, { as_bytes("password1"), salt }, c).is_error());
    EXPECT_NE(to_hex(std::span<const uint8_t>(a, 32)), to_hex(std::span<const uint8_t>(b, 32)));
    EXPECT_EQ(to_hex(std::span<const uint8_t>(a, 32)), to_hex(std::span<const uint8_t>(c, 32)));
}

TEST(ConstantTime, Equal)
{
    std::vector<uint8_t> a { 1, 2, 3, 4 }, b { 1, 2, 3, 4 }, c { 1, 2, 3, 5 }, d { 1, 2, 3 };
    EXPECT_TRUE(constant_time_equal(a, b));
    EXPECT_FALSE(constant_time_equal(a, c));
    EXPECT_FALSE(constant_time_equal(a, d));
    EXPECT_TRUE(constant_time_equal({}, {}));
    c[0] = 0;
    c[3] = 4;
    EXPECT_FALSE(constant_time_equal(a, c));
    uint8_t secret[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    secure_zero(secret, sizeof(secret));
    for (auto byte : secret)
        EXPECT_EQ(byte, 0);
}

TEST(EntropyHealth, HealthySourcePasses)
{
    FakeEntropy entropy;
    EntropyHealth health;
    std::vector<uint8_t> bytes(64 * 1024);
    ASSERT_FALSE(entropy.read(bytes).is_error());
    EXPECT_FALSE(health.check(bytes).is_error());
}

TEST(EntropyHealth, RepetitionCountCatchesStuckSource)
{
    EntropyHealth health;
    std::vector<uint8_t> bytes { 1, 2, 3, 7, 7, 7, 7, 7 };
    EXPECT_FALSE(health.check(bytes).is_error()); // five in a row is tolerated
    std::vector<uint8_t> one_more { 7 };
    auto result = health.check(one_more);
    ASSERT_TRUE(result.is_error());
    EXPECT_STREQ(result.error().reason(), "entropy source stuck (repetition count test)");
    // Sticky: later good data still fails.
    std::vector<uint8_t> good { 1, 2, 3 };
    EXPECT_TRUE(health.check(good).is_error());
}

TEST(EntropyHealth, AdaptiveProportionCatchesBias)
{
    // Never 6 equal bytes in a row, but 0x00 every other byte.
    EntropyHealth health;
    std::vector<uint8_t> bytes;
    for (int i = 0; i < 512; ++i)
        bytes.push_back(i % 2 == 0 ? 0 : uint8_t(i));
    auto result = health.check(bytes);
    ASSERT_TRUE(result.is_error());
    EXPECT_STREQ(result.error().reason(), "entropy source biased (adaptive proportion test)");
}

TEST(Csprng, RefusesBeforeSeedAndWithStuckOrBrokenSource)
{
    FakeEntropy entropy;
    Csprng random(entropy);
    uint8_t out[16];
    EXPECT_TRUE(random.fill(out).is_error());

    FakeEntropy stuck;
    stuck.stuck = true;
    Csprng stuck_random(stuck);
    EXPECT_TRUE(stuck_random.seed().is_error());
    EXPECT_TRUE(stuck_random.fill(out).is_error());

    FakeEntropy broken;
    broken.broken = true;
    Csprng broken_random(broken);
    EXPECT_TRUE(broken_random.seed().is_error());
    EXPECT_TRUE(broken_random.fill(out).is_error());
}

TEST(Csprng, OutputIsDistinctAndReseeds)
{
    FakeEntropy entropy;
    Csprng random(entropy, 4096);
    ASSERT_FALSE(random.seed().is_error());
    EXPECT_EQ(entropy.bytes_read, Csprng::startup_samples);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        uint8_t out[16];
        ASSERT_FALSE(random.fill(out).is_error());
        EXPECT_TRUE(seen.insert(to_hex(std::span<const uint8_t>(out, 16))).second);
    }
    // 16000 bytes with a 4096-byte interval: at least 3 automatic reseeds.
    EXPECT_GE(random.reseed_count(), 4u);
    uint64_t before = random.reseed_count();
    ASSERT_FALSE(random.reseed().is_error());
    EXPECT_EQ(random.reseed_count(), before + 1);
}

TEST(Csprng, SourceThatGoesStuckStopsTheGenerator)
{
    FakeEntropy entropy;
    Csprng random(entropy, 1024);
    ASSERT_FALSE(random.seed().is_error());
    uint8_t out[512];
    ASSERT_FALSE(random.fill(out).is_error());
    ASSERT_FALSE(random.fill(out).is_error());
    entropy.stuck = true;
    EXPECT_TRUE(random.fill(out).is_error()); // the reseed due now fails
    EXPECT_TRUE(random.is_failed());
    EXPECT_TRUE(random.fill(out).is_error());
    entropy.stuck = false;
    ASSERT_FALSE(random.reseed().is_error()); // a healthy source again: start-up test, then it works
    EXPECT_FALSE(random.fill(out).is_error());
}

TEST(Csprng, SameSeedSameStreamDifferentSeedDifferentStream)
{
    FakeEntropy e1(1), e2(1), e3(2);
    Csprng a(e1), b(e2), c(e3);
    ASSERT_FALSE(a.seed().is_error());
    ASSERT_FALSE(b.seed().is_error());
    ASSERT_FALSE(c.seed().is_error());
    uint8_t x[100], y[100], z[100];
    ASSERT_FALSE(a.fill(x).is_error());
    ASSERT_FALSE(b.fill(y).is_error());
    ASSERT_FALSE(c.fill(z).is_error());
    EXPECT_EQ(to_hex(std::span<const uint8_t>(x, 100)), to_hex(std::span<const uint8_t>(y, 100)));
    EXPECT_NE(to_hex(std::span<const uint8_t>(x, 100)), to_hex(std::span<const uint8_t>(z, 100)));
}

TEST(Csprng, UniformStaysInRangeAndCoversIt)
{
    FakeEntropy entropy;
    Csprng random(entropy);
    ASSERT_FALSE(random.seed().is_error());
    int counts[7] = {};
    for (int i = 0; i < 7000; ++i) {
        auto value = random.uniform(7);
        ASSERT_FALSE(value.is_error());
        ASSERT_LT(value.value(), 7u);
        ++counts[value.value()];
    }
    for (int count : counts)
        EXPECT_GT(count, 700); // expected 1000 each
    EXPECT_TRUE(random.uniform(0).is_error());
}
