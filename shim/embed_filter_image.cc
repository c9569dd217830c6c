// fpshim-embed-filter-image OUT: a build-time tool. Parses the default filter (default_filter.h,
// which fpshim-embed-filter compiles from rules.json) with the shim's own Filter::parse and writes
// the parsed Filter to OUT as a C++ header: constant data that libfpshim.so uses in place (.rodata)
// for processes without FPSHIM_FILTER, instead of parsing the text at every start. It is built
// once for each layout of Filter the shim variants have (the x86-64 one, and -m32 for i386); the
// header checks that layout (Filter::layout()), so a variant cannot compile another's image. Not
// installed.
#include <stdio.h>

#include "default_filter.h"
#include "filter.h"

namespace {

fpshim::Filter g_filter;  // static: all zero, padding included, before parse()

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fputs("usage: fpshim-embed-filter-image OUT\n", stderr);
    return 2;
  }
  if (!g_filter.parse(fpshim::kDefaultFilter) || !g_filter.well_formed()) {
    fputs("fpshim-embed-filter-image: the default filter does not parse\n", stderr);
    return 2;
  }
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(&g_filter);
  size_t used = sizeof g_filter;  // the zeros at the end are left to the initializer
  while (used > 0 && bytes[used - 1] == 0) used--;
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= int(sizeof tmp)) return 2;
  FILE* out = fopen(tmp, "w");
  if (out == nullptr) return 2;
  fprintf(out,
          "// Generated at build time by fpshim-embed-filter-image: do not edit. kDefaultFilter as\n"
          "// Filter::parse() leaves it, for a Filter of this layout only.\n"
          "#pragma once\n\n#include \"default_filter.h\"\n#include \"shim/filter.h\"\n\nnamespace fpshim {\n\n"
          "static_assert(Filter::layout() == 0x%016llxu && sizeof(Filter) == %zu,\n"
          "              \"this image was made for another layout of Filter\");\n\n"
          "struct DefaultFilterBytes {\n  unsigned char bytes[%zu];\n};\n\n"
          "constexpr Filter kDefaultFilterImage = __builtin_bit_cast(Filter, DefaultFilterBytes{{",
          static_cast<unsigned long long>(fpshim::Filter::layout()), sizeof g_filter, sizeof g_filter);
  for (size_t i = 0; i < used; i++) fprintf(out, "%s%u,", i % 32 == 0 ? "\n" : "", bytes[i]);
  fputs("}});\n\n}  // namespace fpshim\n", out);
  if (fclose(out) != 0 || rename(tmp, argv[1]) != 0) return 2;
  return 0;
}
