// bock login's check: a GET /v2/ through the registry client with the
// given credentials only (not the credentials chain).
#include "bock/image/credentials.hpp"
#include "registry_client.hpp"

namespace bock::image {

Result<void> check_login(std::string_view registry, const Credentials& c, bool tls_verify,
                         const std::string& cert_dir) {
    detail::RegistryClient client(std::string(registry), "",
                                  detail::ClientOptions{tls_verify, cert_dir, "", false, c});
    return client.ping().context(fmt::format("log in to {}", registry));
}

std::string registry_of(std::string_view arg) {
    if (arg.starts_with("docker://")) arg.remove_prefix(9);
    else if (auto s = arg.find("://"); s != std::string_view::npos) arg.remove_prefix(s + 3);
    if (auto slash = arg.find('/'); slash != std::string_view::npos) arg = arg.substr(0, slash);
    return std::string(arg);
}

}  // namespace bock::image
