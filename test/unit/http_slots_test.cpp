// Slots cannot be held hostage: idle keep-alive connections, heads that never
// finish and slow readers give up their slot to a new client; without one
// to free, a new client gets a quick 503; a connection has a lifetime that
// requests do not renew; what cannot be HTTP/1.x is refused at once.
#include <string>

#include "http_loop.h"
#include "unit.h"

namespace {

http::Response hello(const http::Request& r) {
  if (r.path == "/big") {
    http::Response resp;
    resp.body = std::make_shared<const http::Body>(std::string(8 << 20, 'x'));
    return resp;
  }
  if (r.path == "/wait") return http::deferred_response();
  return http::simple_response(200, "hello " + r.path);
}

http::Limits two_slots(size_t queued = 0) {
  http::Limits l;
  l.max_clients = 2;
  l.max_queued = queued;
  return l;
}

}  // namespace

TEST(slots_idle_keep_alive_connections_make_room) {
  loop::Loop l(two_slots(), hello);
  CHECK_EQ(l.server.listen("127.0.0.1", 0), "");
  const int port = l.server.bound_port();
  int a = loop::connect_to(port), b = loop::connect_to(port);
  CHECK(loop::exchange(l, a, "GET /a HTTP/1.1\r\n\r\n", 1).find("hello /a") != std::string::npos);
  CHECK(loop::exchange(l, b, "GET /b HTTP/1.1\r\n\r\n", 2).find("hello /b") != std::string::npos);
  CHECK_EQ(l.server.client_count(), 2u);  // both idle, kept alive
  int c = loop::connect_to(port);
  std::string out = loop::exchange(l, c, "GET /c HTTP/1.1\r\n\r\n", 3);
  CHECK(out.find("hello /c") != std::string::npos);
  CHECK_EQ(l.server.stats().evicted, 1u);
  CHECK_EQ(l.server.client_count(), 2u);
  bool eof = false;
  loop::drain(a, &eof);
  CHECK(eof);  // the one idle longest went
  close(a);
  close(b);
  close(c);
}

TEST(slots_stalled_heads_make_room_oldest_first) {
  loop::Loop l(two_slots(), hello);
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  // Slowloris: half a head each.
  int a = loop::connect_to(port);
  loop::exchange(l, a, "GET / HT", 1, 3);
  int b = loop::connect_to(port);
  loop::exchange(l, b, "GET / HT", 2, 3);
  int c = loop::connect_to(port);
  std::string out = loop::exchange(l, c, "GET /probe HTTP/1.1\r\n\r\n", 3);
  CHECK(out.find("hello /probe") != std::string::npos);
  bool eof = false;
  loop::drain(a, &eof);
  CHECK(eof);
  loop::drain(b, &eof);
  CHECK(!eof);
  close(a);
  close(b);
  close(c);
}

TEST(slots_slow_readers_make_room_once_stalled) {
  loop::Loop l(two_slots(), hello);
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  int readers[2];
  for (int& r : readers) {
    r = loop::connect_to(port);
    int small = 4096;
    setsockopt(r, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    loop::exchange(l, r, "GET /big HTTP/1.1\r\n\r\n", 10, 2);  // 8 MB they will not read
  }
  // A new client at once: both readers stalled under 0.25 s ago, and neither
  // is idle or stalled in its head: a quick 503.
  int early = loop::connect_to(port);
  std::string out = loop::exchange(l, early, "GET /x HTTP/1.1\r\n\r\n", 10.1, 3);
  CHECK(out.find("503 Service Unavailable") != std::string::npos);
  CHECK(out.find("Retry-After: 1") != std::string::npos);
  CHECK_EQ(l.server.stats().refused_busy, 1u);
  // Later, the reader stalled longest gives way.
  int late = loop::connect_to(port);
  out = loop::exchange(l, late, "GET /y HTTP/1.1\r\n\r\n", 11);
  CHECK(out.find("hello /y") != std::string::npos);
  CHECK_EQ(l.server.stats().evicted, 1u);
  for (int r : readers) close(r);
  close(early);
  close(late);
}

TEST(slots_waiting_requests_keep_their_slot) {
  loop::Loop l(two_slots(), hello);
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  int a = loop::connect_to(port), b = loop::connect_to(port);
  loop::exchange(l, a, "GET /wait HTTP/1.1\r\n\r\n", 1, 3);
  loop::exchange(l, b, "GET /wait HTTP/1.1\r\n\r\n", 1, 3);
  int c = loop::connect_to(port);
  std::string out = loop::exchange(l, c, "GET /x HTTP/1.1\r\n\r\n", 2, 3);
  CHECK(out.find("503") != std::string::npos);
  CHECK_EQ(l.server.client_count(), 2u);
  close(a);
  close(b);
  close(c);
}

TEST(slots_busy_slots_queue_a_newcomer_for_a_second) {
  loop::Loop l(two_slots(1), hello);
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  int a = loop::connect_to(port), b = loop::connect_to(port);
  loop::exchange(l, a, "GET /wait HTTP/1.1\r\n\r\n", 1, 3);
  loop::exchange(l, b, "GET /wait HTTP/1.1\r\n\r\n", 1, 3);
  // A newcomer waits for a slot (not read yet); a second one takes its
  // place in the queue, the first gets a 503.
  int d = loop::connect_to(port);
  std::string out = loop::exchange(l, d, "GET /d HTTP/1.1\r\n\r\n", 1.2, 3);
  CHECK(out.empty());
  CHECK_EQ(l.server.queued_count(), 1u);
  int c = loop::connect_to(port);
  CHECK(loop::exchange(l, c, "GET /c HTTP/1.1\r\n\r\n", 1.3, 3).empty());
  CHECK(loop::drain(d).find("503") == 9);
  CHECK_EQ(l.fds, 3);  // two clients and the one waiting
  // A slot frees (a waiting request goes away): the newcomer is served.
  close(a);
  out.clear();
  for (int i = 0; i < 10; i++) {
    l.pump(1.5);
    out += loop::drain(c);
  }
  CHECK(out.find("hello /c") != std::string::npos);
  CHECK_EQ(l.server.queued_count(), 0u);
  // Without a free slot, the wait ends with a 503 after a second.
  close(c);
  int f = loop::connect_to(port);
  loop::exchange(l, f, "GET /wait HTTP/1.1\r\n\r\n", 1.9, 3);
  int e = loop::connect_to(port);
  loop::exchange(l, e, "GET /e HTTP/1.1\r\n\r\n", 2, 3);
  CHECK_EQ(l.server.queued_count(), 1u);
  CHECK(loop::exchange(l, e, "", 3.1, 3).find("503") == 9);
  CHECK_EQ(l.server.queued_count(), 0u);
  CHECK_EQ(l.fds, 2);
  for (int fd : {b, d, e, f}) close(fd);
}

TEST(slots_lifetime_is_not_renewed_by_requests) {
  http::Limits lim;
  lim.lifetime = 10;
  lim.idle_timeout = 60;
  lim.head_timeout = 60;
  loop::Loop l(lim, hello);
  l.server.listen("127.0.0.1", 0);
  int a = loop::connect_to(l.server.bound_port());
  // A request every 3 s keeps an idle timeout of 60 s from ever expiring...
  for (double now : {1.0, 4.0, 7.0, 10.5}) {
    std::string out = loop::exchange(l, a, "GET / HTTP/1.1\r\n\r\n", now, 3);
    CHECK(out.find("hello /") != std::string::npos);
    CHECK(out.find("Connection: keep-alive") != std::string::npos);
  }
  // ...but not the lifetime (from the accept at 1 s): the connection goes at 11 s.
  for (int i = 0; i < 3; i++) l.pump(11.5);
  CHECK_EQ(l.server.client_count(), 0u);
  bool eof = false;
  loop::drain(a, &eof);
  CHECK(eof);
  close(a);
  // A half-sent head is cut at the lifetime too, however recent its bytes.
  int b = loop::connect_to(l.server.bound_port());
  loop::exchange(l, b, "GET /", 20, 2);
  for (int t = 21; t < 30; t++) loop::exchange(l, b, "x", t, 1);
  for (int i = 0; i < 3; i++) l.pump(31);
  CHECK_EQ(l.server.client_count(), 0u);
  close(b);
}

TEST(slots_tls_and_http09_on_the_plain_port_are_refused_at_once) {
  loop::Loop l(http::Limits{}, hello);
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  // A ClientHello's first bytes: refused without waiting for the head timeout.
  int a = loop::connect_to(port);
  bool eof = false;
  std::string out =
      loop::exchange(l, a, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 0, 3, &eof);
  CHECK(out.find("400 Bad Request") != std::string::npos);
  CHECK(eof);
  // HTTP/0.9: a request line without a version.
  int b = loop::connect_to(port);
  out = loop::exchange(l, b, "GET /metrics\r\n", 0, 3, &eof);
  CHECK(out.find("400 Bad Request") != std::string::npos);
  CHECK(eof);
  // A valid start still waits for the rest.
  int c = loop::connect_to(port);
  out = loop::exchange(l, c, "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, 3, &eof);
  CHECK(out.empty());
  CHECK(!eof);
  CHECK(loop::exchange(l, c, "\r\n", 0).find("hello /metrics") != std::string::npos);
  close(a);
  close(b);
  close(c);
}

TEST(slots_flood_still_serves_a_probe) {
  // 200 connections that send nothing, then one that sends its request:
  // bounded, on loopback.
  loop::Loop l(http::Limits{}, hello);
  l.server.listen("127.0.0.1", 0);
  const int port = l.server.bound_port();
  std::vector<int> flood;
  for (int i = 0; i < 200; i++) {
    flood.push_back(loop::connect_to(port));
    if (i % 20 == 0) l.pump(i * 0.01, 0);
  }
  for (int i = 0; i < 20; i++) l.pump(2.0 + i * 0.01, 1);
  CHECK(l.server.client_count() <= 16u);
  int probe = loop::connect_to(port);
  std::string out = loop::exchange(l, probe, "GET /probe HTTP/1.1\r\n\r\n", 3, 10);
  CHECK(out.find("hello /probe") != std::string::npos);
  CHECK(l.server.stats().evicted + l.server.stats().refused_busy >= 180u);
  for (int f : flood) close(f);
  close(probe);
  CHECK(l.fds <= 16);
}
