// The packer: its library functions and the aisos-rpk binary itself.
#include "host/MallocAllocator.h"
#include "lib/elf/Relocations.h"
#include "lib/rpk/Manifest.h"
#include "lib/rpk/Package.h"
#include "tests/unit/rpk/RpkTestSupport.h"
#include "tools/rpk/Packer.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <sys/wait.h>

using namespace aisos;
using namespace aisos::rpk;
using aisos::rpk::test::bytes_of;
using aisos::rpk::test::example_manifest;
using aisos::rpk::test::read_file;

namespace {

struct Run {
    int status { -1 };
    std::string output; // stdout and stderr together
};

Run run_tool(const std::string& arguments)
{
    std::string command = std::string(AISOS_RPK_TOOL) + " " + arguments + " 2>&1";
    Run run;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe)
        return run;
    std::array<char, 4096> buffer;
    size_t got;
    while ((got = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        run.output.append(buffer.data(), got);
    int status = pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

class Scratch {
public:
    Scratch()
    {
        m_directory = std::filesystem::path(AISOS_RPK_SCRATCH) / ("packer-test-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(m_directory);
        std::filesystem::create_directories(m_directory);
    }
    ~Scratch() { std::filesystem::remove_all(m_directory); }
    std::string path(const std::string& name) const { return (m_directory / name).string(); }
    std::string write(const std::string& name, std::string_view text) const
    {
        std::ofstream(path(name), std::ios::binary) << text;
        return path(name);
    }

private:
    std::filesystem::path m_directory;
};

} // namespace

TEST(RpkPacker, PackThenParseRoundTrip)
{
    auto elf = read_file(AISOS_RPK_SAMPLE_RELR);
    auto result = tool::pack(bytes_of(example_manifest), elf);
    ASSERT_TRUE(result.ok) << result.error;
    auto view = MUST(parse_package(result.bytes));
    EXPECT_EQ(view.manifest_text(), example_manifest);
    EXPECT_TRUE(std::equal(view.elf.begin(), view.elf.end(), elf.begin(), elf.end()));
    // What the kernel does at install: both parts pass its checks.
    MallocAllocator allocator;
    auto manifest = std::make_unique<Manifest>();
    MUST(parse_manifest(allocator, view.manifest_text(), *manifest));
    EXPECT_EQ(manifest->name, "hello");
    auto module = MUST(elf::validate_module(view.elf));
    EXPECT_EQ(module.relocations.relocation_count, 7u);
}

TEST(RpkPacker, PackRefusesBadInputsWithTheirReason)
{
    auto elf = read_file(AISOS_RPK_SAMPLE_RELA);
    auto bad_manifest = tool::pack(bytes_of(R"({"name":"x"})"), elf);
    EXPECT_FALSE(bad_manifest.ok);
    EXPECT_EQ(bad_manifest.error, "manifest: manifest field \"version\" is missing");
    EXPECT_TRUE(bad_manifest.bytes.empty());

    auto text = std::string(example_manifest);
    text.replace(text.find("\"abi\": 1"), 8, "\"abi\": 2");
    EXPECT_EQ(tool::pack(bytes_of(text), elf).error, "manifest: module needs ABI 2, kernel has 1");

    auto not_elf = tool::pack(bytes_of(example_manifest), bytes_of("not an ELF file at all, but long enough to have a header..........."));
    EXPECT_EQ(not_elf.error, "ELF: not an ELF file (bad magic)");
    EXPECT_EQ(tool::pack(bytes_of(example_manifest), {}).error, "ELF: length 0 is outside 1 .. 268435456 bytes");
    EXPECT_EQ(tool::pack({}, elf).error, "manifest: length 0 is outside 1 .. 65536 bytes");
}

TEST(RpkPacker, InspectDescribesAPackage)
{
    auto packed = tool::pack(bytes_of(example_manifest), read_file(AISOS_RPK_SAMPLE_RELA));
    ASSERT_TRUE(packed.ok);
    auto described = tool::inspect(packed.bytes);
    ASSERT_TRUE(described.ok) << described.error;
    for (auto line : { "name:        hello\n", "version:     1.0.0\n", "abi:         1\n", "entry:       hello.elf\n", "priority:    normal\n",
             "memory:      64 MiB\n", "threads:     8\n", "fs_read:     /models\n", "fs_read:     /data/hello\n", "fs_write:    /data/hello\n",
             "route:       /hello GET,POST public\n", "route:       /v1/* GET,POST user\n", "route:       /ws websocket user\n", "relocations: 7\n" })
        EXPECT_NE(described.text.find(line), std::string::npos) << line << "\nin:\n" << described.text;
    auto view = MUST(parse_package(packed.bytes));
    static constexpr char digits[] = "0123456789abcdef";
    std::string hash;
    for (uint8_t byte : view.hash) {
        hash += digits[byte >> 4];
        hash += digits[byte & 15];
    }
    EXPECT_NE(described.text.find("sha256:      " + hash + "\n"), std::string::npos);

    auto damaged = packed.bytes;
    damaged[40] ^= 1;
    EXPECT_EQ(tool::inspect(damaged).error, "package: package hash mismatch");
}

TEST(RpkPacker, InspectRunsTheManifestAndElfChecksToo)
{
    // A package whose container is fine but whose contents are not: built
    // with write_package directly, as a hand-crafted upload would be.
    auto elf = read_file(AISOS_RPK_SAMPLE_RELA);
    std::string manifest = R"({"name":"x"})";
    std::vector<uint8_t> bytes(MUST(package_size(manifest.size(), elf.size())));
    MUST(write_package(bytes_of(manifest), elf, bytes));
    EXPECT_EQ(tool::inspect(bytes).error, "manifest: manifest field \"version\" is missing");

    auto broken_elf = elf;
    broken_elf[18] = 0; // e_machine
    bytes.assign(MUST(package_size(example_manifest.size(), broken_elf.size())), 0);
    MUST(write_package(bytes_of(example_manifest), broken_elf, bytes));
    EXPECT_EQ(tool::inspect(bytes).error, "ELF: ELF file is not for x86_64");
}

TEST(RpkPacker, BinaryPacksAndInspects)
{
    Scratch scratch;
    auto manifest = scratch.write("manifest.json", example_manifest);
    auto output = scratch.path("hello.rpk");
    auto packed = run_tool("pack --manifest " + manifest + " --elf " AISOS_RPK_SAMPLE_RELA " -o " + output);
    ASSERT_EQ(packed.status, 0) << packed.output;
    auto bytes = read_file(output);
    EXPECT_NE(packed.output.find("wrote " + output + " (" + std::to_string(bytes.size()) + " bytes)"), std::string::npos) << packed.output;
    auto view = MUST(parse_package(bytes));
    EXPECT_EQ(view.manifest_text(), example_manifest);
    auto elf = read_file(AISOS_RPK_SAMPLE_RELA);
    EXPECT_TRUE(std::equal(view.elf.begin(), view.elf.end(), elf.begin(), elf.end()));
    // The library and the binary produce the same bytes.
    EXPECT_EQ(bytes, tool::pack(bytes_of(example_manifest), elf).bytes);

    auto inspected = run_tool("inspect " + output);
    EXPECT_EQ(inspected.status, 0) << inspected.output;
    EXPECT_EQ(inspected.output, tool::inspect(bytes).text);
}

TEST(RpkPacker, BinaryFailsWithTheReasonAndWritesNothing)
{
    Scratch scratch;
    auto output = scratch.path("out.rpk");
    auto bad = scratch.write("bad.json", R"({"name":"x","version":"1","abi":1,"entry":"x","permissions":{"max_memory_mib":1,"max_threads":1,"fs_read":["/system"]}})");
    auto run = run_tool("pack --manifest " + bad + " --elf " AISOS_RPK_SAMPLE_RELA " -o " + output);
    EXPECT_EQ(run.status, 1);
    EXPECT_EQ(run.output, "aisos-rpk: manifest: permissions.fs_read: modules may not access /system (\"/system\")\n");
    EXPECT_FALSE(std::filesystem::exists(output));
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(scratch.path("")), {}), 1); // no temporary left behind

    auto good = scratch.write("good.json", example_manifest);
    run = run_tool("pack --manifest " + good + " --elf " + good + " -o " + output);
    EXPECT_EQ(run.status, 1);
    EXPECT_NE(run.output.find("ELF: not an ELF file (bad magic)"), std::string::npos) << run.output;
    EXPECT_FALSE(std::filesystem::exists(output));

    run = run_tool("pack --manifest " + scratch.path("missing.json") + " --elf " AISOS_RPK_SAMPLE_RELA " -o " + output);
    EXPECT_EQ(run.status, 1);
    EXPECT_NE(run.output.find("cannot open"), std::string::npos) << run.output;

    auto damaged = scratch.path("damaged.rpk");
    ASSERT_EQ(run_tool("pack --manifest " + good + " --elf " AISOS_RPK_SAMPLE_RELA " -o " + damaged).status, 0);
    auto bytes = read_file(damaged);
    bytes.pop_back();
    std::ofstream(damaged, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
    run = run_tool("inspect " + damaged);
    EXPECT_EQ(run.status, 1);
    EXPECT_NE(run.output.find("package: package is truncated"), std::string::npos) << run.output;
}

TEST(RpkPacker, HashAgreesWithAnIndependentSha256)
{
    // coreutils' sha256sum over the first 24+M+E bytes must give the trailer.
    Scratch scratch;
    auto packed = tool::pack(bytes_of(example_manifest), read_file(AISOS_RPK_SAMPLE_RELR));
    ASSERT_TRUE(packed.ok);
    auto body = scratch.path("body.bin");
    std::ofstream(body, std::ios::binary).write(reinterpret_cast<const char*>(packed.bytes.data()), long(packed.bytes.size() - 32));
    FILE* pipe = popen(("sha256sum " + body).c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[256] = {};
    ASSERT_NE(fgets(line, sizeof(line), pipe), nullptr);
    ASSERT_EQ(pclose(pipe), 0);
    std::string expected(line, 64);
    static constexpr char digits[] = "0123456789abcdef";
    std::string trailer;
    for (size_t i = packed.bytes.size() - 32; i < packed.bytes.size(); ++i) {
        trailer += digits[packed.bytes[i] >> 4];
        trailer += digits[packed.bytes[i] & 15];
    }
    EXPECT_EQ(trailer, expected);
}

TEST(RpkPacker, BinaryUsageErrors)
{
    for (auto arguments : { "", "frobnicate", "pack", "pack --manifest a.json", "pack --manifest a.json --elf b.elf", "pack --manifest a --elf b -o", "pack --bogus x --elf b -o c", "inspect", "inspect a b" }) {
        auto run = run_tool(arguments);
        EXPECT_EQ(run.status, 2) << arguments;
        EXPECT_NE(run.output.find("usage: aisos-rpk pack"), std::string::npos) << arguments;
    }
}
