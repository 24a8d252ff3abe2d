#include "extract/record_set_binary.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "extract/simdjson_tape.h"

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

// Reads fixed-size values and byte runs from a piece's body, refusing to run past its end.
class Cursor {
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

  for (const auto& page : set.pages_) {
    const size_t words = tape_length(*page.document);
    const size_t string_bytes = page.bytes - words * sizeof(std::uint64_t);
    begin_piece(piece, seq++, kPage);
    piece.reserve(kHeaderBytes + 16 + page.bytes + kTrailerBytes);
    put<std::uint64_t>(piece, words);
    put<std::uint64_t>(piece, string_bytes);
    piece.append(reinterpret_cast<const char*>(page.document->tape.get()),
                 words * sizeof(std::uint64_t));
    piece.append(reinterpret_cast<const char*>(page.document->string_buf.get()), string_bytes);
    end_piece(piece);
    EXTDATA_TRY(sink(piece));
  }
  std::string().swap(piece);

  const size_t width = set.column_names_.size();
  begin_piece(piece, seq++, kTables);
  piece.reserve(kHeaderBytes + set.records_.size() * (12 + width * 9) + kTrailerBytes);
  for (size_t r = 0; r < set.records_.size(); ++r) {
    put<std::uint32_t>(piece, set.record_page_[r]);
    put<std::uint64_t>(piece, tape_index(set.records_[r]));
    for (size_t c = 0; c < width; ++c) {
      const bool present = set.present_[r * width + c];
      put<std::uint8_t>(piece, present ? 1 : 0);
      put<std::uint64_t>(piece, present ? tape_index(set.values_[r * width + c]) : 0);
    }
  }
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
    std::uint64_t words = 0, string_bytes = 0;
    std::string_view tape, strings;
    if (kind != kPage || !in.get(words) || !in.get(string_bytes) ||
        words > (SIZE_MAX / sizeof(std::uint64_t)) || words < 2 ||
        !in.bytes(words * sizeof(std::uint64_t), tape) || !in.bytes(string_bytes, strings) ||
        !in.done())
      return bad();
    RecordSet::Page page;
    page.document = std::make_shared<simdjson::dom::document>();
    // Not value-initialised: every byte is copied in at once.
    page.document->tape.reset(new std::uint64_t[words]);
    std::memcpy(page.document->tape.get(), tape.data(), tape.size());
    page.document->string_buf.reset(new std::uint8_t[string_bytes]);
    std::memcpy(page.document->string_buf.get(), strings.data(), strings.size());
    if (tape_length(*page.document) != words) return bad();
    page.bytes = tape.size() + strings.size();
    set_.pages_.push_back(std::move(page));
    return ok_status();
  }
  if (kind != kTables) return bad();
  std::vector<size_t> page_words;
  for (const auto& page : set_.pages_) page_words.push_back(tape_length(*page.document));
  const size_t width = set_.column_names_.size();
  set_.records_.reserve(records_expected_);
  set_.record_page_.reserve(records_expected_);
  set_.values_.reserve(records_expected_ * width);
  set_.present_.reserve(records_expected_ * width);
  for (size_t r = 0; r < records_expected_; ++r) {
    std::uint32_t page = 0;
    std::uint64_t index = 0;
    if (!in.get(page) || !in.get(index) || page >= page_words.size() || index >= page_words[page])
      return bad();
    const auto& document = *set_.pages_[page].document;
    set_.records_.push_back(element_at(document, index));
    set_.record_page_.push_back(page);
    for (size_t c = 0; c < width; ++c) {
      std::uint8_t present = 0;
      if (!in.get(present) || !in.get(index) || present > 1 || index >= page_words[page])
        return bad();
      set_.present_.push_back(present == 1);
      set_.values_.push_back(present ? element_at(document, index) : simdjson::dom::element());
    }
  }
  if (!in.done()) return bad();
  tables_ = true;
  return ok_status();
}

Result<RecordSet> BinarySnapshot::Reader::finish() {
  if (!tables_ || !partial_.empty()) return snapshot_error("truncated", "pieces are missing");
  return std::move(set_);
}

}  // namespace extdata::extract
