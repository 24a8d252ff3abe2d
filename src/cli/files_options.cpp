#include "cli/files_options.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sources/file/files_root.h"

namespace extdata::cli {

namespace {
constexpr const char* kFilesRootEnv = "EXTDATA_FILES_ROOT";
}

std::function<void()> add_files_options(CLI::App& app) {
  static std::vector<std::string> roots;
  app.add_option("--files-root", roots,
                 "Allow file sources to read files under this directory (repeatable; adds to "
                 "$EXTDATA_FILES_ROOT, ':'-separated). By default no local file is read "
                 "(docs/files.md)")
      ->type_name("DIR")
      ->take_all()
      ->group("Files");
  return [] {
    const char* env = std::getenv(kFilesRootEnv);
    auto parsed = sources::FilesRoots::parse(env ? env : "");
    if (!parsed.ok()) throw CLI::ValidationError(kFilesRootEnv, parsed.error().message);
    for (const auto& root : roots)
      if (auto s = parsed->add(root); !s.ok())
        throw CLI::ValidationError("--files-root", s.error().message);
    sources::FilesRoots::set_process(
        std::make_shared<const sources::FilesRoots>(std::move(parsed).value()));
  };
}

}  // namespace extdata::cli
