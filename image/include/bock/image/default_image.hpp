// The built-in default image: localhost/busybox:latest, made from the
// host's static busybox (package busybox-static) so that `bock run busybox`
// needs no registry and no network.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/image/store.hpp"

namespace bock::image {

inline constexpr const char* default_image_name = "localhost/busybox:latest";

// This machine's architecture in Go's names (amd64, arm64, ...), as image
// configs and platforms write it.
std::string go_arch();

// Path of a static busybox on the host ($BOCK_BUSYBOX, /bin/busybox,
// /usr/bin/busybox); an error naming the package when none is static.
Result<std::string> find_static_busybox();

// Writes the default image's single layer (busybox, applet links, /etc
// files) as an uncompressed tar; returns its digest (the diff_id).
Result<Digest> write_busybox_layer(const std::string& busybox, const std::string& tar_path);

// Adds localhost/busybox:latest if the store lacks it (config with Cmd
// ["sh"], Env PATH, /bin with one link per applet, /etc/passwd and group).
Result<ImageRecord> ensure_default_image(Store& store);

}  // namespace bock::image
