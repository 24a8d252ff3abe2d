#include "store/open_store.h"

#include <filesystem>

#include "store/postgres/pg.h"
#include "store/postgres/postgres_store.h"

namespace extdata::store {

std::string resolve_store_url(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("EXTDATA_STORE"); env && *env) return env;
  return {};
}

Result<std::unique_ptr<Store>> open_store(const StoreChoice& choice) {
  if (!choice.url.empty()) return open_postgres_store(choice.url, PostgresOptions{});
  std::error_code ec;
  if (!choice.create && !std::filesystem::exists(choice.data_dir + "/extdata.db", ec))
    return Error("store.not_found", "there is no extdata store in " + choice.data_dir,
                 "Pass --data DIR (or set EXTDATA_DATA) to the directory that holds extdata.db, "
                 "or create a store there with `extdata init` or `extdata apply FILE`.")
        .with("data_dir", choice.data_dir);
  return open_sqlite_store(choice.data_dir);
}

std::string describe_store(const StoreChoice& choice) {
  if (choice.url.empty()) return choice.data_dir;
  auto target = pg::parse_target(choice.url);
  return target.ok() ? "postgresql://" + target->label : std::string("the PostgreSQL store");
}

}  // namespace extdata::store
