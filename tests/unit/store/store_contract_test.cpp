// The Store contract (store.h), run on SQLite and on PostgreSQL (store_backends.h): the same
// tests, the same expectations, whichever backend keeps the data.
#include <atomic>
#include <cstdint>
#include <span>
#include <thread>

#include "store/store.h"
#include "unit/store/store_backends.h"

namespace extdata::store::testing {
namespace {

using StoreContract = BackendFixture;

config::ConfigFile with_label(config::ConfigFile file, const std::string& label) {
  file.fields[0].spec["label"] = label;
  return file;
}

TEST_P(StoreContract, RoundTripsSourcesAndFieldsWithSecrets) {
  auto store = open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->apply(sample("Qx8~roundtrip-secret-value")).ok());
  auto sources = (*store)->list_sources();
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].spec["client_secret"], "Qx8~roundtrip-secret-value");
  EXPECT_EQ((*sources)[0].spec["list"], "Customers");
  EXPECT_EQ((*sources)[0].secret_pointers.count("/client_secret"), 1u);
  auto field = (*store)->get_field("customer");
  ASSERT_TRUE(field.ok() && field->has_value());
  EXPECT_EQ((*field)->source, "customers");
  auto missing = (*store)->get_source("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreContract, SecretPlaintextAppearsNowhereInTheStore) {
  const std::string secret = "Zq7~PLAINTEXT-MUST-NOT-LEAK-9f8e7d";
  {
    auto store = open();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->apply(sample(secret)).ok());
    auto src = (*store)->get_source("customers");
    ASSERT_TRUE(src.ok() && src->has_value());
    EXPECT_EQ((**src).spec["client_secret"], secret);  // readable through the store
  }
  const std::string bytes = stored_bytes();
  EXPECT_NE(bytes.find("contoso.sharepoint.com"), std::string::npos) << "the search sees the data";
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find("PLAINTEXT-MUST-NOT-LEAK"), std::string::npos);
}

TEST_P(StoreContract, WrongMasterKeyIsRefusedClearly) {
  setenv("EXTDATA_MASTER_KEY", std::string(64, 'a').c_str(), 1);
  {
    auto store = open();
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->apply(sample("secret-for-key-a")).ok());
  }
  setenv("EXTDATA_MASTER_KEY", std::string(64, 'b').c_str(), 1);
  auto store = open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, "store.master_key");
  EXPECT_NE(store.error().message.find("does not match"), std::string::npos);
  setenv("EXTDATA_MASTER_KEY", "too-short", 1);
  auto bad = open();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "store.master_key");
  unsetenv("EXTDATA_MASTER_KEY");
}

TEST_P(StoreContract, ApplyIsAllOrNothing) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  config::ConfigFile file = sample("secret-all-or-nothing");
  config::FieldConfig orphan;
  orphan.name = "orphan";
  orphan.source = "does-not-exist";
  orphan.spec = {{"name", "orphan"}, {"source", "does-not-exist"}};
  file.fields.push_back(orphan);
  auto s = (*store)->apply(file);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "store.unknown_source");
  auto sources = (*store)->list_sources();
  ASSERT_TRUE(sources.ok());
  EXPECT_TRUE(sources->empty());  // the valid source was rolled back too
}

TEST_P(StoreContract, SourceInUseCannotBeDeleted) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->apply(sample("secret-in-use")).ok());
  auto del = (*store)->delete_source("customers");
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, "store.in_use");
  ASSERT_TRUE((*store)->delete_field("customer").value());
  ASSERT_TRUE((*store)->delete_source("customers").value());
  EXPECT_FALSE((*store)->delete_source("customers").value());
}

TEST_P(StoreContract, ApplySaysPerItemWhetherItWasCreatedUpdatedOrUnchanged) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  auto first = (*store)->apply(sample("Qx8~first-secret-value"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].kind, "source");
  EXPECT_EQ((*first)[0].name, "customers");
  EXPECT_EQ((*first)[0].written.change, Change::created);
  EXPECT_EQ((*first)[1].kind, "field");
  EXPECT_EQ((*first)[1].written.change, Change::created);

  // The same file again writes nothing: the versions stay.
  auto again = (*store)->apply(sample("Qx8~first-secret-value"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].written.change, Change::unchanged);
  EXPECT_EQ((*again)[1].written.change, Change::unchanged);
  EXPECT_EQ((*again)[0].written.version, (*first)[0].written.version);
  EXPECT_EQ((*again)[1].written.version, (*first)[1].written.version);

  // A new secret and a new label: updated, with the keys that changed; the secret's values
  // are not part of the diff.
  auto changed = (*store)->apply(with_label(sample("Qx8~second-secret-value"), "{fields.Code}"));
  ASSERT_TRUE(changed.ok());
  const Written& source = (*changed)[0].written;
  EXPECT_EQ(source.change, Change::updated);
  EXPECT_NE(source.version, (*first)[0].written.version);
  ASSERT_EQ(source.keys.size(), 1u);
  EXPECT_EQ(source.keys[0].key, "client_secret");
  EXPECT_EQ(source.keys[0].kind, config::KeyChange::Kind::changed);
  EXPECT_TRUE(source.keys[0].secret);
  EXPECT_TRUE(source.keys[0].before.is_null() && source.keys[0].after.is_null());
  const Written& field = (*changed)[1].written;
  EXPECT_EQ(field.change, Change::updated);
  ASSERT_EQ(field.keys.size(), 1u);
  EXPECT_EQ(field.keys[0].key, "label");
  EXPECT_EQ(field.keys[0].kind, config::KeyChange::Kind::changed);
  EXPECT_EQ(field.keys[0].before, "{fields.Title}");  // the default
  EXPECT_EQ(field.keys[0].after, "{fields.Code}");
  EXPECT_EQ((*store)->get_source("customers")->value().spec["client_secret"],
            "Qx8~second-secret-value");
}

TEST_P(StoreContract, DryRunComparesEverythingAndWritesNothing) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  auto planned = (*store)->apply(sample("Qx8~dry-run-secret"), {.dry_run = true});
  ASSERT_TRUE(planned.ok()) << planned.error().message;
  ASSERT_EQ(planned->size(), 2u);
  EXPECT_EQ((*planned)[0].written.change, Change::created);
  EXPECT_EQ((*planned)[1].written.change, Change::created);
  EXPECT_TRUE((*store)->list_sources()->empty());
  EXPECT_TRUE((*store)->list_fields()->empty());
  EXPECT_EQ(stored_bytes().find("Qx8~dry-run-secret"), std::string::npos);

  auto applied = (*store)->apply(sample("Qx8~dry-run-secret"));
  ASSERT_TRUE(applied.ok());
  auto update =
      (*store)->apply(with_label(sample("Qx8~dry-run-secret"), "{id}"), {.dry_run = true});
  ASSERT_TRUE(update.ok());
  EXPECT_EQ((*update)[0].written.change, Change::unchanged);
  EXPECT_EQ((*update)[1].written.change, Change::updated);
  auto stored = (*store)->get_field_versioned("customer");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->value.spec["label"], "{fields.Title}");
  EXPECT_EQ((*stored)->version, (*applied)[1].written.version);
  // A dry run failing (a field naming an unknown source) fails as apply would.
  config::ConfigFile orphan = sample("Qx8~dry-run-secret");
  orphan.fields[0].source = "nowhere";
  auto refused = (*store)->apply(orphan, {.dry_run = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "store.unknown_source");
}

TEST_P(StoreContract, PutCreatesOnlyWhenAbsentAndReplacesOnlyTheExpectedVersion) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  config::ConfigFile file = sample("Qx8~expect-secret");
  auto created = (*store)->put_source(file.sources[0], Expect::absent());
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->change, Change::created);

  config::SourceConfig other = file.sources[0];
  other.spec["list"] = "Countries";
  auto taken = (*store)->put_source(other, Expect::absent());
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, "store.exists");
  EXPECT_EQ(taken.error().details.at("current_version"), created->version);
  EXPECT_EQ((*store)->get_source("customers")->value().spec["list"], "Customers");

  auto stale = (*store)->put_source(other, Expect::one_of({"999", "not-a-version"}));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, "store.version_mismatch");
  auto replaced = (*store)->put_source(other, Expect::one_of({created->version}));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->change, Change::updated);
  EXPECT_EQ((*store)->get_source_versioned("customers")->value().version, replaced->version);
  auto again = (*store)->put_source(file.sources[0], Expect::one_of({created->version}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "store.version_mismatch");
  EXPECT_EQ(again.error().details.at("current_version"), replaced->version);

  auto missing = (*store)->delete_field("customer", Expect::one_of({"1"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "store.version_mismatch");
  EXPECT_EQ(missing.error().details.count("current_version"), 0u);
  auto not_deleted = (*store)->delete_source("customers", Expect::one_of({created->version}));
  ASSERT_FALSE(not_deleted.ok());
  EXPECT_EQ(not_deleted.error().code, "store.version_mismatch");
  EXPECT_TRUE((*store)->get_source("customers")->has_value());
  EXPECT_TRUE(*(*store)->delete_source("customers", Expect::one_of({replaced->version})));
}

TEST_P(StoreContract, AVersionIsNeverUsedTwiceEvenAfterDeleteAndRecreate) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  config::SourceConfig source = sample("Qx8~recreate-secret").sources[0];
  auto first = (*store)->put_source(source);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(*(*store)->delete_source("customers"));
  auto second = (*store)->put_source(source);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->change, Change::created);
  EXPECT_NE(second->version, first->version);
  EXPECT_FALSE((*store)->put_source(source, Expect::one_of({first->version})).ok());
}

// Two processes (two connections) that read the same version and both save: one wins, the
// other is told, whatever the interleaving, because the check and the write are one
// transaction.
TEST_P(StoreContract, OfTwoWritersExpectingTheSameVersionOneWins) {
  auto a = open();
  ASSERT_TRUE(a.ok());
  auto b = open();
  ASSERT_TRUE(b.ok());
  config::SourceConfig source = sample("Qx8~race-secret").sources[0];
  auto base = (*a)->put_source(source);
  ASSERT_TRUE(base.ok());
  std::atomic<int> wins{0}, mismatches{0};
  auto writer = [&](Store& store, const std::string& list) {
    config::SourceConfig mine = source;
    mine.spec["list"] = list;
    auto r = store.put_source(mine, Expect::one_of({base->version}));
    if (r.ok())
      ++wins;
    else if (r.error().code == "store.version_mismatch")
      ++mismatches;
  };
  std::thread ta(writer, std::ref(**a), "FromA");
  std::thread tb(writer, std::ref(**b), "FromB");
  ta.join();
  tb.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(mismatches.load(), 1);
}

TEST_P(StoreContract, TokensAreStoredHashed) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  auto token = (*store)->create_token("reader", "widget", 1000);
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(token->starts_with("edt_"));
  auto found = (*store)->find_token(*token);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->role, "reader");
  EXPECT_FALSE((*store)->find_token(*token + "x")->has_value());
  EXPECT_FALSE((*store)->create_token("root", "", 0).ok());
  EXPECT_EQ(stored_bytes().find(*token), std::string::npos);
}

TEST_P(StoreContract, SnapshotsAndStatusRoundTrip) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->put_snapshot({"customers|", "customers", "[1,2,3]", 1234, 3}).ok());
  auto snap = (*store)->get_snapshot("customers|");
  ASSERT_TRUE(snap.ok() && snap->has_value());
  EXPECT_EQ((*snap)->payload, "[1,2,3]");
  EXPECT_EQ((*snap)->records, 3u);
  ASSERT_TRUE((*store)->put_status({"customers", 10, 9, 3, "boom", "fix it"}).ok());
  auto st = (*store)->get_status("customers");
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->last_error, "boom");
}

TEST_P(StoreContract, LargeSnapshotsAreStoredInChunksAndReadBackWhole) {
  auto store = open(1000);
  ASSERT_TRUE(store.ok());
  std::string big;
  for (int i = 0; big.size() < 10'500; ++i) big += std::to_string(i) + ',';
  ASSERT_TRUE((*store)->put_snapshot({"customers|", "customers", big, 1234, 11}).ok());
  auto snap = (*store)->get_snapshot("customers|");
  ASSERT_TRUE(snap.ok() && snap->has_value());
  EXPECT_EQ((*snap)->payload, big);
  EXPECT_EQ((*snap)->source, "customers");
  EXPECT_EQ((*snap)->fetched_at, 1234);

  // A smaller snapshot replaces every chunk of the old one.
  ASSERT_TRUE((*store)->put_snapshot({"customers|", "customers", "[1]", 1300, 1}).ok());
  EXPECT_EQ((*(*store)->get_snapshot("customers|"))->payload, "[1]");
  ASSERT_TRUE((*store)->put_snapshot({"customers|", "customers", big + big, 1400, 22}).ok());
  EXPECT_EQ((*(*store)->get_snapshot("customers|"))->payload, big + big);

  // Another connection (a server restart) reads the same text.
  auto reopened = open();
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*(*reopened)->get_snapshot("customers|"))->payload, big + big);
}

// One snapshot written as `pieces` through put_snapshot_pieces.
static Status put_pieces(Store& store, const Snapshot& meta,
                         const std::vector<std::string>& pieces) {
  return store.put_snapshot_pieces(meta, [&](const Store::PieceSink& sink) -> Status {
    for (const auto& p : pieces) EXTDATA_TRY(sink(p));
    return ok_status();
  });
}

TEST_P(StoreContract, SnapshotPiecesAreStoredAsTheyComeAndHandedBackInOrder) {
  auto store = open(1000);
  ASSERT_TRUE(store.ok());
  const std::vector<std::string> pieces = {"head", std::string(2500, 'p'), "tail"};
  Snapshot meta{"customers|", "customers", "ignored", 1234, 7};
  meta.cursor = "https://graph/delta?token=abc";
  ASSERT_TRUE(put_pieces(**store, meta, pieces).ok());
  std::string joined;
  std::vector<size_t> sizes;
  auto read = (*store)->read_snapshot_pieces("customers|", [&](std::string_view piece) {
    joined += piece;
    sizes.push_back(piece.size());
    return ok_status();
  });
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(joined, pieces[0] + pieces[1] + pieces[2]);
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 1000, 1000, 500, 4}))  // a long piece in rows
      << "pieces beyond the chunk size are split, each row handed over as stored";
  EXPECT_EQ((*read)->cursor, meta.cursor);
  EXPECT_EQ((*read)->records, 7u);
  EXPECT_TRUE((*read)->payload.empty());
  EXPECT_EQ((*(*store)->get_snapshot("customers|"))->payload, joined);

  // A write that fails half-way leaves the previous snapshot whole.
  auto failed = (*store)->put_snapshot_pieces(meta, [](const Store::PieceSink& sink) -> Status {
    EXTDATA_TRY(sink("partial"));
    return Error("extract.snapshot", "writer failed", "");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ((*(*store)->get_snapshot("customers|"))->payload, joined);
  // `each` stops a read with its error.
  auto stopped = (*store)->read_snapshot_pieces(
      "customers|", [](std::string_view) { return Status(Error("extract.snapshot", "no", "")); });
  EXPECT_FALSE(stopped.ok());
  EXPECT_FALSE((*store)
                   ->read_snapshot_pieces("other|", [](std::string_view) { return ok_status(); })
                   ->has_value());
}

// Collects what a store hands over into rooms of `room_size` bytes (the last one may be
// shorter), recording the total announced and every room's fill, and refuses at `refuse_at`.
class Rooms final : public ByteReceiver {
 public:
  explicit Rooms(size_t room_size, size_t refuse_at = SIZE_MAX)
      : room_size_(room_size), refuse_at_(refuse_at) {}
  Status begin(std::uint64_t total) override {
    announced = total;
    ++begun;
    bytes.reserve(total);
    return ok_status();
  }
  Result<std::span<char>> room() override {
    if (bytes.size() >= refuse_at_) return Error("extract.snapshot", "enough", "");
    room_.assign(room_size_, '\0');
    return std::span<char>(room_);
  }
  Status received(size_t n) override {
    EXPECT_LE(n, room_.size());
    bytes.append(room_.data(), n);
    fills.push_back(n);
    return ok_status();
  }
  std::uint64_t announced = 0;
  int begun = 0;
  std::string bytes;
  std::vector<size_t> fills;

 private:
  size_t room_size_, refuse_at_;
  std::string room_;
};

TEST_P(StoreContract, SnapshotBytesAreCopiedIntoTheRoomsAReaderNames) {
  auto store = open(1000);
  ASSERT_TRUE(store.ok());
  const std::vector<std::string> pieces = {"head", std::string(2500, 'p'), "tail"};
  Snapshot meta{"customers|", "customers", "ignored", 1234, 7};
  meta.cursor = "https://graph/delta?token=abc";
  ASSERT_TRUE(put_pieces(**store, meta, pieces).ok());
  const std::string joined = pieces[0] + pieces[1] + pieces[2];
  Rooms rooms(700);
  auto read = (*store)->read_snapshot_into("customers|", rooms);
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(rooms.begun, 1);
  EXPECT_EQ(rooms.announced, joined.size()) << "the total comes before the bytes";
  EXPECT_EQ(rooms.bytes, joined);
  for (size_t fill : rooms.fills) EXPECT_LE(fill, 700u);
  EXPECT_EQ((*read)->cursor, meta.cursor);
  EXPECT_EQ((*read)->records, 7u);
  EXPECT_EQ((*read)->fetched_at, 1234);
  EXPECT_TRUE((*read)->payload.empty());

  // A room of one byte at a time: the same bytes.
  Rooms bytewise(1);
  ASSERT_TRUE((*store)->read_snapshot_into("customers|", bytewise).ok());
  EXPECT_EQ(bytewise.bytes, joined);
  EXPECT_EQ(bytewise.fills.size(), joined.size());

  // The reader's error stops the read and is returned.
  Rooms refusing(100, 300);
  auto stopped = (*store)->read_snapshot_into("customers|", refusing);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message, "enough");
  EXPECT_GE(refusing.bytes.size(), 300u);
  EXPECT_LT(refusing.bytes.size(), 500u) << "nothing was read after the refusal";
  EXPECT_EQ(refusing.bytes, joined.substr(0, refusing.bytes.size()));

  Rooms none(100);
  auto missing = (*store)->read_snapshot_into("other|", none);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(none.begun, 0);

  // A snapshot written whole (put_snapshot) is handed over the same way.
  ASSERT_TRUE((*store)->put_snapshot({"whole|", "customers", joined, 99, 3}).ok());
  Rooms whole(64);
  ASSERT_TRUE((*store)->read_snapshot_into("whole|", whole).ok());
  EXPECT_EQ(whole.bytes, joined);
  EXPECT_EQ(whole.announced, joined.size());
}

TEST_P(StoreContract, SyncStatusRoundTrips) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  SourceStatus st{"customers", 10, 10, 3, "", ""};
  st.sync = {"delta", 5, 1200, 10, 1, 2, 3, "410 resync"};
  ASSERT_TRUE((*store)->put_status(st).ok());
  auto got = (*store)->get_status("customers");
  ASSERT_TRUE(got.ok() && got->has_value());
  const SyncStatus& sync = (*got)->sync;
  EXPECT_EQ(sync.mode, "delta");
  EXPECT_EQ(sync.last_full_at, 5);
  EXPECT_EQ(sync.last_full_records, 1200u);
  EXPECT_EQ(sync.last_incremental_at, 10);
  EXPECT_EQ(sync.last_added + sync.last_updated * 10 + sync.last_removed * 100, 321u);
  EXPECT_EQ(sync.note, "410 resync");
}

TEST_P(StoreContract, ReopenKeepsDataAndMigratesOnce) {
  {
    auto store = open();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->apply(sample("secret-reopen")).ok());
  }
  auto store = open();
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->list_sources()->size(), 1u);
}

TEST_P(StoreContract, UserGrantsAreSealedAndWrittenOnlyOverTheGenerationExpected) {
  const std::string refresh_token = "rt-PLAINTEXT-MUST-NOT-LEAK-grant";
  {
    auto store = open();
    ASSERT_TRUE(store.ok());
    auto& s = **store;
    EXPECT_FALSE(*s.get_grant("crm"));
    ASSERT_TRUE(*s.put_grant("crm", "{\"refresh_token\":\"" + refresh_token + "\"}", 0));
    EXPECT_FALSE(*s.put_grant("crm", "{\"second\":true}", 0)) << "a first write happens once";
    ASSERT_TRUE(*s.put_grant("crm", "{\"refresh_token\":\"" + refresh_token + "-2\"}", 1));
    EXPECT_FALSE(*s.put_grant("crm", "{\"stale\":true}", 1)) << "generation 1 is gone";
    auto got = s.get_grant("crm");
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->generation, 2);
    EXPECT_NE((*got)->payload.find(refresh_token + "-2"), std::string::npos);
  }
  EXPECT_EQ(stored_bytes().find("PLAINTEXT-MUST-NOT-LEAK"), std::string::npos);
}

TEST_P(StoreContract, APendingSignInIsTakenOnceAndNotAfterItExpired) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  ASSERT_TRUE(s.put_pending_sign_in("state-1", "{\"source\":\"crm\"}", 1000).ok());
  ASSERT_TRUE(s.put_pending_sign_in("state-2", "{\"source\":\"crm\"}", 1000).ok());
  auto first = s.take_pending_sign_in("state-1", 1010);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, "{\"source\":\"crm\"}");
  EXPECT_FALSE(*s.take_pending_sign_in("state-1", 1011)) << "a state is used once";
  EXPECT_FALSE(*s.take_pending_sign_in("unknown", 1011));
  EXPECT_FALSE(*s.take_pending_sign_in("state-2", 1000 + kPendingSignInSeconds + 1)) << "expired";
}

TEST_P(StoreContract, DeletingASourceDeletesItsUserGrant) {
  auto store = open();
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  auto file = sample("Abc8Q~secretValue.0001");
  file.fields.clear();
  ASSERT_TRUE(s.apply(file).ok());
  ASSERT_TRUE(*s.put_grant("customers", "{}", 0));
  ASSERT_TRUE(*s.delete_source("customers"));
  EXPECT_FALSE(*s.get_grant("customers"));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(Backend::sqlite), backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract, ::testing::Values(Backend::postgres),
                         backend_name);

}  // namespace
}  // namespace extdata::store::testing
