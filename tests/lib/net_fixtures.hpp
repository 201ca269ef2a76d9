// Fixtures the network tests share (rootless network/netns-helper tests,
// the service-network scenarios): a `bock run` left in the background and
// the test's own DNS resolver on 127.0.0.1.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/fd.hpp"
#include "bock/common/pid.hpp"

namespace bock::test {

// A `bock ARGS...` left running in the background, stdin from /dev/null,
// stdout and stderr appended to `log` (a foreground run: the container
// lives as long as this process).
Pid spawn_bock(const std::vector<std::string>& args, const std::string& log);


// busybox httpd serving `root` on 127.0.0.1:port, in the foreground of
// the returned process (killed and reaped with it).
Pid loopback_httpd(const std::string& root, uint16_t port);

// A python3 script: `python3 -c SCRIPT PORT_FILE ADDR` binds a UDP socket
// on 127.0.0.1, writes its port to PORT_FILE (by rename) and answers every
// A query with ADDR (other types: no answer records).
extern const char* const kResolverScript;

// The host's loopback, as the tests reach published ports.
sockaddr_in lo_v4(const char* ip, uint16_t port);
// A port free on 127.0.0.1 now (TCP or UDP).
uint16_t lo_free_port(int type = SOCK_STREAM);
// GET path over HTTP/1.0 from 127.0.0.1:port (from `source`, if given);
// the whole answer, empty when nothing answered (5 s read timeout).
std::string lo_http_get(uint16_t port, const std::string& path, const char* source = nullptr);
// GET path over HTTP/1.0 on the socket `s` (bound as the caller likes) to
// `dst`; the whole answer, empty when nothing answered (5 s read timeout).
std::string http_get_on(const Fd& s, const sockaddr* dst, socklen_t len, const std::string& path);
// The same to [::1]:port.
std::string lo_http_get6(uint16_t port, const std::string& path);
// A listener on 127.0.0.1:port (TCP) or a socket bound there (UDP).
// SO_REUSEADDR: connections left in TIME_WAIT do not count.
bool lo_port_bound(uint16_t port, int type = SOCK_STREAM);

}  // namespace bock::test
