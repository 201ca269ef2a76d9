// Image references with Docker's grammar (distribution/reference):
//   [domain[:port]/]path[:tag][@sha256:hex]
// A first component is a domain when it contains '.' or ':' or is
// "localhost". Normalisation: docker.io, "library/" for one-component
// paths on docker.io, tag "latest" when neither tag nor digest is given.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::image {

struct Reference {
    std::string domain;  // "docker.io", "localhost", "127.0.0.1:5000"
    std::string path;    // "library/busybox"
    std::string tag;     // "latest" (empty when only a digest was given)
    std::string digest;  // "sha256:..." or empty
    bool had_domain = false;  // the user typed a domain

    static Result<Reference> parse(std::string_view s);
    std::string repository() const;  // domain/path
    std::string str() const;         // domain/path[:tag][@digest]
    // The short form Docker shows: "busybox:latest" for docker.io/library.
    std::string familiar() const;
    bool operator==(const Reference&) const = default;
};

// For a name typed without a domain, the local names tried in order:
// localhost/NAME, then docker.io/library/NAME (docker.io/NAME for paths with
// a '/'). For a qualified name, just that name.
std::vector<Reference> local_candidates(const Reference& typed);

}  // namespace bock::image
