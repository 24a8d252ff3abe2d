#include "fields/table_image.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/memory.h"
#include "extract/record_set_binary.h"

namespace extdata::fields {
namespace {

constexpr char kMagic[4] = {'E', 'X', 'O', 'T'};

Error image_error(const std::string& reason, const std::string& what) {
  Error error("field.table_image", "the stored option table is not usable: " + what,
              "nothing to do: the table is rebuilt from the records");
  error.details["reason"] = reason;
  return error;
}

template <typename T>
std::string_view bytes_of(const T& value) {
  return {reinterpret_cast<const char*>(&value), sizeof value};
}

template <typename Container>
std::string_view bytes_of_all(const Container& items) {
  return {reinterpret_cast<const char*>(items.data()),
          items.size() * sizeof(typename Container::value_type)};
}

// One section: its length, its bytes, the checksum of both (the length is mixed in so a cut
// section cannot pass as a shorter one).
std::uint64_t section_checksum(std::uint64_t length, std::string_view bytes) {
  return extract::BinarySnapshot::checksum(bytes) ^ (length * 0x9e3779b97f4a7c15ULL);
}

class Writer {
 public:
  explicit Writer(const std::function<Status(std::string_view)>& sink) : sink_(sink) {}
  Status section(std::string_view bytes) {
    const std::uint64_t length = bytes.size();
    const std::uint64_t sum = section_checksum(length, bytes);
    EXTDATA_TRY(sink_(bytes_of(length)));
    if (!bytes.empty()) EXTDATA_TRY(sink_(bytes));
    return sink_(bytes_of(sum));
  }

 private:
  const std::function<Status(std::string_view)>& sink_;
};

// Makes `out` hold `bytes` bytes (rounded up to whole items) and returns where they go. The
// buffer gets huge pages before it is first touched. (std containers have no resize without
// zero-filling: the zeroes are written once, then overwritten by the copy.)
template <typename Container>
char* place(Container& out, size_t bytes) {
  using T = typename Container::value_type;
  static_assert(std::is_trivially_copyable_v<T>);
  const size_t count = (bytes + sizeof(T) - 1) / sizeof(T);
  out.reserve(count);
  memory::advise_huge_pages(out.data(), count * sizeof(T));
  out.resize(count);
  return reinterpret_cast<char*>(out.data());
}

// Where one section's bytes go: `place(bytes)` sizes the member and returns its buffer; a length
// that is not a whole number of `unit`s is refused once the section's checksum has passed.
struct Section {
  std::function<char*(size_t bytes)> place;
  size_t unit = 1;
};

template <typename Container>
Section section_into(Container& member) {
  return {[&member](size_t bytes) { return place(member, bytes); },
          sizeof(typename Container::value_type)};
}

// Offsets into a text of `size` bytes: ascending, from 0, the last one the end.
template <typename T>
bool offsets_fit(const std::vector<T>& offsets, size_t size) {
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != size) return false;
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1]) return false;
  }
  return true;
}

bool all_below(const std::vector<uint32_t>& ids, uint64_t bound) {
  for (uint32_t id : ids) {
    if (id >= bound) return false;
  }
  return true;
}

// One entry of SearchIndex::other_grams_ (grams outside ASCII), padding included and zeroed.
struct OtherGram {
  std::uint64_t code;
  std::uint32_t gram;
  std::uint32_t zero;
};

}  // namespace

// Friend of OptionsTable and SearchIndex: their members, in one fixed order.
struct TableImage {
  struct Head {
    char magic[4];
    std::uint32_t version;
    std::uint64_t without_value, filtered_out, bitmap_words_each, bitmap_blocks_each;
    std::uint64_t keys_from_labels;  // 1: the index stores only the keys the labels lack
  };

  // The sections after the head, in image order, for writing (a const table) and reading.
  template <typename Table, typename Grams, typename Visit>
  static void each_member(Table& table, Grams& other_grams, Visit&& visit) {
    auto& index = table.index_;
    visit(table.arena_);
    visit(table.offsets_);
    visit(table.records_);
    visit(table.by_value_);
    visit(index.own_keys_);
    visit(index.own_key_offsets_);
    visit(index.own_key_ids_);
    visit(index.ascii_grams_);
    visit(other_grams);
    visit(index.segment_counts_);
    visit(index.segment_starts_);
    visit(index.segment_bitmaps_);
    visit(index.postings_);
    visit(index.bitmap_words_);
    visit(index.bitmap_ranks_);
    visit(index.vocab_text_);
    visit(index.vocab_offsets_);
    visit(index.word_starts_);
    visit(index.word_places_);
    visit(index.word_big_places_);
    visit(index.word_postings_);
    visit(index.vocab_gram_starts_);
    visit(index.vocab_gram_postings_);
  }

  static Status write(const OptionsTable& table,
                      const std::function<Status(std::string_view)>& sink) {
    const SearchIndex& index = table.index_;
    Head head{};
    std::memcpy(head.magic, kMagic, sizeof kMagic);
    head.version = kTableImageVersion;
    head.without_value = table.without_value_;
    head.filtered_out = table.filtered_out_;
    head.bitmap_words_each = index.bitmap_words_each_;
    head.bitmap_blocks_each = index.bitmap_blocks_each_;
    head.keys_from_labels = index.keys_from_labels_ ? 1 : 0;
    std::vector<OtherGram> other_grams;
    other_grams.reserve(index.other_grams_.size());
    for (const auto& [code, gram] : index.other_grams_) other_grams.push_back({code, gram, 0});
    Writer out(sink);
    Status status = out.section(bytes_of(head));
    each_member(table, other_grams, [&](const auto& member) {
      if (status.ok()) status = out.section(bytes_of_all(member));
    });
    return status;
  }

  // Where the sections after the head go, in image order.
  static std::vector<Section> sections(OptionsTable& table, std::vector<OtherGram>& other_grams) {
    std::vector<Section> out;
    each_member(table, other_grams, [&](auto& member) { out.push_back(section_into(member)); });
    return out;
  }

  static Status take_head(OptionsTable& table, std::string_view bytes) {
    Head head{};
    if (bytes.size() != sizeof head) return image_error("version", "unknown head");
    std::memcpy(&head, bytes.data(), sizeof head);
    if (std::memcmp(head.magic, kMagic, sizeof kMagic) != 0 || head.version != kTableImageVersion) {
      return image_error("version", "another format version");
    }
    table.without_value_ = head.without_value;
    table.filtered_out_ = head.filtered_out;
    table.index_.bitmap_words_each_ = head.bitmap_words_each;
    table.index_.bitmap_blocks_each_ = head.bitmap_blocks_each;
    if (head.keys_from_labels > 1) return image_error("bounds", "unknown key storage");
    table.index_.keys_from_labels_ = head.keys_from_labels == 1;
    return ok_status();
  }

  static Result<OptionsTable> complete(OptionsTable table,
                                       const std::vector<OtherGram>& other_grams,
                                       size_t record_count) {
    SearchIndex& index = table.index_;
    index.record_count_ = static_cast<uint32_t>(table.records_.size());
    index.other_grams_.reserve(other_grams.size());
    for (const OtherGram& entry : other_grams) index.other_grams_.emplace(entry.code, entry.gram);
    if (!fits(table, record_count)) {
      return image_error("bounds", "the table does not fit the records or itself");
    }
    return table;
  }

  // The invariants every lookup relies on, so that an image that passed its checksums but was
  // written by a faulty writer still cannot make a request read out of bounds.
  static bool fits(const OptionsTable& table, size_t record_count) {
    const size_t n = table.records_.size();
    const SearchIndex& index = table.index_;
    if (table.offsets_.size() != 2 * n + 1 || !offsets_fit(table.offsets_, table.arena_.size()) ||
        !all_below(table.records_, record_count) || table.by_value_.size() != n ||
        !all_below(table.by_value_, n)) {
      return false;
    }
    // Over labels, the stored keys' records ascend; without, every record has its key.
    const auto& own_ids = index.own_key_ids_;
    const size_t own_keys = index.keys_from_labels_ ? own_ids.size() : n;
    if (index.own_key_offsets_.size() != own_keys + 1 ||
        !offsets_fit(index.own_key_offsets_, index.own_keys_.size()) ||
        (!index.keys_from_labels_ && !own_ids.empty()) || !all_below(own_ids, n) ||
        std::adjacent_find(own_ids.begin(), own_ids.end(), std::greater_equal<uint32_t>()) !=
            own_ids.end()) {
      return false;
    }
    const size_t segments = index.segment_counts_.size();
    const uint64_t grams = segments / 4;
    if (segments % 4 != 0 || index.ascii_grams_.size() != 128 * 128 ||
        index.segment_starts_.size() != segments + 1 || index.segment_bitmaps_.size() != segments ||
        !offsets_fit(index.segment_starts_, index.postings_.size()) ||
        !all_below(index.postings_, n)) {
      return false;
    }
    for (uint32_t gram : index.ascii_grams_) {
      if (gram != SearchIndex::kNoGram && gram >= grams) return false;
    }
    for (const auto& [code, gram] : index.other_grams_) {
      if (gram >= grams) return false;
    }
    if (index.bitmap_words_each_ != (n + 63) / 64 ||
        index.bitmap_blocks_each_ != (index.bitmap_words_each_ + 7) / 8) {
      return false;
    }
    const uint64_t bitmaps =
        index.bitmap_words_each_ == 0 ? 0 : index.bitmap_words_.size() / index.bitmap_words_each_;
    if (bitmaps * index.bitmap_words_each_ != index.bitmap_words_.size() ||
        index.bitmap_ranks_.size() != bitmaps * index.bitmap_blocks_each_) {
      return false;
    }
    for (size_t s = 0; s < segments; ++s) {
      const uint32_t bitmap = index.segment_bitmaps_[s];
      const uint32_t listed = index.segment_starts_[s + 1] - index.segment_starts_[s];
      if (bitmap == SearchIndex::kNoBitmap ? listed != index.segment_counts_[s]
                                           : (bitmap >= bitmaps || listed != 0)) {
        return false;
      }
    }
    if (!offsets_fit(index.vocab_offsets_, index.vocab_text_.size())) return false;
    const uint64_t words = index.vocab_offsets_.size() - 1;
    return index.word_starts_.size() == words + 1 &&
           offsets_fit(index.word_starts_, index.word_postings_.size()) &&
           index.word_places_fit() && all_below(index.word_postings_, n) &&
           index.vocab_gram_starts_.size() == grams + 1 &&
           offsets_fit(index.vocab_gram_starts_, index.vocab_gram_postings_.size()) &&
           index.vocabulary_grams_fit();
  }
};

// The reader's progress: within section `at` (0 is the head), its 8-byte length, its bytes or
// its 8-byte checksum.
struct TableImageReader::State {
  OptionsTable table;
  std::vector<OtherGram> other_grams;
  std::string head;
  std::vector<Section> sections;  // after the head
  size_t at = 0;
  enum class Phase { length, body, sum } phase = Phase::length;
  char field[8] = {};
  size_t field_filled = 0;
  std::uint64_t length = 0;
  char* body = nullptr;
  size_t body_filled = 0;
  std::uint64_t body_sum = 0;
  bool whole_units = true;
  bool begun = false;
  std::uint64_t left = 0;  // of the bytes announced to begin()
  std::optional<Error> error;

  size_t section_count() const { return sections.size() + 1; }
  Error fail(Error why) {
    if (!error) error = std::move(why);
    return *error;
  }
  Status start_body() {
    if (left < sizeof body_sum || length > left - sizeof body_sum) {
      return fail(image_error("truncated", "a section is cut short"));
    }
    whole_units = true;
    if (at == 0) {
      head.resize(length);
      body = head.data();
    } else {
      const Section& section = sections[at - 1];
      body = length ? section.place(length) : nullptr;
      whole_units = length % section.unit == 0;
    }
    body_filled = 0;
    if (length == 0) end_body();
    return ok_status();
  }
  void end_body() {
    body_sum = section_checksum(length, std::string_view(body, length));
    phase = Phase::sum;
    field_filled = 0;
  }
  Status end_section() {
    std::uint64_t sum = 0;
    std::memcpy(&sum, field, sizeof sum);
    if (sum != body_sum)
      return fail(image_error("checksum", "a section does not match its checksum"));
    if (!whole_units) return fail(image_error("bounds", "a section has a bad size"));
    if (at == 0) {
      if (Status taken = TableImage::take_head(table, head); !taken.ok()) {
        return fail(std::move(taken).error());
      }
    }
    ++at;
    phase = Phase::length;
    field_filled = 0;
    return ok_status();
  }
};

TableImageReader::TableImageReader() : state_(std::make_unique<State>()) {
  state_->sections = TableImage::sections(state_->table, state_->other_grams);
}

TableImageReader::~TableImageReader() = default;

Status TableImageReader::begin(std::uint64_t total) {
  State& s = *state_;
  if (s.begun) return s.fail(image_error("bounds", "read twice"));
  s.begun = true;
  s.left = total;
  return ok_status();
}

Result<std::span<char>> TableImageReader::room() {
  State& s = *state_;
  if (s.error) return *s.error;
  if (!s.begun) return s.fail(image_error("bounds", "read without its size"));
  if (s.at == s.section_count())
    return s.fail(image_error("bounds", "bytes after the last section"));
  if (s.phase == State::Phase::body) {
    return std::span<char>(s.body + s.body_filled, s.length - s.body_filled);
  }
  return std::span<char>(s.field + s.field_filled, sizeof s.field - s.field_filled);
}

Status TableImageReader::received(size_t n) {
  State& s = *state_;
  if (s.error) return *s.error;
  if (n > s.left) return s.fail(image_error("bounds", "more bytes than announced"));
  s.left -= n;
  switch (s.phase) {
    case State::Phase::length:
      if ((s.field_filled += n) < sizeof s.field) return ok_status();
      std::memcpy(&s.length, s.field, sizeof s.length);
      s.phase = State::Phase::body;
      return s.start_body();
    case State::Phase::body:
      if ((s.body_filled += n) == s.length) s.end_body();
      return ok_status();
    case State::Phase::sum:
      if ((s.field_filled += n) < sizeof s.field) return ok_status();
      return s.end_section();
  }
  return ok_status();
}

Result<OptionsTable> TableImageReader::finish(size_t record_count) {
  State& s = *state_;
  if (s.error) return *s.error;
  if (s.at < s.section_count()) {
    return image_error("truncated", s.phase == State::Phase::length && s.field_filled == 0
                                        ? "a section is missing"
                                        : "a section is cut short");
  }
  return TableImage::complete(std::move(s.table), s.other_grams, record_count);
}

Status write_table_image(const OptionsTable& table,
                         const std::function<Status(std::string_view)>& sink) {
  return TableImage::write(table, sink);
}

Result<OptionsTable> read_table_image(std::string_view bytes, size_t record_count) {
  TableImageReader reader;
  (void)reader.begin(bytes.size());
  (void)feed(reader, bytes);  // an error stays with the reader: finish() returns it
  return reader.finish(record_count);
}

}  // namespace extdata::fields
