#include "sources/file/files_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/log.h"

namespace extdata::sources {

namespace {

constexpr const char* kHowToAllow =
    "the operator allows directories with --files-root DIR or EXTDATA_FILES_ROOT=DIR[:DIR...]";

std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  if (!::realpath(path.c_str(), buffer)) return {};
  return buffer;
}

bool is_under(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path.size() >= root.size() && path.compare(0, root.size(), root) == 0 &&
         (path.size() == root.size() || path[root.size()] == '/');
}

std::string joined(const std::vector<std::string>& roots) {
  std::string out;
  for (const auto& r : roots) out += (out.empty() ? "" : ", ") + r;
  return out;
}

int openat2_beneath(int dir, const std::string& relative) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dir, relative.c_str(), &how, sizeof how));
}

std::mutex& process_mutex() {
  static std::mutex m;
  return m;
}

std::shared_ptr<const FilesRoots>& process_slot() {
  static std::shared_ptr<const FilesRoots> slot;
  return slot;
}

std::shared_ptr<const FilesRoots> from_environment() {
  auto roots = std::make_shared<FilesRoots>();
  if (const char* env = std::getenv("EXTDATA_FILES_ROOT")) {
    std::string_view list(env);
    while (!list.empty()) {
      const size_t colon = list.find(':');
      const std::string_view entry = list.substr(0, colon);
      if (auto s = roots->add(entry); !s.ok())
        log::warn("file.bad_root", {{"error", s.error().to_string()}});
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
  }
  return roots;
}

}  // namespace

std::string normalize_path(std::string_view absolute) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < absolute.size()) {
    size_t slash = absolute.find('/', i);
    if (slash == std::string_view::npos) slash = absolute.size();
    const std::string_view part = absolute.substr(i, slash - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = slash + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + std::string(p);
  return out.empty() ? "/" : out;
}

Result<FilesRoots> FilesRoots::parse(std::string_view list) {
  FilesRoots roots;
  while (!list.empty()) {
    const size_t colon = list.find(':');
    EXTDATA_TRY(roots.add(list.substr(0, colon)));
    if (colon == std::string_view::npos) break;
    list.remove_prefix(colon + 1);
  }
  return roots;
}

Status FilesRoots::add(std::string_view directory) {
  const std::string dir(directory);
  if (dir.find_first_not_of(" \t") == std::string::npos) return ok_status();
  if (dir.front() != '/') {
    return Error("file.bad_root", "files root '" + dir + "' is not an absolute path",
                 "give the directory from /, e.g. --files-root /srv/extdata-files")
        .with("root", dir);
  }
  const std::string real = real_path(dir);
  struct stat st {};
  if (real.empty() || ::stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error("file.bad_root", "files root '" + dir + "' is not an existing directory",
                 "create it, or correct --files-root / EXTDATA_FILES_ROOT")
        .with("root", dir);
  }
  for (const auto& r : roots_)
    if (r == real) return ok_status();
  roots_.push_back(real);
  return ok_status();
}

const std::string* FilesRoots::root_of(const std::string& absolute) const {
  for (const auto& root : roots_)
    if (is_under(absolute, root)) return &root;
  return nullptr;
}

Error FilesRoots::outside(const std::string& path, const std::string& why) const {
  return Error("file.outside_root", "path '" + path + "' " + why + " (" + joined(roots_) + ")",
               std::string("put the file under a files root, or ") + kHowToAllow)
      .with("key", "path")
      .with("path", path)
      .as(ErrorCategory::invalid_input);
}

Error FilesRoots::not_found(const std::string& path) const {
  return Error("file.not_found", "file '" + path + "' does not exist",
               "check path (relative paths start at " + roots_.front() + ")")
      .with("key", "path");
}

Result<std::string> FilesRoots::resolve(const std::string& path) const {
  if (roots_.empty()) {
    return Error("file.no_root", "no files root is configured, so no local file can be read",
                 std::string(kHowToAllow) + "; or read the file from a url")
        .with("key", "path")
        .as(ErrorCategory::invalid_input);
  }
  if (path.empty())
    return Error("file.path", "path is empty", "name the file to read").with("key", "path");
  if (path.find('\0') != std::string::npos)
    return Error("file.path", "path contains a NUL byte").with("key", "path");
  const std::string absolute =
      normalize_path(path.front() == '/' ? path : roots_.front() + "/" + path);
  if (!root_of(absolute)) return outside(path, "is outside every files root");
  // A symlink on the way may point elsewhere: the real path must stay under a root too.
  if (const std::string real = real_path(absolute); !real.empty() && !root_of(real))
    return outside(path, "leads outside every files root through a symbolic link to " + real);
  return absolute;
}

Result<int> FilesRoots::open(const std::string& path) const {
  EXTDATA_ASSIGN_OR_RETURN(const std::string absolute, resolve(path));
  // The real path (symlinks resolved) is opened beneath its root with no symlink allowed on
  // the way: a link swapped in after realpath() makes the open fail instead of leaving.
  const std::string real = real_path(absolute);
  if (real.empty()) return not_found(path);
  const std::string* root = root_of(real);
  if (!root) return outside(path, "leads outside every files root through a symbolic link");
  const int dir = ::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return Error("file.open", "cannot open files root " + *root + ": " + std::strerror(errno))
        .with("path", path);
  }
  std::string relative = real.size() > root->size() ? real.substr(root->size()) : ".";
  if (relative.front() == '/') relative.erase(0, 1);
  const int fd = openat2_beneath(dir, relative);
  const int open_errno = errno;
  ::close(dir);
  if (fd < 0) {
    switch (open_errno) {
      case EXDEV:
      case ELOOP:
        return outside(path, "was replaced by a symbolic link while it was opened");
      case ENOENT:
      case ENOTDIR:
        return not_found(path);
      case EACCES:
      case EPERM:
        return Error("file.permission", "file '" + path + "' is not readable by extdata",
                     "give the user extdata runs as read permission")
            .with("key", "path")
            .as(ErrorCategory::upstream);
      default:
        return Error("file.open", "cannot open '" + path + "': " + std::strerror(open_errno))
            .with("path", path);
    }
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error("file.not_regular", "'" + path + "' is not a regular file",
                 "name a file, not a directory or device")
        .with("key", "path");
  }
  return fd;
}

std::shared_ptr<const FilesRoots> FilesRoots::process() {
  std::lock_guard lock(process_mutex());
  auto& slot = process_slot();
  if (!slot) slot = from_environment();
  return slot;
}

void FilesRoots::set_process(std::shared_ptr<const FilesRoots> roots) {
  std::lock_guard lock(process_mutex());
  process_slot() = std::move(roots);
}

}  // namespace extdata::sources
