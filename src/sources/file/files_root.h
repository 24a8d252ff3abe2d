#pragma once
// Which directories `type: file` sources may read: the operator's repeatable --files-root flag
// and EXTDATA_FILES_ROOT (directories separated by ':'). Never taken from a config document or
// the API: whoever may write a source must not be able to read /etc/shadow or the master key.
// With no root configured, no local file can be read (`url:` files still can).
//
//   auto roots = FilesRoots::parse("/srv/extdata-files");
//   roots->resolve("exports/customers.csv");   // "/srv/extdata-files/exports/customers.csv"
//   roots->resolve("/etc/passwd");             // Error "file.outside_root"
//   auto fd = roots->open("/srv/extdata-files/exports/customers.csv");
//
// A relative path is relative to the first root. resolve() is the check at validate time: the
// path, normalised lexically, must lie under a root, and when it exists its real path (symlinks
// resolved) must too. open() is the check at read time, immune to a symlink swapped in after
// validation: its real path (links resolved) must lie under a root, and is then opened beneath
// the root's directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a link swapped
// in between the two makes the open fail rather than leave the root.
//
// Thread-safety: a FilesRoots is immutable once built; process() returns a snapshot.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace extdata::sources {

class FilesRoots {
 public:
  FilesRoots() = default;
  // ':'-separated absolute directories; blanks are ignored. Each must exist; it is kept by its
  // real path. Errors ("file.bad_root") name the entry.
  static Result<FilesRoots> parse(std::string_view list);
  Status add(std::string_view directory);

  const std::vector<std::string>& roots() const { return roots_; }

  // The absolute, normalised path `path` names, when it lies under a root; "file.no_root" when
  // no root is configured, "file.outside_root" naming the path and the roots otherwise.
  Result<std::string> resolve(const std::string& path) const;

  // An open, read-only descriptor of the regular file `path` (as resolve() names it), opened
  // beneath its root. Errors: file.outside_root, file.not_found, file.permission,
  // file.not_regular, file.open.
  Result<int> open(const std::string& path) const;

  // The process-wide roots: at first use EXTDATA_FILES_ROOT (invalid entries are logged and
  // skipped; the CLI refuses them at start); the CLI replaces them with flags + environment.
  static std::shared_ptr<const FilesRoots> process();
  static void set_process(std::shared_ptr<const FilesRoots> roots);

 private:
  // The root `absolute` (normalised) lies under, or null.
  const std::string* root_of(const std::string& absolute) const;
  Error outside(const std::string& path, const std::string& why) const;
  Error not_found(const std::string& path) const;

  std::vector<std::string> roots_;
};

// "/a/./b/../c" → "/a/c": normalises an absolute path without touching the file system; ".."
// above "/" stays at "/".
std::string normalize_path(std::string_view absolute);

}  // namespace extdata::sources
