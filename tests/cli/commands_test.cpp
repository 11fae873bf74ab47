// Each command against a scripted API: the requests it makes, what it
// prints, and the exit status for every kind of failure.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.hpp"

namespace chatadm {
namespace {

using nlohmann::json;
using test::api_error;
using test::endpoint_not_found;
using test::Harness;
using test::ok;
using test::reply;

class Commands : public ::testing::Test {
  protected:
    void SetUp() override { h.api.on("registered_vhosts", ok({"localhost", "example.org"})); }
    Harness h;
};

json sample_messages() {
    return json::array({{{"id", 2},
                         {"timestamp", "2026-11-23T10:03:25.123456Z"},
                         {"from", "bob@localhost"},
                         {"type", "chat"},
                         {"subject", ""},
                         {"preview", "hi"},
                         {"body", "hi"}},
                        {{"id", 1},
                         {"timestamp", "2026-11-23T10:01:00Z"},
                         {"from", "carol@localhost"},
                         {"type", "normal"},
                         {"subject", "Lunch"},
                         {"preview", "where?"},
                         {"body", "where?\nwhen?"}}});
}

// ---- unread -c

TEST_F(Commands, CountIsOneRequestWithMod_unread) {
    h.api.on("unread_count", ok({{"count", 5}}));
    const auto r = h.run({"unread", "-c", "alice"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "5\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(h.api.commands(), (std::vector<std::string>{"unread_count"}));
    EXPECT_EQ(h.api.calls[0].args, (json{{"user", "alice"}}));
}

TEST_F(Commands, CountJson) {
    h.api.on("unread_count", ok(5));
    const auto r = h.run({"-j", "unread", "-c", "alice@localhost"});
    EXPECT_EQ(json::parse(r.out),
              (json{{"user", "alice@localhost"}, {"count", 5}, {"source", "mod_unread"}}));
}

TEST_F(Commands, CountFallsBackToGetOfflineCountWithoutMod_unread) {
    h.api.on("get_offline_count", ok({{"value", 3}}));
    const auto r = h.run({"-v", "unread", "-c", "alice"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "3\n");
    EXPECT_EQ(h.api.commands(),
              (std::vector<std::string>{"unread_count", "registered_vhosts", "get_offline_count"}));
    EXPECT_EQ(h.api.find("get_offline_count")->args,
              (json{{"user", "alice"}, {"host", "localhost"}}));
    EXPECT_NE(r.err.find("mod_unread is not loaded; counting with get_offline_count"),
              std::string::npos);
}

TEST_F(Commands, CountFallbackUsesTheGivenDomain) {
    h.api.on("get_offline_count", ok({{"value", 1}}));
    const auto r = h.run({"-j", "unread", "-c", "alice@example.org"});
    EXPECT_EQ(json::parse(r.out)["source"], "get_offline_count");
    EXPECT_EQ(h.api.find("get_offline_count")->args,
              (json{{"user", "alice"}, {"host", "example.org"}}));
    EXPECT_EQ(h.api.find("registered_vhosts"), nullptr);
}

TEST_F(Commands, CountFallbackTellsAnUnknownUserFromZero) {
    h.api.on("get_offline_count", ok({{"value", 0}}));
    h.api.on("check_account", ok(1));
    const auto r = h.run({"unread", "-c", "zed"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.err, "chatadm: no such user: zed@localhost\n");

    Harness h2;
    h2.api.on("registered_vhosts", ok({"localhost"}));
    h2.api.on("get_offline_count", ok({{"value", 0}}));
    h2.api.on("check_account", ok(0));
    EXPECT_EQ(h2.run({"unread", "-c", "alice"}).out, "0\n");
}

TEST_F(Commands, CountOfUnknownUserIs4) {
    h.api.on("unread_count", api_error(404, 1, "User zed@localhost does not exist"));
    auto r = h.run({"unread", "-c", "zed"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.err, "chatadm: not found: User zed@localhost does not exist\n");

    Harness quiet_server;
    quiet_server.api.on("unread_count", reply(404, "{}"));
    r = quiet_server.run({"unread", "-c", "zed"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.err, "chatadm: no such user: zed\n");
}

TEST_F(Commands, ModuleNotEnabledForTheHostIs4WithTheServersAdvice) {
    h.api.on("unread_list", api_error(404, 1,
                                      "mod_unread is not enabled for host example.org; add it "
                                      "under 'modules:' in ejabberd.yml"));
    const auto r = h.run({"unread", "alice@example.org"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.err,
              "chatadm: not found: mod_unread is not enabled for host example.org; add it under "
              "'modules:' in ejabberd.yml\n");
}

TEST_F(Commands, IndexBeingRebuiltIs1AndSaysRetry) {
    h.api.on("unread_list", api_error(500, 1,
                                      "The unread index of localhost is being rebuilt from the "
                                      "store; retry in a moment"));
    const auto r = h.run({"unread", "alice"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("retry in a moment)"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("error.log"), std::string::npos);
}

// The server resolves both names; chatadm sends them as given and shows
// the sender as the server resolved it.
TEST_F(Commands, CountFromOneSender) {
    h.api.on("unread_count_from", ok({{"sender", "carol@example.org"}, {"count", 1}}));
    auto r = h.run({"unread", "-c", "-f", "carol", "alice"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1\n");
    EXPECT_EQ(h.api.commands(), std::vector<std::string>{"unread_count_from"});
    EXPECT_EQ(h.api.calls.back().args, (json{{"user", "alice"}, {"from", "carol"}}));
    r = h.run({"-j", "unread", "-c", "-f", "carol", "alice"});
    EXPECT_EQ(json::parse(r.out)["sender"], "carol@example.org");
}

// ---- unread -c with several users

json counts(std::initializer_list<std::pair<const char*, int>> rows) {
    json out = json::array();
    for (const auto& [user, count] : rows) out.push_back({{"user", user}, {"count", count}});
    return out;
}

TEST_F(Commands, CountsOfSeveralUsersAreOneRequest) {
    h.api.on("unread_counts", ok(counts({{"alice@localhost", 3}, {"bob@example.org", 0}})));
    const auto r = h.run({"unread", "-c", "alice", "bob@example.org"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "alice@localhost\t3\nbob@example.org\t0\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(h.api.commands(), std::vector<std::string>{"unread_counts"});
    EXPECT_EQ(h.api.calls[0].args, (json{{"users", {"alice", "bob@example.org"}}}));
}

TEST_F(Commands, CountsReadDashAsStandardInputInPlace) {
    h.api.on("unread_counts", ok(counts({{"alice@localhost", 1},
                                         {"bob@localhost", 2},
                                         {"carol@localhost", 3},
                                         {"dave@localhost", 4}})));
    const auto r = h.run({"unread", "-c", "alice", "-", "dave"}, "bob\n\n  carol \r\n");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(h.api.calls[0].args, (json{{"users", {"alice", "bob", "carol", "dave"}}}));
    EXPECT_EQ(r.out,
              "alice@localhost\t1\nbob@localhost\t2\ncarol@localhost\t3\ndave@localhost\t4\n");
}

// One name on standard input is still a list: the output has the same
// form whatever the number of lines.
TEST_F(Commands, CountsOfOneUserFromStandardInput) {
    h.api.on("unread_counts", ok(counts({{"alice@localhost", 5}})));
    const auto r = h.run({"unread", "-c", "-"}, "alice\n");
    EXPECT_EQ(r.out, "alice@localhost\t5\n");
    EXPECT_EQ(h.api.commands(), std::vector<std::string>{"unread_counts"});
    EXPECT_EQ(h.run({"unread", "-c", "-"}, "").out, "");
}

TEST_F(Commands, CountsInBatchesOfAThousandInInputOrder) {
    std::string input, expected;
    std::vector<json> replies(3, json::array());
    for (int i = 0; i < 2001; ++i) {
        const std::string u = "u" + std::to_string(i);
        input += u + "\n";
        expected += u + "@localhost\t" + std::to_string(i % 7) + "\n";
        replies[static_cast<size_t>(i / 1000)].push_back(
            {{"user", u + "@localhost"}, {"count", i % 7}});
    }
    for (const auto& batch : replies) h.api.on("unread_counts", ok(batch));
    const auto r = h.run({"unread", "-c", "-"}, input);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, expected);
    ASSERT_EQ(h.api.calls.size(), 3u);
    EXPECT_EQ(h.api.calls[0].args["users"].size(), 1000u);
    EXPECT_EQ(h.api.calls[1].args["users"][0], "u1000");
    EXPECT_EQ(h.api.calls[2].args["users"], (json{"u2000"}));
}

TEST_F(Commands, UnknownUsersAmongSeveralGoToStderrAfterTheOthersWithStatus4) {
    h.api.on("unread_counts", ok(counts({{"zed@localhost", -1},
                                         {"alice@localhost", 3},
                                         {"Bad<name", -1},
                                         {"bob@localhost", 0}})));
    const auto r = h.run({"unread", "-c", "zed", "-", "bob"}, "alice\nBad<name\n");
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.out, "alice@localhost\t3\nbob@localhost\t0\n");
    EXPECT_EQ(r.err,
              "chatadm: no such user: zed@localhost\n"
              "chatadm: no such user: Bad<name\n"
              "chatadm: 2 of 4 users not found\n");
}

TEST_F(Commands, CountsJsonIsOneArray) {
    h.api.on("unread_counts", ok(counts({{"alice@localhost", 3}, {"zed@localhost", -1}})));
    const auto r = h.run({"-j", "unread", "-c", "alice", "zed"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(json::parse(r.out), (json::array({{{"user", "alice@localhost"}, {"count", 3}}})));
    EXPECT_EQ(h.run({"-j", "unread", "-c", "-"}, "").out, "[]\n");
}

TEST_F(Commands, CountsWithoutUnread_countsAskOneUserAtATime) {
    h.api.on("unread_count", ok({{"count", 2}}));
    h.api.on("unread_count", api_error(404, 1, "User zed@localhost does not exist"));
    const auto r = h.run({"unread", "-c", "alice", "zed"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.out, "alice\t2\n");
    EXPECT_EQ(r.err, "chatadm: no such user: zed\nchatadm: 1 of 2 users not found\n");
    EXPECT_EQ(h.api.commands(),
              (std::vector<std::string>{"unread_counts", "unread_count", "unread_count"}));
}

TEST_F(Commands, CountsWithoutMod_unreadUseTheStockCommands) {
    h.api.on("get_offline_count", ok({{"value", 4}}));
    const auto r = h.run({"unread", "-c", "alice", "bob"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "alice\t4\nbob\t4\n");
    EXPECT_EQ(h.api.commands(),
              (std::vector<std::string>{"unread_counts", "unread_count", "registered_vhosts",
                                        "get_offline_count", "get_offline_count"}));
}

TEST_F(Commands, CountsResultOfTheWrongLengthIsAFailure) {
    h.api.on("unread_counts", ok(counts({{"alice@localhost", 3}})));
    const auto r = h.run({"unread", "-c", "alice", "bob"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("1 counts for 2 users"), std::string::npos) << r.err;
}

// ---- unread listing

TEST_F(Commands, ListNewestFirstAsTheServerSendsIt) {
    h.api.on("unread_list", ok(sample_messages()));
    const auto r = h.run({"unread", "alice"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out,
              "2026-11-23T10:03:25Z  bob@localhost    hi\n"
              "2026-11-23T10:01:00Z  carol@localhost  [Lunch] where?\n"
              "                                       when?\n");
    EXPECT_EQ(h.api.calls[0].args,
              (json{{"user", "alice"}, {"limit", 20}, {"offset", 0}, {"from", ""}}));
}

TEST_F(Commands, ListPagingAndSenderFilter) {
    h.api.on("unread_list", ok(json::array()));
    auto r = h.run({"unread", "-n", "2", "-o", "4", "-f", "bob", "alice@example.org"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "chatadm: alice@example.org has no unread messages from bob at offset 4\n");
    // Names go as given: the server resolves a bare one with its default host.
    EXPECT_EQ(h.api.calls.back().args,
              (json{{"user", "alice@example.org"}, {"limit", 2}, {"offset", 4}, {"from", "bob"}}));
    EXPECT_EQ(h.api.commands(), std::vector<std::string>{"unread_list"});
}

TEST_F(Commands, ListSaysWhenThereMayBeMore) {
    h.api.on("unread_list", ok(sample_messages()));
    const auto r = h.run({"unread", "-n", "2", "alice"});
    EXPECT_NE(r.err.find("use -o 2 or a larger -n"), std::string::npos);
}

TEST_F(Commands, ListJsonIsTheServersListParsedBack) {
    h.api.on("unread_list", ok(sample_messages()));
    const auto r = h.run({"-j", "unread", "alice"});
    EXPECT_EQ(json::parse(r.out), sample_messages());
}

TEST_F(Commands, ListWithoutMod_unreadExplainsHowToEnableIt) {
    const auto r = h.run({"unread", "alice"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("listing unread messages needs the mod_unread module"), std::string::npos);
    EXPECT_NE(r.err.find("  modules:\n    mod_unread: {}\n"), std::string::npos);
    EXPECT_NE(r.err.find("chatadm unread -c USER"), std::string::npos);
}

TEST_F(Commands, ListOfUnknownUserIs4) {
    h.api.on("unread_list", api_error(404, 1, "User zed@localhost does not exist"));
    const auto r = h.run({"unread", "zed"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.err, "chatadm: not found: User zed@localhost does not exist\n");
}

// ---- senders, top

TEST_F(Commands, Senders) {
    h.api.on("unread_senders", ok(json::array({{{"sender", "bob@localhost"}, {"count", 12}},
                                               {{"sender", "carol@localhost"}, {"count", 1}}})));
    auto r = h.run({"senders", "alice"});
    EXPECT_EQ(r.out, "  12  bob@localhost\n   1  carol@localhost\n");
    EXPECT_EQ(h.api.calls[0].args, (json{{"user", "alice"}}));
    r = h.run({"-j", "senders", "alice"});
    EXPECT_EQ(json::parse(r.out)[0]["count"], 12);
    Harness bare;
    EXPECT_EQ(bare.run({"senders", "alice"}).status, 1);
}

TEST_F(Commands, TopForOneHost) {
    h.api.on("unread_top", ok(json::array({{{"user", "alice@localhost"}, {"count", 5}}})));
    const auto r = h.run({"top", "-n", "3", "localhost"});
    EXPECT_EQ(r.out, "  5  alice@localhost\n");
    EXPECT_EQ(h.api.commands(), (std::vector<std::string>{"unread_top"}));
    EXPECT_EQ(h.api.calls[0].args, (json{{"host", "localhost"}, {"limit", 3}}));
}

TEST_F(Commands, TopOverAllHostsAsksTheServerOnce) {
    // The server merges the hosts it indexes: no registered_vhosts, no
    // per-host calls that a host without mod_unread would fail.
    h.api.on("unread_top", ok(json::array({{{"user", "a@localhost"}, {"count", 5}},
                                           {{"user", "c@example.org"}, {"count", 3}}})));
    const auto r = h.run({"-j", "top", "-n", "2"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), (json::array({{{"user", "a@localhost"}, {"count", 5}},
                                                {{"user", "c@example.org"}, {"count", 3}}})));
    EXPECT_EQ(h.api.commands(), (std::vector<std::string>{"unread_top"}));
    EXPECT_EQ(h.api.calls[0].args, (json{{"host", ""}, {"limit", 2}}));
}

// ---- send

TEST_F(Commands, SendChecksTheRecipientThenSends) {
    h.api.on("check_account", ok(0));
    h.api.on("send_message", ok(0));
    const auto r = h.run({"send", "alice", "bob", "hello", "world"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(h.api.commands(),
              (std::vector<std::string>{"registered_vhosts", "check_account", "send_message"}));
    EXPECT_EQ(h.api.find("check_account")->args, (json{{"user", "bob"}, {"host", "localhost"}}));
    EXPECT_EQ(h.api.find("send_message")->args, (json{{"type", "chat"},
                                                      {"from", "alice@localhost"},
                                                      {"to", "bob@localhost"},
                                                      {"subject", ""},
                                                      {"body", "hello world"}}));
}

TEST_F(Commands, SendToUnknownUserIs4AndSendsNothing) {
    h.api.on("check_account", ok(1));
    const auto r = h.run({"send", "alice", "zed@example.org", "hi"});
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.err, "chatadm: no such user: zed@example.org; nothing was sent\n");
    EXPECT_EQ(h.api.find("send_message"), nullptr);
}

TEST_F(Commands, SendBodyFromStdin) {
    h.api.on("check_account", ok(0));
    h.api.on("send_message", ok(0));
    EXPECT_EQ(h.run({"send", "-s", "Re: x", "-t", "normal", "alice", "bob@localhost/phone"},
                    "line one\nline two\n\n")
                  .status,
              0);
    const json args = h.api.find("send_message")->args;
    EXPECT_EQ(args["body"], "line one\nline two");
    EXPECT_EQ(args["subject"], "Re: x");
    EXPECT_EQ(args["type"], "normal");
    EXPECT_EQ(args["to"], "bob@localhost/phone");

    EXPECT_EQ(h.run({"send", "alice", "bob", "-"}, "dash\n").status, 0);
    EXPECT_EQ(h.api.calls.back().args["body"], "dash");
}

TEST_F(Commands, SendFromATerminalSaysHowToEnd) {
    h.api.on("check_account", ok(0));
    h.api.on("send_message", ok(0));
    h.stdin_is_terminal = true;
    EXPECT_NE(h.run({"send", "alice", "bob"}, "typed\n").err.find("Ctrl-D"), std::string::npos);
}

TEST_F(Commands, SendRefusesEmptyOrNonUtf8Input) {
    h.api.on("check_account", ok(0));
    h.api.on("send_message", ok(0));
    auto r = h.run({"send", "alice", "bob"}, "\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("empty"), std::string::npos);
    r = h.run({"send", "alice", "bob"}, "caf\xe9\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("not valid UTF-8"), std::string::npos);
    EXPECT_EQ(h.api.find("send_message"), nullptr);
}

TEST_F(Commands, SendRejectedByTheServer) {
    h.api.on("check_account", ok(0));
    h.api.on("send_message", ok(1));
    auto r = h.run({"send", "alice", "bob", "hi"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("did not accept the message"), std::string::npos);

    Harness h2;
    h2.api.on("registered_vhosts", ok({"localhost"}));
    h2.api.on("check_account", ok(0));
    h2.api.on("send_message",
              reply(400,
                    "\"Bad value of attribute 'to' in tag <message/> qualified by namespace "
                    "'jabber:client'\""));
    r = h2.run({"send", "alice", "bob", "hi"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("rejected the arguments of 'send_message'"), std::string::npos);
}

TEST_F(Commands, SendToARemoteDomainSkipsTheAccountCheck) {
    h.api.on("send_message", ok(0));
    const auto r = h.run({"-j", "send", "alice", "friend@remote.example", "hi"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(h.api.find("check_account"), nullptr);
    EXPECT_EQ(json::parse(r.out), (json{{"sent", true},
                                        {"type", "chat"},
                                        {"from", "alice@localhost"},
                                        {"to", "friend@remote.example"}}));
}

// ---- online, status

TEST_F(Commands, Online) {
    h.api.on("connected_users", ok({"alice@localhost/phone", "bob@example.org/pc"}));
    h.api.on("connected_users_vhost", ok({"bob@example.org/pc"}));
    auto r = h.run({"online"});
    EXPECT_EQ(r.out, "alice@localhost/phone\nbob@example.org/pc\n");
    r = h.run({"-j", "online", "example.org"});
    EXPECT_EQ(json::parse(r.out), (json{"bob@example.org/pc"}));
    EXPECT_EQ(h.api.calls.back().args, (json{{"host", "example.org"}}));
}

TEST_F(Commands, StatusWithoutMod_unread) {
    h.api.on("status", ok("The node ejabberd@a is started. Status: startedejabberd 23.01-1 is "
                          "running in that node"));
    h.api.on("list_cluster", ok({"ejabberd@a", "ejabberd@b"}));
    const auto r = h.run({"-h", "lb", "status"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out,
              "api:        https://lb:5443/api\n"
              "ejabberd:   23.01-1\n"
              "cluster:    ejabberd@a, ejabberd@b\n"
              "mod_unread: not loaded (unread -c falls back to get_offline_count)\n");
}

TEST_F(Commands, StatusJsonWithMod_unread) {
    h.api.on("status", ok("ejabberd 23.01 is running in that node"));
    h.api.on("list_cluster", ok({"ejabberd@a"}));
    const json stats = json::array({{{"host", "localhost"},
                                     {"state", "ready"},
                                     {"total", 12},
                                     {"users", 3},
                                     {"memory", 4096},
                                     {"last_rebuild", "2026-11-23T10:00:00Z"},
                                     {"rebuild_ms", 12}}});
    h.api.on("unread_stats", ok(stats));
    const auto r = h.run({"-j", "status"});
    const json report = json::parse(r.out);
    EXPECT_EQ(report["version"], "23.01");
    EXPECT_EQ(report["nodes"], (json{"ejabberd@a"}));
    EXPECT_EQ(report["mod_unread"]["loaded"], true);
    // A row from a module older than the backend field gets one, null.
    json expected = stats;
    expected[0]["backend"] = nullptr;
    EXPECT_EQ(report["mod_unread"]["stats"], expected);
}

TEST_F(Commands, StatusShowsEachNodesBackend) {
    h.api.on("status", ok("ejabberd 23.01 is running in that node"));
    h.api.on("list_cluster", ok({"ejabberd@a", "ejabberd@b"}));
    const json row_a = {{"node", "ejabberd@a"}, {"host", "localhost"}, {"state", "ready"},
                        {"total", 2},           {"users", 1},          {"memory", 1024},
                        {"last_rebuild", ""},   {"rebuild_ms", 0},     {"backend", "mnesia"}};
    // ejabberd@b runs a module from before the field.
    const json row_b = {{"node", "ejabberd@b"}, {"host", "localhost"}, {"state", "ready"},
                        {"total", 2},           {"users", 1},          {"memory", 1024},
                        {"last_rebuild", ""},   {"rebuild_ms", 0}};
    h.api.on("unread_stats", ok(json::array({row_a, row_b})));
    auto r = h.run({"status"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("  ejabberd@a localhost: ready, backend mnesia, 2 unread"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  ejabberd@b localhost: ready, backend -, 2 unread"), std::string::npos)
        << r.out;
    r = h.run({"-j", "status"});
    EXPECT_EQ(r.status, 0) << r.err;
    const json stats = json::parse(r.out)["mod_unread"]["stats"];
    ASSERT_EQ(stats.size(), 2u) << r.out;
    EXPECT_EQ(stats[0]["backend"], "mnesia");
    EXPECT_TRUE(stats[1].contains("backend")) << stats[1];
    EXPECT_TRUE(stats[1]["backend"].is_null()) << stats[1];
}

// status asks unread_cluster several times: through a balancer each answer
// may come from another node, and each names itself "self".
class Status : public Commands {
  protected:
    void SetUp() override {
        h.api.on("status", ok("ejabberd 23.01 is running in that node"));
        h.api.on("list_cluster", ok({"ejabberd@a", "ejabberd@b"}));
        h.api.on("unread_stats", ok(json::array()));
    }
    static HttpResponse view(std::initializer_list<std::pair<const char*, const char*>> rows) {
        json list = json::array();
        for (const auto& [node, state] : rows) list.push_back({{"node", node}, {"state", state}});
        return ok(list);
    }
    size_t cluster_calls() const {
        const auto c = h.api.commands();
        return static_cast<size_t>(std::count(c.begin(), c.end(), "unread_cluster"));
    }
};

TEST_F(Status, HealthyClusterSeenFromBothNodes) {
    h.api.on("unread_cluster", view({{"ejabberd@a", "self"}, {"ejabberd@b", "running"}}));
    h.api.on("unread_cluster", view({{"ejabberd@a", "running"}, {"ejabberd@b", "self"}}));
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("answered:   ejabberd@a (2 in its cluster)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("answered:   ejabberd@b (2 in its cluster)"), std::string::npos) << r.out;
    EXPECT_GE(cluster_calls(), 4u);
}

TEST_F(Status, NodeDownIsStatus5) {
    h.api.on("unread_cluster", view({{"ejabberd@a", "self"}, {"ejabberd@b", "down"}}));
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 5);
    EXPECT_NE(r.out.find("down: ejabberd@b"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("node ejabberd@b is down"), std::string::npos) << r.err;
    const auto j = h.run({"-j", "status"});
    EXPECT_EQ(j.status, 5);
    EXPECT_EQ(json::parse(j.out)["problems"].size(), 1u);
}

// Two one-node clusters behind one balancer: each node sees only itself.
TEST_F(Status, SeparateClustersBehindOneAddressAreStatus5) {
    h.api.on("unread_cluster", view({{"ejabberd@a", "self"}}));
    h.api.on("unread_cluster", view({{"ejabberd@b", "self"}}));
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 5);
    EXPECT_NE(r.err.find("ejabberd@a and ejabberd@b both answer at https://localhost:5443/api but "
                         "are not in one cluster"),
              std::string::npos)
        << r.err;
}

// An index whose store cannot be read answers, but from the past: status
// says so and exits 5, as for a node down.
TEST_F(Commands, StaleIndexIsStatus5) {
    h.api.on("status", ok("ejabberd 23.01 is running in that node"));
    h.api.on("list_cluster", ok({"ejabberd@a", "ejabberd@b"}));
    h.api.on("unread_stats",
             ok(json::array({{{"node", "ejabberd@a"},
                              {"host", "localhost"},
                              {"state", "stale: store unreachable since 2026-12-01T10:00:00Z"},
                              {"total", 3},
                              {"users", 1},
                              {"memory", 4096},
                              {"last_rebuild", ""},
                              {"rebuild_ms", 0},
                              {"backend", "sql/pgsql"}},
                             {{"node", "ejabberd@b"},
                              {"host", "localhost"},
                              {"state", "ready"},
                              {"total", 3},
                              {"users", 1},
                              {"memory", 4096},
                              {"last_rebuild", ""},
                              {"rebuild_ms", 0},
                              {"backend", "sql/pgsql"}}})));
    const auto view = [](const char* self, const char* other) {
        return ok(json::array(
            {{{"node", self}, {"state", "self"}}, {{"node", other}, {"state", "running"}}}));
    };
    h.api.on("unread_cluster", view("ejabberd@a", "ejabberd@b"));
    h.api.on("unread_cluster", view("ejabberd@b", "ejabberd@a"));
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 5) << r.out;
    EXPECT_NE(r.err.find("index of localhost on ejabberd@a is stale: store unreachable since "
                         "2026-12-01T10:00:00Z"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("ejabberd@b is"), std::string::npos) << r.err;
}

TEST_F(Status, ModuleWithoutUnreadClusterSkipsTheCheck) {
    const auto r = h.run({"status"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find("answered:"), std::string::npos);
}

// ---- every exit status from the server's side

struct Failure {
    std::string name;
    HttpResponse response;
    int status;
    std::string says;
};

void PrintTo(const Failure& f, std::ostream* os) {
    *os << "HTTP " << f.response.status;
}

class ServerFailures : public ::testing::TestWithParam<Failure> {};

TEST_P(ServerFailures, MapToExitStatus) {
    Harness h;
    h.typed_password = "pw";
    h.api.on("unread_count", GetParam().response);
    const auto r = h.run({"-u", "admin@localhost", "unread", "-c", "alice"});
    EXPECT_EQ(r.status, GetParam().status);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(GetParam().says), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Http, ServerFailures,
    ::testing::Values(
        Failure{"WrongPassword", api_error(401, 10, "You are not authorized to call this command."),
                3, "wrong admin JID or password"},
        Failure{"NotPermitted",
                api_error(403, 32,
                          "AccessRules: Account does not have the right to perform the operation."),
                3, "api_permissions"},
        Failure{"UnknownUser", api_error(404, 1, "User alice@localhost does not exist"), 4,
                "not found: User alice@localhost does not exist"},
        Failure{"BadArgument", reply(400, "\"Arg 5 is not in format binary\""), 2,
                "Arg 5 is not in format binary"},
        Failure{"ServerError", reply(500, "\"internal_error\""), 1, "internal_error"},
        Failure{"ProxyPage",
                reply(502, "<html><head><title>502 Bad Gateway</title></head></html>", "text/html"),
                1, "HTML page titled \"502 Bad Gateway\""},
        Failure{"HtmlWith200", reply(200, "<html>login</html>", "text/html"), 1, "not JSON"},
        Failure{"OddResult", ok(json::array()), 1, "unexpected result from 'unread_count'"}),
    [](const auto& test_info) { return test_info.param.name; });

struct NoReply {
    std::string name;
    TransportFailure kind;
    std::string says;
};

void PrintTo(const NoReply& n, std::ostream* os) {
    *os << n.name;
}

class NetworkFailures : public ::testing::TestWithParam<NoReply> {};

TEST_P(NetworkFailures, AreStatus1WithAdvice) {
    Harness h;
    h.api.fail("status", GetParam().kind, "detail from curl");
    const auto r = h.run({"-h", "lb", "status"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find(GetParam().says), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Transport, NetworkFailures,
    ::testing::Values(NoReply{"Unresolvable", TransportFailure::resolve,
                              "cannot resolve host 'lb'"},
                      NoReply{"Refused", TransportFailure::connect,
                              "cannot connect to https://lb:5443/api/status"},
                      NoReply{"Timeout", TransportFailure::timeout, "no reply from"},
                      NoReply{"Untrusted", TransportFailure::tls_untrusted, "-C ca-file"}),
    [](const auto& test_info) { return test_info.param.name; });

}  // namespace
}  // namespace chatadm
