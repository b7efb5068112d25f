#include "common/openssl_init.h"

#include <openssl/ssl.h>

#include <mutex>
#include <stdexcept>

namespace outflow {

void init_openssl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS |
                             OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                         nullptr) != 1) {
      throw std::runtime_error("OpenSSL initialisation failed");
    }
  });
}

}  // namespace outflow
