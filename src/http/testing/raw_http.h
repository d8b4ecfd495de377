// raw_http.h: send bytes that need not be HTTP to a server on loopback,
// for tests and fuzz targets of the request parsing (no HTTP client would
// send malformed requests).
//
// Thread-safety: each call uses its own socket.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sagebox::testing {

// Connects to 127.0.0.1:port, sends `bytes`, shuts down writing and returns
// everything the server sent until it closed the connection. With
// timeout_seconds > 0, stops reading after that long without data (else
// waits as long as the server takes). nullopt if the connection fails.
inline std::optional<std::string> SendRaw(int port, std::string_view bytes,
                                          int timeout_seconds = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  if (timeout_seconds > 0) {
    timeval tv{timeout_seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace sagebox::testing
