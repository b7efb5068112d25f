#pragma once

namespace outflow {

// Initialises OpenSSL for the whole process without its atexit cleanup.
//
// cpprestsdk frees pooled TLS connections from its thread pool while exit
// handlers run. If OpenSSL registered its own cleanup after that pool was
// created, the cleanup runs first, destroys OpenSSL's locks, and the pool's
// thread then spins on a freed lock forever: the process never exits. Seen in
// the test suite. Skipping OpenSSL's exit-time cleanup removes the race; the
// OS reclaims the memory anyway.
//
// Must run before any other OpenSSL use to take effect: main() calls it first,
// and RestClient calls it too so tools and tests are covered. Idempotent.
void init_openssl();

}  // namespace outflow
