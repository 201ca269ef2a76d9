// Fixtures the network tests share (rootless network/netns-helper tests,
// the service-network scenarios): a `bock run` left in the background and
// the test's own DNS resolver on 127.0.0.1.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/pid.hpp"

namespace bock::test {

// A `bock ARGS...` left running in the background, stdin from /dev/null,
// stdout and stderr appended to `log` (a foreground run: the container
// lives as long as this process).
Pid spawn_bock(const std::vector<std::string>& args, const std::string& log);

// A free port on 127.0.0.1 (TCP, or UDP with SOCK_DGRAM).
uint16_t loopback_port(int type = SOCK_STREAM);

// busybox httpd serving `root` on 127.0.0.1:port, in the foreground of
// the returned process (killed and reaped with it).
Pid loopback_httpd(const std::string& root, uint16_t port);

// A python3 script: `python3 -c SCRIPT PORT_FILE ADDR` binds a UDP socket
// on 127.0.0.1, writes its port to PORT_FILE (by rename) and answers every
// A query with ADDR (other types: no answer records).
extern const char* const kResolverScript;

}  // namespace bock::test
