// The build's process tree in the HTML report (report/html.h): every process image under the one it
// replaced or its parent, the ones that reached watched paths marked with their paths beside them,
// the unmonitored ones with why. Bounded: the marked images and their ancestors first.
#pragma once

#include <string>

#include "model/summary.h"

namespace fpshim {

// Appends the tree's <section> to `out`.
void write_process_tree(const Summary& s, std::string& out);

// A process for the page: its pid, its command line and, after it, its executable.
std::string process_html(const ProcessRef& p);

}  // namespace fpshim
