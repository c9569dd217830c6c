#include <doctest/doctest.h>

#include <string.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shim/ops.h"
#include "shim/repeats.h"

using fpshim::AccessText;
using fpshim::RepeatTable;

namespace {

AccessText text(const std::string& path, int32_t result = 0) {
  static std::vector<std::unique_ptr<std::string>> keep;
  keep.push_back(std::make_unique<std::string>(path));
  const std::string& p = *keep.back();
  return AccessText{"open",   fpshim::wire::op_read, 0,    result, p.data(), uint32_t(p.size()),
                    p.data(), uint32_t(p.size()),    false};
}

}  // namespace

TEST_CASE("repeats: first access at once, then powers of two, then the rest at flush") {
  auto table = std::make_unique<RepeatTable>();
  const AccessText a = text("/proc/ioports");
  std::vector<uint32_t> sent;
  for (int i = 0; i < 100; i++) {
    const fpshim::SendDecision d = table->note(a);
    if (d.count != 0) {
      CHECK(d.repeat == !sent.empty());
      sent.push_back(d.count);
    }
  }
  CHECK(sent == std::vector<uint32_t>{1, 1, 2, 4, 8, 16, 32});
  uint32_t flushed = 0;
  table->flush([&](const AccessText& t, fpshim::SendDecision d) {
    CHECK(std::string(t.resolved, t.resolved_len) == "/proc/ioports");
    CHECK(d.repeat);
    flushed += d.count;
  });
  CHECK(flushed == 100 - 64);
  table->flush([&](const AccessText&, fpshim::SendDecision) { FAIL("nothing is pending any more"); });
}

TEST_CASE("repeats: result and op are part of the key") {
  auto table = std::make_unique<RepeatTable>();
  CHECK(table->note(text("/proc/ioports", 0)).count == 1);
  CHECK(table->note(text("/proc/ioports", 2)).count == 1);
  AccessText w = text("/proc/ioports");
  w.op = fpshim::wire::op_write;
  CHECK(table->note(w).count == 1);
}

TEST_CASE("repeats: reset forgets, a full table sends every access") {
  auto table = std::make_unique<RepeatTable>();
  CHECK(table->note(text("/a")).count == 1);
  table->reset();
  CHECK(table->note(text("/a")).count == 1);
  const std::string long_path = "/" + std::string(RepeatTable::kText + 1, 'x');
  for (int i = 0; i < 3; i++) CHECK(table->note(text(long_path)).count == 1);
  for (unsigned i = 0; i < RepeatTable::kSlots; i++) table->note(text("/p" + std::to_string(i)));
  int sent_alone = 0;
  for (unsigned i = 0; i < RepeatTable::kSlots; i++) {
    const AccessText t = text("/q" + std::to_string(i));
    if (table->note(t).count == 1 && table->note(t).count == 1) sent_alone++;
  }
  CHECK(sent_alone > 0);
}

TEST_CASE("repeats: counts stay exact across threads") {
  auto table = std::make_unique<RepeatTable>();
  const AccessText a = text("/sys/class/net");
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&] {
      for (int i = 0; i < 25000; i++) total += table->note(a).count;
    });
  for (std::thread& t : threads) t.join();
  table->flush([&](const AccessText&, fpshim::SendDecision d) { total += d.count; });
  CHECK(total == 100000);
}

TEST_CASE("ops: open flags and fopen modes") {
  using namespace fpshim;
  CHECK(op_for_open_flags(O_RDONLY) == wire::op_read);
  CHECK(op_for_open_flags(O_WRONLY) == wire::op_write);
  CHECK(op_for_open_flags(O_RDWR) == (wire::op_read | wire::op_write));
  CHECK(op_for_open_flags(O_WRONLY | O_CREAT | O_TRUNC) == wire::op_write);
  CHECK(op_for_open_flags(O_RDONLY | O_CREAT) == (wire::op_read | wire::op_write));
  CHECK(op_for_open_flags(O_RDONLY | O_DIRECTORY) == wire::op_list);
  CHECK(op_for_open_flags(O_PATH | O_DIRECTORY) == wire::op_stat);
  CHECK(op_for_open_flags(O_TMPFILE | O_WRONLY) == wire::op_write);
  CHECK(op_for_fopen_mode("r") == wire::op_read);
  CHECK(op_for_fopen_mode("rbe") == wire::op_read);
  CHECK(op_for_fopen_mode("w") == wire::op_write);
  CHECK(op_for_fopen_mode("a") == wire::op_write);
  CHECK(op_for_fopen_mode("r+") == (wire::op_read | wire::op_write));
  CHECK(op_for_fopen_mode("wb+") == (wire::op_read | wire::op_write));
  CHECK(op_for_fopen_mode("r,ccs=UTF-8") == wire::op_read);
}
