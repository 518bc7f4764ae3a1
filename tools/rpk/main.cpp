// aisos-rpk: builds and inspects .rpk module packages (rpk/FORMAT.md).
//
//   aisos-rpk pack --manifest manifest.json --elf module.elf -o module.rpk
//   aisos-rpk inspect module.rpk
//
// Exit status: 0 on success, 1 when an input is refused (the reason goes to
// stderr), 2 for a usage error.
#include "tools/rpk/Packer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

int usage()
{
    std::fprintf(stderr,
        "usage: aisos-rpk pack --manifest FILE --elf FILE -o OUTPUT\n"
        "       aisos-rpk inspect PACKAGE\n");
    return 2;
}

bool read_file(const std::string& path, std::vector<uint8_t>& out)
{
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        std::fprintf(stderr, "aisos-rpk: cannot open %s: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    out.assign(std::istreambuf_iterator<char>(file), {});
    if (file.bad()) {
        std::fprintf(stderr, "aisos-rpk: cannot read %s\n", path.c_str());
        return false;
    }
    return true;
}

// Writes next to the target and renames, so a failed run never leaves a
// half-written package under the final name.
bool write_file(const std::string& path, const std::vector<uint8_t>& bytes)
{
    std::string temporary = path + ".tmp." + std::to_string(getpid());
    FILE* file = std::fopen(temporary.c_str(), "wb");
    if (!file) {
        std::fprintf(stderr, "aisos-rpk: cannot create %s: %s\n", temporary.c_str(), std::strerror(errno));
        return false;
    }
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    ok = std::fflush(file) == 0 && ok;
    ok = std::fclose(file) == 0 && ok;
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::fprintf(stderr, "aisos-rpk: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        std::remove(temporary.c_str());
        return false;
    }
    return true;
}

int pack(int argc, char** argv)
{
    std::string manifest_path, elf_path, output_path;
    for (int i = 2; i < argc; ++i) {
        std::string_view argument = argv[i];
        if (i + 1 >= argc)
            return usage();
        if (argument == "--manifest")
            manifest_path = argv[++i];
        else if (argument == "--elf")
            elf_path = argv[++i];
        else if (argument == "-o" || argument == "--output")
            output_path = argv[++i];
        else
            return usage();
    }
    if (manifest_path.empty() || elf_path.empty() || output_path.empty())
        return usage();
    std::vector<uint8_t> manifest, elf;
    if (!read_file(manifest_path, manifest) || !read_file(elf_path, elf))
        return 1;
    auto result = aisos::rpk::tool::pack(manifest, elf);
    if (!result.ok) {
        std::fprintf(stderr, "aisos-rpk: %s\n", result.error.c_str());
        return 1;
    }
    if (!write_file(output_path, result.bytes))
        return 1;
    std::printf("aisos-rpk: wrote %s (%zu bytes)\n", output_path.c_str(), result.bytes.size());
    return 0;
}

int inspect(int argc, char** argv)
{
    if (argc != 3)
        return usage();
    std::vector<uint8_t> package;
    if (!read_file(argv[2], package))
        return 1;
    auto result = aisos::rpk::tool::inspect(package);
    if (!result.ok) {
        std::fprintf(stderr, "aisos-rpk: %s: %s\n", argv[2], result.error.c_str());
        return 1;
    }
    std::fputs(result.text.c_str(), stdout);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
        return usage();
    std::string_view command = argv[1];
    if (command == "pack")
        return pack(argc, argv);
    if (command == "inspect")
        return inspect(argc, argv);
    return usage();
}
