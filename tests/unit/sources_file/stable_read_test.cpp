// Issue 17, item 2: a file being rewritten is never read half-way. The writer is played by the
// reader's after-chunk hook, so the interleaving is exact and needs no timing.
#include "sources/file/stable_read.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace extdata::sources {
namespace {

namespace fs = std::filesystem;

struct TempFile {
  fs::path dir;
  fs::path path;
  TempFile() {
    char pattern[] = "/tmp/extdata-stable-read.XXXXXX";
    dir = ::mkdtemp(pattern);
    path = dir / "data.csv";
  }
  ~TempFile() { fs::remove_all(dir); }
  void write(const std::string& text) const { std::ofstream(path, std::ios::trunc) << text; }
  FileOpener opener() const {
    return [p = path.string()]() -> Result<int> {
      const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Error("file.not_found", p);
      return fd;
    };
  }
};

std::string rows(char c, size_t bytes) {
  return "id\n" + std::string(bytes, c) + "\n";
}

TEST(StableRead, ReadsAQuietFileOnce) {
  TempFile f;
  f.write(rows('a', 300000));
  int chunks = 0;
  auto read = read_stable(f.opener(), {.after_chunk = [&](size_t) { ++chunks; }});
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  EXPECT_EQ(read->bytes, rows('a', 300000));
  EXPECT_EQ(read->version.size, read->bytes.size());
  EXPECT_GT(chunks, 1) << "the file is read in several chunks, so a writer can interleave";
}

TEST(StableRead, AnInPlaceRewriteDuringTheReadIsDetectedAndReadAgain) {
  TempFile f;
  f.write(rows('a', 300000));
  int rewrites = 0;
  auto read = read_stable(f.opener(), {.after_chunk = [&](size_t done) {
                            // Mid-file, once: the writer replaces the contents.
                            if (rewrites == 0 && done < 300000) {
                              ++rewrites;
                              f.write(rows('b', 200000));
                            }
                          }});
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  EXPECT_EQ(rewrites, 1);
  EXPECT_EQ(read->bytes, rows('b', 200000)) << "only the whole new version, never a mix";
}

TEST(StableRead, AFileReplacedByRenameIsReadWholeEitherWay) {
  TempFile f;
  f.write(rows('a', 300000));
  bool replaced = false;
  auto read = read_stable(f.opener(), {.after_chunk = [&](size_t) {
                            if (replaced) return;
                            replaced = true;
                            std::ofstream(f.dir / "next") << rows('c', 1000);
                            fs::rename(f.dir / "next", f.path);
                          }});
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  // The old inode (its link count, so its change time, moved) or the new file: whole, either way.
  EXPECT_TRUE(read->bytes == rows('a', 300000) || read->bytes == rows('c', 1000));
}

TEST(StableRead, AFileThatNeverSettlesIsReportedNotServed) {
  TempFile f;
  f.write(rows('a', 150000));
  char next = 'b';
  auto read = read_stable(f.opener(), {.attempts = 3, .after_chunk = [&](size_t) {
                                         f.write(rows(next, 150000 + (next - 'a')));
                                         ++next;
                                       }});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "file.changing");
  EXPECT_NE(read.error().hint.find("renaming"), std::string::npos);
}

TEST(StableRead, RefusesAFileOverTheLimitBeforeReadingIt) {
  TempFile f;
  f.write(rows('a', 5000));
  int chunks = 0;
  auto read =
      read_stable(f.opener(), {.max_bytes = 1000, .after_chunk = [&](size_t) { ++chunks; }});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "file.too_large");
  EXPECT_EQ(chunks, 0);
}

TEST(StableRead, TheVersionChangesWithTheContents) {
  TempFile f;
  f.write("id\n1\n");
  auto before = file_version(f.opener());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, *file_version(f.opener()));
  f.write("id\n1\n2\n");
  EXPECT_FALSE(*before == *file_version(f.opener()));
}

}  // namespace
}  // namespace extdata::sources

namespace extdata::sources {
namespace {

TEST(StableRead, AFreshlyModifiedFileIsLookedAtAgainAfterItSettled) {
  TempFile f;
  f.write(rows('a', 1000));
  const auto modified = file_version(f.opener())->modified_ns;
  std::vector<std::chrono::nanoseconds> waits;
  int writes = 0;
  StableReadOptions options{.settle = std::chrono::milliseconds(200)};
  options.now_ns = [&] { return modified + 50'000'000; };  // 50 ms after the last write
  options.wait = [&](std::chrono::nanoseconds d) {
    waits.push_back(d);
    // The writer was between truncating and writing: its next write lands while we wait.
    if (writes++ == 0) f.write(rows('b', 2000));
  };
  auto read = read_stable(f.opener(), options);
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  EXPECT_EQ(read->bytes, rows('b', 2000));
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0], std::chrono::milliseconds(150)) << "waited until the file was 200 ms old";
}

TEST(StableRead, AnOldFileIsNotWaitedFor) {
  TempFile f;
  f.write(rows('a', 10));
  const auto modified = file_version(f.opener())->modified_ns;
  int waits = 0;
  StableReadOptions options{.settle = std::chrono::milliseconds(200)};
  options.now_ns = [&] { return modified + 5'000'000'000; };
  options.wait = [&](std::chrono::nanoseconds) { ++waits; };
  ASSERT_TRUE(read_stable(f.opener(), options).ok());
  EXPECT_EQ(waits, 0);
}

TEST(StableRead, AnEmptyFileIsRefusedNotServedAsNoRecords) {
  TempFile f;
  f.write("");
  auto read = read_stable(f.opener(), {});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, "file.empty");
}

}  // namespace
}  // namespace extdata::sources
