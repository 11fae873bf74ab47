// From HTTP status, body and transport failure to message and exit status.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include "api/api_errors.hpp"
#include "api/curl_transport.hpp"
#include "test_support.hpp"

namespace chatadm {
namespace {

using test::api_error;
using test::reply;

const CallContext basic{"unread_count", "https://lb:5443/api/unread_count",
                        Auth{Auth::Kind::basic, "admin@lb", {}}};

struct Mapped {
    ExitStatus status;
    std::string message;
    bool endpoint_missing = false;
};

Mapped map(const HttpResponse& r, const CallContext& call = basic) {
    try {
        interpret_response(call, r);
    } catch (const ApiError& e) {
        return {e.status(), e.what(), e.endpoint_missing()};
    }
    ADD_FAILURE() << "no error for HTTP " << r.status;
    return {ExitStatus::ok, ""};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(InterpretResponse, SuccessReturnsTheResult) {
    EXPECT_EQ(interpret_response(basic, reply(200, "{\"count\":5}")),
              (nlohmann::json{{"count", 5}}));
    EXPECT_EQ(interpret_response(basic, reply(200, "0")), nlohmann::json(0));
    EXPECT_EQ(interpret_response(basic, reply(200, "\"text\"")), nlohmann::json("text"));
}

TEST(InterpretResponse, WrongCredentialsIs3) {
    const auto m = map(api_error(401, 10, "You are not authorized to call this command."));
    EXPECT_EQ(m.status, ExitStatus::auth);
    EXPECT_TRUE(has(m.message,
                    "authentication failed at https://lb:5443/api/unread_count as "
                    "admin@lb: wrong admin JID or password"));
    // A JID without its domain is the classic mistake: say so.
    CallContext bare = basic;
    bare.auth.user = "admin";
    EXPECT_TRUE(has(map(api_error(401, 10, "x"), bare).message, "needs its domain, e.g. admin@lb"));
    CallContext bearer = basic;
    bearer.auth.kind = Auth::Kind::bearer;
    EXPECT_TRUE(has(map(api_error(401, 10, "x"), bearer).message, "oauth_issue_token"));
    CallContext none = basic;
    none.auth.kind = Auth::Kind::none;
    EXPECT_TRUE(has(map(api_error(401, 10, "x"), none).message, "requires authentication"));
}

TEST(InterpretResponse, ForbiddenIs3AndPointsAtApiPermissions) {
    const auto m = map(api_error(
        403, 32, "AccessRules: Account does not have the right to perform the operation."));
    EXPECT_EQ(m.status, ExitStatus::auth);
    EXPECT_TRUE(has(m.message, "permission denied: admin@lb may not run 'unread_count'"));
    EXPECT_TRUE(has(m.message, "api_permissions"));
    CallContext none = basic;
    none.auth.kind = Auth::Kind::none;
    EXPECT_TRUE(has(map(api_error(403, 32, "x"), none).message, "no credentials were sent"));
    // A proxy's own 403 page is still a refusal.
    EXPECT_EQ(map(reply(403, "<html>Forbidden</html>", "text/html")).status, ExitStatus::auth);
}

TEST(InterpretResponse, EndpointNotFoundMeansTheModuleIsMissing) {
    const auto m = map(api_error(404, 40, "Endpoint not found."));
    EXPECT_EQ(m.status, ExitStatus::failure);
    EXPECT_TRUE(m.endpoint_missing);
    EXPECT_TRUE(has(m.message, "has no command 'unread_count'"));
}

TEST(InterpretResponse, OtherNotFoundIs4) {
    const auto m = map(api_error(404, 0, "user not found"));
    EXPECT_EQ(m.status, ExitStatus::not_found);
    EXPECT_FALSE(m.endpoint_missing);
    EXPECT_TRUE(has(m.message, "user not found"));
}

TEST(InterpretResponse, BadArgumentIs2) {
    // 23.01 sends argument errors as a bare JSON string.
    const auto m = map(reply(400, "\"Bad value of attribute 'to' in tag <message/>\""));
    EXPECT_EQ(m.status, ExitStatus::usage);
    EXPECT_TRUE(has(m.message, "rejected the arguments of 'unread_count' (server says: Bad value"));
}

TEST(InterpretResponse, ServerErrorIs1) {
    const auto m = map(reply(500, "\"internal_error\""));
    EXPECT_EQ(m.status, ExitStatus::failure);
    EXPECT_TRUE(has(m.message, "HTTP 500"));
    EXPECT_TRUE(has(m.message, "internal_error"));
    EXPECT_TRUE(has(m.message, "error.log"));
    EXPECT_EQ(map(api_error(409, 0, "conflict")).status, ExitStatus::failure);
}

TEST(InterpretResponse, NonJsonRepliesAreNamed) {
    const auto proxy = map(reply(503,
                                 "<html><head><title>503 Service Unavailable</title></head>"
                                 "<body>No server is available</body></html>",
                                 "text/html"));
    EXPECT_EQ(proxy.status, ExitStatus::failure);
    EXPECT_TRUE(has(proxy.message, "an HTML page titled \"503 Service Unavailable\""));
    EXPECT_TRUE(has(proxy.message, "proxy"));

    const auto ok_html =
        map(reply(200, "<!DOCTYPE html><html><h1>Welcome</h1></html>", "text/html"));
    EXPECT_EQ(ok_html.status, ExitStatus::failure);
    EXPECT_TRUE(has(ok_html.message, "not JSON but an HTML page saying \"Welcome\""));

    // ejabberd's own 404 for a path it does not serve.
    const auto wrong_path = map(reply(
        404, "<?xml version='1.0'?><html><body><h1>404 Not Found</h1></body></html>", "text/html"));
    EXPECT_EQ(wrong_path.status, ExitStatus::failure);
    EXPECT_TRUE(has(wrong_path.message, "is the API path right?"));

    const auto text = map(reply(200, "garbage\x1b[31m", "text/plain"));
    EXPECT_TRUE(has(text.message, "non-JSON text \"garbage\\x1b[31m\""));
}

TEST(InterpretResponse, RedirectNamesTheTarget) {
    HttpResponse r = reply(301, "", "text/html");
    r.location = "https://new.example/api/unread_count";
    const auto m = map(r);
    EXPECT_EQ(m.status, ExitStatus::failure);
    EXPECT_TRUE(has(m.message, "redirects (HTTP 301) to https://new.example/api/unread_count"));
}

TEST(TransportErrors, EachKindHasAdvice) {
    const std::string url = "https://lb:5443/api/status";
    const auto msg = [&](TransportFailure k) {
        return describe_transport_error(TransportError(k, "detail"), url, 2500);
    };
    EXPECT_TRUE(has(msg(TransportFailure::resolve), "cannot resolve host 'lb'"));
    EXPECT_TRUE(has(msg(TransportFailure::connect), "cannot connect to " + url));
    EXPECT_TRUE(has(msg(TransportFailure::timeout), "within 2.5 s"));
    EXPECT_TRUE(has(msg(TransportFailure::timeout), "-T"));
    EXPECT_TRUE(has(msg(TransportFailure::tls_untrusted), "-C ca-file"));
    EXPECT_TRUE(has(msg(TransportFailure::tls_untrusted), "-k"));
    EXPECT_TRUE(has(describe_transport_error(
                        TransportError(TransportFailure::tls_untrusted,
                                       "SSL: no alternative certificate subject name matches "
                                       "target host name '10.0.0.1'"),
                        url, 1000),
                    "is for another name"));
    EXPECT_TRUE(has(msg(TransportFailure::tls_handshake), "http://lb:PORT"));
    EXPECT_TRUE(has(msg(TransportFailure::bad_reply), "https://"));
    EXPECT_TRUE(has(msg(TransportFailure::other), "detail"));
}

TEST(TransportErrors, CurlCodesAreClassified) {
    EXPECT_EQ(classify_curl_code(CURLE_COULDNT_RESOLVE_HOST), TransportFailure::resolve);
    EXPECT_EQ(classify_curl_code(CURLE_COULDNT_CONNECT), TransportFailure::connect);
    EXPECT_EQ(classify_curl_code(CURLE_OPERATION_TIMEDOUT), TransportFailure::timeout);
    EXPECT_EQ(classify_curl_code(CURLE_PEER_FAILED_VERIFICATION), TransportFailure::tls_untrusted);
    EXPECT_EQ(classify_curl_code(CURLE_SSL_CACERT_BADFILE), TransportFailure::tls_ca_file);
    EXPECT_EQ(classify_curl_code(CURLE_SSL_CONNECT_ERROR), TransportFailure::tls_handshake);
    EXPECT_EQ(classify_curl_code(CURLE_GOT_NOTHING), TransportFailure::bad_reply);
    EXPECT_EQ(classify_curl_code(CURLE_OUT_OF_MEMORY), TransportFailure::other);
}

}  // namespace
}  // namespace chatadm
