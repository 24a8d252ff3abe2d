// Field options benchmark: option-table build time and memory, and the cost of one options
// request (q of two letters, limit 20, JSON text included) on a cached record set of 100k and
// 1M synthetic records.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DEXTDATA_BENCH=ON
//   cmake --build build/bench --target bench_field_options
//   build/bench/bench_field_options --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>

#include "cache/record_cache.h"
#include "config/config.h"
#include "fields/field_service.h"
#include "fields/table_image.h"
#include "sources/sharepoint/delta.h"

namespace {

using namespace extdata;

const char* const kFirst[] = {"Acme",   "Nord",    "Süd",     "Alpen",  "Rhein",  "Baltic",
                              "Müller", "Schmidt", "Société", "Global", "Abbott", "Atlas",
                              "Zenith", "Orion",   "Delta",   "Kappa"};
const char* const kSecond[] = {"Logistik", "Consulting", "Handel", "Werke",  "Systems",  "Partners",
                               "Foods",    "Energie",    "Bau",    "Médias", "Software", "Pharma"};
const char* const kForm[] = {"GmbH", "AG", "KG", "SE", "Ltd", "SA", "Inc"};

std::string records_json(size_t count, bool string_ids = false) {
  std::mt19937_64 random(42);
  std::string json = "[";
  const std::string quote = string_ids ? "\"" : "";
  for (size_t i = 0; i < count; ++i) {
    if (i) json += ',';
    json += R"({"id":)" + quote + std::to_string(i) + quote + R"(,"fields":{"Title":")" +
            kFirst[random() % 16] + " " + kSecond[random() % 12] + " " + kForm[random() % 7] + " " +
            std::to_string(random() % 1000) + R"(","Country":"DE","City":"Berlin","Active":true}})";
  }
  return json + "]";
}

class BenchSource : public sources::Source {
 public:
  explicit BenchSource(size_t count) : count_(count) {
    config_.name = "companies";
    config_.type = "rest";
    config_.spec = {{"cache_ttl", 1e9}};
  }
  const config::SourceConfig& config() const override { return config_; }
  Result<std::shared_ptr<const extract::RecordSet>> fetch(const sources::FetchRequest&,
                                                          sources::FetchTrace*) override {
    extract::RecordSet set;
    EXTDATA_TRY(set.append_page(records_json(count_), *extract::JsonPath::compile("$[*]"), {}));
    return std::shared_ptr<const extract::RecordSet>(
        std::make_shared<extract::RecordSet>(std::move(set)));
  }
  std::vector<std::string> variable_names() const override { return {}; }
  std::shared_ptr<auth::Credential> credential() const override { return nullptr; }

 private:
  size_t count_;
  config::SourceConfig config_;
};

config::FieldConfig company_field(bool filtered = false) {
  auto parsed = config::parse_field(
      std::string("source: companies\nlabel: '{fields.Title} ({fields.City})'\n") +
          (filtered ? "filter: '$[?@.fields.Active == true]'\n" : ""),
      "company", {"companies"});
  return std::move(parsed).value();
}

void BM_TableBuild(benchmark::State& state) {
  BenchSource source(static_cast<size_t>(state.range(0)));
  auto records = source.fetch({}, nullptr);
  auto mapping = fields::FieldMapping::compile(company_field());
  size_t bytes = 0;
  for (auto _ : state) {
    auto table = fields::OptionsTable::build(*mapping, **records);
    bytes = table->memory_bytes();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["table_bytes_per_record"] = static_cast<double>(bytes) / state.range(0);
  state.counters["records_bytes_per_record"] =
      static_cast<double>((*records)->memory_bytes()) / state.range(0);
}
BENCHMARK(BM_TableBuild)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_OptionsRequest(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("extdata-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    auto store = store::open_sqlite_store(dir.string());
    (void)(*store)->put_field(company_field());
    auto source = std::make_shared<BenchSource>(static_cast<size_t>(state.range(0)));
    cache::SourceLookup lookup = [&](const std::string& name) -> std::shared_ptr<sources::Source> {
      return name == "companies" ? source : nullptr;
    };
    Metrics metrics;
    cache::RecordCache cache(**store, lookup, SystemClock::instance(), metrics);
    fields::FieldService service(**store, lookup, cache);
    fields::OptionsQuery query;
    query.q = "ab";
    query.limit = 20;
    (void)service.options("company", query);  // fetch + table build outside the timing
    std::string body;
    for (auto _ : state) {
      auto result = service.options("company", query);
      body.clear();
      fields::append_json(body, *result);
      benchmark::DoNotOptimize(body.data());
    }
    state.counters["body_bytes"] = static_cast<double>(body.size());
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OptionsRequest)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

// A delta sync of `changed` items at `count` records (1: one renamed item; 10: eight renamed,
// one deleted, one new) for the company field, without or (third argument 1) with a filter that
// decides on each record alone: the changes applied to the records (sources::sharepoint::
// apply_delta: RecordSet::combine, no record copied), then the field's option table over the new
// records, built from scratch (table_ms, what the first request paid before) and patched from
// the previous table with the changes (patch_ms, OptionsTable::patch: what it pays now).
std::string changed_items(size_t count, size_t changed) {
  if (changed == 1) {
    return R"([{"id":")" + std::to_string(count / 2) +
           R"(","fields":{"Title":"Changed Ltd","City":"Bonn"}}])";
  }
  std::string json = "[";
  for (size_t i = 0; i + 2 < changed; ++i) {
    json += R"({"id":")" + std::to_string(count / 2 + i * 997) +
            R"(","fields":{"Title":"Changed )" + std::to_string(i) + R"( Ltd","City":"Bonn"}},)";
  }
  return json + R"({"id":"7","deleted":{"state":"deleted"}},{"id":")" + std::to_string(count) +
         R"(","fields":{"Title":"Brand New AG","City":"Bonn"}}])";
}

void BM_OneChangedItem(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  extract::RecordSet base;
  (void)base.append_page(records_json(count, true), *extract::JsonPath::compile("$[*]"), {});
  extract::RecordSet changes;
  (void)changes.append_page(changed_items(count, static_cast<size_t>(state.range(1))),
                            *extract::JsonPath::compile("$[*]"), {});
  auto mapping = fields::FieldMapping::compile(company_field(state.range(2) != 0));
  const auto base_table = fields::OptionsTable::build(*mapping, base);
  double apply_ms = 0, table_ms = 0, patch_ms = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto applied = sources::sharepoint::apply_delta(base, changes);
    const auto t1 = std::chrono::steady_clock::now();
    auto table = fields::OptionsTable::build(*mapping, applied->records);
    const auto t2 = std::chrono::steady_clock::now();
    std::string why_not;
    auto patched = fields::OptionsTable::patch(*base_table, *mapping, base, applied->records,
                                               *applied->changes, why_not);
    const auto t3 = std::chrono::steady_clock::now();
    if (!patched || patched->size() != table->size()) state.SkipWithError("not patched");
    benchmark::DoNotOptimize(table);
    benchmark::DoNotOptimize(patched);
    apply_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    table_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
    patch_ms += std::chrono::duration<double, std::milli>(t3 - t2).count();
  }
  state.counters["apply_ms"] = apply_ms / static_cast<double>(state.iterations());
  state.counters["table_ms"] = table_ms / static_cast<double>(state.iterations());
  state.counters["patch_ms"] = patch_ms / static_cast<double>(state.iterations());
}
BENCHMARK(BM_OneChangedItem)
    ->Args({100'000, 1, 0})
    ->Args({100'000, 10, 0})
    ->Args({100'000, 10, 1})  // the field filtered ($[?@.fields.Active == true])
    ->Args({1'000'000, 1, 0})
    ->Args({1'000'000, 10, 0})
    ->Args({1'000'000, 10, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// The restart path of a field's option table (docs/fields.md, "Restart"): building it from the
// records (build_ms) against reading its stored image back (read_ms, the bytes already in
// memory as the store hands them), and the image's size (image_mb).
void BM_TableImage(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  extract::RecordSet records;
  (void)records.append_page(records_json(count, true), *extract::JsonPath::compile("$[*]"), {});
  auto mapping = fields::FieldMapping::compile(company_field());
  double build_ms = 0, read_ms = 0, image_mb = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto table = fields::OptionsTable::build(*mapping, records);
    const auto t1 = std::chrono::steady_clock::now();
    std::string image;
    (void)fields::write_table_image(*table, [&](std::string_view piece) {
      image.append(piece);
      return ok_status();
    });
    const auto t2 = std::chrono::steady_clock::now();
    auto read = fields::read_table_image(image, records.size());
    const auto t3 = std::chrono::steady_clock::now();
    if (!read.ok() || read->size() != table->size()) state.SkipWithError("image not read back");
    benchmark::DoNotOptimize(read);
    build_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
    read_ms += std::chrono::duration<double, std::milli>(t3 - t2).count();
    image_mb = static_cast<double>(image.size()) / 1e6;
  }
  state.counters["build_ms"] = build_ms / static_cast<double>(state.iterations());
  state.counters["read_ms"] = read_ms / static_cast<double>(state.iterations());
  state.counters["image_mb"] = image_mb;
}
BENCHMARK(BM_TableImage)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// Where the bytes of an option table go, at `count` records shaped like graphsim's generated
// Customers list (bench/run-field-options.sh: titles "<seed title> #<id>", one in ten without a
// city) and its `customer` field (bench/lib.sh: label, search and sort templates). Reported per
// record: the table's memory_bytes() and each member of its stored image (the members as held).
std::string customers_json(size_t count) {
  const char* const titles[] = {"Nordlicht Logistik AG", "Café Olé SARL",
                                "株式会社さくら電機",    "Björk & Söner AB",
                                "Banque Léman SA",       "Spreeufer Medien GmbH",
                                "Østfold Energi AS",     "São Paulo Alimentos Ltda"};
  const char* const cities[] = {"Hamburg", "Lyon",   "大阪",        "Göteborg",
                                "Genève",  "Berlin", "Fredrikstad", "São Paulo"};
  const char* const countries[] = {"Germany",     "France",  "Japan",  "Sweden",
                                   "Switzerland", "Germany", "Norway", "Brazil"};
  std::mt19937_64 random(7);
  std::string json = "[";
  for (size_t i = 1; i <= count; ++i) {
    if (i > 1) json += ',';
    json += R"({"id":")" + std::to_string(i) + R"(","fields":{"Title":")" + titles[random() % 8] +
            " #" + std::to_string(i) + R"(","Country":")" + countries[random() % 8] + '"';
    if (random() % 10 != 0) json += R"(,"City":")" + std::string(cities[random() % 8]) + '"';
    json += "}}";
  }
  return json + "]";
}

void BM_CustomerTableMemory(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  extract::RecordSet records;
  (void)records.append_page(customers_json(count), *extract::JsonPath::compile("$[*]"), {});
  auto parsed = config::parse_field(
      "source: companies\nvalue: '{id}'\nlabel: '{fields.Title} ({fields.City|—}, "
      "{fields.Country})'\nsearch: '{fields.Title} {fields.City|} {fields.Country}'\n"
      "sort: '{fields.Title}'\n",
      "customer", {"companies"});
  auto mapping = fields::FieldMapping::compile(*parsed);
  std::string image;
  size_t memory = 0;
  for (auto _ : state) {
    auto table = fields::OptionsTable::build(*mapping, records);
    memory = table->memory_bytes();
    image.clear();
    (void)fields::write_table_image(*table, [&](std::string_view piece) {
      image.append(piece);
      return ok_status();
    });
  }
  const double n = static_cast<double>(count);
  state.counters["memory_B_per_record"] = static_cast<double>(memory) / n;
  state.counters["image_B_per_record"] = static_cast<double>(image.size()) / n;
  // Sections: an 8-byte length, the bytes, an 8-byte checksum; the first is the head.
  size_t at = 0;
  for (int section = 0; at + 16 <= image.size(); ++section) {
    uint64_t length = 0;
    std::memcpy(&length, image.data() + at, sizeof length);
    if (section > 0) {
      state.counters["s" + std::string(section < 10 ? "0" : "") + std::to_string(section)] =
          static_cast<double>(length) / n;
    }
    at += 16 + length;
  }
}
BENCHMARK(BM_CustomerTableMemory)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
