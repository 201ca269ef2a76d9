#include "bock/image/versions.hpp"

#include <archive.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <zlib.h>

namespace bock::image {

std::vector<std::pair<std::string, std::string>> library_versions() {
    std::string arch = archive_version_string();  // "libarchive 3.6.2"
    if (auto sp = arch.find(' '); sp != std::string::npos) arch = arch.substr(sp + 1);
    return {{"libcurl", curl_version_info(CURLVERSION_NOW)->version},
            {"libarchive", arch},
            {"openssl", OpenSSL_version(OPENSSL_VERSION_STRING)},
            {"zlib", zlibVersion()}};
}

}  // namespace bock::image
