#pragma once

#include <string>

namespace nm {

// Writes a fresh self-signed certificate for `common_name` (P-256, one day, the name also as
// its subjectAltName) and its key to `cert_path` and `key_path` (PEM), as `openssl req -x509`
// would, without running a program. For tests and fuzz targets, which need a server identity
// and must not depend on files in the tree; throws std::runtime_error on failure.
void write_self_signed_certificate(const std::string& cert_path, const std::string& key_path,
                                   const std::string& common_name = "localhost");

}  // namespace nm
