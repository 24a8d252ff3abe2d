// libFuzzer target: a file source's `path` (hostile: whoever may write a source chooses it)
// through FilesRoots::resolve and open, in a tree with links that stay inside the root and
// links that lead out. The property: whatever opens is a file under the root, by its real path.
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "sources/file/files_root.h"

namespace {

namespace fs = std::filesystem;

struct Tree {
  fs::path base, root;
  extdata::sources::FilesRoots roots;
  Tree() {
    base = fs::temp_directory_path() / ("extdata-fuzz-files-" + std::to_string(::getpid()));
    fs::remove_all(base);
    root = base / "root";
    fs::create_directories(root / "a" / "b");
    fs::create_directories(base / "outside");
    std::ofstream(root / "a" / "data.csv") << "id\n1\n";
    std::ofstream(base / "outside" / "secret") << "secret\n";
    fs::create_symlink(root / "a" / "data.csv", root / "inside-link");
    fs::create_symlink("../data.csv", root / "a" / "b" / "relative-link");
    fs::create_symlink(base / "outside" / "secret", root / "escape");
    fs::create_directory_symlink(base / "outside", root / "a" / "out");
    fs::create_symlink("../../outside/secret", root / "a" / "dotdot");
    auto parsed = extdata::sources::FilesRoots::parse(root.string());
    if (!parsed.ok()) __builtin_trap();
    roots = std::move(parsed).value();
  }
};

bool under(const std::string& path, const std::string& root) {
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
         path[root.size()] == '/';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Tree tree;
  if (size > 4096) return 0;
  const std::string path(reinterpret_cast<const char*>(data), size);
  auto resolved = tree.roots.resolve(path);
  if (resolved.ok() && !under(*resolved, tree.roots.roots()[0]) &&
      *resolved != tree.roots.roots()[0])
    __builtin_trap();
  auto fd = tree.roots.open(path);
  if (!fd.ok()) return 0;
  char real[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(*fd);
  const ssize_t n = ::readlink(link.c_str(), real, sizeof real - 1);
  ::close(*fd);
  if (n <= 0) __builtin_trap();
  real[n] = '\0';
  if (!under(real, tree.roots.roots()[0])) __builtin_trap();  // opened outside the root
  return 0;
}
