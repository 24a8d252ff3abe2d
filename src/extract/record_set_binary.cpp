#include "extract/record_set_binary.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace extdata::extract {

namespace {

constexpr char kMagic[4] = {'E', 'X', 'R', 'S'};
constexpr size_t kHeaderBytes = 24;  // magic, version, seq, kind, body length
constexpr size_t kTrailerBytes = 8;  // checksum
enum PieceKind : std::uint32_t { kHead = 1, kPage = 2, kTables = 3 };

Error snapshot_error(std::string reason, std::string message) {
  return Error("extract.snapshot", "the binary record snapshot is unusable: " + message,
               "it is not served; the records are fetched again")
      .with("reason", std::move(reason));
}

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_text(std::string& out, std::string_view text) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

}  // namespace

// Reads fixed-size values and byte runs from a piece's body, refusing to run past its end.
class BinarySnapshot::Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool get(T& value) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool bytes(size_t n, std::string_view& out) {
    if (bytes_.size() - pos_ < n) return false;
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool text(std::string& out) {
    std::uint32_t n = 0;
    std::string_view view;
    if (!get(n) || !bytes(n, view)) return false;
    out.assign(view);
    return true;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

namespace {

void begin_piece(std::string& out, std::uint32_t seq, PieceKind kind) {
  out.clear();
  out.append(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, BinarySnapshot::kFormatVersion);
  put<std::uint32_t>(out, seq);
  put<std::uint32_t>(out, kind);
  put<std::uint64_t>(out, 0);  // body length, set by end_piece
}

void end_piece(std::string& out) {
  const std::uint64_t body = out.size() - kHeaderBytes;
  std::memcpy(out.data() + 16, &body, sizeof body);
  put<std::uint64_t>(out, BinarySnapshot::checksum(out));
}

}  // namespace

// Four independent multiply-xor lanes over 8-byte words (fast: the multiplications overlap).
// Each step is a bijection of the lane for a given word, so any change of one word changes the
// result.
std::uint64_t BinarySnapshot::checksum(std::string_view bytes) {
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  std::uint64_t lane[4] = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL,
                           0x27d4eb2f165667c5ULL};
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 32) {
    for (int l = 0; l < 4; ++l) {
      std::uint64_t w;
      std::memcpy(&w, p + 8 * l, 8);
      lane[l] = (lane[l] ^ w) * kPrime;
    }
    p += 32;
    n -= 32;
  }
  std::uint64_t tail = bytes.size();
  for (size_t i = 0; i < n; ++i) tail = (tail ^ static_cast<unsigned char>(p[i])) * kPrime;
  std::uint64_t h = tail;
  for (std::uint64_t l : lane) h = (h ^ l) * 0xff51afd7ed558ccdULL + (h >> 29);
  return h;
}

bool BinarySnapshot::looks_binary(std::string_view bytes) {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

Status BinarySnapshot::write(const RecordSet& set,
                             const std::function<Status(std::string_view piece)>& sink) {
  std::string piece;
  std::uint32_t seq = 0;
  begin_piece(piece, seq++, kHead);
  put<std::uint64_t>(piece, set.pages_.size());
  put<std::uint64_t>(piece, set.records_.size());
  put<std::uint32_t>(piece, static_cast<std::uint32_t>(set.column_names_.size()));
  for (const auto& name : set.column_names_) put_text(piece, name);
  put_text(piece, set.omitted_member_suffix_);
  end_piece(piece);
  EXTDATA_TRY(sink(piece));

  for (const ShapePage& page : set.pages_) {
    const ShapePage::Layout at =
        ShapePage::layout(page.slot_count, page.shape_words, page.number_count, page.string_bytes);
    const size_t used = at.strings + page.string_bytes;  // the padding is not written
    begin_piece(piece, seq++, kPage);
    piece.reserve(kHeaderBytes + 36 + used + kTrailerBytes);
    put<std::uint64_t>(piece, page.slot_count);
    put<std::uint64_t>(piece, page.shape_words);
    put<std::uint64_t>(piece, page.number_count);
    put<std::uint64_t>(piece, page.string_bytes);
    put<std::uint32_t>(piece, page.root);
    piece.append(reinterpret_cast<const char*>(page.memory.get()), used);
    end_piece(piece);
    EXTDATA_TRY(sink(piece));
  }
  std::string().swap(piece);

  const size_t width = set.column_names_.size();
  begin_piece(piece, seq++, kTables);
  piece.reserve(kHeaderBytes + set.records_.size() * (8 + width * 4) + kTrailerBytes);
  for (size_t r = 0; r < set.records_.size(); ++r) {
    put<std::uint32_t>(piece, set.record_page_[r]);
    put<std::uint32_t>(piece, set.records_[r]);
  }
  piece.append(reinterpret_cast<const char*>(set.values_.data()),
               set.values_.size() * sizeof(std::uint32_t));
  end_piece(piece);
  return sink(piece);
}

// The length of the piece whose header starts `header` (at least kHeaderBytes long).
Result<size_t> BinarySnapshot::Reader::piece_length(std::string_view header) {
  if (!looks_binary(header)) return snapshot_error("checksum", "a piece has no magic number");
  std::uint32_t version = 0;
  std::uint64_t body = 0;
  std::memcpy(&version, header.data() + 4, sizeof version);
  std::memcpy(&body, header.data() + 16, sizeof body);
  if (version != kFormatVersion)
    return snapshot_error("version", "it was written in format version " + std::to_string(version) +
                                         ", this extdata reads " + std::to_string(kFormatVersion));
  if (body > (std::uint64_t{1} << 40)) return snapshot_error("bounds", "a piece is too large");
  return kHeaderBytes + static_cast<size_t>(body) + kTrailerBytes;
}

// Pieces are used in place when `bytes` holds them whole; a piece split between calls is
// gathered first.
Status BinarySnapshot::Reader::add(std::string_view bytes) {
  while (!bytes.empty()) {
    if (partial_.empty() && bytes.size() >= kHeaderBytes) {
      EXTDATA_ASSIGN_OR_RETURN(const size_t length, piece_length(bytes));
      if (bytes.size() >= length) {
        EXTDATA_TRY(add_one(bytes.substr(0, length)));
        bytes.remove_prefix(length);
        continue;
      }
    }
    if (partial_.size() < kHeaderBytes) {
      const size_t take = std::min(kHeaderBytes - partial_.size(), bytes.size());
      partial_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (partial_.size() < kHeaderBytes) break;
    }
    EXTDATA_ASSIGN_OR_RETURN(const size_t length, piece_length(partial_));
    const size_t take = std::min(length - partial_.size(), bytes.size());
    partial_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (partial_.size() == length) {
      EXTDATA_TRY(add_one(partial_));
      std::string().swap(partial_);
    }
  }
  return ok_status();
}

Status BinarySnapshot::Reader::add_one(std::string_view piece) {
  const size_t covered = piece.size() - kTrailerBytes;
  std::uint64_t stored = 0;
  std::memcpy(&stored, piece.data() + covered, sizeof stored);
  if (checksum(piece.substr(0, covered)) != stored)
    return snapshot_error("checksum", "piece " + std::to_string(next_seq_) +
                                          " does not match its checksum (the stored bytes "
                                          "changed)");
  std::uint32_t seq = 0, kind = 0;
  std::memcpy(&seq, piece.data() + 8, sizeof seq);
  std::memcpy(&kind, piece.data() + 12, sizeof kind);
  if (seq != next_seq_ || tables_)
    return snapshot_error("order", "piece " + std::to_string(seq) + " came where piece " +
                                       std::to_string(next_seq_) + " was expected");
  ++next_seq_;
  Cursor in(piece.substr(kHeaderBytes, covered - kHeaderBytes));
  const auto bad = [] { return snapshot_error("bounds", "a piece's contents are inconsistent"); };
  if (!head_) {
    std::uint64_t pages = 0, records = 0;
    std::uint32_t columns = 0;
    if (kind != kHead || !in.get(pages) || !in.get(records) || !in.get(columns)) return bad();
    set_.column_names_.resize(columns);
    for (auto& name : set_.column_names_)
      if (!in.text(name)) return bad();
    if (!in.text(set_.omitted_member_suffix_) || !in.done()) return bad();
    pages_expected_ = pages;
    records_expected_ = records;
    head_ = true;
    return ok_status();
  }
  if (set_.pages_.size() < pages_expected_) {
    if (kind != kPage) return bad();
    EXTDATA_TRY(add_page(in));
    return ok_status();
  }
  if (kind != kTables) return bad();
  EXTDATA_TRY(add_tables(in));
  tables_ = true;
  return ok_status();
}

// A page piece: the sizes of the page's parts, its root, and its block's bytes as laid out.
Status BinarySnapshot::Reader::add_page(Cursor& in) {
  const auto bad = [] { return snapshot_error("bounds", "a page's contents are inconsistent"); };
  std::uint64_t sizes[4] = {};  // slots, shape words, numbers, string bytes
  for (std::uint64_t& size : sizes)
    if (!in.get(size) || size >= ShapePage::kLimit) return bad();
  ShapePage page;
  if (!in.get(page.root)) return bad();
  page.slot_count = sizes[0];
  page.shape_words = sizes[1];
  page.number_count = sizes[2];
  page.string_bytes = sizes[3];
  const ShapePage::Layout at =
      ShapePage::layout(page.slot_count, page.shape_words, page.number_count, page.string_bytes);
  std::string_view bytes;
  if (!in.bytes(at.strings + page.string_bytes, bytes) || !in.done()) return bad();
  std::shared_ptr<std::uint8_t> block = memory_.bytes(at.total);
  std::memcpy(block.get(), bytes.data(), bytes.size());  // not zeroed first: all copied in
  std::memset(block.get() + bytes.size(), 0, at.total - bytes.size());
  page.attach(std::move(block));
  headers_.emplace_back();
  if (!page.valid(RecordSet::kMaxDepth, headers_.back())) return bad();
  set_.pages_.push_back(std::move(page));
  return ok_status();
}

// The tables: per record its page and slot word, then every record's column slot words.
Status BinarySnapshot::Reader::add_tables(Cursor& in) {
  const auto bad = [] { return snapshot_error("bounds", "a record's position is inconsistent"); };
  const size_t width = set_.column_names_.size();
  set_.records_.resize(records_expected_);
  set_.record_page_.resize(records_expected_);
  for (size_t r = 0; r < records_expected_; ++r) {
    std::uint32_t page = 0, slot = 0;
    if (!in.get(page) || !in.get(slot) || page >= set_.pages_.size() ||
        !set_.pages_[page].valid_value(slot, headers_[page]))
      return bad();
    set_.record_page_[r] = page;
    set_.records_[r] = slot;
  }
  std::string_view values;
  if (!in.bytes(records_expected_ * width * sizeof(std::uint32_t), values) || !in.done())
    return bad();
  set_.values_.resize(records_expected_ * width);
  if (!values.empty()) std::memcpy(set_.values_.data(), values.data(), values.size());
  for (size_t i = 0; i < set_.values_.size(); ++i) {
    const std::uint32_t slot = set_.values_[i];
    const std::uint32_t page = set_.record_page_[i / width];
    if (slot != ShapePage::kMissing && !set_.pages_[page].valid_value(slot, headers_[page]))
      return bad();
  }
  std::vector<std::vector<bool>>().swap(headers_);
  return ok_status();
}

Result<RecordSet> BinarySnapshot::Reader::finish() {
  if (!tables_ || !partial_.empty()) return snapshot_error("truncated", "pieces are missing");
  return std::move(set_);
}

}  // namespace extdata::extract
