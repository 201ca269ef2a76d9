// Parsing of bock-fuse-overlay's command line and id mappings. Option names
// and the mapping syntax are fuse-overlayfs's where it has one, so the
// backend chain can build one option string for either program.
#include "bock/fuseov/options.hpp"

#include <charconv>
#include <cstdlib>

namespace bock::fuseov {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        size_t pos = s.find(sep, start);
        out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

bool parse_u32(std::string_view s, uint32_t* out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size();
}

Result<void> apply(Options& o, const std::string& key, const std::string& value) {
    if (key == "lowerdir") {
        o.lowers.clear();
        for (auto& l : split(value, ':')) {
            if (l.empty()) return make_error("option lowerdir: an empty directory in `{}`", value);
            o.lowers.push_back(l);
        }
    } else if (key == "upperdir") {
        o.upper = value;
    } else if (key == "workdir") {
        o.work = value;
    } else if (key == "uidmapping") {
        o.uids = BOCK_TRY_CTX(IdMap::parse(value), "option uidmapping");
    } else if (key == "gidmapping") {
        o.gids = BOCK_TRY_CTX(IdMap::parse(value), "option gidmapping");
    } else if (key == "ready_fd") {
        uint32_t fd = 0;
        if (!parse_u32(value, &fd)) return make_error("option ready_fd: `{}` is not a file descriptor", value);
        o.ready_fd = static_cast<int>(fd);
    } else if (key == "timeout") {
        char* end = nullptr;
        double t = std::strtod(value.c_str(), &end);
        if (value.empty() || *end || t < 0) return make_error("option timeout: `{}` is not a number of seconds", value);
        o.timeout = t;
    } else {
        return make_error("unknown option `{}`", key).with_hint(
            "options: lowerdir, upperdir, workdir, uidmapping, gidmapping, ready_fd, timeout "
            "(see docs/fuse-overlay.md)");
    }
    return ok();
}

}  // namespace

Result<IdMap> IdMap::parse(std::string_view text) {
    IdMap m;
    auto parts = split(text, ':');
    if (parts.size() % 3 != 0)
        return make_error("`{}` is not a list of CONTAINER:HOST:COUNT triples", text);
    for (size_t i = 0; i < parts.size(); i += 3) {
        IdRange r;
        // fuse-overlayfs's meaning: a file stored as C+i shows as H+i.
        if (!parse_u32(parts[i], &r.outer) || !parse_u32(parts[i + 1], &r.inner) ||
            !parse_u32(parts[i + 2], &r.count) || r.count == 0)
            return make_error("`{}:{}:{}` is not CONTAINER:HOST:COUNT with COUNT > 0", parts[i], parts[i + 1],
                              parts[i + 2]);
        if (uint64_t(r.inner) + r.count > (1ull << 32) || uint64_t(r.outer) + r.count > (1ull << 32))
            return make_error("`{}:{}:{}` goes past the largest id", parts[i], parts[i + 1], parts[i + 2]);
        m.ranges_.push_back(r);
    }
    return m;
}

uint32_t IdMap::to_inner(uint32_t outer) const {
    if (ranges_.empty()) return outer;
    for (const auto& r : ranges_)
        if (outer >= r.outer && outer - r.outer < r.count) return r.inner + (outer - r.outer);
    return overflow;
}

bool IdMap::to_outer(uint32_t inner, uint32_t* outer) const {
    if (ranges_.empty()) {
        *outer = inner;
        return true;
    }
    for (const auto& r : ranges_)
        if (inner >= r.inner && inner - r.inner < r.count) {
            *outer = r.outer + (inner - r.inner);
            return true;
        }
    return false;
}

Result<Options> parse_options(const std::vector<std::string>& args) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-f") continue;  // always in the foreground; accepted for fuse-overlayfs's callers
        if (a == "-d") {
            o.debug = true;
        } else if (a == "-o" || (a.size() > 2 && a.rfind("-o", 0) == 0)) {
            std::string list = a == "-o" ? (i + 1 < args.size() ? args[++i] : "") : a.substr(2);
            if (list.empty()) return make_error("-o needs a list of options");
            for (auto& item : split(list, ',')) {
                if (item.empty()) continue;
                auto eq = item.find('=');
                BOCK_TRY(apply(o, item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1)));
            }
        } else if (!a.empty() && a[0] == '-') {
            return make_error("unknown flag `{}`", a);
        } else if (o.mountpoint.empty()) {
            o.mountpoint = a;
        } else {
            return make_error("more than one mount point (`{}`, `{}`)", o.mountpoint, a);
        }
    }
    if (o.mountpoint.empty()) return make_error("no mount point given");
    if (o.lowers.empty()) return make_error("no lowerdir given");
    if (!o.upper.empty() && o.work.empty()) return make_error("upperdir `{}` needs a workdir", o.upper);
    return o;
}

}  // namespace bock::fuseov
