// What the collector's tests share: their rules text, rules from text, a record delivered as ingest
// would deliver it, and the text report as a string.
#pragma once

#include <doctest/doctest.h>

#include <stdio.h>
#include <stdlib.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collector_records.h"
#include "ingest/record_sink.h"
#include "report/report_text.h"
#include "rules/rules.h"

namespace fpshim::test {

// A recipe as the collector tests write it: `name`, the heading they all share (title "Machine",
// importance medium, Discovery / T1082, guidance "c", "s", "p"), then `fields`, the rest of the
// object: R"("match": [{"path": "/proc/ioports"}])", maybe an "exclude" or "operations" too.
inline std::string recipe_json(std::string_view name, std::string_view fields) {
  return R"({"name": ")" + std::string(name) + R"(", "title": "Machine", "description": "d", "importance": "medium",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1082", "name": "SID"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   )" + std::string(fields) +
         "}";
}

// A rules file (schema 1) of `recipes`: recipe objects separated by commas.
inline std::string rules_json(std::string_view recipes) {
  return R"({"schema": 1, "recipes": [)" + std::string(recipes) + "]}";
}

// A process that said hello: pid, argv and exe.
inline ProcessRef proc(int32_t pid, std::vector<std::string> argv, std::string exe) {
  return ProcessRef{pid, true, std::move(exe), std::move(argv), {}};
}

inline Rules load_rules(const char* text) {
  LoadedRules loaded = parse_rules(text, "rules.json");
  for (const RulesError& e : loaded.errors) MESSAGE(e.str());
  REQUIRE(loaded.ok());
  return std::move(loaded.rules);
}

// Encodes the record (already numbered), decodes it and hands it to `sink`.
inline void deliver(RecordSink& sink, const RecordSpec& numbered) {
  const std::string bytes = encode(numbered);
  wire::Header h;
  std::vector<wire::Bytes> strings(64);
  const int n = wire::decode(bytes.data(), bytes.size(), &h, strings.data(), uint32_t(strings.size()));
  REQUIRE(n >= 0);
  sink.on_record(h, std::span<const wire::Bytes>(strings.data(), size_t(n)));
}

inline std::string text_report(const Summary& s) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  write_text_report(s, f);
  fclose(f);
  std::string out(buf, len);
  free(buf);
  return out;
}

}  // namespace fpshim::test
