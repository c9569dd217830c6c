// SHA-256 against the examples of FIPS 180-4 (NIST's "Cryptographic Standards and Guidelines:
// Examples with Intermediate Values", SHA256.pdf and SHA2_Additional.pdf).
#include <doctest/doctest.h>

#include <string>

#include "base/sha256.h"

using namespace fpshim;

TEST_CASE("sha256: the FIPS 180-4 examples") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(sha256_hex(std::string(1000, 'A')) == "c2e686823489ced2017f6059b8b239318b6364f6dcd835d0a519105a1eadd6e4");
  CHECK(sha256_hex(std::string(1005, 'U')) == "f4d62ddec0f3dd90ea1380fa16a5ff8dc4c54b21740650f24afc4120903552b0");
}

TEST_CASE("sha256: fed in pieces of any size, the same digest") {
  const std::string text(1000, 'A');
  for (size_t piece : {1, 3, 55, 56, 63, 64, 65, 127}) {
    Sha256 s;
    for (size_t at = 0; at < text.size(); at += piece) s.update(std::string_view(text).substr(at, piece));
    std::string hex;
    for (uint8_t b : s.finish()) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
    CHECK(hex == "c2e686823489ced2017f6059b8b239318b6364f6dcd835d0a519105a1eadd6e4");
  }
}
