#include "fields/search_index.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <functional>
#include <limits>
#include <queue>
#include <tuple>

#include "fields/text_fold.h"

namespace extdata::fields {
namespace {

enum Tier : int { kExact = 0, kStarts = 1, kWord = 2, kInside = 3 };

constexpr size_t kMaxRecords = size_t{1} << 30;

using PostingSpan = std::span<const uint32_t>;

// Decodes the code point at key[pos]; keys are valid UTF-8 by construction (text_fold).
char32_t next_code_point(std::string_view key, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(key[pos + i]); };
  const unsigned char lead = byte(0);
  char32_t cp;
  size_t length;
  if (lead < 0x80) {
    cp = lead;
    length = 1;
  } else if (lead < 0xE0) {
    cp = ((lead & 0x1F) << 6) | (byte(1) & 0x3F);
    length = 2;
  } else if (lead < 0xF0) {
    cp = ((lead & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    length = 3;
  } else {
    cp = ((lead & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
         (byte(3) & 0x3F);
    length = 4;
  }
  pos += length;
  return cp;
}

uint64_t gram_code(char32_t first, char32_t second) {
  return (static_cast<uint64_t>(first) << 32) | second;
}

// Splits a folded key (words joined by single spaces) into its words.
std::vector<std::string_view> split_words(std::string_view key) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (start < key.size()) {
    size_t end = key.find(' ', start);
    if (end == std::string_view::npos) end = key.size();
    words.push_back(key.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// The tier in which `key` matches a query (folded `query_key`, split into `words`), or -1.
int classify(std::string_view key, std::string_view query_key,
             const std::vector<std::string_view>& words) {
  if (key.size() >= query_key.size() && key.compare(0, query_key.size(), query_key) == 0) {
    return key.size() == query_key.size() ? kExact : kStarts;
  }
  int tier = kWord;
  for (std::string_view word : words) {
    int best = -1;
    for (size_t pos = key.find(word); pos != std::string_view::npos;
         pos = key.find(word, pos + 1)) {
      if (pos == 0 || key[pos - 1] == ' ') {
        best = kWord;
        break;
      }
      best = kInside;
    }
    if (best < 0) return -1;
    tier = std::max(tier, best);
  }
  return tier;
}

size_t code_point_count(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

// Collects one page of ranked ids from tiers handed over best first, and counts them all.
class Pager {
 public:
  Pager(size_t offset, size_t limit) : offset_(offset), limit_(limit) {}

  // A tier given as ascending posting lists that share no record.
  void add_sorted(const std::vector<PostingSpan>& lists) {
    size_t size = 0;
    for (const PostingSpan& list : lists) size += list.size();
    if (!take_from(size)) return;
    if (lists.size() == 1) {
      add_page_of(lists[0]);
    } else {
      // Merge the lists' heads, skipping `offset_`; costs O((offset + limit) log lists).
      using Head = std::pair<uint32_t, size_t>;  // (id, list index)
      std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
      std::vector<size_t> next(lists.size(), 0);
      for (size_t i = 0; i < lists.size(); ++i) {
        if (!lists[i].empty()) heads.push({lists[i][0], i});
      }
      size_t skip = offset_;
      while (!heads.empty() && room() > 0) {
        const auto [id, list] = heads.top();
        heads.pop();
        if (skip > 0) {
          --skip;
        } else {
          ids_.push_back(id);
        }
        if (++next[list] < lists[list].size()) heads.push({lists[list][next[list]], list});
      }
    }
    offset_ = 0;
  }

  // A tier given as one ascending list.
  void add_list(PostingSpan list) {
    if (!take_from(list.size())) return;
    add_page_of(list);
    offset_ = 0;
  }

  // A tier given as a bitmap over record ids holding `count` records, with the number of
  // set bits before each 512-bit block (to find the offset without counting from zero).
  void add_bitmap(std::span<const uint64_t> words, std::span<const uint32_t> block_ranks,
                  size_t count) {
    if (!take_from(count)) return;
    const size_t block =
        std::upper_bound(block_ranks.begin(), block_ranks.end(), offset_) - block_ranks.begin() - 1;
    size_t skip = offset_ - block_ranks[block];
    size_t word = block * 8;
    while (word < words.size() && skip >= static_cast<size_t>(std::popcount(words[word]))) {
      skip -= std::popcount(words[word]);
      ++word;
    }
    for (; word < words.size() && room() > 0; ++word) {
      for (uint64_t bits = words[word]; bits != 0 && room() > 0; bits &= bits - 1) {
        if (skip > 0) {
          --skip;
        } else {
          ids_.push_back(static_cast<uint32_t>(word * 64 + std::countr_zero(bits)));
        }
      }
    }
    offset_ = 0;
  }

  // A tier given as distinct ids in any order; sorts only as much as the page needs.
  void add_unsorted(std::vector<uint32_t>& ids) {
    if (!take_from(ids.size())) return;
    const size_t end = offset_ + std::min(ids.size() - offset_, room());
    std::partial_sort(ids.begin(), ids.begin() + end, ids.end());
    ids_.insert(ids_.end(), ids.begin() + offset_, ids.begin() + end);
    offset_ = 0;
  }

  SearchResult finish() { return SearchResult{std::move(ids_), total_}; }

 private:
  size_t room() const { return limit_ - ids_.size(); }
  void add_page_of(PostingSpan list) {
    const size_t take = std::min(list.size() - offset_, room());
    ids_.insert(ids_.end(), list.begin() + offset_, list.begin() + offset_ + take);
  }
  // Counts a tier of `size` records; true if the page takes some of them.
  bool take_from(size_t size) {
    total_ += size;
    if (room() == 0) return false;
    if (offset_ >= size) {
      offset_ -= size;
      return false;
    }
    return true;
  }

  size_t offset_;
  size_t limit_;
  size_t total_ = 0;
  std::vector<uint32_t> ids_;
};

// The first position in ascending [from, end) whose id is not below `id`: exponential steps,
// then a binary search, so walking a long list to a few ids costs O(ids * log(gap)).
template <typename It>
It gallop_to(It from, It end, uint32_t id) {
  size_t step = 1;
  while (static_cast<size_t>(end - from) > step && *(from + step) < id) {
    from += step;
    step *= 2;
  }
  return std::lower_bound(from, from + std::min<size_t>(step + 1, end - from), id);
}

// Ascending ids as LEB128 varints of their differences (the first one from zero), for lists
// that are only ever read front to back.
void append_varint(std::vector<uint8_t>& out, uint32_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<uint8_t>(value));
}

class DeltaWriter {
 public:
  explicit DeltaWriter(std::vector<uint8_t>& out) : out_(out) {}
  void add(uint32_t id) {
    append_varint(out_, id - last_);
    last_ = id;
  }
  void next_list() { last_ = 0; }

 private:
  std::vector<uint8_t>& out_;
  uint32_t last_ = 0;
};

// Calls visit(id) for the ids of the list in bytes [at, end). False (after visiting what came
// before) when the bytes are not such a list: a varint past `end` or longer than 5 bytes, or
// ids that do not ascend.
template <typename Visit>
bool for_each_delta(const uint8_t* at, const uint8_t* end, Visit&& visit) {
  uint64_t id = 0;
  bool first = true;
  while (at < end) {
    uint64_t delta = *at++;
    if (delta >= 0x80) {  // more bytes follow (rare: gaps of 128 words and more)
      delta &= 0x7F;
      for (int shift = 7;; shift += 7) {
        if (at == end || shift > 28) return false;
        const uint8_t byte = *at++;
        delta |= uint64_t{byte & 0x7Fu} << shift;
        if ((byte & 0x80) == 0) break;
      }
    }
    if (delta == 0 && !first) return false;
    id += delta;
    if (id > std::numeric_limits<uint32_t>::max()) return false;
    first = false;
    visit(static_cast<uint32_t>(id));
  }
  return true;
}

}  // namespace

bool key_matches(std::string_view key, std::string_view query_key) {
  return query_key.empty() || classify(key, query_key, split_words(query_key)) >= 0;
}

uint32_t SearchIndex::find_gram(char32_t first, char32_t second) const {
  if (first < 128 && second < 128) return ascii_grams_[first * 128 + second];
  auto it = other_grams_.find(gram_code(first, second));
  return it == other_grams_.end() ? kNoGram : it->second;
}

uint32_t SearchIndex::gram_id_for_build(char32_t first, char32_t second) {
  const uint32_t next_id = static_cast<uint32_t>(segment_starts_.size() / kTiers);
  uint32_t* slot;
  if (first < 128 && second < 128) {
    slot = &ascii_grams_[first * 128 + second];
  } else {
    slot = &other_grams_.try_emplace(gram_code(first, second), kNoGram).first->second;
  }
  if (*slot == kNoGram) {
    *slot = next_id;
    segment_starts_.insert(segment_starts_.end(), kTiers, 0);  // per-tier counts for now
  }
  return *slot;
}

// Calls visit(gram, tier) for every one- and two-code-point gram of the key's words, with
// the tier that occurrence gives (a gram may be visited several times).
template <typename Visit>
void SearchIndex::for_each_record_gram(std::string_view key, Visit&& visit) {
  std::array<char32_t, 2> whole_key{};  // the key's code points if it is one or two long
  size_t key_length = 0;
  bool first_word = true;
  size_t pos = 0;
  while (pos < key.size()) {
    char32_t previous = 0;
    size_t index = 0;
    while (pos < key.size() && key[pos] != ' ') {
      const char32_t cp = next_code_point(key, pos);
      const int tier = index == 0 ? (first_word ? kStarts : kWord) : kInside;
      visit(gram_id_for_build(cp, 0), tier);
      if (index > 0) {
        const int pair_tier = index == 1 ? (first_word ? kStarts : kWord) : kInside;
        visit(gram_id_for_build(previous, cp), pair_tier);
      }
      if (key_length < 2) whole_key[key_length] = cp;
      ++key_length;
      previous = cp;
      ++index;
    }
    if (pos < key.size()) {
      ++pos;           // the space between words
      key_length = 3;  // more than one word: no gram is the whole key
    }
    first_word = false;
  }
  if (key_length == 1 || key_length == 2)
    visit(gram_id_for_build(whole_key[0], whole_key[1]), kExact);
}

Result<SearchIndex> SearchIndex::build(std::span<const std::string_view> texts,
                                       const LabelTexts& labels) {
  if (texts.size() >= kMaxRecords) {
    return Error("search.too_many_records",
                 "cannot index " + std::to_string(texts.size()) + " records: the limit is " +
                     std::to_string(kMaxRecords - 1),
                 "narrow the source (filters, a smaller list) so a field holds fewer records");
  }
  assert(labels.bounds.empty() || labels.size() == texts.size());
  SearchIndex index;
  index.record_count_ = static_cast<uint32_t>(texts.size());
  index.ascii_grams_.assign(128 * 128, kNoGram);
  // Every key is folded and stored while the postings are built; over labels, only those the
  // labels do not give are kept at the end.
  index.own_key_offsets_.reserve(texts.size() + 1);
  index.own_key_offsets_.push_back(0);
  // Folding keeps ASCII text at its length: reserving that spares the doubling's copies, which
  // held the old and the new buffer at once at the build's peak.
  size_t text_bytes = 0;
  for (std::string_view text : texts) text_bytes += text.size();
  index.own_keys_.reserve(text_bytes);
  for (std::string_view text : texts) {
    append_folded(text, index.own_keys_);
    if (index.own_keys_.size() > std::numeric_limits<uint32_t>::max()) {
      return Error("search.too_much_text",
                   "the search texts of " + std::to_string(texts.size()) +
                       " records exceed 4 GiB once folded",
                   "map a shorter label or search text for this field");
    }
    index.own_key_offsets_.push_back(static_cast<uint32_t>(index.own_keys_.size()));
  }
  const uint32_t record_count = static_cast<uint32_t>(texts.size());

  // Each record's distinct grams with their best (lowest) tier, as gram * 4 + tier. A gram
  // seen earlier in the same record (stamp == record id) only lowers its tier.
  std::vector<uint64_t> record_grams;
  constexpr uint32_t kNoRecord = 0xFFFFFFFF;
  std::vector<uint32_t> stamp;
  std::vector<uint8_t> best_tier;
  const auto collect = [&](uint32_t id) {
    record_grams.clear();
    index.for_each_record_gram(index.own_key_at(id), [&](uint32_t gram, int tier) {
      if (gram >= stamp.size()) {
        stamp.resize(gram + 1, kNoRecord);
        best_tier.resize(gram + 1);
      }
      if (stamp[gram] != id) {
        stamp[gram] = id;
        best_tier[gram] = static_cast<uint8_t>(tier);
        record_grams.push_back(gram);
      } else if (tier < best_tier[gram]) {
        best_tier[gram] = static_cast<uint8_t>(tier);
      }
    });
    for (uint64_t& code : record_grams) code = code * kTiers + best_tier[code];
  };

  // Pass 1: count postings per (gram, tier). Pass 2: place record ids, in input order.
  uint64_t posting_count = 0;
  for (uint32_t id = 0; id < record_count; ++id) {
    collect(id);
    for (uint64_t code : record_grams) ++index.segment_starts_[code];
    posting_count += record_grams.size();
  }
  if (posting_count >= std::numeric_limits<uint32_t>::max()) {
    return Error(
        "search.too_much_text",
        "the search texts of " + std::to_string(texts.size()) + " records are too long to index",
        "map a shorter label or search text for this field");
  }
  // Dense segments become bitmaps, the others slices of postings_.
  const size_t segment_count = index.segment_starts_.size();
  index.segment_counts_ = index.segment_starts_;
  index.segment_bitmaps_.assign(segment_count, kNoBitmap);
  index.bitmap_words_each_ = (record_count + 63) / 64;
  index.bitmap_blocks_each_ = (index.bitmap_words_each_ + 7) / 8;
  constexpr uint32_t kMinRecordsForBitmaps = 4096;
  uint32_t running = 0;
  uint32_t bitmap_count = 0;
  for (size_t segment = 0; segment < segment_count; ++segment) {
    const uint32_t count = index.segment_counts_[segment];
    index.segment_starts_[segment] = running;
    if (record_count >= kMinRecordsForBitmaps && uint64_t{count} * 32 > record_count) {
      index.segment_bitmaps_[segment] = bitmap_count++;
    } else {
      running += count;
    }
  }
  index.segment_starts_.push_back(running);
  index.postings_.resize(running);
  index.bitmap_words_.assign(size_t{bitmap_count} * index.bitmap_words_each_, 0);
  std::vector<uint32_t> fill(index.segment_starts_.begin(), index.segment_starts_.end() - 1);
  std::fill(stamp.begin(), stamp.end(), kNoRecord);
  for (uint32_t id = 0; id < record_count; ++id) {
    collect(id);
    for (uint64_t code : record_grams) {
      const uint32_t bitmap = index.segment_bitmaps_[code];
      if (bitmap == kNoBitmap) {
        index.postings_[fill[code]++] = id;
      } else {
        index.bitmap_words_[bitmap * index.bitmap_words_each_ + id / 64] |= uint64_t{1}
                                                                            << (id % 64);
      }
    }
  }
  index.bitmap_ranks_.resize(size_t{bitmap_count} * index.bitmap_blocks_each_);
  for (size_t bitmap = 0; bitmap < bitmap_count; ++bitmap) {
    const uint64_t* words = &index.bitmap_words_[bitmap * index.bitmap_words_each_];
    uint32_t before = 0;
    for (size_t word = 0; word < index.bitmap_words_each_; ++word) {
      if (word % 8 == 0)
        index.bitmap_ranks_[bitmap * index.bitmap_blocks_each_ + word / 8] = before;
      before += static_cast<uint32_t>(std::popcount(words[word]));
    }
  }
  index.build_vocabulary();
  if (!labels.bounds.empty()) {
    index.keep_keys_labels_lack(texts, labels);
  } else {
    index.own_keys_.shrink_to_fit();
  }
  return index;
}

void SearchIndex::keep_keys_labels_lack(std::span<const std::string_view> texts,
                                        const LabelTexts& labels) {
  std::string kept;
  std::vector<uint32_t> offsets{0};
  std::string folded;
  for (uint32_t id = 0; id < record_count_; ++id) {
    const std::string_view label = labels[id];
    if (texts[id].data() == label.data() && texts[id].size() == label.size()) continue;
    const std::string_view key = own_key_at(id);
    folded.clear();
    append_folded(label, folded);
    if (folded == key) continue;
    own_key_ids_.push_back(id);
    kept += key;
    offsets.push_back(static_cast<uint32_t>(kept.size()));
  }
  own_keys_ = std::move(kept);  // the build's keys are freed here
  own_key_offsets_ = std::move(offsets);
  own_keys_.shrink_to_fit();
  own_key_offsets_.shrink_to_fit();
  own_key_ids_.shrink_to_fit();
  keys_from_labels_ = true;
}

std::optional<std::string_view> SearchIndex::own_key(uint32_t id) const {
  if (!keys_from_labels_) return own_key_at(id);
  const auto it = std::lower_bound(own_key_ids_.begin(), own_key_ids_.end(), id);
  if (it == own_key_ids_.end() || *it != id) return std::nullopt;
  return own_key_at(static_cast<size_t>(it - own_key_ids_.begin()));
}

std::string_view SearchIndex::key_start(uint32_t id, const LabelTexts& labels, std::string& scratch,
                                        size_t limit) const {
  if (const auto key = own_key(id)) return *key;
  scratch.clear();
  append_folded(labels[id], scratch, limit);
  return scratch;
}

std::string SearchIndex::key(uint32_t id, const LabelTexts& labels) const {
  std::string scratch;
  return std::string(key_start(id, labels, scratch, std::string::npos));
}

void SearchIndex::build_vocabulary() {
  const uint32_t record_count = static_cast<uint32_t>(size());
  // Per record, its distinct words as first-seen word id * 3 + place (0 alone, 1 first,
  // 2 later), keeping the smallest place of a repeated word.
  std::vector<std::string_view> words;
  // Word ids by text, open addressing over ids into `words` (id + 1; 0 empty), half full at
  // most: a std::unordered_map took ~70 MB of nodes for a million distinct words, at the peak
  // of a field's build.
  std::vector<uint32_t> id_slots(1024, 0);
  const auto slot_of = [&](std::string_view word) {
    const size_t mask = id_slots.size() - 1;
    size_t i = std::hash<std::string_view>{}(word)&mask;
    while (id_slots[i] != 0 && words[id_slots[i] - 1] != word) i = (i + 1) & mask;
    return i;
  };
  const auto word_id = [&](std::string_view word) {
    const size_t slot = slot_of(word);
    if (id_slots[slot] != 0) return id_slots[slot] - 1;
    words.push_back(word);
    id_slots[slot] = static_cast<uint32_t>(words.size());
    if (words.size() * 2 > id_slots.size()) {
      id_slots.assign(id_slots.size() * 2, 0);
      for (uint32_t id = 0; id < words.size(); ++id) id_slots[slot_of(words[id])] = id + 1;
    }
    return static_cast<uint32_t>(words.size() - 1);
  };
  std::vector<uint64_t> record_words;
  std::vector<uint32_t> record_word_offsets;
  record_word_offsets.reserve(record_count + 1);
  record_word_offsets.push_back(0);
  for (uint32_t id = 0; id < record_count; ++id) {
    const std::vector<std::string_view> key_words = split_words(own_key_at(id));
    const size_t begin = record_words.size();
    for (size_t i = 0; i < key_words.size(); ++i) {
      const uint32_t place = key_words.size() == 1 ? 0 : (i == 0 ? 1 : 2);
      record_words.push_back(uint64_t{word_id(key_words[i])} * 3 + place);
    }
    std::sort(record_words.begin() + begin, record_words.end());
    auto out = record_words.begin() + begin;
    for (auto it = out; it != record_words.end(); ++it) {
      if (out != record_words.begin() + begin && *(out - 1) / 3 == *it / 3) continue;
      *out++ = *it;
    }
    record_words.erase(out, record_words.end());
    record_word_offsets.push_back(static_cast<uint32_t>(record_words.size()));
  }

  // Sorted vocabulary; rank maps first-seen ids to sorted ids.
  std::vector<uint32_t> order(words.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return words[a] < words[b]; });
  std::vector<uint32_t> rank(words.size());
  vocab_offsets_.reserve(words.size() + 1);
  vocab_offsets_.push_back(0);
  for (uint32_t i = 0; i < order.size(); ++i) {
    rank[order[i]] = i;
    vocab_text_.append(words[order[i]]);
    vocab_offsets_.push_back(static_cast<uint32_t>(vocab_text_.size()));
  }

  std::vector<uint32_t> place_starts(words.size() * 3 + 1, 0);  // per word and place
  for (uint64_t code : record_words) ++place_starts[rank[code / 3] * 3 + code % 3];
  uint32_t running = 0;
  for (uint32_t& start : place_starts) {
    const uint32_t count = start;
    start = running;
    running += count;
  }
  word_postings_.resize(running);
  std::vector<uint32_t> fill(place_starts.begin(), place_starts.end() - 1);
  for (uint32_t id = 0; id < record_count; ++id) {
    for (uint32_t i = record_word_offsets[id]; i < record_word_offsets[id + 1]; ++i) {
      const uint64_t code = record_words[i];
      word_postings_[fill[rank[code / 3] * 3 + code % 3]++] = id;
    }
  }
  word_starts_.resize(words.size() + 1);
  word_places_.reserve(2 * words.size());
  for (uint32_t word = 0; word < words.size(); ++word) {
    const uint32_t* starts = &place_starts[word * 3];
    word_starts_[word] = starts[0];
    add_word_places(word, starts[1] - starts[0], starts[2] - starts[1]);
  }
  word_starts_[words.size()] = running;

  // Gram -> vocabulary words, for the character pairs of each word.
  const size_t gram_count = segment_counts_.size() / kTiers;
  vocab_gram_starts_.assign(gram_count + 1, 0);
  std::vector<uint32_t> word_grams;
  const auto collect = [&](uint32_t word) { pair_grams(vocab_word(word), word_grams); };
  for (uint32_t word = 0; word < words.size(); ++word) {
    collect(word);
    for (uint32_t gram : word_grams) ++vocab_gram_starts_[gram];
  }
  running = 0;
  for (uint32_t& start : vocab_gram_starts_) {
    const uint32_t count = start;
    start = running;
    running += count;
  }
  std::vector<uint32_t> gram_words(running);
  fill.assign(vocab_gram_starts_.begin(), vocab_gram_starts_.end() - 1);
  for (uint32_t word = 0; word < words.size(); ++word) {
    collect(word);
    for (uint32_t gram : word_grams) gram_words[fill[gram]++] = word;
  }
  // Kept delta-encoded: about a byte per entry instead of four.
  std::vector<uint8_t> encoded;
  encoded.reserve(gram_words.size() + gram_words.size() / 4);
  DeltaWriter writer(encoded);
  for (size_t gram = 0; gram < gram_count; ++gram) {
    const uint32_t begin = vocab_gram_starts_[gram], end = vocab_gram_starts_[gram + 1];
    vocab_gram_starts_[gram] = static_cast<uint32_t>(encoded.size());
    writer.next_list();
    for (uint32_t i = begin; i < end; ++i) writer.add(gram_words[i]);
  }
  vocab_gram_starts_[gram_count] = static_cast<uint32_t>(encoded.size());
  vocab_gram_postings_.assign(encoded.begin(), encoded.end());  // exactly sized
}

namespace {

// The 64 bits of `words` from bit `pos` on (zeros past the end).
uint64_t read_bits(const uint64_t* words, size_t count, size_t pos) {
  const size_t word = pos / 64, shift = pos % 64;
  uint64_t bits = words[word] >> shift;
  if (shift != 0 && word + 1 < count) bits |= words[word + 1] << (64 - shift);
  return bits;
}

// Sets in `words` the bits of `bits` (its `length` low bits, the others zero) from bit `pos` on.
void or_bits(uint64_t* words, size_t pos, uint64_t bits, size_t length) {
  const size_t word = pos / 64, shift = pos % 64;
  words[word] |= bits << shift;
  if (shift != 0 && shift + length > 64) words[word + 1] |= bits >> (64 - shift);
}

// Kept records that stay next to each other: old ids [begin, end) are new ids from `to` on.
struct Run {
  uint32_t begin, end, to;
};

std::vector<Run> kept_runs(std::span<const uint32_t> new_ids) {
  std::vector<Run> runs;
  for (uint32_t id = 0; id < new_ids.size();) {
    if (new_ids[id] == SearchIndex::kGone) {
      ++id;
      continue;
    }
    uint32_t end = id + 1;
    while (end < new_ids.size() && new_ids[end] == new_ids[end - 1] + 1) ++end;
    runs.push_back({id, end, new_ids[id]});
    id = end;
  }
  return runs;
}

}  // namespace

std::optional<SearchIndex> SearchIndex::patch(const SearchIndex& old,
                                              std::span<const uint32_t> new_ids,
                                              std::span<const Insert> inserted, size_t size) {
  if (size >= kMaxRecords || new_ids.size() != old.size()) return std::nullopt;
  SearchIndex index;
  index.record_count_ = static_cast<uint32_t>(size);
  index.keys_from_labels_ = old.keys_from_labels_;
  std::vector<std::string> keys(inserted.size());
  for (size_t i = 0; i < inserted.size(); ++i) append_folded(inserted[i].text, keys[i]);

  // Keys in the new order: the kept ones copied, the inserted ones folded above (over labels:
  // only those their labels do not give).
  index.own_key_offsets_.reserve(old.own_key_offsets_.size() + inserted.size());
  index.own_key_offsets_.push_back(0);
  index.own_keys_.reserve(old.own_keys_.size() + inserted.size() * 32);
  const auto keep = [&](uint32_t id, std::string_view key) {
    index.own_keys_ += key;
    if (index.keys_from_labels_) index.own_key_ids_.push_back(id);
    index.own_key_offsets_.push_back(static_cast<uint32_t>(index.own_keys_.size()));
    return index.own_keys_.size() <= std::numeric_limits<uint32_t>::max();
  };
  std::string folded;
  size_t next_old = 0, next_insert = 0, next_own = 0;  // next_own: in old.own_key_ids_
  for (uint32_t id = 0; id < size; ++id) {
    bool fits = true;
    if (next_insert < inserted.size() && inserted[next_insert].id == id) {
      const Insert& insert = inserted[next_insert];
      const std::string& key = keys[next_insert++];
      if (!old.keys_from_labels_) {
        fits = keep(id, key);
      } else if (insert.text.data() != insert.label.data() ||
                 insert.text.size() != insert.label.size()) {
        folded.clear();
        append_folded(insert.label, folded);
        if (folded != key) fits = keep(id, key);
      }
    } else {
      while (next_old < new_ids.size() && new_ids[next_old] == kGone) ++next_old;
      if (next_old == new_ids.size() || new_ids[next_old] != id) return std::nullopt;
      if (!old.keys_from_labels_) {
        fits = keep(id, old.own_key_at(next_old));
      } else {
        const auto& own = old.own_key_ids_;
        while (next_own < own.size() && own[next_own] < next_old) ++next_own;
        if (next_own < own.size() && own[next_own] == next_old)
          fits = keep(id, old.own_key_at(next_own));
      }
      ++next_old;
    }
    if (!fits) return std::nullopt;
  }
  while (next_old < new_ids.size() && new_ids[next_old] == kGone) ++next_old;
  if (next_insert != inserted.size() || next_old != new_ids.size()) return std::nullopt;

  // The inserted records' grams (new grams get the next ids), each once in its best tier.
  index.ascii_grams_ = old.ascii_grams_;
  index.other_grams_ = old.other_grams_;
  index.segment_starts_.assign(old.segment_counts_.size(), 0);  // gram_id_for_build counts
  std::vector<std::pair<uint32_t, uint32_t>> added;             // (segment, new id)
  std::vector<std::pair<uint32_t, int>> visits;
  for (size_t i = 0; i < inserted.size(); ++i) {
    visits.clear();
    index.for_each_record_gram(keys[i], [&](uint32_t gram, int tier) {
      visits.push_back({gram, tier});
    });
    std::sort(visits.begin(), visits.end());
    for (size_t v = 0; v < visits.size(); ++v) {
      if (v > 0 && visits[v].first == visits[v - 1].first) continue;  // a worse tier
      added.push_back({visits[v].first * kTiers + visits[v].second, inserted[i].id});
    }
  }
  std::sort(added.begin(), added.end());
  index.patch_segments(old, new_ids, added);
  if (index.postings_.size() >= std::numeric_limits<uint32_t>::max()) return std::nullopt;
  index.patch_vocabulary(old, new_ids, inserted, keys);
  index.own_keys_.shrink_to_fit();
  index.own_key_offsets_.shrink_to_fit();
  index.own_key_ids_.shrink_to_fit();
  return index;
}

void SearchIndex::patch_segments(const SearchIndex& old, std::span<const uint32_t> new_ids,
                                 const std::vector<std::pair<uint32_t, uint32_t>>& added) {
  const size_t record_count = record_count_;
  const size_t segment_count = segment_starts_.size();
  const size_t old_segments = old.segment_counts_.size();
  // A segment keeps its form (ids or bitmap) and its bitmap number; new grams' are ids.
  segment_bitmaps_.assign(segment_count, kNoBitmap);
  std::copy(old.segment_bitmaps_.begin(), old.segment_bitmaps_.end(), segment_bitmaps_.begin());
  segment_counts_.assign(segment_count, 0);
  bitmap_words_each_ = (record_count + 63) / 64;
  bitmap_blocks_each_ = (bitmap_words_each_ + 7) / 8;
  const size_t bitmap_count =
      old.bitmap_words_each_ == 0 ? 0 : old.bitmap_words_.size() / old.bitmap_words_each_;
  bitmap_words_.assign(bitmap_count * bitmap_words_each_, 0);
  const std::vector<Run> runs = bitmap_count ? kept_runs(new_ids) : std::vector<Run>{};

  std::vector<uint32_t> starts(segment_count + 1);
  postings_.clear();
  postings_.reserve(old.postings_.size() + added.size());
  auto add = added.begin();
  for (size_t segment = 0; segment < segment_count; ++segment) {
    starts[segment] = static_cast<uint32_t>(postings_.size());
    const uint32_t bitmap = segment_bitmaps_[segment];
    if (bitmap == kNoBitmap) {
      if (segment < old_segments) {
        for (uint32_t i = old.segment_starts_[segment]; i < old.segment_starts_[segment + 1]; ++i) {
          const uint32_t id = new_ids[old.postings_[i]];
          if (id == kGone) continue;
          for (; add != added.end() && add->first == segment && add->second < id; ++add)
            postings_.push_back(add->second);
          postings_.push_back(id);
        }
      }
      for (; add != added.end() && add->first == segment; ++add) postings_.push_back(add->second);
      segment_counts_[segment] = static_cast<uint32_t>(postings_.size() - starts[segment]);
      continue;
    }
    const uint64_t* from = &old.bitmap_words_[bitmap * old.bitmap_words_each_];
    uint64_t* to = &bitmap_words_[bitmap * bitmap_words_each_];
    for (const Run& run : runs) {
      for (size_t id = run.begin; id < run.end; id += 64) {
        const size_t length = std::min<size_t>(64, run.end - id);
        uint64_t bits = read_bits(from, old.bitmap_words_each_, id);
        if (length < 64) bits &= (uint64_t{1} << length) - 1;
        if (bits) or_bits(to, run.to + (id - run.begin), bits, length);
      }
    }
    for (; add != added.end() && add->first == segment; ++add)
      to[add->second / 64] |= uint64_t{1} << (add->second % 64);
  }
  starts[segment_count] = static_cast<uint32_t>(postings_.size());
  segment_starts_ = std::move(starts);

  bitmap_ranks_.assign(bitmap_count * bitmap_blocks_each_, 0);
  for (size_t segment = 0; segment < segment_count; ++segment) {
    const uint32_t bitmap = segment_bitmaps_[segment];
    if (bitmap == kNoBitmap) continue;
    const uint64_t* words = &bitmap_words_[bitmap * bitmap_words_each_];
    uint32_t before = 0;
    for (size_t word = 0; word < bitmap_words_each_; ++word) {
      if (word % 8 == 0) bitmap_ranks_[bitmap * bitmap_blocks_each_ + word / 8] = before;
      before += static_cast<uint32_t>(std::popcount(words[word]));
    }
    segment_counts_[segment] = before;
  }
}

void SearchIndex::pair_grams(std::string_view word, std::vector<uint32_t>& grams) const {
  grams.clear();
  size_t pos = 0;
  char32_t previous = next_code_point(word, pos);
  while (pos < word.size()) {
    const char32_t cp = next_code_point(word, pos);
    grams.push_back(find_gram(previous, cp));
    previous = cp;
  }
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
}

std::pair<uint32_t, uint32_t> SearchIndex::word_places(uint32_t word) const {
  const uint8_t alone = word_places_[2 * word], first = word_places_[2 * word + 1];
  if (alone != kBigPlaces && first != kBigPlaces) return {alone, first};
  const auto it = std::lower_bound(word_big_places_.begin(), word_big_places_.end(), word,
                                   [](const BigPlaces& big, uint32_t w) { return big.word < w; });
  return {it->alone, it->first};  // present: add_word_places wrote it (or the image was checked)
}

void SearchIndex::add_word_places(uint32_t word, uint32_t alone, uint32_t first) {
  if (alone < kBigPlaces && first < kBigPlaces) {
    word_places_.push_back(static_cast<uint8_t>(alone));
    word_places_.push_back(static_cast<uint8_t>(first));
    return;
  }
  word_places_.push_back(kBigPlaces);
  word_places_.push_back(kBigPlaces);
  word_big_places_.push_back({word, alone, first});
}

bool SearchIndex::word_places_fit() const {
  const size_t words = vocab_offsets_.size() - 1;
  if (word_places_.size() != 2 * words) return false;
  size_t big = 0;
  for (uint32_t word = 0; word < words; ++word) {
    uint64_t alone = word_places_[2 * word], first = word_places_[2 * word + 1];
    if (alone == kBigPlaces || first == kBigPlaces) {
      if (big == word_big_places_.size() || word_big_places_[big].word != word) return false;
      alone = word_big_places_[big].alone;
      first = word_big_places_[big++].first;
    }
    if (alone + first > word_starts_[word + 1] - word_starts_[word]) return false;
  }
  return big == word_big_places_.size();
}

template <typename Visit>
void SearchIndex::for_each_word_of_gram(uint32_t gram, Visit&& visit) const {
  const uint8_t* words = vocab_gram_postings_.data();
  for_each_delta(words + vocab_gram_starts_[gram], words + vocab_gram_starts_[gram + 1], visit);
}

void SearchIndex::patch_vocabulary(const SearchIndex& old, std::span<const uint32_t> new_ids,
                                   std::span<const Insert> inserted,
                                   const std::vector<std::string>& keys) {
  // The inserted records' words: (word, place, id), a word once per record in its smallest place.
  struct Use {
    std::string_view word;
    uint32_t place;
    uint32_t id;
  };
  std::vector<Use> uses;
  for (size_t i = 0; i < inserted.size(); ++i) {
    const std::vector<std::string_view> words = split_words(keys[i]);
    for (size_t w = 0; w < words.size(); ++w) {
      const uint32_t place = words.size() == 1 ? 0 : (w == 0 ? 1 : 2);
      uses.push_back({words[w], place, inserted[i].id});
    }
  }
  const auto by_word_id_place = [](const Use& a, const Use& b) {
    return std::tie(a.word, a.id, a.place) < std::tie(b.word, b.id, b.place);
  };
  std::sort(uses.begin(), uses.end(), by_word_id_place);
  uses.erase(
      std::unique(uses.begin(), uses.end(),
                  [](const Use& a, const Use& b) { return a.word == b.word && a.id == b.id; }),
      uses.end());
  std::sort(uses.begin(), uses.end(), [](const Use& a, const Use& b) {
    return std::tie(a.word, a.place, a.id) < std::tie(b.word, b.place, b.id);
  });

  // Merge the old vocabulary with the words it lacks; a word left without records goes.
  const uint32_t old_words = static_cast<uint32_t>(old.vocab_offsets_.size()) - 1;
  std::vector<uint32_t> old_word_ids(old_words, kGone);          // old word → new word
  std::vector<std::pair<std::string_view, uint32_t>> new_words;  // (text, new word) of added
  vocab_offsets_.assign(1, 0);
  word_starts_.assign(1, 0);
  word_places_.reserve(old.word_places_.size() + 2 * uses.size());
  vocab_text_.reserve(old.vocab_text_.size());
  word_postings_.reserve(old.word_postings_.size() + uses.size());
  auto use = uses.begin();
  uint32_t word = 0;
  while (word < old_words || use != uses.end()) {
    const bool from_old =
        word < old_words && (use == uses.end() || old.vocab_word(word) <= use->word);
    const std::string_view text = from_old ? old.vocab_word(word) : use->word;
    const size_t first_posting = word_postings_.size();
    std::array<uint32_t, 3> place_ends{};
    for (uint32_t place = 0; place < 3; ++place) {
      if (from_old) {
        for (const uint32_t old_id : old.word_postings(word, static_cast<int>(place))) {
          const uint32_t id = new_ids[old_id];
          if (id == kGone) continue;
          for (; use != uses.end() && use->word == text && use->place == place && use->id < id;
               ++use)
            word_postings_.push_back(use->id);
          word_postings_.push_back(id);
        }
      }
      for (; use != uses.end() && use->word == text && use->place == place; ++use)
        word_postings_.push_back(use->id);
      place_ends[place] = static_cast<uint32_t>(word_postings_.size());
    }
    const bool live = word_postings_.size() > first_posting;
    const uint32_t id = static_cast<uint32_t>(vocab_offsets_.size() - 1);
    if (live) {
      const auto start = static_cast<uint32_t>(first_posting);
      add_word_places(id, place_ends[0] - start, place_ends[1] - place_ends[0]);
      word_starts_.push_back(place_ends[2]);
      vocab_text_.append(text);
      vocab_offsets_.push_back(static_cast<uint32_t>(vocab_text_.size()));
      if (from_old) {
        old_word_ids[word] = id;
      } else {
        new_words.push_back({text, id});
      }
    }
    if (from_old) ++word;
  }

  // Gram → words: the old lists renumbered, the added words' pairs merged in.
  std::vector<std::pair<uint32_t, uint32_t>> added;  // (gram, new word)
  std::vector<uint32_t> grams;
  for (const auto& [text, id] : new_words) {
    pair_grams(text, grams);
    for (const uint32_t gram : grams) added.push_back({gram, id});
  }
  std::sort(added.begin(), added.end());
  const size_t gram_count = segment_counts_.size() / kTiers;
  const size_t old_grams = old.vocab_gram_starts_.empty() ? 0 : old.vocab_gram_starts_.size() - 1;
  vocab_gram_starts_.assign(1, 0);
  vocab_gram_postings_.reserve(old.vocab_gram_postings_.size() + 5 * added.size());
  DeltaWriter writer(vocab_gram_postings_);
  auto add = added.begin();
  for (uint32_t gram = 0; gram < gram_count; ++gram) {
    writer.next_list();
    if (gram < old_grams) {
      old.for_each_word_of_gram(gram, [&](uint32_t old_word) {
        const uint32_t id = old_word_ids[old_word];
        if (id == kGone) return;
        for (; add != added.end() && add->first == gram && add->second < id; ++add)
          writer.add(add->second);
        writer.add(id);
      });
    }
    for (; add != added.end() && add->first == gram; ++add) writer.add(add->second);
    vocab_gram_starts_.push_back(static_cast<uint32_t>(vocab_gram_postings_.size()));
  }
}

bool SearchIndex::vocabulary_grams_fit() const {
  const size_t words = vocab_offsets_.empty() ? 0 : vocab_offsets_.size() - 1;
  const uint8_t* bytes = vocab_gram_postings_.data();
  for (size_t gram = 0; gram + 1 < vocab_gram_starts_.size(); ++gram) {
    bool below = true;
    if (!for_each_delta(bytes + vocab_gram_starts_[gram], bytes + vocab_gram_starts_[gram + 1],
                        [&](uint32_t word) { below = below && word < words; }) ||
        !below) {
      return false;
    }
  }
  return true;
}

SearchResult SearchIndex::search(std::string_view query, size_t offset, size_t limit,
                                 const LabelTexts& labels) const {
  assert(!keys_from_labels_ || labels.size() == size());
  const std::string query_key = fold_for_search(query);
  SearchResult result;
  if (query_key.empty()) {
    result.total = size();
    for (size_t id = offset; id < size() && result.ids.size() < limit; ++id) {
      result.ids.push_back(static_cast<uint32_t>(id));
    }
    return result;
  }
  if (query_key.find(' ') != std::string::npos) {
    return search_words(query_key, offset, limit, labels);
  }
  if (code_point_count(query_key) <= 2) {
    return search_gram(short_word_gram(query_key), offset, limit);
  }
  return search_word(query_key, offset, limit);
}

uint32_t SearchIndex::short_word_gram(std::string_view word) const {
  size_t pos = 0;
  const char32_t first = next_code_point(word, pos);
  const char32_t second = pos < word.size() ? next_code_point(word, pos) : 0;
  return find_gram(first, second);
}

SearchResult SearchIndex::search_gram(uint32_t gram, size_t offset, size_t limit) const {
  Pager pager(offset, limit);
  if (gram == kNoGram) return pager.finish();
  for (size_t segment = gram * kTiers; segment < gram * kTiers + kTiers; ++segment) {
    const uint32_t bitmap = segment_bitmaps_[segment];
    if (bitmap == kNoBitmap) {
      pager.add_list(std::span<const uint32_t>(postings_).subspan(
          segment_starts_[segment], segment_starts_[segment + 1] - segment_starts_[segment]));
    } else {
      pager.add_bitmap(std::span<const uint64_t>(bitmap_words_)
                           .subspan(bitmap * bitmap_words_each_, bitmap_words_each_),
                       std::span<const uint32_t>(bitmap_ranks_)
                           .subspan(bitmap * bitmap_blocks_each_, bitmap_blocks_each_),
                       segment_counts_[segment]);
    }
  }
  return pager.finish();
}

template <typename Visit>
void SearchIndex::for_each_in_segment(size_t segment, Visit&& visit) const {
  const uint32_t bitmap = segment_bitmaps_[segment];
  if (bitmap == kNoBitmap) {
    for (uint32_t i = segment_starts_[segment]; i < segment_starts_[segment + 1]; ++i) {
      visit(postings_[i]);
    }
    return;
  }
  const uint64_t* words = &bitmap_words_[bitmap * bitmap_words_each_];
  for (size_t word = 0; word < bitmap_words_each_; ++word) {
    for (uint64_t bits = words[word]; bits != 0; bits &= bits - 1) {
      visit(static_cast<uint32_t>(word * 64 + std::countr_zero(bits)));
    }
  }
}

std::vector<SearchIndex::WordMatch> SearchIndex::matching_words(std::string_view query_word) const {
  // Every vocabulary word holding the query word holds its rarest character pair.
  uint32_t rarest = kNoGram;
  size_t rarest_count = 0;
  size_t pos = 0;
  char32_t previous = next_code_point(query_word, pos);
  while (pos < query_word.size()) {
    const char32_t cp = next_code_point(query_word, pos);
    const uint32_t gram = find_gram(previous, cp);
    if (gram == kNoGram) return {};
    // The list's length in bytes stands for its length in words (about one byte each).
    const size_t count = vocab_gram_starts_[gram + 1] - vocab_gram_starts_[gram];
    if (rarest == kNoGram || count < rarest_count) rarest = gram, rarest_count = count;
    previous = cp;
  }
  std::vector<WordMatch> matches;
  for_each_word_of_gram(rarest, [&](uint32_t word) {
    const std::string_view text = vocab_word(word);
    const size_t at = text.find(query_word);
    if (at == std::string_view::npos) return;
    matches.push_back({word, at == 0, at == 0 && text.size() == query_word.size()});
  });
  return matches;
}

SearchResult SearchIndex::search_word(std::string_view query_word, size_t offset,
                                      size_t limit) const {
  const std::vector<WordMatch> matches = matching_words(query_word);
  std::array<std::vector<PostingSpan>, kTiers> tiers;
  for (const WordMatch& match : matches) {
    const PostingSpan alone = word_postings(match.word, 0), first = word_postings(match.word, 1),
                      later = word_postings(match.word, 2);
    if (match.exact) {
      tiers[kExact].push_back(alone);
      tiers[kStarts].push_back(first);
      tiers[kWord].push_back(later);
    } else if (match.prefix) {
      tiers[kStarts].push_back(alone);
      tiers[kStarts].push_back(first);
      tiers[kWord].push_back(later);
    } else {
      tiers[kInside].insert(tiers[kInside].end(), {alone, first, later});
    }
  }
  Pager pager(offset, limit);
  // A record has one first word, so the first two tiers never share a record; a record is
  // listed under one place per word, so with one matching word no tiers share a record.
  pager.add_sorted(tiers[kExact]);
  pager.add_sorted(tiers[kStarts]);
  if (matches.size() <= 1) {
    pager.add_sorted(tiers[kWord]);
    pager.add_sorted(tiers[kInside]);
    return pager.finish();
  }
  // Several words: a record may hold more than one of them, so later tiers drop records
  // already ranked.
  std::vector<uint64_t> seen((size() + 63) / 64, 0);
  const auto first_time = [&](uint32_t id) {
    const uint64_t bit = uint64_t{1} << (id & 63);
    const bool fresh = (seen[id >> 6] & bit) == 0;
    seen[id >> 6] |= bit;
    return fresh;
  };
  for (int tier : {kExact, kStarts}) {
    for (const PostingSpan& span : tiers[tier]) {
      for (uint32_t id : span) first_time(id);
    }
  }
  for (int tier : {kWord, kInside}) {
    std::vector<uint32_t> ids;
    for (const PostingSpan& span : tiers[tier]) {
      for (uint32_t id : span) {
        if (first_time(id)) ids.push_back(id);
      }
    }
    pager.add_unsorted(ids);
  }
  return pager.finish();
}

SearchIndex::QueryWord SearchIndex::look_up(std::string_view query_word) const {
  QueryWord word{query_word};
  if (code_point_count(query_word) <= 2) {
    word.gram = short_word_gram(query_word);
    word.volume = word.gram == kNoGram ? 0 : gram_total(word.gram);
    return word;
  }
  word.matches = matching_words(query_word);
  for (const WordMatch& match : word.matches) {
    word.volume += word_starts_[match.word + 1] - word_starts_[match.word];
  }
  return word;
}

template <typename Visit>
void SearchIndex::for_each_holder(const QueryWord& word, Visit&& visit) const {
  if (word.gram != kNoGram) {
    for (int tier = 0; tier < kTiers; ++tier) {
      const bool at_start = tier != kInside;  // a record's best tier for the gram
      for_each_in_segment(word.gram * kTiers + tier, [&](uint32_t id) { visit(id, at_start); });
    }
    return;
  }
  for (const WordMatch& match : word.matches) {
    for (uint32_t i = word_starts_[match.word]; i < word_starts_[match.word + 1]; ++i) {
      visit(word_postings_[i], match.prefix);
    }
  }
}

bool SearchIndex::segment_holds(size_t segment, uint32_t id) const {
  const uint32_t bitmap = segment_bitmaps_[segment];
  if (bitmap != kNoBitmap) {
    return (bitmap_words_[bitmap * bitmap_words_each_ + id / 64] >> (id % 64)) & 1;
  }
  const auto begin = postings_.begin() + segment_starts_[segment];
  return std::binary_search(begin, postings_.begin() + segment_starts_[segment + 1], id);
}

int SearchIndex::probe(const QueryWord& word, uint32_t id) const {
  if (word.gram != kNoGram) {
    for (int tier = 0; tier < kTiers; ++tier) {
      if (segment_holds(word.gram * kTiers + tier, id)) return tier == kInside ? 1 : 3;
    }
    return 0;
  }
  if (word.matches.size() > kMaxProbedWords) return -1;
  int found = 0;
  for (const WordMatch& match : word.matches) {
    for (int place = 0; place < 3; ++place) {
      const PostingSpan ids = word_postings(match.word, place);
      if (std::binary_search(ids.begin(), ids.end(), id)) {
        found |= match.prefix ? 3 : 1;
        break;
      }
    }
  }
  return found;
}

std::span<const uint32_t> SearchIndex::first_word_records(std::string_view word) const {
  uint32_t low = 0, high = static_cast<uint32_t>(vocab_offsets_.size() - 1);
  while (low < high) {
    const uint32_t mid = low + (high - low) / 2;
    if (vocab_word(mid) < word) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  if (low == vocab_offsets_.size() - 1 || vocab_word(low) != word) return {};
  return word_postings(low, 1);
}

void SearchIndex::Marks::clear() {
  if (bits_.empty()) {
    bits_.resize((records_ + 31) / 32);  // zeroed
  } else {
    std::fill(bits_.begin(), bits_.end(), 0);
  }
}

size_t SearchIndex::filter_candidates(const std::vector<QueryWord>& words, Marks& marks,
                                      Candidates& candidates) const {
  std::vector<uint32_t>& ids = candidates.ids;
  std::vector<uint8_t>& starts = candidates.starts;
  if (words[0].gram != kNoGram || words[0].matches.size() == 1) {
    // A gram's or one vocabulary word's postings list a record once.
    for_each_holder(words[0], [&](uint32_t id, bool start) {
      ids.push_back(id);
      starts.push_back(start);
    });
  } else {
    marks.clear();
    for_each_holder(words[0], [&](uint32_t id, bool start) {
      if (marks.marked(id) == 0) ids.push_back(id);
      marks.mark(id, start);
    });
    starts.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) starts[i] = marks.marked(ids[i]) == 3;
  }
  // A look-up per candidate costs a cache miss or two, roughly the price of 64 mark updates.
  size_t next = 1;
  for (; next < words.size() && !ids.empty(); ++next) {
    if (words[next].volume > 64 * ids.size()) break;
    marks.clear();
    for_each_holder(words[next], [&](uint32_t id, bool start) { marks.mark(id, start); });
    size_t kept = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const unsigned where = marks.marked(ids[i]);
      if (where == 0) continue;
      starts[kept] = starts[i] && where == 3;
      ids[kept++] = ids[i];
    }
    ids.resize(kept);
    starts.resize(kept);
  }
  return next;
}

void SearchIndex::rank_by_keys(const Candidates& candidates, std::string_view query_key,
                               const std::vector<std::string_view>& query_words,
                               const LabelTexts& labels, Tiers& tiers) const {
  std::string scratch;
  for (const uint32_t id : candidates.ids) {
    const std::string_view key = key_start(id, labels, scratch, std::string::npos);
    const int tier = classify(key, query_key, query_words);
    if (tier >= 0) tiers[tier].push_back(id);
  }
}

void SearchIndex::rank_by_postings(const Candidates& candidates,
                                   const std::vector<QueryWord>& words, size_t next,
                                   std::string_view query_key, std::string_view first_word,
                                   const LabelTexts& labels, Marks& marks, Tiers& tiers) const {
  std::vector<uint32_t> word_tier;  // every query word starts one of their words
  for (size_t i = 0; i < candidates.ids.size(); ++i) {
    const uint32_t id = candidates.ids[i];
    bool start = candidates.starts[i] != 0, holds = true;
    for (size_t w = next; w < words.size() && holds; ++w) {
      const int where = probe(words[w], id);
      holds = (where & 1) != 0;
      start = start && (where & 2) != 0;
    }
    if (holds) (start ? word_tier : tiers[kInside]).push_back(id);
  }
  // Of those, only the ones whose first word is the query's can start with the whole query: they
  // have their key's first bytes read. Found through marks when they are many, else by walking
  // both lists in ascending order.
  const std::span<const uint32_t> firsts = first_word_records(first_word);
  if (firsts.empty()) {
    tiers[kWord] = std::move(word_tier);
    return;
  }
  const bool mark_firsts = 64 * word_tier.size() >= size();
  if (mark_firsts) {
    marks.clear();
    for (const uint32_t id : firsts) marks.mark(id, false);
  } else {
    std::sort(word_tier.begin(), word_tier.end());
  }
  std::string scratch;
  auto next_first = firsts.begin();
  for (const uint32_t id : word_tier) {
    bool first;
    if (mark_firsts) {
      first = marks.marked(id) != 0;
    } else {
      next_first = gallop_to(next_first, firsts.end(), id);
      first = next_first != firsts.end() && *next_first == id;
    }
    if (first) {
      const std::string_view key = key_start(id, labels, scratch, query_key.size());
      if (key.starts_with(query_key)) {
        tiers[key.size() == query_key.size() ? kExact : kStarts].push_back(id);
        continue;
      }
    }
    tiers[kWord].push_back(id);
  }
}

SearchResult SearchIndex::search_words(std::string_view query_key, size_t offset, size_t limit,
                                       const LabelTexts& labels) const {
  const std::vector<std::string_view> texts = split_words(query_key);
  std::vector<QueryWord> words;
  for (std::string_view text : texts) {
    words.push_back(look_up(text));
    if (words.back().volume == 0) return {};  // a word no record holds: nothing matches
  }
  std::sort(words.begin(), words.end(),
            [](const QueryWord& a, const QueryWord& b) { return a.volume < b.volume; });
  Marks marks(size());
  Candidates candidates;
  const size_t next = filter_candidates(words, marks, candidates);
  // The words left are looked up per candidate, unless one of them is in too many vocabulary
  // words for that: then every candidate's key is read.
  const bool by_postings = std::all_of(words.begin() + next, words.end(), [](const QueryWord& w) {
    return w.gram != kNoGram || w.matches.size() <= kMaxProbedWords;
  });
  Tiers tiers;
  if (by_postings) {
    rank_by_postings(candidates, words, next, query_key, texts[0], labels, marks, tiers);
  } else {
    rank_by_keys(candidates, query_key, texts, labels, tiers);
  }
  Pager pager(offset, limit);
  for (auto& ids : tiers) pager.add_unsorted(ids);
  return pager.finish();
}

size_t SearchIndex::memory_bytes() const {
  // unordered_map nodes: key, value, next pointer and cached hash; plus the bucket array.
  const size_t map_bytes =
      other_grams_.size() * (sizeof(uint64_t) + sizeof(uint32_t) + 2 * sizeof(void*)) +
      other_grams_.bucket_count() * sizeof(void*);
  return own_keys_.capacity() + own_key_offsets_.capacity() * sizeof(uint32_t) +
         own_key_ids_.capacity() * sizeof(uint32_t) + ascii_grams_.capacity() * sizeof(uint32_t) +
         map_bytes + segment_starts_.capacity() * sizeof(uint32_t) +
         postings_.capacity() * sizeof(uint32_t) + segment_counts_.capacity() * sizeof(uint32_t) +
         segment_bitmaps_.capacity() * sizeof(uint32_t) +
         bitmap_words_.capacity() * sizeof(uint64_t) + bitmap_ranks_.capacity() * sizeof(uint32_t) +
         vocab_text_.capacity() + vocab_offsets_.capacity() * sizeof(uint32_t) +
         word_starts_.capacity() * sizeof(uint32_t) + word_places_.capacity() +
         word_big_places_.capacity() * sizeof(BigPlaces) +
         word_postings_.capacity() * sizeof(uint32_t) +
         vocab_gram_starts_.capacity() * sizeof(uint32_t) + vocab_gram_postings_.capacity();
}

}  // namespace extdata::fields
