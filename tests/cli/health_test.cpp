// chatadm health against a scripted API: the two requests, the report for
// people and for scripts, and exit status 6 when a user is at its limit.
#include <gtest/gtest.h>

#include "commands/cmd_health.hpp"
#include "test_support.hpp"

namespace chatadm {
namespace {

using nlohmann::json;
using test::endpoint_not_found;
using test::Harness;
using test::ok;

json health_row(std::int64_t at_limit) {
    return {{"host", "localhost"},
            {"state", "ready"},
            {"users", 3},
            {"messages", 29},
            {"oldest_user", "bob@localhost"},
            {"oldest_time", "2026-11-23T10:03:25.123456Z"},
            {"oldest_age", 3725},
            {"near_fraction", "0.9"},
            {"near_limit", 1},
            {"at_limit", at_limit},
            {"buckets", json::array({{{"le", "1"}, {"count", 0}},
                                     {{"le", "5"}, {"count", 1}},
                                     {{"le", "+Inf"}, {"count", 3}}})}};
}

json limited_users() {
    return json::array(
        {{{"user", "bob@localhost"}, {"count", 8}, {"limit", 8}, {"state", "at_limit"}},
         {{"user", "carol@localhost"}, {"count", 18}, {"limit", 20}, {"state", "near_limit"}}});
}

class Health : public ::testing::Test {
  protected:
    Harness h;
};

TEST_F(Health, AllHostsIsTwoRequestsWithAnEmptyHost) {
    h.api.on("unread_health", ok(json::array({health_row(0)})));
    h.api.on("unread_health_users", ok(json::array()));
    const auto r = h.run({"health"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(h.api.commands(), (std::vector<std::string>{"unread_health", "unread_health_users"}));
    EXPECT_EQ(h.api.calls[0].args, (json{{"host", ""}}));
    EXPECT_EQ(h.api.calls[1].args, (json{{"host", ""}}));
    EXPECT_NE(r.out.find("localhost: ready\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("29 messages, 3 users"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2026-11-23T10:03:25Z (1h 2m 5s ago) for bob@localhost"),
              std::string::npos)
        << r.out;
    // Cumulative buckets 0, 1, 3 read as ranges, the empty one left out.
    EXPECT_NE(r.out.find("  queues      2-5: 1, >5: 2 (messages: users)\n"), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("USER"), std::string::npos) << "no table without limited users";
}

TEST_F(Health, UserAtLimitIsStatus6AndListed) {
    h.api.on("unread_health", ok(json::array({health_row(1)})));
    h.api.on("unread_health_users", ok(limited_users()));
    const auto r = h.run({"health", "localhost"});
    EXPECT_EQ(r.status, 6);
    EXPECT_EQ(h.api.calls[0].args, (json{{"host", "localhost"}}));
    EXPECT_NE(r.out.find("USER             COUNT  LIMIT  STATE\n"
                         "bob@localhost    8      8      at limit\n"
                         "carol@localhost  18     20     near limit\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.err.find("1 user is at the offline message limit"), std::string::npos) << r.err;
}

TEST_F(Health, JsonIsOneObjectAndStillStatus6) {
    h.api.on("unread_health", ok(json::array({health_row(1)})));
    h.api.on("unread_health_users", ok(limited_users()));
    const auto r = h.run({"-j", "health"});
    EXPECT_EQ(r.status, 6);
    const json j = json::parse(r.out);
    EXPECT_EQ(j["hosts"], json::array({health_row(1)}));
    EXPECT_EQ(j["users"], limited_users());
}

TEST_F(Health, NearOnlyIsStatus0) {
    h.api.on("unread_health", ok(json::array({health_row(0)})));
    h.api.on("unread_health_users", ok(json::array({limited_users()[1]})));
    const auto r = h.run({"health"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("near limit"), std::string::npos);
}

TEST_F(Health, WithoutMod_unreadSaysHowToEnableIt) {
    h.api.on("unread_health", endpoint_not_found());
    const auto r = h.run({"health"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("mod_unread"), std::string::npos) << r.err;
}

TEST_F(Health, UnknownHostIs4) {
    h.api.on("unread_health",
             test::api_error(404, 1, "Host nowhere.example is not served by this node"));
    const auto r = h.run({"health", "nowhere.example"});
    EXPECT_EQ(r.status, 4);
    EXPECT_NE(r.err.find("not served by this node"), std::string::npos) << r.err;
}

TEST_F(Health, TwoHostsAreAUsageError) {
    const auto r = h.run({"health", "a.example", "b.example"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(h.api.calls.empty());
}

TEST(HealthFormat, Ages) {
    EXPECT_EQ(format_age(0), "0s");
    EXPECT_EQ(format_age(59), "59s");
    EXPECT_EQ(format_age(61), "1m 1s");
    EXPECT_EQ(format_age(3725), "1h 2m 5s");
    EXPECT_EQ(format_age(90061), "1d 1h 1m");
}

}  // namespace
}  // namespace chatadm
