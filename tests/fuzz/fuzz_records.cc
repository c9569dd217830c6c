// libFuzzer target: a file of records (the process log, a spool file, the journal: records back to
// back as on the wire) read as the collector reads them, every record delivered to the aggregate,
// and the reports built from what it made of them.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>

#include "ingest/ingest.h"
#include "ingest/record_file.h"
#include "model/aggregate.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "rules/rules.h"

namespace {

const fpshim::Rules& rules() {
  static const fpshim::Rules r = fpshim::load_rules(FPSHIM_SOURCE_RULES).rules;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fpshim;
  static const int fd = memfd_create("fuzz_records", MFD_CLOEXEC);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) return 0;
  Stats stats;
  Aggregate aggregate(rules(), stats, [](const std::string&) { return Inspection{}; });
  aggregate.set_root(100, 1, 1, "/bin/sh", {"sh"});
  Ingest ingest(std::nullopt, stats);
  uint64_t offset = 0;
  read_records(fd, offset, [&](std::span<RecordBytes> records) {
    for (RecordBytes& r : records) ingest.deliver(r.data, r.size, 0, true, aggregate);
  });
  if (offset > size) __builtin_trap();
  Summary summary;
  aggregate.summarize(summary);
  (void)report_json(summary).dump(-1, ' ', false, Json::error_handler_t::replace);
  static FILE* null = std::fopen("/dev/null", "we");
  write_text_report(summary, null);
  return 0;
}
