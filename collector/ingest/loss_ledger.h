// The spool's loss ledger (wire::kLossLedger): the records the shim's processes lost for good,
// counted where a report finds them even when the spool could not be written.
#pragma once

#include <cstdint>
#include <string>

namespace fpshim {

// The count in `dir`'s ledger; 0 when there is none (or it is not a ledger).
uint64_t read_loss_ledger(const std::string& dir);

// Takes `n` (what a report counted) out of the ledger, under the lock the shim takes to add.
bool take_from_loss_ledger(const std::string& dir, uint64_t n);

}  // namespace fpshim
