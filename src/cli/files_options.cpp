#include "cli/files_options.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sources/file/files_root.h"

namespace extdata::cli {

namespace {
constexpr const char* kFilesRootEnv = "EXTDATA_FILES_ROOT";

std::vector<std::string>& files_root_flags() {
  static std::vector<std::string> flags;
  return flags;
}

}  // namespace

Result<sources::FilesRoots> operator_files_roots(std::string_view files_root) {
  auto parsed = sources::FilesRoots::parse(files_root);
  if (!parsed.ok()) return parsed.error();
  for (const auto& root : files_root_flags()) EXTDATA_TRY(parsed->add(root));
  return parsed;
}

std::function<void()> add_files_options(CLI::App& app) {
  app.add_option("--files-root", files_root_flags(),
                 "Allow file sources to read files under this directory (repeatable; adds to "
                 "$EXTDATA_FILES_ROOT, ':'-separated). By default no local file is read "
                 "(docs/files.md)")
      ->type_name("DIR")
      ->take_all()
      ->group("Files");
  return [] {
    const char* env = std::getenv(kFilesRootEnv);
    if (auto from_env = sources::FilesRoots::parse(env ? env : ""); !from_env.ok())
      throw CLI::ValidationError(kFilesRootEnv, from_env.error().message);
    auto parsed = operator_files_roots(env ? env : "");
    if (!parsed.ok()) throw CLI::ValidationError("--files-root", parsed.error().message);
    sources::FilesRoots::set_process(
        std::make_shared<const sources::FilesRoots>(std::move(parsed).value()));
  };
}

}  // namespace extdata::cli
