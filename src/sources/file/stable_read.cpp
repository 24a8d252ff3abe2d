#include "sources/file/stable_read.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

namespace extdata::sources {

namespace {

constexpr size_t kChunkBytes = 64u << 10;

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::int64_t nanoseconds(const timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

Result<FileVersion> version_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Error("file.read", std::string("cannot stat the file: ") + std::strerror(errno));
  return FileVersion{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                     static_cast<std::uint64_t>(st.st_size), nanoseconds(st.st_mtim),
                     nanoseconds(st.st_ctim)};
}

Error too_large(std::uint64_t size, size_t max_bytes) {
  return Error("file.too_large",
               "the file has " + std::to_string(size) + " bytes, over the limit of " +
                   std::to_string(max_bytes),
               "split the file or read a smaller export");
}

std::int64_t now_ns(const StableReadOptions& options);
void wait(const StableReadOptions& options, std::chrono::nanoseconds d);

// One attempt: nullopt when the file changed while it was read.
Result<std::optional<StableRead>> read_once(int fd, const StableReadOptions& options) {
  EXTDATA_ASSIGN_OR_RETURN(FileVersion before, version_of(fd));
  if (before.size > options.max_bytes) return too_large(before.size, options.max_bytes);
  StableRead out;
  // One byte more than the size said: a file that grew while it was read shows as such.
  out.bytes.resize(static_cast<size_t>(before.size) + 1);
  size_t used = 0;
  while (true) {
    if (used == out.bytes.size()) {
      if (used > options.max_bytes) return too_large(used, options.max_bytes);
      out.bytes.resize(std::min(options.max_bytes + 1, used * 2 + kChunkBytes));
    }
    const size_t want = std::min(kChunkBytes, out.bytes.size() - used);
    const ssize_t n = ::read(fd, out.bytes.data() + used, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error("file.read", std::string("cannot read the file: ") + std::strerror(errno));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (options.after_chunk) options.after_chunk(used);
  }
  if (used > options.max_bytes) return too_large(used, options.max_bytes);
  out.bytes.resize(used);
  EXTDATA_ASSIGN_OR_RETURN(FileVersion after, version_of(fd));
  if (!(after == before) || out.bytes.size() != after.size) return std::optional<StableRead>{};
  if (options.settle.count() > 0) {
    const auto age = std::chrono::nanoseconds(now_ns(options) - after.modified_ns);
    if (age < options.settle) {
      wait(options, options.settle - age);
      EXTDATA_ASSIGN_OR_RETURN(FileVersion settled, version_of(fd));
      if (!(settled == after)) return std::optional<StableRead>{};
    }
  }
  if (out.bytes.empty()) {
    return Error("file.empty", "the file is empty",
                 "an empty file is no document; when a job rewrites it in place, have it write "
                 "a temporary file and rename it over the old one");
  }
  out.version = after;
  return std::optional<StableRead>{std::move(out)};
}

std::int64_t now_ns(const StableReadOptions& options) {
  if (options.now_ns) return options.now_ns();
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return nanoseconds(t);
}

void wait(const StableReadOptions& options, std::chrono::nanoseconds d) {
  if (options.wait) return options.wait(d);
  std::this_thread::sleep_for(d);
}

}  // namespace

Result<FileVersion> file_version(const FileOpener& open) {
  EXTDATA_ASSIGN_OR_RETURN(int fd, open());
  Descriptor descriptor(fd);
  return version_of(descriptor.get());
}

Result<StableRead> read_stable(const FileOpener& open, const StableReadOptions& options) {
  for (int attempt = 0; attempt < options.attempts; ++attempt) {
    EXTDATA_ASSIGN_OR_RETURN(int fd, open());
    Descriptor descriptor(fd);
    EXTDATA_ASSIGN_OR_RETURN(std::optional<StableRead> read, read_once(descriptor.get(), options));
    if (read) return std::move(*read);
  }
  return Error("file.changing",
               "the file kept changing while it was read (" + std::to_string(options.attempts) +
                   " attempts)",
               "publish the file by writing a temporary file and renaming it over the old one; "
               "the records read before are served meanwhile");
}

}  // namespace extdata::sources
