#include "fields/search_index.h"

#include <algorithm>
#include <array>
#include <limits>

#include "fields/text_fold.h"

namespace extdata::fields {
namespace {

enum Tier : int { kExact = 0, kStarts = 1, kWord = 2, kInside = 3 };

constexpr size_t kMaxRecords = size_t{1} << 30;

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

}  // namespace

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

Result<SearchIndex> SearchIndex::build(std::span<const std::string_view> texts) {
  if (texts.size() >= kMaxRecords) {
    return Error("search.too_many_records",
                 "cannot index " + std::to_string(texts.size()) + " records: the limit is " +
                     std::to_string(kMaxRecords - 1),
                 "narrow the source (filters, a smaller list) so a field holds fewer records");
  }
  SearchIndex index;
  index.ascii_grams_.assign(128 * 128, kNoGram);
  index.key_offsets_.reserve(texts.size() + 1);
  index.key_offsets_.push_back(0);
  for (std::string_view text : texts) {
    append_folded(text, index.keys_);
    if (index.keys_.size() > std::numeric_limits<uint32_t>::max()) {
      return Error("search.too_much_text",
                   "the search texts of " + std::to_string(texts.size()) +
                       " records exceed 4 GiB once folded",
                   "map a shorter label or search text for this field");
    }
    index.key_offsets_.push_back(static_cast<uint32_t>(index.keys_.size()));
  }
  const uint32_t record_count = static_cast<uint32_t>(texts.size());

  // Each record's distinct grams with their best (lowest) tier, as gram * 4 + tier.
  std::vector<uint64_t> record_grams;
  const auto collect = [&](uint32_t id) {
    record_grams.clear();
    index.for_each_record_gram(index.key(id), [&](uint32_t gram, int tier) {
      record_grams.push_back(uint64_t{gram} * kTiers + tier);
    });
    std::sort(record_grams.begin(), record_grams.end());
    auto out = record_grams.begin();
    for (auto it = record_grams.begin(); it != record_grams.end(); ++it) {
      if (out != record_grams.begin() && *(out - 1) / kTiers == *it / kTiers) continue;
      *out++ = *it;
    }
    record_grams.erase(out, record_grams.end());
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
  uint32_t running = 0;
  for (uint32_t& start : index.segment_starts_) {
    const uint32_t count = start;
    start = running;
    running += count;
  }
  index.segment_starts_.push_back(running);
  index.postings_.resize(running);
  std::vector<uint32_t> fill(index.segment_starts_.begin(), index.segment_starts_.end() - 1);
  for (uint32_t id = 0; id < record_count; ++id) {
    collect(id);
    for (uint64_t code : record_grams) index.postings_[fill[code]++] = id;
  }
  index.keys_.shrink_to_fit();
  return index;
}

SearchResult SearchIndex::search(std::string_view query, size_t offset, size_t limit) const {
  const std::string query_key = fold_for_search(query);
  SearchResult result;
  if (query_key.empty()) {
    result.total = size();
    for (size_t id = offset; id < size() && result.ids.size() < limit; ++id) {
      result.ids.push_back(static_cast<uint32_t>(id));
    }
    return result;
  }
  if (query_key.find(' ') == std::string::npos) {
    size_t pos = 0;
    const char32_t first = next_code_point(query_key, pos);
    if (pos == query_key.size()) return search_gram(find_gram(first, 0), offset, limit);
    const char32_t second = next_code_point(query_key, pos);
    if (pos == query_key.size()) return search_gram(find_gram(first, second), offset, limit);
  }
  return search_verified(query_key, offset, limit);
}

SearchResult SearchIndex::search_gram(uint32_t gram, size_t offset, size_t limit) const {
  SearchResult result;
  if (gram == kNoGram) return result;
  result.total = gram_total(gram);
  // The gram's tiers are consecutive segments, so the ranked list is one contiguous range.
  const size_t begin = segment_starts_[gram * kTiers];
  const size_t end = segment_starts_[gram * kTiers + kTiers];
  if (offset >= end - begin) return result;
  const size_t first = begin + offset;
  const size_t last = first + std::min(limit, end - first);
  result.ids.assign(postings_.begin() + first, postings_.begin() + last);
  return result;
}

SearchResult SearchIndex::search_verified(std::string_view query_key, size_t offset,
                                          size_t limit) const {
  SearchResult result;
  const std::vector<std::string_view> words = split_words(query_key);

  // Every match contains every gram of every query word, so the rarest one bounds the
  // candidates; its tiers are merged back into record order.
  uint32_t rarest = kNoGram;
  for (std::string_view word : words) {
    size_t pos = 0;
    char32_t previous = next_code_point(word, pos);
    std::vector<uint32_t> grams;
    if (pos == word.size()) grams.push_back(find_gram(previous, 0));
    while (pos < word.size()) {
      const char32_t cp = next_code_point(word, pos);
      grams.push_back(find_gram(previous, cp));
      previous = cp;
    }
    for (uint32_t gram : grams) {
      if (gram == kNoGram) return result;  // a gram no record has: nothing matches
      if (rarest == kNoGram || gram_total(gram) < gram_total(rarest)) rarest = gram;
    }
  }

  std::array<std::vector<uint32_t>, kTiers> tiers;
  std::array<size_t, kTiers> heads, ends;
  for (int t = 0; t < kTiers; ++t) {
    heads[t] = segment_starts_[rarest * kTiers + t];
    ends[t] = segment_starts_[rarest * kTiers + t + 1];
  }
  while (true) {
    int pick = -1;
    for (int t = 0; t < kTiers; ++t) {
      if (heads[t] < ends[t] && (pick < 0 || postings_[heads[t]] < postings_[heads[pick]])) {
        pick = t;
      }
    }
    if (pick < 0) break;
    const uint32_t id = postings_[heads[pick]++];
    const int tier = classify(key(id), query_key, words);
    if (tier >= 0) tiers[tier].push_back(id);
  }

  for (const auto& ids : tiers) {
    result.total += ids.size();
    if (offset >= ids.size()) {
      offset -= ids.size();
      continue;
    }
    const size_t take = std::min(ids.size() - offset, limit - result.ids.size());
    result.ids.insert(result.ids.end(), ids.begin() + offset, ids.begin() + offset + take);
    offset = 0;
  }
  return result;
}

size_t SearchIndex::memory_bytes() const {
  // unordered_map nodes: key, value, next pointer and cached hash; plus the bucket array.
  const size_t map_bytes =
      other_grams_.size() * (sizeof(uint64_t) + sizeof(uint32_t) + 2 * sizeof(void*)) +
      other_grams_.bucket_count() * sizeof(void*);
  return keys_.capacity() + key_offsets_.capacity() * sizeof(uint32_t) +
         ascii_grams_.capacity() * sizeof(uint32_t) + map_bytes +
         segment_starts_.capacity() * sizeof(uint32_t) + postings_.capacity() * sizeof(uint32_t);
}

}  // namespace extdata::fields
