// libcurl is loaded when first used (curl_lazy.cpp), not when bock
// starts: its dependencies (GnuTLS, Kerberos, LDAP, libssh2, ...) cost
// every `bock` command ~20 ms of dynamic loading, and only the registry
// client and ADD URL use it.
#pragma once

#include <string>

namespace bock::image {

// Why libcurl could not be loaded (dlerror), or empty.
std::string curl_load_error();

}  // namespace bock::image
