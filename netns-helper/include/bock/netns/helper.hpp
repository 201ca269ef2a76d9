// bock-netns's whole life: set up, lock down, say ready, serve until the
// exit fd closes or the container's init exits.
#pragma once

#include "bock/common/error.hpp"
#include "bock/netns/options.hpp"

namespace bock::netns {

Result<void> run_helper(const Options& o);

}  // namespace bock::netns
