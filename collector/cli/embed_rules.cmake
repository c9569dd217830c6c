# cmake -DRULES=rules.json -DOUT=builtin_rules.h -P embed_rules.cmake: a build-time step
# (collector/CMakeLists.txt). Writes the shipped rules.json into a header as the text of the rules
# built into fpshim, the default when no rules file is found (cli/locate.h), so that a copied fpshim
# needs no file beside it.
file(READ "${RULES}" text)
string(FIND "${text}" ")fpshim_rules\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${RULES} contains the raw string's delimiter")
endif()
file(WRITE "${OUT}.tmp" "// Generated at build time by collector/cli/embed_rules.cmake from ${RULES}: do not edit.
#pragma once

namespace fpshim {

// The rules.json this fpshim was built with.
inline constexpr char kBuiltinRules[] = R\"fpshim_rules(${text})fpshim_rules\";

}  // namespace fpshim
")
file(RENAME "${OUT}.tmp" "${OUT}")
