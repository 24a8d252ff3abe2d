#include "api/static_files.h"

#include <algorithm>
#include <filesystem>

namespace extdata::api {

namespace fs = std::filesystem;

namespace {

// True when `inner` is `root` or below it, compared component by component.
bool is_within(const fs::path& root, const fs::path& inner) {
  auto r = root.begin(), i = inner.begin();
  for (; r != root.end(); ++r, ++i) {
    if (r->empty() && std::next(r) == root.end()) break;  // a trailing separator
    if (i == inner.end() || *r != *i) return false;
  }
  return true;
}

}  // namespace

std::string resolve_static_file(const std::string& web_dir, const std::string& path) {
  if (web_dir.empty() || path.empty() || path.front() != '/' ||
      path.find('\0') != std::string::npos)
    return {};
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(web_dir, ec);
  if (ec) return {};
  fs::path file = fs::weakly_canonical(root / fs::path(path).relative_path(), ec);
  if (ec || !is_within(root, file)) return {};
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) return {};
  return file.string();
}

std::string static_content_type(const std::string& file) {
  auto ext = fs::path(file).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

}  // namespace extdata::api
