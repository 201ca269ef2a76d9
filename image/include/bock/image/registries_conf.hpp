// Registries configuration in podman's format (containers-registries.conf
// v2 TOML). The main file is the first found of:
//   $BOCK_REGISTRIES_CONF
//   $XDG_CONFIG_HOME/bock/registries.conf (~/.config/bock/registries.conf)
//   $XDG_CONFIG_HOME/containers/registries.conf
//   /etc/containers/registries.conf
// then every *.conf of the drop-in directory beside it (FILE.d/, e.g.
// registries.conf.d/), in name order, merged on top: a drop-in's
// unqualified-search-registries replaces the list; a [[registry]] with the
// same prefix replaces the earlier one. Supported: unqualified-search-
// registries, [[registry]] prefix/location/insecure/blocked and
// [[registry.mirror]] location/insecure. An unknown or misplaced key is a
// warning naming the file, the key and the line.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/image/reference.hpp"
#include "bock/image/registry.hpp"

namespace bock::image {

struct RegistryMirror {
    std::string location;
    bool insecure = false;
};

struct RegistryEntry {
    std::string prefix;    // "example.com/foo", "*.example.com"; defaults to location
    std::string location;  // where the prefix's images really are
    bool insecure = false;
    bool blocked = false;
    std::vector<RegistryMirror> mirrors;
    std::string file;      // where it was defined
};

struct RegistriesConf {
    std::vector<std::string> unqualified_search;
    std::vector<RegistryEntry> registries;
    std::vector<std::string> files;  // read, in order

    // The entry whose prefix matches "domain/path" best (longest), if any.
    const RegistryEntry* find(const Reference& ref) const;
};

// The files the configuration is read from, in order (main, drop-ins).
std::vector<std::string> registries_conf_files();

// Parses one file's text and merges it into `into`; warnings (unknown or
// misplaced keys, wrong types) are appended as "FILE:LINE: ..." lines.
Result<void> parse_registries_conf(std::string_view text, const std::string& path, RegistriesConf& into,
                                   std::vector<std::string>& warnings);

// Reads registries_conf_files(); warnings go to stderr (log::warn).
Result<RegistriesConf> load_registries_conf();

// The references to try for what the user typed: a fully qualified name
// as is; a short name in each unqualified-search registry, in order (none
// configured: the name as parsed, on docker.io).
std::vector<Reference> search_candidates(const Reference& typed, std::string_view typed_text,
                                         const RegistriesConf& conf);

// Where to fetch `ref` from: its mirrors, then its location (the prefix
// rewritten); `insecure` per source. A blocked registry is an error.
struct PullSource {
    Reference ref;
    bool insecure = false;
};
Result<std::vector<PullSource>> pull_sources(const Reference& ref, const RegistriesConf& conf);

}  // namespace bock::image

namespace bock::image {

class Store;
struct ImageRecord;

// Pulls what the user typed through the configuration: each candidate
// (search_candidates), each from its sources (pull_sources: mirrors, then
// the location) until one works; the image is named after the candidate.
// Progress lines ("Trying to pull ...") go to opts.progress.
Result<ImageRecord> pull_with_config(Store& store, std::string_view typed, PullOptions opts,
                                     const RegistriesConf& conf);

}  // namespace bock::image
