// The real libcurl transport against a loopback HTTP server: real refused
// connections, real timeouts, real headers.
#include <gtest/gtest.h>

#include <chrono>

#include "api/curl_transport.hpp"
#include "fake_server.hpp"
#include "test_support.hpp"

namespace chatadm {
namespace {

using test::closed_port;
using test::FakeHttpServer;
using test::http_response;
using test::RecordedRequest;

TransportFailure failure_of(Transport& t, const std::string& url) {
    try {
        t.post(url, "{}");
    } catch (const TransportError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no TransportError";
    return TransportFailure::other;
}

TEST(CurlTransport, PostsJsonWithBasicAuthAndNoExpect) {
    FakeHttpServer server(
        [](const RecordedRequest&) { return http_response(200, "{\"count\":2}"); });
    TransportOptions options;
    options.auth = {Auth::Kind::basic, "admin@localhost", "secret"};
    auto t = make_curl_transport(options);
    const std::string big(5000, 'x');  // over curl's 1 KiB Expect: 100-continue threshold
    const HttpResponse r = t->post(server.url("/api/unread_count"), "{\"body\":\"" + big + "\"}");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"count\":2}");
    EXPECT_EQ(r.content_type, "application/json");
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].request_line, "POST /api/unread_count HTTP/1.1");
    // base64("admin@localhost:secret")
    EXPECT_EQ(reqs[0].header("authorization"), "Basic YWRtaW5AbG9jYWxob3N0OnNlY3JldA==");
    EXPECT_EQ(reqs[0].header("content-type"), "application/json");
    EXPECT_EQ(reqs[0].header("expect"), "");
    EXPECT_EQ(reqs[0].body.size(), big.size() + 11);
}

TEST(CurlTransport, BearerTokenAndConnectionReuse) {
    FakeHttpServer server([](const RecordedRequest&) { return http_response(200, "0"); });
    TransportOptions options;
    options.auth = {Auth::Kind::bearer, "", "tok123"};
    auto t = make_curl_transport(options);
    t->post(server.url("/api/a"), "{}");
    t->post(server.url("/api/b"), "{}");
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[1].header("authorization"), "Bearer tok123");
}

TEST(CurlTransport, ErrorStatusesAreResponsesNotExceptions) {
    FakeHttpServer server([](const RecordedRequest&) {
        return http_response(401, "{\"status\":\"error\",\"code\":10,\"message\":\"no\"}");
    });
    auto t = make_curl_transport({});
    EXPECT_EQ(t->post(server.url(), "{}").status, 401);
}

TEST(CurlTransport, RedirectsAreNotFollowed) {
    FakeHttpServer server([](const RecordedRequest&) {
        return std::string(
            "HTTP/1.1 302 Found\r\nLocation: https://elsewhere/api\r\nContent-Length: 0\r\n\r\n");
    });
    auto t = make_curl_transport({});
    const HttpResponse r = t->post(server.url(), "{}");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.location, "https://elsewhere/api");
}

TEST(CurlTransport, ConnectionRefused) {
    auto t = make_curl_transport({});
    EXPECT_EQ(failure_of(*t, "http://127.0.0.1:" + std::to_string(closed_port()) + "/api/status"),
              TransportFailure::connect);
}

TEST(CurlTransport, Timeout) {
    FakeHttpServer server([](const RecordedRequest&) { return std::nullopt; });
    TransportOptions options;
    options.timeout_ms = 300;
    auto t = make_curl_transport(options);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(failure_of(*t, server.url()), TransportFailure::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(CurlTransport, GarbageInsteadOfHttp) {
    // What a TLS port sends to a plain-HTTP client is not HTTP either.
    FakeHttpServer server(
        [](const RecordedRequest&) { return std::string("\x15\x03\x03\x00\x02\x02\x46", 7); });
    auto t = make_curl_transport({});
    EXPECT_EQ(failure_of(*t, server.url()), TransportFailure::bad_reply);
}

TEST(CurlTransport, TlsToAPlainHttpPort) {
    FakeHttpServer server([](const RecordedRequest&) { return http_response(400, "plain"); });
    auto t = make_curl_transport({});
    const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/api/status";
    EXPECT_EQ(failure_of(*t, url), TransportFailure::tls_handshake);
}

TEST(CurlTransport, UnresolvableHost) {
    auto t = make_curl_transport({});
    EXPECT_EQ(failure_of(*t, "http://no-such-host.invalid/api/status"), TransportFailure::resolve);
}

// The whole program over the real transport: a proxy's HTML page.
TEST(CurlTransport, WholeProgramReportsAnHtmlErrorPage) {
    FakeHttpServer server([](const RecordedRequest&) {
        return http_response(
            503, "<html><head><title>503 Service Unavailable</title></head></html>", "text/html");
    });
    test::Harness h;
    std::ostringstream out, err;
    std::istringstream in;
    Io io{out, err, in, false};
    Environment env;
    env.getenv = [&](const std::string& n) -> std::optional<std::string> {
        return n == "HOME" ? std::optional<std::string>(h.home.path().string()) : std::nullopt;
    };
    env.make_transport = make_curl_transport;
    env.system_config = "/nonexistent";
    EXPECT_EQ(run({"-h", server.url(), "unread", "-c", "alice"}, io, env), 1);
    EXPECT_NE(
        err.str().find("HTTP 503 from " + server.url() +
                       "/unread_count/v0 with an HTML page titled \"503 Service Unavailable\""),
        std::string::npos)
        << err.str();
}

}  // namespace
}  // namespace chatadm
