// The builds of one served uid while they run (serve/builds_live.h): routing records to builds,
// their journals, and when a build has ended.
#include "serve/builds_live.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/clock.h"
#include "base/say.h"
#include "ingest/record_file.h"
#include "serve/identity.h"
#include "serve/live_events.h"

namespace fpshim {

namespace {

// A journal's records are written out at the end of each batch, or sooner past this many bytes.
constexpr size_t kWriteOutBytes = 1 << 20;

// The record as on the wire, from its decoded header and strings.
void encode(const wire::Header& h, std::span<const wire::Bytes> strings, std::string& out) {
  size_t size = sizeof h;
  for (const wire::Bytes& s : strings) size += wire::encoded_size(s.size);
  out.resize(size);
  wire::Header copy = h;
  copy.size = uint32_t(size);
  copy.nstrings = uint32_t(strings.size());
  char* p = out.data();
  memcpy(p, &copy, sizeof copy);
  p += sizeof copy;
  for (const wire::Bytes& s : strings) {
    memcpy(p, &s.size, sizeof s.size);
    memcpy(p + sizeof s.size, s.data, s.size);
    p += wire::encoded_size(s.size);
  }
}

}  // namespace

size_t LiveBuild::running() const {
  size_t n = 0;
  for (const auto& [key, image] : images) n += !image.ended();
  return n;
}

UidBuilds::~UidBuilds() {
  on_batch_end();
  for (auto& [key, b] : builds_)
    if (b.journal >= 0) close(b.journal);
}

const BuildKey* UidBuilds::route(const wire::Header& h, bool give_up) {
  static thread_local BuildKey by_id;
  if (h.build_id != 0) {
    by_id = BuildKey{h.build_id, 0, 0};
    return &by_id;
  }
  const ProcessKey pk{h.pid, h.proc_nonce};
  if (auto it = image_build_.find(pk); it != image_build_.end()) return &it->second;
  std::optional<BuildKey> key;
  if (wire::Kind(h.kind) == wire::Kind::hello) {
    // The image an exec replaced (same pid, not gone by bye), else the parent's newest image.
    if (auto it = newest_image_.find(h.pid); it != newest_image_.end()) {
      const BuildKey& k = image_build_.at(it->second);
      if (auto b = builds_.find(k); b != builds_.end())
        if (auto img = b->second.images.find(it->second); img != b->second.images.end() && !img->second.said_bye)
          key = k;
    }
    if (!key)
      if (auto it = newest_image_.find(h.ppid); it != newest_image_.end()) key = image_build_.at(it->second);
    if (!key) key = BuildKey{0, h.pid, h.proc_nonce};
  } else if (auto it = nonce_build_.find(h.proc_nonce); it != nonce_build_.end()) {
    key = it->second;  // a vfork child reports with its parent's nonce
  } else if (give_up) {
    key = BuildKey{0, h.pid, h.proc_nonce};  // its hello never came: a build of its own
  } else {
    return nullptr;
  }
  auto [it, fresh] = image_build_.try_emplace(pk, *key);
  nonce_build_.try_emplace(h.proc_nonce, *key);
  if (wire::Kind(h.kind) == wire::Kind::hello) newest_image_[h.pid] = pk;
  else newest_image_.try_emplace(h.pid, pk);
  return &it->second;
}

LiveBuild* UidBuilds::build_for(const BuildKey& key) {
  if (auto it = builds_.find(key); it != builds_.end()) return &it->second;
  if (held_ >= limits_.builds || builds_.size() >= limits_.builds_per_uid) {
    if (dropped_builds_++ == 0)
      say("fpshim serve: uid {}: at the cap of {} builds ({} for the daemon); records of new builds are dropped\n",
          uid_, limits_.builds_per_uid, limits_.builds);
    return nullptr;
  }
  LiveBuild& b = builds_[key];
  b.key = key;
  b.id = key.str();
  b.journal_path = state_.journal_path(key);
  held_++;
  return &b;
}

void UidBuilds::file(const BuildKey& key, const wire::Header& h, std::string_view bytes, bool replaying) {
  LiveBuild* b = build_for(key);
  if (!b) return;
  const ProcessKey pk{h.pid, h.proc_nonce};
  auto img = b->images.find(pk);
  if (img == b->images.end()) {
    if (b->images.size() >= limits_.processes) {
      b->capped++;
      b->dirty = true;
      return;
    }
    img = b->images.emplace(pk, LiveBuild::Image{}).first;
  }
  // Past the journal's cap a build still keeps what ends its processes (at most one hello, and one
  // bye or exec that replaced it, per image, and images are capped): without them its processes
  // would look running (and then gone dark), and its report would wait for the idle timeout.
  const wire::Kind kind = wire::Kind(h.kind);
  const bool ends_image = kind == wire::Kind::hello || kind == wire::Kind::bye ||
                          (kind == wire::Kind::exec && h.count == 0 && h.result == 0);
  if (!replaying && !ends_image && b->bytes + bytes.size() > limits_.build_bytes) {
    b->capped++;
    b->dirty = true;
    return;
  }
  LiveBuild::Image& image = img->second;
  image.max_seq = std::max(image.max_seq, h.seq);
  if (kind == wire::Kind::bye) {
    image.ended_seq = h.seq;
    image.said_bye = true;
  } else if (kind == wire::Kind::exec && h.count == 0 && h.result == 0) {
    image.ended_seq = h.seq;  // replaced in place; a failed exec's second record comes later and revives it
  }
  if (!replaying) {
    if (b->pending.empty()) unwritten_.push_back(b);
    b->pending.append(bytes);
    if (b->pending.size() >= kWriteOutBytes) {
      AsDaemon own_rights;  // the journal is in the daemon's state directory, not the uid's
      write_out(*b);
    }
  }
  b->bytes += bytes.size();
  b->records++;
  if (b->first_ns == 0 || h.time_ns < b->first_ns) b->first_ns = h.time_ns;
  b->last_ns = now_ns(CLOCK_MONOTONIC);
  b->dirty = true;
  if (live_) live_->on_filed(uid_, *b, h, bytes, replaying);
}

void UidBuilds::write_out(LiveBuild& b) {
  // The caller acts with the daemon's own rights (AsDaemon): the journal is in its state directory.
  if (b.pending.empty()) return;
  if (b.journal < 0)
    b.journal = open(b.journal_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  const iovec one{b.pending.data(), b.pending.size()};
  if (b.journal < 0 || !append_records(b.journal, std::span<const iovec>(&one, 1))) {
    say("fpshim serve: uid {}: cannot write the journal {}: {}; the build's report will miss records\n", uid_,
        b.journal_path, strerror(errno));
  }
  b.pending.clear();
}

void UidBuilds::on_record(const wire::Header& h, std::span<const wire::Bytes> strings) {
  encode(h, strings, scratch_);
  const BuildKey* key = route(h, false);
  if (key) {
    file(*key, h, scratch_, false);
  } else if (pending_.size() < limits_.pending) {
    pending_.push_back({scratch_, now_ns(CLOCK_MONOTONIC)});
  } else if (dropped_pending_++ == 0) {
    say("fpshim serve: uid {}: more than {} records wait for their process's hello; further ones are dropped\n", uid_,
        limits_.pending);
  }
}

void UidBuilds::on_torn(const wire::Header& h) {
  if (const BuildKey* key = route(h, true))
    if (LiveBuild* b = build_for(*key)) {
      b->torn++;
      b->dirty = true;
    }
}

void UidBuilds::on_batch_end() {
  if (unwritten_.empty()) return;
  AsDaemon own_rights;  // once per batch, not once per build: 6 syscalls each (bench/RESULTS.md, serve)
  for (LiveBuild* b : unwritten_) write_out(*b);
  unwritten_.clear();
}

namespace {

// The ledger's count credited to a build, beside its journal: "<journal>.lost", the count in decimal.
std::string ledger_path(const LiveBuild& b) { return b.journal_path + ".lost"; }

uint64_t read_ledger_credit(const LiveBuild& b) {
  const int fd = open(ledger_path(b).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  char text[24] = {};
  const ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  return n > 0 ? strtoull(text, nullptr, 10) : 0;
}

bool write_ledger_credit(const LiveBuild& b) {
  const std::string tmp = ledger_path(b) + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  const std::string text = std::to_string(b.ledger) + "\n";
  const bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size()) && fsync(fd) == 0;
  close(fd);
  return ok && rename(tmp.c_str(), ledger_path(b).c_str()) == 0;
}

}  // namespace

size_t UidBuilds::credit_ledger(uint64_t n) {
  AsDaemon own_rights;
  size_t credited = 0;
  for (auto& [key, b] : builds_) {
    if (!b.dirty && b.running() == 0) continue;
    b.ledger += n;
    b.dirty = true;
    if (!write_ledger_credit(b))
      say("fpshim serve: uid {}: cannot keep build {}'s lost count beside its journal: {}\n", uid_, b.id,
          strerror(errno));
    credited++;
  }
  return credited;
}

void UidBuilds::recover() {
  for (const BuildKey& key : state_.journals()) {
    LiveBuild* b = build_for(key);
    if (!b) break;
    b->ledger = read_ledger_credit(*b);
    const int fd = open(b->journal_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    uint64_t offset = 0;
    // A torn tail (the predecessor died in the middle of a write) held nothing it had counted.
    read_records(fd, offset, [&](std::span<RecordBytes> records) {
      for (const RecordBytes& r : records) {
        wire::Header h;
        memcpy(&h, r.data, sizeof h);
        if (key.build_id == 0) {
          const ProcessKey pk{h.pid, h.proc_nonce};
          image_build_.try_emplace(pk, key);
          nonce_build_.try_emplace(h.proc_nonce, key);
          newest_image_[h.pid] = pk;
        }
        file(key, h, std::string_view(r.data, r.size), true);
      }
    });
    close(fd);
  }
}

void UidBuilds::route_pending(uint64_t now_mono, uint64_t give_up_ns) {
  if (pending_.empty()) return;
  std::vector<Pending> still;
  for (Pending& p : pending_) {
    wire::Header h;
    memcpy(&h, p.bytes.data(), sizeof h);
    if (const BuildKey* key = route(h, now_mono - p.since_ns >= give_up_ns)) file(*key, h, p.bytes, false);
    else still.push_back(std::move(p));
  }
  pending_ = std::move(still);
  on_batch_end();
}

std::vector<LiveBuild*> UidBuilds::due(uint64_t now_mono, uint64_t grace_ns, uint64_t idle_ns) {
  std::vector<LiveBuild*> out;
  for (auto& [key, b] : builds_) {
    // last_ns may be later than `now_mono` (a record filed since the caller looked at the clock).
    if (!b.dirty || b.last_ns + grace_ns > now_mono) continue;
    if (b.last_ns + idle_ns <= now_mono || b.running() == 0) out.push_back(&b);
  }
  return out;
}

void UidBuilds::retire(uint64_t now_mono, uint64_t keep_ns) {
  for (auto it = builds_.begin(); it != builds_.end();) {
    LiveBuild& b = it->second;
    if (!b.reported || b.dirty || !b.pending.empty() || b.last_ns + keep_ns > now_mono) {
      ++it;
      continue;
    }
    if (b.journal >= 0) close(b.journal);
    unlink(b.journal_path.c_str());
    unlink(ledger_path(b).c_str());
    if (live_) live_->forget(uid_, b.id);
    for (const auto& [pk, image] : b.images) {
      image_build_.erase(pk);
      if (auto n = nonce_build_.find(pk.nonce); n != nonce_build_.end() && n->second == b.key) nonce_build_.erase(n);
      if (auto p = newest_image_.find(pk.pid); p != newest_image_.end() && p->second == pk) newest_image_.erase(p);
    }
    it = builds_.erase(it);
    held_--;
  }
}

LiveBuild* UidBuilds::find(const std::string& name) {
  std::optional<BuildKey> key = parse_build_key(name);
  if (!key) key = BuildKey{wire::build_id_of_name(name.c_str()), 0, 0};
  auto it = builds_.find(*key);
  return it != builds_.end() ? &it->second : nullptr;
}

}  // namespace fpshim
