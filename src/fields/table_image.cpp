#include "fields/table_image.h"

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

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

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  Result<std::string_view> section() {
    std::uint64_t length = 0, sum = 0;
    if (rest_.size() < sizeof length) return image_error("truncated", "a section is missing");
    std::memcpy(&length, rest_.data(), sizeof length);
    if (rest_.size() - sizeof length < sizeof sum || length > rest_.size() - 2 * sizeof sum) {
      return image_error("truncated", "a section is cut short");
    }
    const std::string_view bytes = rest_.substr(sizeof length, length);
    std::memcpy(&sum, rest_.data() + sizeof length + length, sizeof sum);
    if (sum != section_checksum(length, bytes)) {
      return image_error("checksum", "a section does not match its checksum");
    }
    rest_.remove_prefix(sizeof length + length + sizeof sum);
    return bytes;
  }
  template <typename Container>
  Status into(Container& out) {
    using T = typename Container::value_type;
    static_assert(std::is_trivially_copyable_v<T>);
    EXTDATA_ASSIGN_OR_RETURN(const std::string_view bytes, section());
    if (bytes.size() % sizeof(T) != 0) return image_error("bounds", "a section has a bad size");
    out.resize(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return ok_status();
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

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
  };

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
    std::vector<OtherGram> other_grams;
    other_grams.reserve(index.other_grams_.size());
    for (const auto& [code, gram] : index.other_grams_) other_grams.push_back({code, gram, 0});
    Writer out(sink);
    for (std::string_view section : {bytes_of(head),
                                     std::string_view(table.arena_),
                                     bytes_of_all(table.offsets_),
                                     bytes_of_all(table.records_),
                                     bytes_of_all(table.by_value_),
                                     std::string_view(index.keys_),
                                     bytes_of_all(index.key_offsets_),
                                     bytes_of_all(index.ascii_grams_),
                                     bytes_of_all(other_grams),
                                     bytes_of_all(index.segment_counts_),
                                     bytes_of_all(index.segment_starts_),
                                     bytes_of_all(index.segment_bitmaps_),
                                     bytes_of_all(index.postings_),
                                     bytes_of_all(index.bitmap_words_),
                                     bytes_of_all(index.bitmap_ranks_),
                                     std::string_view(index.vocab_text_),
                                     bytes_of_all(index.vocab_offsets_),
                                     bytes_of_all(index.word_starts_),
                                     bytes_of_all(index.word_postings_),
                                     bytes_of_all(index.vocab_gram_starts_),
                                     bytes_of_all(index.vocab_gram_postings_)}) {
      EXTDATA_TRY(out.section(section));
    }
    return ok_status();
  }

  static Result<OptionsTable> read(std::string_view bytes, size_t record_count) {
    Reader in(bytes);
    EXTDATA_ASSIGN_OR_RETURN(const std::string_view head_bytes, in.section());
    Head head{};
    if (head_bytes.size() != sizeof head) return image_error("version", "unknown head");
    std::memcpy(&head, head_bytes.data(), sizeof head);
    if (std::memcmp(head.magic, kMagic, sizeof kMagic) != 0 || head.version != kTableImageVersion) {
      return image_error("version", "another format version");
    }
    OptionsTable table;
    SearchIndex& index = table.index_;
    table.without_value_ = head.without_value;
    table.filtered_out_ = head.filtered_out;
    index.bitmap_words_each_ = head.bitmap_words_each;
    index.bitmap_blocks_each_ = head.bitmap_blocks_each;
    std::vector<OtherGram> other_grams;
    EXTDATA_TRY(in.into(table.arena_));
    EXTDATA_TRY(in.into(table.offsets_));
    EXTDATA_TRY(in.into(table.records_));
    EXTDATA_TRY(in.into(table.by_value_));
    EXTDATA_TRY(in.into(index.keys_));
    EXTDATA_TRY(in.into(index.key_offsets_));
    EXTDATA_TRY(in.into(index.ascii_grams_));
    EXTDATA_TRY(in.into(other_grams));
    EXTDATA_TRY(in.into(index.segment_counts_));
    EXTDATA_TRY(in.into(index.segment_starts_));
    EXTDATA_TRY(in.into(index.segment_bitmaps_));
    EXTDATA_TRY(in.into(index.postings_));
    EXTDATA_TRY(in.into(index.bitmap_words_));
    EXTDATA_TRY(in.into(index.bitmap_ranks_));
    EXTDATA_TRY(in.into(index.vocab_text_));
    EXTDATA_TRY(in.into(index.vocab_offsets_));
    EXTDATA_TRY(in.into(index.word_starts_));
    EXTDATA_TRY(in.into(index.word_postings_));
    EXTDATA_TRY(in.into(index.vocab_gram_starts_));
    EXTDATA_TRY(in.into(index.vocab_gram_postings_));
    if (!in.done()) return image_error("bounds", "bytes after the last section");
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
    if (index.key_offsets_.size() != n + 1 || !offsets_fit(index.key_offsets_, index.keys_.size()))
      return false;
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
    return index.word_starts_.size() == 3 * words + 1 &&
           offsets_fit(index.word_starts_, index.word_postings_.size()) &&
           all_below(index.word_postings_, n) && index.vocab_gram_starts_.size() == grams + 1 &&
           offsets_fit(index.vocab_gram_starts_, index.vocab_gram_postings_.size()) &&
           all_below(index.vocab_gram_postings_, words);
  }
};

Status write_table_image(const OptionsTable& table,
                         const std::function<Status(std::string_view)>& sink) {
  return TableImage::write(table, sink);
}

Result<OptionsTable> read_table_image(std::string_view bytes, size_t record_count) {
  return TableImage::read(bytes, record_count);
}

}  // namespace extdata::fields
