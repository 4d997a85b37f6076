// The metrics endpoint's request-head judge (net/http.hpp): complete,
// incomplete, malformed and oversized heads, routing and the responses.
#include <gtest/gtest.h>

#include <string>

#include "setd/net/http.hpp"

namespace setd::net::http {
namespace {

TEST(HttpJudge, CompleteRequestsAreRouted) {
  EXPECT_EQ(judge("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status, 200);
  EXPECT_EQ(judge("GET /metrics HTTP/1.0\r\n\r\n").status, 200);
  EXPECT_EQ(judge("GET /metrics?name[]=x HTTP/1.1\n\n").status, 200);  // bare LF
  EXPECT_EQ(judge("GET http://h:9121/metrics HTTP/1.1\r\n\r\n").status, 200);
  const Verdict head = judge("HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.head_only);
  EXPECT_FALSE(judge("GET /metrics HTTP/1.1\r\n\r\n").head_only);
  EXPECT_EQ(judge("GET / HTTP/1.1\r\n\r\n").status, 404);
  EXPECT_EQ(judge("GET /metricsx HTTP/1.1\r\n\r\n").status, 404);
  EXPECT_EQ(judge("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").status, 405);
  EXPECT_EQ(judge("DELETE /metrics HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(judge("GET /metrics HTTP/2.0\r\n\r\n").status, 505);
}

TEST(HttpJudge, IncompleteHeadsWaitForMore) {
  EXPECT_EQ(judge("").status, 0);
  EXPECT_EQ(judge("GE").status, 0);
  EXPECT_EQ(judge("GET /metrics HTTP/1.1\r\n").status, 0);
  EXPECT_EQ(judge("GET /metrics HTTP/1.1\r\nHost: x\r\n").status, 0);
  EXPECT_EQ(judge("GET /metrics HTTP/1.1\r\nHost: x").status, 0);
}

TEST(HttpJudge, GarbageIsRefusedAtOnce) {
  EXPECT_EQ(judge(std::string("\x16\x03\x01\x02\x00", 5)).status, 400);  // a TLS hello
  EXPECT_EQ(judge("*1\r\n$4\r\nPING\r\n").status, 400);                  // RESP
  EXPECT_EQ(judge(std::string("GET /\0x", 7)).status, 400);
  EXPECT_EQ(judge("GET\r\n\r\n").status, 400);
  EXPECT_EQ(judge("GET  /metrics HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(judge("GET /metrics HTTP/1.1 extra\r\n\r\n").status, 400);
  EXPECT_EQ(judge("GET /metrics FTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(judge("GET /metrics HTTP/1.1\r\nno colon\r\n\r\n").status, 400);
  EXPECT_EQ(judge("GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n").status, 400);
  EXPECT_EQ(judge(std::string("GET /metrics HTTP/1.1\r\nX: a\x01\r\n\r\n")).status, 400);
}

TEST(HttpJudge, OversizedHeadsAreRefused) {
  EXPECT_EQ(judge(std::string(kMaxHead + 1, 'G')).status, 431);
  std::string head = "GET /metrics HTTP/1.1\r\n";
  while (head.size() <= kMaxHead)
    head += "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  EXPECT_EQ(judge(head).status, 431);           // no end in sight
  EXPECT_EQ(judge(head + "\r\n").status, 431);  // complete, but too big
  std::string fits = "GET /metrics HTTP/1.1\r\n";
  while (fits.size() < kMaxHead - 100) fits += "X-Padding: a\r\n";
  EXPECT_EQ(judge(fits + "\r\n").status, 200);
}

TEST(HttpResponse, StatusHeadersAndBody) {
  const std::string r = response(200, "OK", "text/plain; version=0.0.4", "abc\n", false);
  EXPECT_EQ(r,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
            "4\r\nConnection: close\r\n\r\nabc\n");
  const std::string h = response(200, "OK", "text/plain", "abc\n", true);
  EXPECT_TRUE(h.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n")) << h;
  EXPECT_NE(response(405, "Method Not Allowed", "text/plain", "", false).find("Allow: GET, HEAD"),
            std::string::npos);
  EXPECT_EQ(Verdict{431}.reason(), "Request Header Fields Too Large");
}

}  // namespace
}  // namespace setd::net::http
