#pragma once
// SearchIndex: search-as-you-type over the labels of one record set.
//
// Built once per record set (immutable afterwards, so any number of threads may call
// search() concurrently). Matching is case- and accent-insensitive (see text_fold.h):
// "mul" finds "Müller GmbH", "societe" finds "Société Générale".
//
// Ranking, best first; within a tier records keep their input order (the caller sorts
// records before building):
//   1. exact      the whole folded text equals the folded query
//   2. starts     the folded text starts with the folded query
//   3. word       every query word is the prefix of some word of the text
//   4. inside     every query word occurs in the text, at least one only inside a word
// A multi-word query matches only records that contain every query word; its tier is the
// weakest of its words (tiers 1 and 2 compare the whole query). An empty query (or one
// without letters or digits) returns all records in input order.
//
// Cost: a query of one word of one or two characters reads precomputed posting lists:
// O(offset + limit), whatever the record count. A longer word is looked up in the
// vocabulary (the distinct words of all records): when it matches one vocabulary word the
// answer is again O(offset + limit); when it matches several, O(records holding them).
// Multi-word queries take the records of their most selective word, filter them by the
// other words' records (bitmaps, or a look-up per survivor) and take each survivor's tier from
// the postings: only survivors whose first word is the query's first word and whose words all
// start with the query's words have their key read, to tell whether it starts with the whole
// query.
//
// Keys: an index built over an option table's labels (build(texts, labels)) stores the folded
// key only of the records whose search text folds differently from their label; the others'
// keys are folded from the label when a query needs one (see above: few). Such an index is
// searched with the same labels. Built without labels, it stores every key.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"

namespace extdata::fields {

// The texts an index folds the keys it does not store from: an option table's labels. Text i
// is arena[bounds[stride * i + stride - 1], bounds[stride * (i + 1)]); stride 1 reads plain
// offsets, stride 2 the labels of OptionsTable's value/label offsets.
struct LabelTexts {
  std::string_view arena;
  std::span<const uint32_t> bounds;
  size_t stride = 1;
  size_t size() const { return bounds.empty() ? 0 : (bounds.size() - 1) / stride; }
  std::string_view operator[](size_t i) const {
    const uint32_t begin = bounds[stride * i + stride - 1];
    return arena.substr(begin, bounds[stride * (i + 1)] - begin);
  }
};

struct SearchResult {
  std::vector<uint32_t> ids;  // record indexes (positions in the build input), best first
  size_t total = 0;           // number of matching records, regardless of offset and limit
};

// Whether a record whose folded search key is `key` is among the matches of a query whose
// folded text (fold_for_search) is `query_key`: every query word occurs in the key (an empty
// query matches every record). What search() counts in `total`, without an index.
bool key_matches(std::string_view key, std::string_view query_key);

class SearchIndex {
 public:
  // Indexes texts[i] as record i. With `labels` (as many as texts), a record's key is stored
  // only when texts[i] folds differently from labels[i]; search() must then be given the same
  // labels. Fails only if the input exceeds the index limits (2^30 records, 4 GiB of folded
  // text).
  static Result<SearchIndex> build(std::span<const std::string_view> texts,
                                   const LabelTexts& labels = {});

  // The index of new texts that differ from `old`'s in a few records (an incremental sync):
  // record `id` of `old` is record new_ids[id] (kGone: removed; the kept ones in ascending
  // order), and `inserted` (ascending ids) are the other records of the `size` new ones. Answers
  // exactly as build() over the new texts would; costs the folding and indexing of the inserted
  // texts plus linear copies of the keys and posting lists (no record is folded again). With an
  // `old` built over labels, each insert gives its record's label as well (kept records keep
  // theirs); the patched index is then searched with the new labels.
  // nullopt when the input does not fit together or exceeds the limits (build() then says why).
  struct Insert {
    uint32_t id;
    std::string_view text;
    std::string_view label;  // only read when `old` was built over labels
  };
  static constexpr uint32_t kGone = 0xFFFFFFFF;
  static std::optional<SearchIndex> patch(const SearchIndex& old, std::span<const uint32_t> new_ids,
                                          std::span<const Insert> inserted, size_t size);

  // Matches of `query`, skipping the first `offset` ranked matches, at most `limit` ids.
  // `labels`: those the index was built over (none if it was built without).
  SearchResult search(std::string_view query, size_t offset, size_t limit,
                      const LabelTexts& labels = {}) const;

  size_t size() const { return record_count_; }
  // Heap bytes held by the index (stored keys, posting lists, lookup tables).
  size_t memory_bytes() const;
  // The folded search key of record `id` (`labels` as for search()).
  std::string key(uint32_t id, const LabelTexts& labels = {}) const;
  // How many keys the index stores (size() when built without labels).
  size_t stored_keys() const { return own_key_offsets_.empty() ? 0 : own_key_offsets_.size() - 1; }

 private:
  friend struct TableImage;  // table_image.cpp writes and reads the members as they are
  static constexpr uint32_t kNoGram = 0xFFFFFFFF;
  static constexpr int kTiers = 4;

  uint32_t find_gram(char32_t first, char32_t second) const;
  uint32_t gram_id_for_build(char32_t first, char32_t second);
  template <typename Visit>
  void for_each_record_gram(std::string_view key, Visit&& visit);
  static constexpr uint32_t kNoBitmap = 0xFFFFFFFF;
  size_t gram_total(uint32_t gram) const {
    size_t total = 0;
    for (int tier = 0; tier < kTiers; ++tier) total += segment_counts_[gram * kTiers + tier];
    return total;
  }
  template <typename Visit>
  void for_each_in_segment(size_t segment, Visit&& visit) const;
  std::string_view vocab_word(uint32_t word) const {
    return std::string_view(vocab_text_)
        .substr(vocab_offsets_[word], vocab_offsets_[word + 1] - vocab_offsets_[word]);
  }
  struct WordMatch {
    uint32_t word;  // vocabulary id
    bool prefix;    // the vocabulary word starts with the query word
    bool exact;     // ... and equals it
  };
  void build_vocabulary();
  // patch(): the posting lists, and the vocabulary, of the patched records.
  void patch_segments(const SearchIndex& old, std::span<const uint32_t> new_ids,
                      const std::vector<std::pair<uint32_t, uint32_t>>& added);
  void patch_vocabulary(const SearchIndex& old, std::span<const uint32_t> new_ids,
                        std::span<const Insert> inserted, const std::vector<std::string>& keys);
  // The distinct character pairs of a vocabulary word, ascending gram ids, into `grams` (reused
  // from word to word: no allocation per word).
  void pair_grams(std::string_view word, std::vector<uint32_t>& grams) const;
  // visit(word) for the vocabulary words holding `gram`, ascending.
  template <typename Visit>
  void for_each_word_of_gram(uint32_t gram, Visit&& visit) const;
  // The gram → words lists decode within their bounds to ascending vocabulary words (a stored
  // image is checked with it).
  bool vocabulary_grams_fit() const;
  std::span<const uint32_t> word_postings(uint32_t word, int place) const {
    const auto [alone, first] = word_places(word);
    const uint32_t start = word_starts_[word];
    const uint32_t from = start + (place > 0 ? alone : 0) + (place > 1 ? first : 0);
    const uint32_t to = place == 0   ? start + alone
                        : place == 1 ? start + alone + first
                                     : word_starts_[word + 1];
    return std::span<const uint32_t>(word_postings_).subspan(from, to - from);
  }
  // How many of word w's records have it alone (place 0) and first (place 1).
  std::pair<uint32_t, uint32_t> word_places(uint32_t word) const;
  void add_word_places(uint32_t word, uint32_t alone, uint32_t first);
  bool word_places_fit() const;
  uint32_t short_word_gram(std::string_view word) const;
  std::vector<WordMatch> matching_words(std::string_view query_word) const;
  SearchResult search_gram(uint32_t gram, size_t offset, size_t limit) const;
  SearchResult search_word(std::string_view query_word, size_t offset, size_t limit) const;
  // A word of a multi-word query, looked up once: its gram (one or two code points) or the
  // vocabulary words holding it, and how many records those hold (a record may count twice).
  struct QueryWord {
    std::string_view text;
    uint32_t gram = kNoGram;
    std::vector<WordMatch> matches;
    size_t volume = 0;
  };
  QueryWord look_up(std::string_view query_word) const;
  // visit(id, at_word_start) for every record holding the word (a record may come twice, once
  // with each answer) and whether one of its words starts with the query word there.
  template <typename Visit>
  void for_each_holder(const QueryWord& word, Visit&& visit) const;
  bool segment_holds(size_t segment, uint32_t id) const;
  // probe() looks a longer word up in at most this many vocabulary words: beyond, the binary
  // searches cost more than reading the candidate's key.
  static constexpr size_t kMaxProbedWords = 2;
  // The records whose key has several words, the first of them `word`.
  std::span<const uint32_t> first_word_records(std::string_view word) const;
  // Whether record `id` holds the word, and where (bit 0: somewhere, bit 1: at a word start);
  // -1 when the postings cannot tell cheaply (the word is in too many vocabulary words).
  int probe(const QueryWord& word, uint32_t id) const;
  // Two bits per record (1: holds a query word, 2: at a word start), cleared before each use and
  // allocated at the first: one update per posting when filtering candidates.
  class Marks {
   public:
    explicit Marks(size_t records) : records_(records) {}
    void clear();
    void mark(uint32_t id, bool start) {
      bits_[id >> 5] |= uint64_t{start ? 3u : 1u} << ((id & 31) * 2);
    }
    unsigned marked(uint32_t id) const { return (bits_[id >> 5] >> ((id & 31) * 2)) & 3; }

   private:
    size_t records_;
    std::vector<uint64_t> bits_;
  };
  // A multi-word query's candidates and, for each, whether every query word applied so far
  // starts one of its words (its tier is then at best "word", else "inside").
  struct Candidates {
    std::vector<uint32_t> ids;
    std::vector<uint8_t> starts;
  };
  using Tiers = std::array<std::vector<uint32_t>, kTiers>;
  // The records of words[0] (the most selective), filtered by the next words while that is
  // cheaper than a look-up per candidate; returns how many words were applied.
  size_t filter_candidates(const std::vector<QueryWord>& words, Marks& marks,
                           Candidates& candidates) const;
  // Ranks candidates by the whole query: through their keys (rank_by_keys), or by looking the
  // words from `next` on up per candidate and reading only the keys that may start with the
  // query (rank_by_postings).
  void rank_by_keys(const Candidates& candidates, std::string_view query_key,
                    const std::vector<std::string_view>& query_words, const LabelTexts& labels,
                    Tiers& tiers) const;
  void rank_by_postings(const Candidates& candidates, const std::vector<QueryWord>& words,
                        size_t next, std::string_view query_key, std::string_view first_word,
                        const LabelTexts& labels, Marks& marks, Tiers& tiers) const;
  SearchResult search_words(std::string_view query_key, size_t offset, size_t limit,
                            const LabelTexts& labels) const;
  // The stored key of record `id`, or nullopt when its label gives it.
  std::optional<std::string_view> own_key(uint32_t id) const;
  // Record `id`'s key, stored or folded from its label into `scratch`: its first bytes only
  // (more than `limit` of them) when its label gives it.
  std::string_view key_start(uint32_t id, const LabelTexts& labels, std::string& scratch,
                             size_t limit) const;
  std::string_view own_key_at(size_t j) const {
    return std::string_view(own_keys_).substr(own_key_offsets_[j],
                                              own_key_offsets_[j + 1] - own_key_offsets_[j]);
  }
  // After build() over labels: keeps the keys the labels do not give.
  void keep_keys_labels_lack(std::span<const std::string_view> texts, const LabelTexts& labels);

  // Folded keys (see the header comment). Without labels: every key, own_keys_[own_key_offsets_
  // [id] .. [id + 1]). Over labels: the keys of records own_key_ids_ (ascending) only, the j-th
  // at own_keys_[own_key_offsets_[j] .. [j + 1]).
  uint32_t record_count_ = 0;
  bool keys_from_labels_ = false;
  std::string own_keys_;
  std::vector<uint32_t> own_key_offsets_;
  std::vector<uint32_t> own_key_ids_;
  // Grams are one or two code points of a word. Two-ASCII-character grams (the common
  // case once Latin text is folded) are found through a direct table, others by hash.
  std::vector<uint32_t> ascii_grams_;  // [first * 128 + second], second == 0 for one character
  std::unordered_map<uint64_t, uint32_t> other_grams_;
  // Posting lists: segment s = gram * 4 + tier holds segment_counts_[s] ascending record ids
  // (a record once per gram, in its best tier). A sparse segment is the slice
  // postings_[segment_starts_[s] .. [s + 1]); a dense one (more than one record in 32, where
  // a bitmap is smaller than the ids) is bitmap segment_bitmaps_[s].
  std::vector<uint32_t> segment_counts_;
  std::vector<uint32_t> segment_starts_;
  std::vector<uint32_t> segment_bitmaps_;
  std::vector<uint32_t> postings_;
  size_t bitmap_words_each_ = 0;        // 64-bit words per bitmap: (size() + 63) / 64
  size_t bitmap_blocks_each_ = 0;       // 512-bit blocks per bitmap
  std::vector<uint64_t> bitmap_words_;  // bitmap b starts at b * bitmap_words_each_
  std::vector<uint32_t> bitmap_ranks_;  // per bitmap and block: set bits before the block
  // Vocabulary: the distinct words of all keys, sorted. Word w's records are
  // word_postings_[word_starts_[w] .. [w + 1]): first those whose key is this word alone, then
  // those where it is the first word, then a later one (each part ascending; a record is listed
  // once per word, under its first part). The sizes of the first two parts are
  // word_places_[2w], [2w + 1] when below kBigPlaces, else in word_big_places_ (the few
  // words of many records): 6 bytes per word instead of three 4-byte starts.
  static constexpr uint8_t kBigPlaces = 0xFF;
  struct BigPlaces {
    uint32_t word, alone, first;
  };
  std::string vocab_text_;
  std::vector<uint32_t> vocab_offsets_;
  std::vector<uint32_t> word_starts_;
  std::vector<uint8_t> word_places_;
  std::vector<BigPlaces> word_big_places_;  // ascending words
  std::vector<uint32_t> word_postings_;
  // For each gram, the vocabulary words holding it (ascending): finds the words a query
  // word occurs in without scanning the vocabulary. Gram g's list is the bytes
  // vocab_gram_postings_[vocab_gram_starts_[g] .. [g + 1]), delta-encoded (LEB128 varints of
  // the differences; read front to back only).
  std::vector<uint32_t> vocab_gram_starts_;
  std::vector<uint8_t> vocab_gram_postings_;
};

}  // namespace extdata::fields
