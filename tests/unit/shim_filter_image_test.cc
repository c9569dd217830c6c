// The parsed filter built ahead of time: the image embedded in the library is what parse() makes of
// the embedded text, and a filter image file (shim/filter_image.h) is used only when nothing in it
// can lead a process out of bounds: each kind of damage is refused by map_filter_image().
#include <doctest/doctest.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include "default_filter_image.h"
#include "shim/filter.h"
#include "shim/filter_image.h"
#include "supervise/filter_image_file.h"

namespace fpshim {

// Reaches the fields of a Filter to damage them one at a time.
struct FilterImageProbe {
  using Damage = std::function<void(Filter&)>;
  static void each(const std::function<void(const char* what, const Damage&)>& check) {
    check("a link to a node past the last", [](Filter& f) {
      for (uint16_t& c : f.link_child_)
        if (c != 0) c = Filter::kNodes;
    });
    check("no empty link slot", [](Filter& f) {
      for (uint16_t& c : f.link_child_)
        if (c == 0) c = 1;
    });
    check("a link that holds a NUL", [](Filter& f) {
      for (unsigned h = 0; h < Filter::kLinks; h++)
        if (f.link_child_[h] != 0) f.link_chunk_[h] &= ~uint64_t(0xff) << 8;
    });
    check("a tail range past the end", [](Filter& f) { f.tails_of_['p' + 1].end = Filter::kTails + 1; });
    check("a tail range ending before it begins", [](Filter& f) { f.tails_of_['s' + 1].begin = 60000; });
    check("a wildcard tail to a node past the last", [](Filter& f) {
      for (auto& n : f.tail_next_)
        if (n.node != 0) n.node = 60000;
    });
    check("a wildcard tail of 8 bytes", [](Filter& f) {
      for (auto& n : f.tail_next_)
        if (n.node != 0) n.bytes = 200;
    });
    check("a wildcard tail that holds a NUL", [](Filter& f) {
      for (unsigned i = 0; i < Filter::kTails; i++)
        if (f.tail_next_[i].node != 0 && f.tail_next_[i].bytes > 0) f.tails_[i].bytes &= ~uint64_t(0xff);
    });
    check("a wildcard tail whose mask is not its length", [](Filter& f) {
      for (unsigned i = 0; i < Filter::kTails; i++)
        if (f.tail_next_[i].node != 0) f.tails_[i].mask = ~uint64_t(0);
    });
    check("more prefixes than fit", [](Filter& f) { f.nprefixes_ = Filter::kMaxEntries + 1; });
    check("a prefix past the text", [](Filter& f) { f.prefixes_[0].offset = Filter::kMaxText - 1; });
    check("a pattern of one byte", [](Filter& f) { f.patterns_[0].length = 1; });
    check("a basename past the text", [](Filter& f) {
      f.nbasenames_ = 1;
      f.basenames_[0] = {Filter::kMaxText, 1};
    });
    check("an index of prefixes past their count", [](Filter& f) { f.by_first_[256] = uint16_t(f.nprefixes_ + 1); });
    check("a flag that is neither 0 nor 1", [](Filter& f) { memset(&f.exact_only_, 2, 1); });
    check("a pid flag that is neither 0 nor 1", [](Filter& f) { memset(&f.tail_next_[0].pid, 7, 1); });
  }
  // What the tests cannot see from outside: every first byte rejected, a filter that hides all.
  static void reject_every_first_byte(Filter& f) { memset(f.first_, Filter::kReject, sizeof f.first_); }
};

}  // namespace fpshim

using fpshim::Filter;

namespace {

// The run-mode filter of a checkout (what `fpshim run` adds to the shipped one).
const std::string kSpec = std::string(fpshim::kDefaultFilter) + ":P/home/u/src/.git/hooks:P/home/u/.env";

struct ImageFile {
  std::string path;
  explicit ImageFile(const std::string& bytes) {
    char templ[] = "/tmp/fpshim-image-XXXXXX";
    const int fd = mkstemp(templ);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size()));
    close(fd);
    path = templ;
  }
  ~ImageFile() { unlink(path.c_str()); }
};

Filter& filter_in(std::string& bytes) { return *reinterpret_cast<Filter*>(bytes.data() + fpshim::kFilterImageOffset); }

}  // namespace

TEST_CASE("the library's default filter image is what parse() makes of the default filter text") {
  static Filter parsed;
  REQUIRE(parsed.parse(fpshim::kDefaultFilter));
  CHECK(memcmp(&parsed, &fpshim::kDefaultFilterImage, sizeof(Filter)) == 0);
  CHECK(fpshim::kDefaultFilterImage.well_formed());
  CHECK(fpshim::kDefaultFilterImage.matches("/etc/machine-id", 15));
}

TEST_CASE("a filter image file is used in place when it holds the filter of the spec given") {
  const std::string bytes = fpshim::filter_image(kSpec);
  CHECK(bytes == fpshim::filter_image(kSpec));  // the same bytes every time: nothing uninitialised
  ImageFile file(bytes);
  const Filter* f = fpshim::map_filter_image(file.path.c_str(), kSpec.c_str());
  REQUIRE(f != nullptr);
  static Filter parsed;
  parsed.parse(kSpec.c_str());
  CHECK(memcmp(f, &parsed, sizeof(Filter)) == 0);
  CHECK(f->matches("/home/u/src/.git/hooks/pre-commit", 33));
  CHECK(!f->matches("/home/u/src/main.c", 18));
  // The file's check, at the end of the build.
  CHECK(!fpshim::filter_image_tampering(file.path, bytes).has_value());
}

TEST_CASE("a filter image file whose header, size or spec is not the one given is refused") {
  const std::string good = fpshim::filter_image(kSpec);
  auto refused = [](const std::string& bytes, const std::string& spec) {
    ImageFile file(bytes);
    return fpshim::map_filter_image(file.path.c_str(), spec.c_str()) == nullptr;
  };
  CHECK(!refused(good, kSpec));
  CHECK(refused(good, kSpec + ":P/x"));                           // another spec
  CHECK(refused(good, kSpec.substr(0, kSpec.size() - 1) + "x"));  // one byte differs
  CHECK(refused(good.substr(0, good.size() - 1), kSpec));         // truncated
  CHECK(refused(good.substr(0, 4096), kSpec));                    // truncated far
  CHECK(refused(good + '\0', kSpec));                             // grown
  CHECK(refused(std::string(), kSpec));                           // empty
  std::string magic = good;
  magic[0] = 'F';
  CHECK(refused(magic, kSpec));
  std::string layout = good;
  layout[8] ^= 1;
  CHECK(refused(layout, kSpec));
  CHECK(fpshim::map_filter_image("/nonexistent/fpshim-image", kSpec.c_str()) == nullptr);
  CHECK(fpshim::map_filter_image("relative", kSpec.c_str()) == nullptr);
}

TEST_CASE("a filter image file with an index out of bounds or a walk that may not end is refused") {
  const std::string good = fpshim::filter_image(kSpec);
  fpshim::FilterImageProbe::each([&](const char* what, const fpshim::FilterImageProbe::Damage& damage) {
    CAPTURE(what);
    std::string bytes = good;
    damage(filter_in(bytes));
    CHECK(bytes != good);
    ImageFile file(bytes);
    CHECK(fpshim::map_filter_image(file.path.c_str(), kSpec.c_str()) == nullptr);
    // And the collector names the file in its tampering list.
    const auto seen = fpshim::filter_image_tampering(file.path, good);
    REQUIRE(seen.has_value());
    CHECK(seen->find(file.path) != std::string::npos);
  });
}

TEST_CASE("a well-formed filter image that lets nothing through is used: only the collector's check sees it") {
  const std::string good = fpshim::filter_image(kSpec);
  std::string bytes = good;
  fpshim::FilterImageProbe::reject_every_first_byte(filter_in(bytes));
  ImageFile file(bytes);
  const Filter* f = fpshim::map_filter_image(file.path.c_str(), kSpec.c_str());
  REQUIRE(f != nullptr);
  CHECK(!f->maybe_candidate("/etc/machine-id", [] { return false; }));
  CHECK(fpshim::filter_image_tampering(file.path, good).has_value());
  unlink(file.path.c_str());
  const auto removed = fpshim::filter_image_tampering(file.path, good);
  REQUIRE(removed.has_value());
  CHECK(removed->find("removed") != std::string::npos);
}

TEST_CASE("a filter image with random bytes changed is refused, or its questions stay in bounds and end") {
  // Under the sanitizer build an out-of-bounds read in the lookups fails this test; a walk that
  // does not end hangs it.
  const std::string good = fpshim::filter_image(kSpec);
  auto filter = std::make_unique<Filter>();
  const char* const paths[] = {"/etc/machine-id",
                               "/etc/passwd",
                               "/proc/self/net/dev",
                               "/proc/1/status",
                               "/sys/class/net/eth0/address",
                               "/home/u/src/.git/hooks/pre-commit",
                               "/home/u/.env",
                               "/usr/include/stdio.h",
                               "/proc/self/fd/3",
                               "/dev/fd/0",
                               "/a/b/../../etc/hosts",
                               "/",
                               "//etc//hosts",
                               "/proc/thread-self/root/etc/hosts",
                               "relative/.env"};
  uint64_t seed = 0x9e3779b97f4a7c15u;
  auto next = [&seed] { return seed = seed * 6364136223846793005u + 1442695040888963407u, unsigned(seed >> 33); };
  unsigned accepted = 0;
  for (unsigned round = 0; round < 3000; round++) {
    memcpy(static_cast<void*>(filter.get()), good.data() + fpshim::kFilterImageOffset, sizeof(Filter));
    unsigned char* bytes = reinterpret_cast<unsigned char*>(filter.get());
    for (unsigned k = 0, changes = 1 + next() % 4; k < changes; k++) bytes[next() % sizeof(Filter)] = uint8_t(next());
    if (!filter->well_formed()) continue;
    accepted++;
    for (const char* p : paths) {
      (void)filter->maybe_candidate(p, [] { return true; });
      (void)filter->quick_verdict<fpshim::BaselineScan>(p, [] { return false; });
      (void)filter->near_miss(p);
      (void)filter->matches(p, strlen(p));
      (void)filter->interesting_dir(p, strlen(p));
    }
  }
  CHECK(accepted > 0);
}
