#pragma once
// Process-wide memory settings for programs that hold large parsed pages (extdata and the
// benchmarks that measure it the way it runs).
#include <cstddef>

namespace extdata::memory {

// Buffers of 1 MB and more (page bodies, parsed pages) get mappings of their own, returned to
// the system when freed. Without this glibc raises its mapping threshold after the first such
// buffer is freed and serves later multi-megabyte buffers from the heap, where freed ones stay
// resident: tens of MB more at the peak of a large fetch. Call once, before threads start.
void map_large_buffers_separately();

// Returns freed heap memory to the system (after a fetch or a snapshot load, when page and
// snapshot texts have been freed).
void release_free_memory();

// Asks for transparent huge pages (Linux, THP in `madvise` mode) for the 2 MB-aligned part of a
// freshly allocated buffer of `bytes`, before it is first written: filling 100 MB then takes 50
// page faults instead of 25,000, and where a hypervisor backs guest memory on first touch
// (measured on the benchmark machine: 144 MB first written in 750-890 ms with 4 KB pages,
// 390-560 ms with huge pages) far less time. Buffers under 2 MB are left alone; harmless where
// THP is off.
void advise_huge_pages(void* data, size_t bytes);

}  // namespace extdata::memory
