// Docker's reference grammar (github.com/distribution/reference), with its
// normalisation rules (docker.io, library/, latest).
#include "bock/image/reference.hpp"

#include <cctype>

#include "bock/image/digest.hpp"

namespace bock::image {

namespace {

constexpr std::string_view default_domain = "docker.io";
constexpr std::string_view legacy_domain = "index.docker.io";
constexpr size_t max_name_len = 255;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*
// separator      := [_.] | __ | [-]+
bool valid_path_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    size_t i = 0;
    while (i < c.size()) {
        if (is_lower_alnum(c[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j])) j++;
        std::string_view sep = c.substr(i, j - i);
        bool ok = sep == "." || sep == "_" || sep == "__" ||
                  sep.find_first_not_of('-') == std::string_view::npos;
        if (!ok) return false;
        i = j;
    }
    return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
    if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
    for (char ch : c)
        if (!is_alnum(ch) && ch != '-') return false;
    return true;
}

bool valid_port(std::string_view p) {
    if (p.empty()) return false;
    for (char c : p)
        if (c < '0' || c > '9') return false;
    return true;
}

bool valid_domain(std::string_view d) {
    std::string_view host = d;
    if (!d.empty() && d.front() == '[') {  // IPv6 literal: [addr][:port]
        auto close = d.find(']');
        if (close == std::string_view::npos || close < 3) return false;
        for (char c : d.substr(1, close - 1))
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':') return false;
        auto rest = d.substr(close + 1);
        if (rest.empty()) return true;
        return rest.front() == ':' && valid_port(rest.substr(1));
    }
    auto colon = d.find(':');
    if (colon != std::string_view::npos) {
        if (!valid_port(d.substr(colon + 1))) return false;
        host = d.substr(0, colon);
    }
    size_t start = 0;
    for (;;) {
        auto dot = host.find('.', start);
        if (!valid_domain_component(host.substr(start, dot == std::string_view::npos ? dot : dot - start)))
            return false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

bool valid_tag(std::string_view t) {
    if (t.empty() || t.size() > 128 || !is_word(t.front())) return false;
    for (char c : t)
        if (!is_word(c) && c != '.' && c != '-') return false;
    return true;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

bool has_upper(std::string_view s) {
    for (char c : s)
        if (c >= 'A' && c <= 'Z') return true;
    return false;
}

}  // namespace

Result<Reference> Reference::parse(std::string_view s) {
    auto bad = [&](std::string_view why) { return make_error("invalid reference `{}`: {}", s, why); };
    if (s.empty()) return bad("empty name");
    if (is_hex64(s)) return bad("cannot specify 64-byte hexadecimal strings as a name");

    Reference r;
    std::string_view name = s;
    if (auto at = name.find('@'); at != std::string_view::npos) {
        auto d = Digest::parse(name.substr(at + 1));
        if (!d) return bad(d.error().message());
        r.digest = d->str();
        name = name.substr(0, at);
    }
    auto last_slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
        auto tag = name.substr(colon + 1);
        if (!valid_tag(tag)) return bad(fmt::format("invalid tag `{}`", tag));
        r.tag = std::string(tag);
        name = name.substr(0, colon);
    }
    if (name.empty()) return bad("empty repository name");

    // splitDockerDomain: the first component is a domain when it contains
    // '.' or ':', is "localhost", or has upper-case letters.
    std::string_view remainder = name;
    auto slash = name.find('/');
    if (slash != std::string_view::npos) {
        auto first = name.substr(0, slash);
        if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
            has_upper(first)) {
            if (!valid_domain(first)) return bad(fmt::format("invalid domain `{}`", first));
            r.domain = std::string(first);
            r.had_domain = true;
            remainder = name.substr(slash + 1);
        }
    }
    if (!r.had_domain) r.domain = default_domain;
    if (r.domain == legacy_domain) r.domain = default_domain;

    if (has_upper(remainder)) return bad("repository name must be lowercase");
    if (remainder.empty()) return bad("empty repository path");
    size_t start = 0;
    for (;;) {
        auto sl = remainder.find('/', start);
        auto comp = remainder.substr(start, sl == std::string_view::npos ? sl : sl - start);
        if (!valid_path_component(comp))
            return bad(fmt::format("invalid path component `{}`", comp));
        if (sl == std::string_view::npos) break;
        start = sl + 1;
    }
    r.path = std::string(remainder);
    if (r.domain == default_domain && r.path.find('/') == std::string::npos)
        r.path = "library/" + r.path;
    if (r.repository().size() > max_name_len)
        return bad(fmt::format("repository name must not be more than {} characters", max_name_len));
    if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
    return r;
}

std::string Reference::repository() const { return domain + "/" + path; }

std::string Reference::str() const {
    std::string s = repository();
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

std::string Reference::familiar() const {
    std::string s;
    if (domain == default_domain) {
        std::string_view p = path;
        if (p.starts_with("library/") && p.find('/', 8) == std::string_view::npos) p.remove_prefix(8);
        s = std::string(p);
    } else {
        s = repository();
    }
    if (!tag.empty()) s += ":" + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
}

std::vector<Reference> local_candidates(const Reference& typed) {
    if (typed.had_domain) return {typed};
    // The typed path: "busybox" is stored as "library/busybox" on docker.io.
    std::string typed_path = typed.path;
    if (typed_path.starts_with("library/") && typed_path.find('/', 8) == std::string::npos)
        typed_path = typed_path.substr(8);
    Reference local = typed;
    local.domain = "localhost";
    local.path = typed_path;
    local.had_domain = true;
    Reference hub = typed;
    hub.domain = std::string(default_domain);
    hub.had_domain = true;
    return {local, hub};
}

}  // namespace bock::image
