// Issue 17, item 2: a file source reads only under the operator's files roots; "..", absolute
// paths elsewhere and symbolic links that lead out are refused, when validating and when the
// file is opened.
#include "sources/file/files_root.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace extdata::sources {
namespace {

namespace fs = std::filesystem;

struct TempTree {
  fs::path base;
  fs::path root;
  fs::path outside;
  TempTree() {
    char pattern[] = "/tmp/extdata-files-root.XXXXXX";
    base = ::mkdtemp(pattern);
    root = base / "root";
    outside = base / "outside";
    fs::create_directories(root / "exports");
    fs::create_directories(outside);
    std::ofstream(root / "exports" / "customers.csv") << "id,name\n1,Müller\n";
    std::ofstream(outside / "secret.txt") << "not for sources\n";
  }
  ~TempTree() { fs::remove_all(base); }
  FilesRoots roots() const { return FilesRoots::parse(root.string()).value(); }
};

TEST(FilesRoot, ResolvesRelativePathsAgainstTheFirstRoot) {
  TempTree t;
  auto resolved = t.roots().resolve("exports/customers.csv");
  ASSERT_TRUE(resolved.ok()) << resolved.error().to_string();
  EXPECT_EQ(*resolved, (t.root / "exports" / "customers.csv").string());
}

TEST(FilesRoot, RefusesAnAbsolutePathOutsideEveryRoot) {
  TempTree t;
  auto resolved = t.roots().resolve((t.outside / "secret.txt").string());
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code, "file.outside_root");
  EXPECT_NE(resolved.error().message.find(t.root.string()), std::string::npos)
      << "the message names the roots: " << resolved.error().message;
  EXPECT_NE(resolved.error().hint.find("--files-root"), std::string::npos);
  EXPECT_EQ(resolved.error().details.at("key"), "path");
}

TEST(FilesRoot, RefusesDotDotThatClimbsOutOfTheRoot) {
  TempTree t;
  auto resolved = t.roots().resolve("exports/../../outside/secret.txt");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code, "file.outside_root");
}

TEST(FilesRoot, DotDotThatStaysInsideIsFine) {
  TempTree t;
  auto resolved = t.roots().resolve("exports/../exports/customers.csv");
  ASSERT_TRUE(resolved.ok()) << resolved.error().to_string();
  EXPECT_EQ(*resolved, (t.root / "exports" / "customers.csv").string());
}

TEST(FilesRoot, RefusesASymlinkLeadingOutWhenValidating) {
  TempTree t;
  fs::create_symlink(t.outside / "secret.txt", t.root / "exports" / "escape.csv");
  auto resolved = t.roots().resolve("exports/escape.csv");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code, "file.outside_root");
  EXPECT_NE(resolved.error().message.find("symbolic link"), std::string::npos);
}

TEST(FilesRoot, RefusesASymlinkSwappedInAfterValidationWhenOpening) {
  TempTree t;
  const FilesRoots roots = t.roots();
  ASSERT_TRUE(roots.resolve("exports/later.csv").ok());  // does not exist yet: lexically fine
  // A directory symlink on the way, swapped in after validation.
  fs::create_directory_symlink(t.outside, t.root / "linked");
  std::ofstream(t.outside / "later.csv") << "id\n1\n";
  auto opened = roots.open((t.root / "linked" / "later.csv").string());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, "file.outside_root");
}

TEST(FilesRoot, FollowsASymlinkThatStaysInsideTheRoot) {
  TempTree t;
  fs::create_symlink(t.root / "exports" / "customers.csv", t.root / "current.csv");
  auto opened = t.roots().open("current.csv");
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  ::close(*opened);
}

TEST(FilesRoot, NamesAMissingFileAndADirectory) {
  TempTree t;
  auto missing = t.roots().open("exports/nope.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "file.not_found");
  auto directory = t.roots().open("exports");
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, "file.not_regular");
}

TEST(FilesRoot, WithoutARootNoLocalFileIsRead) {
  FilesRoots none;
  auto resolved = none.resolve("/etc/passwd");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code, "file.no_root");
  EXPECT_NE(resolved.error().hint.find("EXTDATA_FILES_ROOT"), std::string::npos);
}

TEST(FilesRoot, RootsMustBeExistingAbsoluteDirectories) {
  EXPECT_EQ(FilesRoots::parse("relative/dir").error().code, "file.bad_root");
  EXPECT_EQ(FilesRoots::parse("/no/such/extdata/dir").error().code, "file.bad_root");
  TempTree t;
  auto two = FilesRoots::parse(t.root.string() + ":" + t.outside.string());
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->roots().size(), 2u);
  EXPECT_TRUE(two->resolve((t.outside / "secret.txt").string()).ok());
}

TEST(FilesRoot, NormalizesPathsLexically) {
  EXPECT_EQ(normalize_path("/a/./b/../c//d"), "/a/c/d");
  EXPECT_EQ(normalize_path("/../../etc"), "/etc");
  EXPECT_EQ(normalize_path("/"), "/");
}

}  // namespace
}  // namespace extdata::sources
