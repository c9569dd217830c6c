// JUnit XML (GitLab's artifacts:reports:junit, and any CI that shows test results): one test suite
// per recipe that fired, one failed test case per unsuppressed finding, one skipped per suppressed one.
#pragma once

#include <string>
#include <string_view>

#include "model/findings.h"

namespace fpshim {

// The report; a build with no findings gets one passing test case, so that the suite is not empty.
std::string render_junit(const Findings& findings);

// Text for XML 1.0 content and attributes: & < > " ' as entities, tab/CR/LF as character references
// (attributes normalise them away otherwise), bytes that are not UTF-8 and characters XML cannot hold
// (other controls, U+FFFE, U+FFFF) as the text "\xNN" / "\u{FFFE}".
std::string xml_escape(std::string_view text);

}  // namespace fpshim
