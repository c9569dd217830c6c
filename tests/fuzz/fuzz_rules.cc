// libFuzzer target: the rules loader (JSON with positions, the schema checks, patterns and regexes)
// and, for rules it accepts, the pre-filter compiled from them and read back by the shim's parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rules/compile_filter.h"
#include "rules/rules.h"
#include "rules/suppressions.h"
#include "shim/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fpshim::LoadedRules loaded = fpshim::parse_rules(text, "rules.json");
  for (const fpshim::RulesError& e : loaded.errors) (void)e.str();
  if (loaded.ok()) {
    static fpshim::Filter filter;
    const std::string spec = fpshim::compile_filter(loaded.rules);
    // What the collector compiles, the shim must accept.
    if (!filter.parse(spec.c_str())) __builtin_trap();
  }
  (void)fpshim::parse_suppressions(text, "suppressions.json");
  return 0;
}
