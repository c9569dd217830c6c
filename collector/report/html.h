// The HTML report (--html FILE): one self-contained page for the person who must decide about a
// build's findings: the verdict, the recipes that fired and their findings, the build's process tree
// with the processes that reached watched paths marked, the coverage gaps and the counts. Inline CSS
// only: no script, no network, no external font; legible on a laptop, a phone and on paper.
#pragma once

#include <string>
#include <string_view>

#include "model/findings.h"

namespace fpshim {

std::string render_html(const Findings& findings);

// `text` made safe inside HTML text and attribute values: &, <, >, " and ' as entities, invalid
// UTF-8 and control characters (but tab and newline) as "\xNN".
std::string html_escape(std::string_view text);

}  // namespace fpshim
