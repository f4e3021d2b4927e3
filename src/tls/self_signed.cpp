#include "tls/self_signed.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace nm {

void write_self_signed_certificate(const std::string& cert_path, const std::string& key_path,
                                   const std::string& common_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) throw std::runtime_error("cannot make a certificate");
  X509* c = cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
  X509_gmtime_adj(X509_getm_notBefore(c), 0);
  X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600);
  X509_set_pubkey(c, key.get());
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(c, name);
  std::string san = "DNS:" + common_name;
  if (X509_EXTENSION* ext =
          X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(c, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(c, key.get(), EVP_sha256()) == 0) throw std::runtime_error("cannot sign");
  std::FILE* cf = std::fopen(cert_path.c_str(), "w");
  std::FILE* kf = std::fopen(key_path.c_str(), "w");
  bool ok = cf && kf && PEM_write_X509(cf, c) == 1 &&
            PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (cf) std::fclose(cf);
  if (kf) std::fclose(kf);
  if (!ok) throw std::runtime_error("cannot write " + cert_path + " / " + key_path);
}

}  // namespace nm
