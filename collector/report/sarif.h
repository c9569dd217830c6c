// SARIF 2.1.0 for GitHub code scanning (and any other SARIF reader): one rule per recipe that fired,
// one result per finding, each located in the checkout, within GitHub's limits on results and size.
#pragma once

#include <cstddef>
#include <string>

#include "model/findings.h"

namespace fpshim {

struct SarifOptions {
  std::string category = "fpshim";  // automationDetails.id is CATEGORY/BUILD-ID
  // GitHub's limits (the whole upload is rejected over them); smaller values are for tests.
  size_t max_results = 25'000;
  size_t max_gzipped_bytes = 9'500'000;         // the file gzipped, under GitHub's 10 MB with a margin
  size_t max_result_bytes = size_t(256) << 20;  // all results, compact JSON: bounds the memory it takes
};

// The SARIF log of the findings, pretty-printed, ending in a newline.
std::string render_sarif(const Findings& findings, const SarifOptions& options);
std::string render_sarif(const Findings& findings);

// "file:///a%20b/" style URI of an absolute directory (with a trailing slash), and a relative path
// with each byte outside the URI's unreserved set (and '/') percent-encoded.
std::string file_uri_of_directory(std::string_view absolute);
std::string percent_encode_path(std::string_view path);

// The size of `text` gzipped at zlib's default level, as upload-sarif compresses it.
size_t gzipped_size(std::string_view text);

}  // namespace fpshim
