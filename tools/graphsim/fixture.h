#pragma once
// The world graphsim simulates: tenants, their app registrations, users, SharePoint
// sites, lists, columns and items. Loaded once from a YAML or JSON fixture file and
// validated with errors that name the key path and line.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "crypto.h"
#include "faults.h"

namespace graphsim {

using TimePoint = std::chrono::system_clock::time_point;

struct SecretSpec {
  std::string id;  // the "Secret ID" the portal shows next to the value
  std::string value;
  std::string display_name;
  TimePoint expires;
};

struct CertificateSpec {
  Certificate certificate;
  std::string display_name;
};

struct AppSpec {
  std::string client_id;
  std::string display_name;
  std::vector<SecretSpec> secrets;
  std::vector<CertificateSpec> certificates;
  std::vector<std::string> roles;  // granted application permissions on Microsoft Graph
  bool admin_consent = false;
  std::string service_principal_id;  // `oid` / `sub` of issued tokens
};

struct UserSpec {
  int lookup_id = 0;  // the site-local id person columns refer to
  std::string id;     // Entra object id
  std::string display_name;
  std::string email;
};

enum class ColumnType { Text, Number, Currency, Boolean, Choice, DateTime, PersonOrGroup, Lookup };
const char* column_type_name(ColumnType type);

struct ColumnSpec {
  std::string name;  // internal name, e.g. Account_x0020_Manager
  std::string display_name;
  std::string id;
  ColumnType type = ColumnType::Text;
  bool indexed = false;
  bool hidden = false;
  bool read_only = false;
  bool required = false;
  std::vector<std::string> choices;
  std::string lookup_list_id;  // lookup columns
  // Graph spells person and lookup values as `{name}LookupId`.
  std::string field_key() const;
};

struct ItemSpec {
  int id = 0;
  std::string unique_id;  // GUID in the etag
  int version = 1;
  TimePoint created;
  TimePoint modified;
  int author_lookup_id = 0;
  int editor_lookup_id = 0;
  // Values by column index (into ListSpec::columns); empty values are not stored.
  std::vector<std::pair<uint16_t, nlohmann::json>> values;
  bool deleted = false;
  uint64_t change_seq = 0;  // list change sequence of the last change (delta)
};

struct ListSpec {
  std::string id;
  std::string name;  // URL name (Lists/{name})
  std::string display_name;
  std::string description;
  std::string template_name = "genericList";
  bool hidden = false;
  bool system = false;
  TimePoint created;
  TimePoint modified;
  std::vector<ColumnSpec> columns;
  std::vector<ItemSpec> items;  // sorted by id
  // Delta bookkeeping: change sequence → item id, the newest change per item.
  std::map<uint64_t, int> changes;
  uint64_t change_seq = 0;
  uint64_t delta_epoch = 1;
  int next_item_id = 1;

  const ColumnSpec* column(std::string_view internal_name) const;
  int column_index(std::string_view internal_name) const;
  ItemSpec* item(int id);
  const ItemSpec* item(int id) const;
  // Records a change to `item` for delta queries.
  void touch(ItemSpec& item);
};

struct SiteSpec {
  std::string host;
  std::string path;  // server-relative, "/sites/Sales"; "/" for the root site
  std::string display_name;
  std::string description;
  std::string site_collection_id;
  std::string web_id;
  TimePoint created;
  TimePoint modified;
  std::vector<std::unique_ptr<ListSpec>> lists;

  std::string id() const { return host + "," + site_collection_id + "," + web_id; }
  std::string web_url() const;
  std::string name() const;  // last path segment
};

struct TenantSpec {
  std::string id;
  std::string display_name;
  std::vector<std::string> domains;
  std::vector<AppSpec> apps;
  std::vector<UserSpec> users;
  std::vector<std::unique_ptr<SiteSpec>> sites;

  const UserSpec* user_by_lookup_id(int lookup_id) const;
};

struct Fixture {
  std::vector<std::unique_ptr<TenantSpec>> tenants;
  std::optional<int> token_lifetime_seconds;
  Faults faults;
};

// Parses a fixture (YAML or JSON text). `base_dir` resolves `pem_file` references.
// Errors read "tenants[0].sites[0].lists[1].columns[2].type (line 14): unknown type 'txt' ...".
Result<Fixture> parse_fixture(const std::string& text, const std::string& base_dir = ".");
Result<Fixture> load_fixture_file(const std::string& path);

// Adds `count` deterministic items to the list titled (or with id) `list_ref`.
extdata::Status generate_items(Fixture& fixture, const std::string& list_ref, int count);

// Admin mutation: creates or updates an item from {"id": N?, "fields": {...}} (YAML or
// JSON); an empty or null value clears a field. Returns the item id.
Result<int> apply_item_update(const TenantSpec& tenant, ListSpec& list, const std::string& body,
                              TimePoint now);

// RFC 3339 UTC ("2024-03-05T10:15:00Z"); parse accepts an optional fraction and offset.
std::string format_time(TimePoint t);
std::optional<TimePoint> parse_time(std::string_view text);
bool is_guid(std::string_view text);
// A deterministic GUID derived from text (for ids a fixture leaves out).
std::string derived_guid(std::string_view seed);

}  // namespace graphsim
