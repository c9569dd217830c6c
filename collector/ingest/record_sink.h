// Where decoded records go: ingest produces them, aggregate (or a test) consumes them.
#pragma once

#include <span>

#include "fpshim/wire.h"

namespace fpshim {

class RecordSink {
 public:
  // `strings` point into the receive buffer and are valid only during the call. The record has
  // already been checked: magic, version, framing, build id, sender, and strings its kind needs.
  virtual void on_record(const wire::Header& header, std::span<const wire::Bytes> strings) = 0;

  // A record that never arrived whole (a torn spool tail) but whose header is intact: its seq
  // counts as lost.
  virtual void on_torn(const wire::Header&) {}

  // The end of a batch of records (one recvmmsg, or what one read of a file gave), before ingest
  // removes the file they came from: a sink that keeps records on disk writes them out here.
  virtual void on_batch_end() {}

 protected:
  ~RecordSink() = default;
};

}  // namespace fpshim
