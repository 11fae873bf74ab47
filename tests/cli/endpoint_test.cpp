#include "api/endpoint.hpp"

#include <gtest/gtest.h>

#include "errors.hpp"

namespace chatadm {
namespace {

TEST(ApiBaseUrl, HostForms) {
    EXPECT_EQ(api_base_url("lb"), "https://lb:5443/api");
    EXPECT_EQ(api_base_url("lb:8443"), "https://lb:8443/api");
    EXPECT_EQ(api_base_url("chat.example.com"), "https://chat.example.com:5443/api");
    EXPECT_EQ(api_base_url("10.0.0.1"), "https://10.0.0.1:5443/api");
    EXPECT_EQ(api_base_url("[::1]"), "https://[::1]:5443/api");
    EXPECT_EQ(api_base_url("[::1]:9"), "https://[::1]:9/api");
    EXPECT_EQ(api_base_url("::1"), "https://[::1]:5443/api");
    EXPECT_EQ(api_base_url("lb/custom/"), "https://lb:5443/custom");
    EXPECT_EQ(api_base_url("lb:1/x"), "https://lb:1/x");
}

TEST(ApiBaseUrl, FullUrlsAreKept) {
    EXPECT_EQ(api_base_url("http://lb:5280"), "http://lb:5280/api");
    EXPECT_EQ(api_base_url("https://chat.example.com/"), "https://chat.example.com/api");
    EXPECT_EQ(api_base_url("HTTPS://lb/ejabberd/api/"), "https://lb/ejabberd/api");
    EXPECT_EQ(api_base_url("https://[::1]:5443/api"), "https://[::1]:5443/api");
}

TEST(ApiBaseUrl, Rejects) {
    for (const char* bad : {"", "ftp://lb", "lb:0", "lb:65536", "lb:x", "l b", "http://",
                            "lb:", "https://u:p@lb/api", "lb/api?x=1", "[::1", "[zz]"}) {
        try {
            api_base_url(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const CliError& e) {
            EXPECT_EQ(e.status(), ExitStatus::usage) << bad;
            EXPECT_NE(std::string(e.what()).find("invalid host"), std::string::npos);
        }
    }
}

TEST(UrlHost, ForMessages) {
    EXPECT_EQ(url_host("https://lb:5443/api"), "lb");
    EXPECT_EQ(url_host("https://[::1]:5443/api"), "::1");
    EXPECT_EQ(url_host("http://example.com/api/status"), "example.com");
    EXPECT_EQ(command_url("https://lb:5443/api", "status"), "https://lb:5443/api/status");
    EXPECT_EQ(command_url("https://lb:5443/api", "status", true), "https://lb:5443/api/status/v0");
}

}  // namespace
}  // namespace chatadm

namespace chatadm {
namespace {

TEST(Endpoint, VersionSegmentsInTheBase) {
    EXPECT_TRUE(names_api_version("https://lb:5443/api/v0"));
    EXPECT_TRUE(names_api_version("https://lb:5443/v2/api"));
    EXPECT_FALSE(names_api_version("https://lb:5443/api"));
    EXPECT_FALSE(names_api_version("https://v1:5443/api"));  // a host, not a path
    EXPECT_FALSE(names_api_version("https://lb:5443/api/vx"));
    EXPECT_FALSE(names_api_version("https://lb:5443/v/api"));
}

}  // namespace
}  // namespace chatadm
