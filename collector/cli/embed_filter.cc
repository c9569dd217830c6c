// fpshim-embed-filter RULES OUT: a build-time tool. Compiles the pre-filter from RULES with the
// compiler `fpshim run` uses (rules/compile_filter) and writes it to OUT as a C++ header, which
// libfpshim.so embeds as its default filter for processes that have only LD_PRELOAD (no
// FPSHIM_FILTER). Not installed.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "base/say.h"
#include "rules/compile_filter.h"
#include "rules/rules.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fpshim::say("usage: fpshim-embed-filter RULES OUT\n");
    return 2;
  }
  fpshim::LoadedRules loaded = fpshim::load_rules(argv[1]);
  for (const fpshim::RulesError& e : loaded.errors) fpshim::say("{}\n", e.str());
  if (!loaded.ok()) return 2;
  const std::string filter = fpshim::compile_filter(loaded.rules);
  std::string literal;
  for (char c : filter) {
    if (c == '"' || c == '\\') literal += '\\';
    if (c < 0x20 || c == 0x7f) literal += fmt::format("\\{:03o}", unsigned(static_cast<unsigned char>(c)));
    else literal += c;
  }
  const std::string tmp = std::string(argv[2]) + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "w");
  if (!out) return 2;
  fmt::print(out,
             "// Generated at build time by fpshim-embed-filter from {}: do not edit.\n"
             "#pragma once\n\nnamespace fpshim {{\n\n"
             "// The filter `fpshim check-rules` prints for the shipped rules.json.\n"
             "inline constexpr char kDefaultFilter[] = \"{}\";\n\n}}  // namespace fpshim\n",
             argv[1], literal);
  if (std::fclose(out) != 0 || std::rename(tmp.c_str(), argv[2]) != 0) return 2;
  return 0;
}
