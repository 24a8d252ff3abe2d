#include "fixture.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/strings.h"
#include "yaml_reader.h"

namespace graphsim {

using extdata::lower;

using extdata::Error;
using extdata::Status;

namespace {

constexpr const char* kDefaultCreated = "2023-01-16T09:00:00Z";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// SharePoint's internal-name encoding: characters other than ASCII letters, digits
// and '_' become _xHHHH_ (UTF-16 code unit, lower-case hex): "Account Manager" →
// "Account_x0020_Manager".
std::string encode_internal_name(std::string_view display) {
  std::string out;
  size_t i = 0;
  auto append_unit = [&out](unsigned int unit) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "_x%04x_", unit);
    out += buf;
  };
  while (i < display.size()) {
    unsigned char c = static_cast<unsigned char>(display[i]);
    if (std::isalnum(c) || c == '_') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    unsigned int cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < display.size() + 0) {
      cp = ((c & 0x07u) << 18) | ((display[i + 1] & 0x3Fu) << 12) |
           ((display[i + 2] & 0x3Fu) << 6) | (display[i + 3] & 0x3Fu);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < display.size()) {
      cp = ((c & 0x0Fu) << 12) | ((display[i + 1] & 0x3Fu) << 6) | (display[i + 2] & 0x3Fu);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < display.size()) {
      cp = ((c & 0x1Fu) << 6) | (display[i + 1] & 0x3Fu);
      len = 2;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_unit(0xD800 + (cp >> 10));
      append_unit(0xDC00 + (cp & 0x3FF));
    } else {
      append_unit(cp);
    }
    i += len;
  }
  return out;
}

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: cheap, deterministic spreading
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct Parser {
  std::string base_dir;

  Result<std::string> guid(const YamlReader& node, const std::string& fallback_seed) {
    if (!node.present()) return derived_guid(fallback_seed);
    EXTDATA_ASSIGN_OR_RETURN(std::string value, node.string());
    if (!is_guid(value)) {
      return node.error("expected a GUID such as 6f1d2e3a-0000-4000-8000-00000000c0de, got '" +
                        value + "'");
    }
    return lower(value);
  }

  Result<TimePoint> time(const YamlReader& node, const std::string& fallback) {
    std::string text = fallback;
    if (node.present()) {
      EXTDATA_ASSIGN_OR_RETURN(text, node.string());
    }
    auto t = parse_time(text);
    if (!t)
      return node.error("expected an RFC 3339 time such as 2026-01-31T00:00:00Z, got '" + text +
                        "'");
    return *t;
  }

  Result<AppSpec> app(const YamlReader& n, const TenantSpec& tenant) {
    EXTDATA_TRY(n.expect_map());
    EXTDATA_TRY(n.only_keys({"client_id", "display_name", "secrets", "certificates", "roles",
                             "admin_consent", "service_principal_id"}));
    AppSpec app;
    EXTDATA_ASSIGN_OR_RETURN(std::string client_id, n["client_id"].string());
    if (!is_guid(client_id))
      return n["client_id"].error("expected a GUID, got '" + client_id + "'");
    app.client_id = lower(client_id);
    EXTDATA_ASSIGN_OR_RETURN(app.display_name, n["display_name"].string_or(app.client_id));
    EXTDATA_ASSIGN_OR_RETURN(app.roles, n["roles"].string_list());
    EXTDATA_ASSIGN_OR_RETURN(app.admin_consent, n["admin_consent"].boolean_or(false));
    EXTDATA_ASSIGN_OR_RETURN(app.service_principal_id,
                             guid(n["service_principal_id"], "sp:" + tenant.id + app.client_id));
    auto secrets = n["secrets"];
    if (secrets.present()) {
      EXTDATA_TRY(secrets.expect_sequence());
      for (size_t i = 0; i < secrets.size(); ++i) {
        auto s = secrets.at(i);
        EXTDATA_TRY(s.expect_map());
        EXTDATA_TRY(s.only_keys({"id", "value", "display_name", "expires"}));
        SecretSpec secret;
        EXTDATA_ASSIGN_OR_RETURN(secret.value, s["value"].string());
        if (secret.value.empty()) return s["value"].error("a secret value must not be empty");
        EXTDATA_ASSIGN_OR_RETURN(secret.id, guid(s["id"], "secret:" + secret.value));
        EXTDATA_ASSIGN_OR_RETURN(secret.display_name, s["display_name"].string_or(""));
        if (!s["expires"].present()) {
          return s["expires"].error("required value is missing",
                                    "client secrets always expire: give a time such as "
                                    "2099-12-31T00:00:00Z");
        }
        EXTDATA_ASSIGN_OR_RETURN(secret.expires, time(s["expires"], ""));
        app.secrets.push_back(std::move(secret));
      }
    }
    auto certs = n["certificates"];
    if (certs.present()) {
      EXTDATA_TRY(certs.expect_sequence());
      for (size_t i = 0; i < certs.size(); ++i) {
        auto c = certs.at(i);
        EXTDATA_TRY(c.expect_map());
        EXTDATA_TRY(c.only_keys({"pem", "pem_file", "display_name"}));
        std::string pem;
        if (c["pem"].present()) {
          EXTDATA_ASSIGN_OR_RETURN(pem, c["pem"].string());
        } else if (c["pem_file"].present()) {
          EXTDATA_ASSIGN_OR_RETURN(std::string file, c["pem_file"].string());
          std::filesystem::path p(file);
          if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
          std::ifstream in(p, std::ios::binary);
          if (!in) return c["pem_file"].error("cannot read '" + p.string() + "'");
          std::stringstream ss;
          ss << in.rdbuf();
          pem = ss.str();
        } else {
          return c.error("a certificate needs `pem` (inline PEM) or `pem_file`");
        }
        auto parsed = parse_certificate_pem(pem);
        if (!parsed.ok()) {
          return (c["pem"].present() ? c["pem"] : c["pem_file"])
              .error(parsed.error().message, parsed.error().hint);
        }
        CertificateSpec spec;
        spec.certificate = std::move(parsed).value();
        EXTDATA_ASSIGN_OR_RETURN(spec.display_name, c["display_name"].string_or(""));
        app.certificates.push_back(std::move(spec));
      }
    }
    return app;
  }

  Result<ColumnSpec> column(const YamlReader& n, const ListSpec& list) {
    EXTDATA_TRY(n.expect_map());
    EXTDATA_TRY(n.only_keys({"name", "display_name", "id", "type", "indexed", "hidden", "read_only",
                             "required", "choices", "lookup_list"}));
    ColumnSpec col;
    if (!n["name"].present() && !n["display_name"].present()) {
      return n.error("a column needs `display_name` (and optionally its internal `name`)");
    }
    EXTDATA_ASSIGN_OR_RETURN(col.display_name, n["display_name"].string_or(""));
    EXTDATA_ASSIGN_OR_RETURN(col.name, n["name"].string_or(encode_internal_name(col.display_name)));
    if (col.display_name.empty()) col.display_name = col.name;
    for (char c : col.name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        return n["name"].error(
            "internal names use letters, digits and '_' only ('" + col.name + "')",
            "SharePoint encodes other characters, e.g. a space as _x0020_");
      }
    }
    EXTDATA_ASSIGN_OR_RETURN(col.id, guid(n["id"], "column:" + list.id + col.name));
    EXTDATA_ASSIGN_OR_RETURN(std::string type, n["type"].string_or("text"));
    static const std::pair<const char*, ColumnType> kTypes[] = {
        {"text", ColumnType::Text},
        {"number", ColumnType::Number},
        {"currency", ColumnType::Currency},
        {"boolean", ColumnType::Boolean},
        {"choice", ColumnType::Choice},
        {"dateTime", ColumnType::DateTime},
        {"personOrGroup", ColumnType::PersonOrGroup},
        {"lookup", ColumnType::Lookup}};
    bool found = false;
    for (const auto& [name, t] : kTypes) {
      if (type == name) {
        col.type = t;
        found = true;
      }
    }
    if (!found) {
      return n["type"].error("unknown column type '" + type + "'",
                             "use text, number, currency, boolean, choice, dateTime, "
                             "personOrGroup or lookup (Graph's facet names)");
    }
    EXTDATA_ASSIGN_OR_RETURN(col.indexed, n["indexed"].boolean_or(false));
    EXTDATA_ASSIGN_OR_RETURN(col.hidden, n["hidden"].boolean_or(false));
    EXTDATA_ASSIGN_OR_RETURN(col.read_only, n["read_only"].boolean_or(false));
    EXTDATA_ASSIGN_OR_RETURN(col.required, n["required"].boolean_or(col.name == "Title"));
    EXTDATA_ASSIGN_OR_RETURN(col.choices, n["choices"].string_list());
    EXTDATA_ASSIGN_OR_RETURN(col.lookup_list_id, n["lookup_list"].string_or(""));
    return col;
  }

  // Validates and normalises one field value; nullopt = empty (omitted like Graph does).
  Result<std::optional<nlohmann::json>> value(const YamlReader& n, const ColumnSpec& col,
                                              const TenantSpec& tenant) {
    if (!n.present()) return std::optional<nlohmann::json>{};
    EXTDATA_ASSIGN_OR_RETURN(std::string text, n.string());
    if (text.empty()) return std::optional<nlohmann::json>{};
    switch (col.type) {
      case ColumnType::Text:
        return std::optional<nlohmann::json>(text);
      case ColumnType::Choice:
        if (!col.choices.empty() &&
            std::find(col.choices.begin(), col.choices.end(), text) == col.choices.end()) {
          return n.error("'" + text + "' is not one of the choices of column " + col.name);
        }
        return std::optional<nlohmann::json>(text);
      case ColumnType::Number:
      case ColumnType::Currency: {
        EXTDATA_ASSIGN_OR_RETURN(double d, n.number());
        if (d == static_cast<double>(static_cast<long long>(d)) && std::abs(d) < 9e15) {
          return std::optional<nlohmann::json>(static_cast<long long>(d));
        }
        return std::optional<nlohmann::json>(d);
      }
      case ColumnType::Boolean: {
        EXTDATA_ASSIGN_OR_RETURN(bool b, n.boolean());
        return std::optional<nlohmann::json>(b);
      }
      case ColumnType::DateTime: {
        auto t = parse_time(text);
        if (!t) return n.error("expected an RFC 3339 time, got '" + text + "'");
        return std::optional<nlohmann::json>(format_time(*t));
      }
      case ColumnType::PersonOrGroup: {
        for (const auto& u : tenant.users) {
          if (lower(u.email) == lower(text) || std::to_string(u.lookup_id) == text) {
            return std::optional<nlohmann::json>(std::to_string(u.lookup_id));
          }
        }
        return n.error("no user with lookup id or email '" + text + "' in this tenant",
                       "person columns refer to tenants[].users by lookup_id or email");
      }
      case ColumnType::Lookup: {
        EXTDATA_ASSIGN_OR_RETURN(long long id, n.integer());
        if (id <= 0) return n.error("a lookup value is a positive item id");
        return std::optional<nlohmann::json>(std::to_string(id));
      }
    }
    return std::optional<nlohmann::json>{};
  }

  Result<int> user_ref(const YamlReader& n, const TenantSpec& tenant) {
    EXTDATA_ASSIGN_OR_RETURN(std::string text, n.string());
    for (const auto& u : tenant.users) {
      if (lower(u.email) == lower(text) || std::to_string(u.lookup_id) == text) return u.lookup_id;
    }
    return n.error("no user with lookup id or email '" + text + "' in this tenant");
  }

  Status items(const YamlReader& n, ListSpec& list, const TenantSpec& tenant) {
    if (!n.present()) return {};
    EXTDATA_TRY(n.expect_sequence());
    std::set<int> ids;
    int default_author = tenant.users.empty() ? 1 : tenant.users.front().lookup_id;
    for (size_t i = 0; i < n.size(); ++i) {
      auto it = n.at(i);
      EXTDATA_TRY(it.expect_map());
      EXTDATA_TRY(it.only_keys({"id", "fields", "created", "modified", "created_by", "modified_by",
                                "version", "deleted"}));
      ItemSpec item;
      EXTDATA_ASSIGN_OR_RETURN(long long id, it["id"].integer_or(list.next_item_id));
      if (id <= 0) return it["id"].error("item ids are positive integers");
      if (!ids.insert(static_cast<int>(id)).second) {
        return it["id"].error("duplicate item id " + std::to_string(id));
      }
      item.id = static_cast<int>(id);
      list.next_item_id = std::max(list.next_item_id, item.id + 1);
      item.unique_id = derived_guid("item:" + list.id + ":" + std::to_string(item.id));
      EXTDATA_ASSIGN_OR_RETURN(long long version, it["version"].integer_or(1));
      item.version = static_cast<int>(std::max(1LL, version));
      TimePoint default_created = list.created + std::chrono::minutes(37LL * item.id);
      EXTDATA_ASSIGN_OR_RETURN(item.created, time(it["created"], format_time(default_created)));
      EXTDATA_ASSIGN_OR_RETURN(
          item.modified,
          time(it["modified"], format_time(item.created + std::chrono::hours(24 * (item.id % 5)))));
      item.author_lookup_id = default_author;
      if (it["created_by"].present()) {
        EXTDATA_ASSIGN_OR_RETURN(item.author_lookup_id, user_ref(it["created_by"], tenant));
      }
      item.editor_lookup_id = item.author_lookup_id;
      if (it["modified_by"].present()) {
        EXTDATA_ASSIGN_OR_RETURN(item.editor_lookup_id, user_ref(it["modified_by"], tenant));
      }
      EXTDATA_ASSIGN_OR_RETURN(item.deleted, it["deleted"].boolean_or(false));
      auto fields = it["fields"];
      if (fields.present()) {
        EXTDATA_TRY(fields.expect_map());
        for (const auto& entry : fields.node()) {
          std::string key = entry.first.Scalar();
          YamlReader field = fields[key];
          int index = list.column_index(key);
          if (index < 0) {
            std::string names;
            for (const auto& c : list.columns) names += (names.empty() ? "" : ", ") + c.name;
            return field.error(
                "no column with internal name '" + key + "' in list '" + list.display_name + "'",
                "fields use internal names: " + names);
          }
          EXTDATA_ASSIGN_OR_RETURN(auto v, value(field, list.columns[index], tenant));
          if (v) item.values.emplace_back(static_cast<uint16_t>(index), std::move(*v));
        }
        std::sort(item.values.begin(), item.values.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      list.items.push_back(std::move(item));
    }
    std::sort(list.items.begin(), list.items.end(),
              [](const ItemSpec& a, const ItemSpec& b) { return a.id < b.id; });
    for (auto& item : list.items) list.touch(item);
    return {};
  }

  Result<std::unique_ptr<ListSpec>> list(const YamlReader& n, const SiteSpec& site,
                                         const TenantSpec& tenant) {
    EXTDATA_TRY(n.expect_map());
    EXTDATA_TRY(n.only_keys({"title", "name", "id", "description", "template", "hidden", "system",
                             "created", "modified", "columns", "items"}));
    auto list = std::make_unique<ListSpec>();
    EXTDATA_ASSIGN_OR_RETURN(list->display_name, n["title"].string());
    std::string url_name;
    for (char c : list->display_name) {
      if (c != ' ') url_name.push_back(c);
    }
    EXTDATA_ASSIGN_OR_RETURN(list->name, n["name"].string_or(url_name));
    EXTDATA_ASSIGN_OR_RETURN(list->id, guid(n["id"], "list:" + site.id() + list->display_name));
    EXTDATA_ASSIGN_OR_RETURN(list->description, n["description"].string_or(""));
    EXTDATA_ASSIGN_OR_RETURN(list->template_name, n["template"].string_or("genericList"));
    EXTDATA_ASSIGN_OR_RETURN(list->hidden, n["hidden"].boolean_or(false));
    EXTDATA_ASSIGN_OR_RETURN(list->system, n["system"].boolean_or(false));
    EXTDATA_ASSIGN_OR_RETURN(list->created, time(n["created"], format_time(site.created)));
    EXTDATA_ASSIGN_OR_RETURN(list->modified, time(n["modified"], format_time(list->created)));
    auto cols = n["columns"];
    if (cols.present()) {
      EXTDATA_TRY(cols.expect_sequence());
      for (size_t i = 0; i < cols.size(); ++i) {
        EXTDATA_ASSIGN_OR_RETURN(ColumnSpec col, column(cols.at(i), *list));
        if (list->column(col.name) != nullptr) {
          return cols.at(i)["name"].error("duplicate column '" + col.name + "'");
        }
        list->columns.push_back(std::move(col));
      }
    }
    if (list->column("Title") == nullptr) {  // every generic list has Title
      ColumnSpec title;
      title.name = title.display_name = "Title";
      title.id = "fa564e0f-0c70-4ab9-b863-0177e6ddd247";  // SharePoint's well-known Title field id
      title.required = true;
      list->columns.insert(list->columns.begin(), std::move(title));
    }
    if (list->columns.size() > 60000) return cols.error("too many columns");
    EXTDATA_TRY(items(n["items"], *list, tenant));
    return list;
  }

  Result<std::unique_ptr<SiteSpec>> site(const YamlReader& n, const TenantSpec& tenant) {
    EXTDATA_TRY(n.expect_map());
    EXTDATA_TRY(n.only_keys({"host", "path", "display_name", "description", "site_collection_id",
                             "web_id", "created", "modified", "lists"}));
    auto site = std::make_unique<SiteSpec>();
    EXTDATA_ASSIGN_OR_RETURN(site->host, n["host"].string());
    if (site->host.find_first_of("/: ") != std::string::npos || site->host.empty()) {
      return n["host"].error("expected a host name such as contoso.sharepoint.com, got '" +
                             site->host + "'");
    }
    site->host = lower(site->host);
    EXTDATA_ASSIGN_OR_RETURN(site->path, n["path"].string_or("/"));
    if (site->path.empty() || site->path.front() != '/') {
      return n["path"].error("expected a server-relative path such as /sites/Sales");
    }
    while (site->path.size() > 1 && site->path.back() == '/') site->path.pop_back();
    EXTDATA_ASSIGN_OR_RETURN(site->display_name, n["display_name"].string_or(site->name()));
    EXTDATA_ASSIGN_OR_RETURN(site->description, n["description"].string_or(""));
    EXTDATA_ASSIGN_OR_RETURN(site->site_collection_id,
                             guid(n["site_collection_id"], "sc:" + site->host + site->path));
    EXTDATA_ASSIGN_OR_RETURN(site->web_id, guid(n["web_id"], "web:" + site->host + site->path));
    EXTDATA_ASSIGN_OR_RETURN(site->created, time(n["created"], kDefaultCreated));
    EXTDATA_ASSIGN_OR_RETURN(site->modified, time(n["modified"], format_time(site->created)));
    auto lists = n["lists"];
    if (lists.present()) {
      EXTDATA_TRY(lists.expect_sequence());
      for (size_t i = 0; i < lists.size(); ++i) {
        EXTDATA_ASSIGN_OR_RETURN(auto list, list(lists.at(i), *site, tenant));
        for (const auto& other : site->lists) {
          if (lower(other->display_name) == lower(list->display_name) || other->id == list->id) {
            return lists.at(i)["title"].error("two lists with the same title or id in one site");
          }
        }
        site->lists.push_back(std::move(list));
      }
    }
    return site;
  }

  Result<std::unique_ptr<TenantSpec>> tenant(const YamlReader& n) {
    EXTDATA_TRY(n.expect_map());
    EXTDATA_TRY(n.only_keys({"id", "display_name", "domains", "apps", "users", "sites"}));
    auto tenant = std::make_unique<TenantSpec>();
    EXTDATA_ASSIGN_OR_RETURN(std::string id, n["id"].string());
    if (!is_guid(id)) return n["id"].error("a tenant id is a GUID, got '" + id + "'");
    tenant->id = lower(id);
    EXTDATA_ASSIGN_OR_RETURN(tenant->display_name, n["display_name"].string_or("Tenant"));
    EXTDATA_ASSIGN_OR_RETURN(tenant->domains, n["domains"].string_list());
    for (auto& d : tenant->domains) d = lower(d);
    auto users = n["users"];
    if (users.present()) {
      EXTDATA_TRY(users.expect_sequence());
      for (size_t i = 0; i < users.size(); ++i) {
        auto u = users.at(i);
        EXTDATA_TRY(u.expect_map());
        EXTDATA_TRY(u.only_keys({"lookup_id", "id", "display_name", "email"}));
        UserSpec user;
        EXTDATA_ASSIGN_OR_RETURN(long long lookup,
                                 u["lookup_id"].integer_or(static_cast<long long>(i) + 1));
        user.lookup_id = static_cast<int>(lookup);
        EXTDATA_ASSIGN_OR_RETURN(user.display_name, u["display_name"].string());
        EXTDATA_ASSIGN_OR_RETURN(user.email, u["email"].string_or(""));
        EXTDATA_ASSIGN_OR_RETURN(user.id, guid(u["id"], "user:" + tenant->id + user.display_name));
        if (tenant->user_by_lookup_id(user.lookup_id) != nullptr) {
          return u["lookup_id"].error("duplicate lookup_id " + std::to_string(user.lookup_id));
        }
        tenant->users.push_back(std::move(user));
      }
    }
    auto apps = n["apps"];
    if (apps.present()) {
      EXTDATA_TRY(apps.expect_sequence());
      for (size_t i = 0; i < apps.size(); ++i) {
        EXTDATA_ASSIGN_OR_RETURN(AppSpec app, app(apps.at(i), *tenant));
        for (const auto& other : tenant->apps) {
          if (other.client_id == app.client_id) {
            return apps.at(i)["client_id"].error("duplicate client_id in this tenant");
          }
        }
        tenant->apps.push_back(std::move(app));
      }
    }
    auto sites = n["sites"];
    if (sites.present()) {
      EXTDATA_TRY(sites.expect_sequence());
      for (size_t i = 0; i < sites.size(); ++i) {
        EXTDATA_ASSIGN_OR_RETURN(auto site, site(sites.at(i), *tenant));
        tenant->sites.push_back(std::move(site));
      }
    }
    return tenant;
  }
};

}  // namespace

const char* column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::Text:
      return "text";
    case ColumnType::Number:
      return "number";
    case ColumnType::Currency:
      return "currency";
    case ColumnType::Boolean:
      return "boolean";
    case ColumnType::Choice:
      return "choice";
    case ColumnType::DateTime:
      return "dateTime";
    case ColumnType::PersonOrGroup:
      return "personOrGroup";
    case ColumnType::Lookup:
      return "lookup";
  }
  return "text";
}

std::string ColumnSpec::field_key() const {
  if (type == ColumnType::PersonOrGroup || type == ColumnType::Lookup) return name + "LookupId";
  return name;
}

const ColumnSpec* ListSpec::column(std::string_view internal_name) const {
  int i = column_index(internal_name);
  return i < 0 ? nullptr : &columns[static_cast<size_t>(i)];
}

int ListSpec::column_index(std::string_view internal_name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == internal_name) return static_cast<int>(i);
  }
  return -1;
}

ItemSpec* ListSpec::item(int id) {
  auto it = std::lower_bound(items.begin(), items.end(), id,
                             [](const ItemSpec& item, int v) { return item.id < v; });
  return it != items.end() && it->id == id ? &*it : nullptr;
}

const ItemSpec* ListSpec::item(int id) const {
  return const_cast<ListSpec*>(this)->item(id);
}

void ListSpec::touch(ItemSpec& item) {
  if (item.change_seq != 0) changes.erase(item.change_seq);
  item.change_seq = ++change_seq;
  changes[item.change_seq] = item.id;
}

std::string SiteSpec::web_url() const {
  return "https://" + host + (path == "/" ? std::string() : path);
}

std::string SiteSpec::name() const {
  size_t slash = path.find_last_of('/');
  std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
  return last.empty() ? host : last;
}

const UserSpec* TenantSpec::user_by_lookup_id(int lookup_id) const {
  for (const auto& u : users) {
    if (u.lookup_id == lookup_id) return &u;
  }
  return nullptr;
}

// Digits written directly: pages of thousands of items format several times per item, and
// strftime's locale handling was a tenth of graphsim's time serving them.
std::string format_time(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string out = "0000-00-00T00:00:00Z";
  auto put = [&out](size_t at, int value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      out[at + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  const int year = tm.tm_year + 1900;
  if (year < 0 || year > 9999) {
    char buf[48];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  put(0, year, 4);
  put(5, tm.tm_mon + 1, 2);
  put(8, tm.tm_mday, 2);
  put(11, tm.tm_hour, 2);
  put(14, tm.tm_min, 2);
  put(17, tm.tm_sec, 2);
  return out;
}

std::optional<TimePoint> parse_time(std::string_view text) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  int consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
      6) {
    consumed = 0;
    if (std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 ||
        static_cast<size_t>(consumed) != str.size()) {
      return std::nullopt;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
  }
  long offset_seconds = 0;
  if (rest == "Z" || rest == "z" || (rest.empty() && consumed > 10)) {
  } else if (rest.empty()) {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) {
      return std::nullopt;
    }
    offset_seconds = (oh * 3600L + om * 60L) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs - offset_seconds);
}

bool is_guid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!is_hex(text[i])) {
      return false;
    }
  }
  return true;
}

std::string derived_guid(std::string_view seed) {
  std::string digest = sha256(seed);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    unsigned char c = static_cast<unsigned char>(digest[i]);
    if (i == 6) c = static_cast<unsigned char>((c & 0x0F) | 0x40);  // version 4 shape
    if (i == 8) c = static_cast<unsigned char>((c & 0x3F) | 0x80);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

Result<Fixture> parse_fixture(const std::string& text, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Error("graphsim.fixture",
                 "fixture (line " + std::to_string(e.mark.line + 1) + "): " + e.msg,
                 "the fixture is YAML or JSON");
  }
  YamlReader r(root, "");
  if (!root.IsMap()) return r.error("expected a mapping with `tenants:` at the top level");
  EXTDATA_TRY(r.only_keys({"tenants", "token_lifetime_seconds", "faults"}));
  Fixture fixture;
  Parser parser{base_dir};
  auto tenants = r["tenants"];
  EXTDATA_TRY(tenants.expect_sequence());
  for (size_t i = 0; i < tenants.size(); ++i) {
    EXTDATA_ASSIGN_OR_RETURN(auto tenant, parser.tenant(tenants.at(i)));
    for (const auto& other : fixture.tenants) {
      bool clash = other->id == tenant->id;
      for (const auto& d : tenant->domains) {
        clash = clash ||
                std::find(other->domains.begin(), other->domains.end(), d) != other->domains.end();
      }
      if (clash) return tenants.at(i).error("tenant id or domain used by another tenant");
    }
    fixture.tenants.push_back(std::move(tenant));
  }
  if (r["token_lifetime_seconds"].present()) {
    EXTDATA_ASSIGN_OR_RETURN(long long lifetime, r["token_lifetime_seconds"].integer());
    if (lifetime < 1 || lifetime > 86400) {
      return r["token_lifetime_seconds"].error("must be between 1 and 86400 seconds");
    }
    fixture.token_lifetime_seconds = static_cast<int>(lifetime);
  }
  EXTDATA_ASSIGN_OR_RETURN(fixture.faults, parse_faults(r["faults"]));
  return fixture;
}

Result<Fixture> load_fixture_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error("graphsim.fixture", "cannot read fixture file '" + path + "'",
                 "check the path given to --fixture");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto dir = std::filesystem::path(path).parent_path();
  auto fixture = parse_fixture(ss.str(), dir.empty() ? "." : dir.string());
  if (!fixture.ok()) {
    Error e = fixture.error();
    e.message = path + ": " + e.message;
    return e;
  }
  return fixture;
}

Result<int> apply_item_update(const TenantSpec& tenant, ListSpec& list, const std::string& body,
                              TimePoint now) {
  YAML::Node root;
  try {
    root = YAML::Load(body);
  } catch (const YAML::Exception& e) {
    return Error("graphsim.admin",
                 "item body (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
  }
  YamlReader r(root, "item");
  EXTDATA_TRY(r.expect_map());
  EXTDATA_TRY(r.only_keys({"id", "fields"}));
  Parser parser{"."};
  EXTDATA_ASSIGN_OR_RETURN(long long id, r["id"].integer_or(list.next_item_id));
  if (id <= 0 || id > 1'000'000'000) return r["id"].error("item ids are positive integers");
  ItemSpec* item = list.item(static_cast<int>(id));
  if (item == nullptr) {
    ItemSpec fresh;
    fresh.id = static_cast<int>(id);
    fresh.unique_id = derived_guid("item:" + list.id + ":" + std::to_string(fresh.id));
    fresh.created = now;
    fresh.author_lookup_id = fresh.editor_lookup_id =
        tenant.users.empty() ? 1 : tenant.users.front().lookup_id;
    fresh.version = 0;
    auto pos = std::lower_bound(list.items.begin(), list.items.end(), fresh.id,
                                [](const ItemSpec& a, int v) { return a.id < v; });
    item = &*list.items.insert(pos, std::move(fresh));
    list.next_item_id = std::max(list.next_item_id, static_cast<int>(id) + 1);
  } else if (item->deleted) {
    return r["id"].error("item " + std::to_string(id) + " was deleted; ids are not reused");
  }
  auto fields = r["fields"];
  if (fields.present()) {
    EXTDATA_TRY(fields.expect_map());
    for (const auto& entry : fields.node()) {
      std::string key = entry.first.Scalar();
      int index = list.column_index(key);
      if (index < 0) return fields[key].error("no column with internal name '" + key + "'");
      EXTDATA_ASSIGN_OR_RETURN(auto v, parser.value(fields[key], list.columns[index], tenant));
      auto& values = item->values;
      values.erase(std::remove_if(values.begin(), values.end(),
                                  [&](const auto& p) { return p.first == index; }),
                   values.end());
      if (v) values.emplace_back(static_cast<uint16_t>(index), std::move(*v));
    }
    std::sort(item->values.begin(), item->values.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  ++item->version;
  item->modified = now;
  list.modified = now;
  list.touch(*item);
  return item->id;
}

Status generate_items(Fixture& fixture, const std::string& list_ref, int count) {
  if (count < 0 || count > 5'000'000) {
    return Error("graphsim.generate", "--generate-items count must be between 0 and 5000000");
  }
  ListSpec* target = nullptr;
  const TenantSpec* target_tenant = nullptr;
  std::string known;
  for (const auto& tenant : fixture.tenants) {
    for (const auto& site : tenant->sites) {
      for (const auto& list : site->lists) {
        known += (known.empty() ? "" : ", ") + list->display_name;
        if (lower(list->display_name) == lower(list_ref) || list->id == lower(list_ref)) {
          if (target != nullptr) {
            return Error("graphsim.generate", "more than one list is titled '" + list_ref + "'",
                         "use the list id instead");
          }
          target = list.get();
          target_tenant = tenant.get();
        }
      }
    }
  }
  if (target == nullptr) {
    return Error("graphsim.generate", "no list titled '" + list_ref + "' in the fixture",
                 "lists: " + known);
  }
  ListSpec& list = *target;
  // Value pools: generated items reuse the values the fixture already has, so a
  // generated Customers list still has real countries, cities and managers.
  std::vector<std::vector<nlohmann::json>> pools(list.columns.size());
  for (const auto& item : list.items) {
    for (const auto& [index, v] : item.values) {
      auto& pool = pools[index];
      if (pool.size() < 256 && std::find(pool.begin(), pool.end(), v) == pool.end()) {
        pool.push_back(v);
      }
    }
  }
  int default_author = target_tenant->users.empty() ? 1 : target_tenant->users.front().lookup_id;
  list.items.reserve(list.items.size() + static_cast<size_t>(count));
  for (int n = 0; n < count; ++n) {
    ItemSpec item;
    item.id = list.next_item_id++;
    item.unique_id = derived_guid("item:" + list.id + ":" + std::to_string(item.id));
    item.created = list.created + std::chrono::minutes(item.id);
    item.modified = item.created + std::chrono::hours(item.id % 48);
    item.author_lookup_id = item.editor_lookup_id = default_author;
    for (size_t c = 0; c < list.columns.size(); ++c) {
      const ColumnSpec& col = list.columns[c];
      uint64_t h = mix(static_cast<uint64_t>(item.id) * 1000003u + c);
      const auto& pool = pools[c];
      nlohmann::json v;
      if (col.name == "Title") {
        std::string base = list.display_name;
        if (!pool.empty() && pool[h % pool.size()].is_string()) {
          base = pool[h % pool.size()].get<std::string>();
        }
        v = base + " #" + std::to_string(item.id);
      } else if (h % 10 == 0 && !col.required) {
        continue;  // some empty values: Graph omits them, clients must cope
      } else if (!pool.empty()) {
        v = pool[h % pool.size()];
      } else {
        switch (col.type) {
          case ColumnType::Text:
            v = col.display_name + " " + std::to_string(h % 1000);
            break;
          case ColumnType::Choice:
            if (col.choices.empty()) continue;
            v = col.choices[h % col.choices.size()];
            break;
          case ColumnType::Number:
          case ColumnType::Currency:
            v = static_cast<long long>(h % 10'000'000);
            break;
          case ColumnType::Boolean:
            v = (h & 1) != 0;
            break;
          case ColumnType::DateTime:
            v = format_time(list.created + std::chrono::hours(static_cast<long>(h % 20000)));
            break;
          case ColumnType::PersonOrGroup:
            if (target_tenant->users.empty()) continue;
            v = std::to_string(target_tenant->users[h % target_tenant->users.size()].lookup_id);
            break;
          case ColumnType::Lookup:
            continue;
        }
      }
      item.values.emplace_back(static_cast<uint16_t>(c), std::move(v));
    }
    list.items.push_back(std::move(item));
    list.touch(list.items.back());
  }
  return {};
}

}  // namespace graphsim
