#pragma once
// Process-wide memory settings for programs that hold large parsed pages (extdata and the
// benchmarks that measure it the way it runs).
namespace extdata::memory {

// Buffers of 1 MB and more (page bodies, parsed pages) get mappings of their own, returned to
// the system when freed. Without this glibc raises its mapping threshold after the first such
// buffer is freed and serves later multi-megabyte buffers from the heap, where freed ones stay
// resident: tens of MB more at the peak of a large fetch. Call once, before threads start.
void map_large_buffers_separately();

// Returns freed heap memory to the system (after a fetch or a snapshot load, when page and
// snapshot texts have been freed).
void release_free_memory();

}  // namespace extdata::memory
