#pragma once
// type: file — a JSON, XML or CSV document read from a local path under the operator's files
// roots (files_root.h) or from an http(s) URL, read again only when it changed: a local file
// when its version (size, times, inode) differs from the last read, a URL when the server
// does not answer 304 to If-None-Match / If-Modified-Since. See docs/files.md.
#include <memory>

#include "sources/source.h"

namespace extdata::sources {

Result<std::shared_ptr<Source>> make_file_source(const config::SourceConfig& config,
                                                 const SourceDeps& deps);

}  // namespace extdata::sources
