// Registry credentials, found the way podman and skopeo find them, with
// Bock's environment variables first (they are explicit, per invocation):
//   1. BOCK_REGISTRY_<HOST>_USERNAME / _PASSWORD (registry_env_name)
//   2. --authfile, else $REGISTRY_AUTH_FILE
//   3. podman's auth file: $XDG_RUNTIME_DIR/containers/auth.json
//      (/run/containers/0/auth.json for root), then
//      ~/.config/containers/auth.json
//   4. ~/.docker/config.json ($DOCKER_CONFIG/config.json)
// Each file is in Docker's config.json format: per registry, `credHelpers`
// (a docker-credential-<name> program), then `auths` (`auth` = base64
// "user:password", or `identitytoken`), then `credsStore`. The first file
// that knows the registry wins.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::image {

struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;  // an OAuth2 refresh token (`identitytoken`)
    std::string source;          // where they came from, for messages
};

// "127.0.0.1:5000" -> "127_0_0_1_5000": upper-cased, every character other
// than A-Z and 0-9 turned into '_'.
std::string registry_env_name(std::string_view registry);

// The auth files read, in order (existing or not).
std::vector<std::string> auth_file_chain(const std::string& authfile);
// Where `bock login` writes: --authfile, $REGISTRY_AUTH_FILE, else podman's
// auth file ($XDG_RUNTIME_DIR/containers/auth.json; root:
// /run/containers/0/auth.json; without XDG_RUNTIME_DIR:
// ~/.config/containers/auth.json).
std::string login_auth_file(const std::string& authfile);

// The credentials for `registry` ("127.0.0.1:5000", "docker.io"), or
// nullopt for anonymous access. An unreadable or invalid file is an error.
Result<std::optional<Credentials>> find_credentials(std::string_view registry, const std::string& authfile);

// Looks the registry up in one config.json-format document (`text`, read
// from `path`). Exposed for tests.
Result<std::optional<Credentials>> credentials_from_config(std::string_view text, const std::string& path,
                                                           std::string_view registry);

// Adds or replaces auths[registry] = {auth: base64(user:password)} in
// `path` (created with its directories 0700, written atomically 0600;
// other keys are kept).
Result<void> save_credentials(const std::string& path, std::string_view registry, const Credentials& c);
// Removes auths[registry] (every entry when `registry` is empty). Returns
// whether something was removed.
Result<bool> remove_credentials(const std::string& path, std::string_view registry);

// Base64 (OpenSSL EVP) helpers shared with the registry client.
std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);

}  // namespace bock::image

namespace bock::image {

// `bock login`: checks `c` against the registry (GET /v2/ with Basic, or
// the token flow); an error names the refusal.
Result<void> check_login(std::string_view registry, const Credentials& c, bool tls_verify,
                         const std::string& cert_dir);

// "docker://quay.io/x/y" or "quay.io/x" -> "quay.io"; "" stays "".
std::string registry_of(std::string_view arg);

}  // namespace bock::image
