// Search index benchmark: build time, memory per record and query latency over synthetic
// company names (deterministic, with accents), 100k and 1M records, limit 20.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DEXTDATA_BENCH=ON
//   cmake --build build/bench --target bench_search_index
//   build/bench/bench_search_index --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fields/search_index.h"

namespace {

using extdata::fields::LabelTexts;
using extdata::fields::SearchIndex;

// splitmix64: a fixed generator, so every machine indexes the same names.
class NameRandom {
 public:
  explicit NameRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  template <size_t N>
  const char* pick(const char* const (&items)[N]) {
    return items[next() % N];
  }

 private:
  uint64_t state_;
};

const char* const kSurnames[] = {
    "Müller",    "Schröder",     "Lefèvre",    "Gonçalves", "Núñez",    "Dvořák",    "Łukasiewicz",
    "Søren",     "Ångström",     "Björk",      "Ødegaard",  "Çelik",    "Yılmaz",    "Nguyễn",
    "Kovačević", "Šimůnek",      "Weiß",       "Æbelø",     "Hoffmann", "Schmidt",   "Fischer",
    "Dubois",    "Moreau",       "García",     "Fernández", "Rossi",    "Bianchi",   "Jansen",
    "de Vries",  "Novák",        "Horváth",    "Nowak",     "Kowalski", "Andersson", "Johansson",
    "Virtanen",  "Papadopoulos", "Smith",      "Johnson",   "Williams", "Brown",     "Taylor",
    "Wagner",    "Becker",       "Schulz",     "Koch",      "Richter",  "Klein",     "Wolf",
    "Neumann",   "Schwarz",      "Zimmermann", "Braun",     "Krüger",   "Hofmann",   "Hartmann",
    "Lange",     "Schmitt",      "Werner",     "Krause",    "Meier",    "Lehmann",   "Schmid",
    "Schulze",   "Maier",        "Köhler",     "Herrmann",  "König",    "Walter",    "Mayer",
    "Huber",     "Kaiser",       "Fuchs",      "Peters",    "Lang",     "Scholz",    "Möller",
    "Weiß",      "Jung",         "Hahn",       "Schubert",  "Vogel",    "Friedrich", "Keller",
    "Günther",   "Frank",        "Berger",     "Winkler",   "Roth",     "Beck",      "Lorenz",
    "Baumann",   "Franke",       "Albrecht",   "Schuster",  "Simon",    "Ludwig",    "Böhm"};
const char* const kTrades[] = {
    "Bau",      "Logistik",    "Générale",       "Consulting", "Transport",    "Énergie",
    "Holding",  "Systems",     "Immobilien",     "Services",   "Technik",      "Handel",
    "Médical",  "Automobiles", "Lebensmittel",   "Software",   "Versicherung", "Maschinenbau",
    "Elektro",  "Pharma",      "Textil",         "Möbel",      "Druck",        "Reisen",
    "Sécurité", "Ingeniería",  "Construcciones", "Comércio",   "Stahl",        "Papier"};
const char* const kCities[] = {"Zürich",    "München", "Genève",     "Köln",     "Kraków",
                               "São Paulo", "Málaga",  "Düsseldorf", "Besançon", "Göteborg",
                               "Århus",     "Brno",    "Łódź",       "Nürnberg", "Wien",
                               "Lyon",      "Berlin",  "Hamburg"};
const char* const kLegalForms[] = {
    "GmbH", "AG", "SA", "SARL",       "S.à r.l.", "Ltd",           "Inc.",   "& Co. KG",
    "BV",   "AB", "Oy", "Sp. z o.o.", "s.r.o.",   "GmbH & Co. KG", "S.p.A.", "KG"};

std::vector<std::string> company_names(size_t count) {
  NameRandom random(20261128);
  std::vector<std::string> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string name;
    switch (random.next() % 4) {
      case 0:
        name = std::string(random.pick(kSurnames)) + " " + random.pick(kTrades) + " " +
               random.pick(kLegalForms);
        break;
      case 1:
        name = std::string(random.pick(kSurnames)) + " & " + random.pick(kSurnames) + " " +
               random.pick(kLegalForms);
        break;
      case 2:
        name = std::string(random.pick(kTrades)) + " " + random.pick(kCities) + " " +
               random.pick(kSurnames) + " " + random.pick(kLegalForms);
        break;
      default:
        name = std::string(random.pick(kSurnames)) + " " + random.pick(kTrades) + " " +
               random.pick(kCities) + " " + std::to_string(random.next() % 1000);
        break;
    }
    names.push_back(std::move(name));
  }
  return names;
}

// The names as an option table holds its labels (one arena, offsets), searched as a field
// without a search template: the labels are the search texts, so the index stores no key.
struct Labels {
  std::string arena;
  std::vector<uint32_t> offsets{0};
  std::vector<std::string_view> views;  // into the arena
  explicit Labels(const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      arena += name;
      offsets.push_back(static_cast<uint32_t>(arena.size()));
    }
    for (size_t i = 0; i < names.size(); ++i) views.push_back(texts()[i]);
  }
  LabelTexts texts() const { return {arena, offsets, 1}; }
};

struct Fixture {
  std::unique_ptr<Labels> labels;
  std::unique_ptr<SearchIndex> index;
};

Fixture& fixture(size_t count) {
  static std::map<size_t, Fixture> fixtures;
  Fixture& f = fixtures[count];
  if (!f.index) {
    f.labels = std::make_unique<Labels>(company_names(count));
    f.index = std::make_unique<SearchIndex>(
        std::move(SearchIndex::build(f.labels->views, f.labels->texts()).value()));
  }
  return f;
}

void BM_Build(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  const Labels labels(company_names(count));
  size_t memory = 0;
  for (auto _ : state) {
    auto index = SearchIndex::build(labels.views, labels.texts());
    memory = index->memory_bytes();
    benchmark::DoNotOptimize(index);
  }
  state.counters["index_bytes_per_record"] = static_cast<double>(memory) / count;
  state.counters["label_bytes_per_record"] = static_cast<double>(labels.arena.size()) / count;
}

void BM_Search(benchmark::State& state, size_t count, std::string query) {
  const Fixture& f = fixture(count);
  const SearchIndex& index = *f.index;
  const LabelTexts labels = f.labels->texts();
  size_t total = 0;
  for (auto _ : state) {
    auto result = index.search(query, 0, 20, labels);
    total = result.total;
    benchmark::DoNotOptimize(result);
  }
  state.counters["matches"] = static_cast<double>(total);
  state.counters["match_share"] = static_cast<double>(total) / count;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int64_t count : {100'000, 1'000'000}) {
    benchmark::RegisterBenchmark("Build", BM_Build)
        ->Arg(count)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
  // One, two and four letters; "gmbh" is the worst case of a long query (a token in a
  // fifth of all names), "zz" a two-letter query with no match. Several words: "muller bau"
  // and "bau zurich" have records that start with the whole query, "gmbh mul" only word and
  // inside matches, "999 s" and "zuri 7" a selective word beside a common one.
  const char* const queries[] = {"m",          "s",          "z",        "mu",    "sc",    "ge",
                                 "zz",         "mull",       "soci",     "zuri",  "gmbh",  "mul ba",
                                 "muller bau", "bau zurich", "gmbh mul", "999 s", "zuri 7"};
  for (size_t count : {100'000, 1'000'000}) {
    for (const char* query : queries) {
      const std::string name = "Search/" + std::to_string(count) + "/q=" + query;
      benchmark::RegisterBenchmark(name.c_str(), BM_Search, count, std::string(query))
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
