// libFuzzer target: template compilation and rendering over a variable map.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "extract/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto compiled = extdata::extract::Template::compile(text);
  if (!compiled.ok()) return 0;
  std::map<std::string, std::string, std::less<>> variables;
  for (const std::string& name : compiled->referenced_names()) {
    if (name.size() % 2 == 0) variables[name] = "<" + name + ">";
  }
  const std::string rendered =
      compiled->render(extdata::extract::MapContext(variables),
                       [](std::string_view value) { return std::string(value); });
  (void)rendered;
  return 0;
}
