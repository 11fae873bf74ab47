// POSIX Utility Syntax Guidelines (XBD 12.2) as chatadm applies them, both in
// the pure parsers and through the whole program (diagnostic, usage on
// stderr, exit status 2, no request made).
#include <gtest/gtest.h>

#include "commands/cmd_send.hpp"
#include "commands/cmd_server.hpp"
#include "commands/cmd_unread.hpp"
#include "commands/commands.hpp"
#include "errors.hpp"
#include "settings/getopt_scan.hpp"
#include "settings/global_args.hpp"
#include "settings/option_values.hpp"
#include "test_support.hpp"

namespace chatadm {
namespace {

using test::Harness;
using Args = std::vector<std::string>;

std::string usage_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(no UsageError)";
}

// Guidelines 3-5: single-letter options, grouped, the last of a group may
// take an argument.
TEST(GlobalArgs, GroupedFlags) {
    const Invocation inv = parse_global_args({"-jv", "status"});
    EXPECT_TRUE(inv.json);
    EXPECT_EQ(inv.verbosity, 2);
    EXPECT_EQ(inv.command, "status");
}

// Guideline 6: "-hlb" is "-h lb"; also at the end of a group.
TEST(GlobalArgs, OptionArgumentAttachedOrSeparate) {
    EXPECT_EQ(*parse_global_args({"-hlb", "status"}).command_line.settings.host, "lb");
    EXPECT_EQ(*parse_global_args({"-h", "lb", "status"}).command_line.settings.host, "lb");
    const Invocation grouped = parse_global_args({"-jkhlb", "unread", "alice"});
    EXPECT_TRUE(grouped.json);
    EXPECT_TRUE(*grouped.command_line.settings.insecure);
    EXPECT_EQ(*grouped.command_line.settings.host, "lb");
    EXPECT_EQ(grouped.command_args, (Args{"alice"}));
}

// Guideline 7: an option-argument is never optional, even if it looks like
// an option.
TEST(GlobalArgs, OptionArgumentIsTakenEvenIfItLooksLikeAnOption) {
    const Invocation inv = parse_global_args({"-u", "-j", "status"});
    EXPECT_EQ(*inv.command_line.settings.user, "-j");
    EXPECT_FALSE(inv.json);
}

TEST(GlobalArgs, AllOptions) {
    const Invocation inv = parse_global_args({"-h", "https://lb/api", "-u", "admin@lb", "-P", "/pw",
                                              "-C", "/ca", "-T", "2.5", "-q", "send", "a", "b"});
    const Settings& s = inv.command_line.settings;
    EXPECT_EQ(*s.host, "https://lb/api");
    EXPECT_EQ(*s.user, "admin@lb");
    EXPECT_EQ(*s.password_file, "/pw");
    EXPECT_EQ(*s.ca_file, "/ca");
    EXPECT_EQ(*s.timeout_ms, 2500);
    EXPECT_EQ(inv.verbosity, 0);
    EXPECT_EQ(inv.command, "send");
    EXPECT_EQ(inv.command_args, (Args{"a", "b"}));
}

// Guideline 9: options before operands. The command name is the first
// operand, so options after it belong to the command.
TEST(GlobalArgs, OptionsAfterTheCommandBelongToTheCommand) {
    const Invocation inv = parse_global_args({"-j", "unread", "-c", "alice"});
    EXPECT_TRUE(inv.json);
    EXPECT_EQ(inv.command_args, (Args{"-c", "alice"}));
}

// Guideline 10: "--" ends the options.
TEST(GlobalArgs, DoubleDashEndsOptions) {
    const Invocation inv = parse_global_args({"-j", "--", "status"});
    EXPECT_EQ(inv.command, "status");
    EXPECT_TRUE(parse_global_args({"--", "-j"}).command == "-j");
}

// Guideline 11: repeated options are applied in order.
TEST(GlobalArgs, RepeatsAppliedInOrder) {
    EXPECT_EQ(*parse_global_args({"-h", "a", "-h", "b", "status"}).command_line.settings.host, "b");
    EXPECT_EQ(parse_global_args({"-v", "-q", "status"}).verbosity, 0);
    EXPECT_EQ(parse_global_args({"-q", "-v", "status"}).verbosity, 2);
    EXPECT_EQ(parse_global_args({"-vvv", "status"}).verbosity, 4);
    EXPECT_FALSE(*parse_global_args({"-k", "-C", "ca", "status"}).command_line.settings.insecure);
    EXPECT_TRUE(*parse_global_args({"-C", "ca", "-k", "status"}).command_line.settings.insecure);
}

TEST(GlobalArgs, Errors) {
    EXPECT_EQ(usage_error([] { parse_global_args({"-x", "status"}); }), "unknown option -x");
    EXPECT_EQ(usage_error([] { parse_global_args({"-jx", "status"}); }), "unknown option -x");
    EXPECT_EQ(usage_error([] { parse_global_args({"-h"}); }), "option -h needs an argument");
    EXPECT_EQ(usage_error([] { parse_global_args({"-j"}); }), "missing command");
    EXPECT_EQ(usage_error([] {
                  parse_global_args({"-h", "", "status"});
              }),
              "option -h has an empty argument");
    EXPECT_NE(usage_error([] {
                  parse_global_args({"-T", "0", "status"});
              }).find("-T: '0'"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_global_args({"--help", "status"});
              }).find("unknown option --help"),
              std::string::npos);
}

// getopt keeps global state; every pass must start afresh, including after
// an error in the middle of a group.
TEST(GetoptScan, PassesAreIndependent) {
    EXPECT_THROW(scan_options({"-ax"}, "a"), UsageError);
    const ScanResult r = scan_options({"-b", "x", "y"}, "b");
    ASSERT_EQ(r.options.size(), 1u);
    EXPECT_EQ(r.options[0].letter, 'b');
    EXPECT_EQ(r.operands, (Args{"x", "y"}));
    const ScanResult again = scan_options({"-b", "x"}, "b");
    EXPECT_EQ(again.operands, (Args{"x"}));
}

// Guideline 13: a lone "-" is an operand, not an option.
TEST(GetoptScan, LoneDashIsAnOperand) {
    const ScanResult r = scan_options({"-a", "-", "-a"}, "a");
    EXPECT_EQ(r.options.size(), 1u);
    EXPECT_EQ(r.operands, (Args{"-", "-a"}));
}

TEST(UnreadArgs, Defaults) {
    const UnreadArgs a = parse_unread_args({"alice"});
    EXPECT_FALSE(a.count_only);
    EXPECT_EQ(a.limit, 20);
    EXPECT_EQ(a.offset, 0);
    EXPECT_FALSE(a.sender);
    EXPECT_EQ(a.user.bare(), "alice");
}

TEST(UnreadArgs, OptionsGroupedAndRepeated) {
    const UnreadArgs a = parse_unread_args({"-n5", "-o", "10", "-n", "7", "-fbob", "alice@x"});
    EXPECT_EQ(a.limit, 7);
    EXPECT_EQ(a.offset, 10);
    EXPECT_EQ(a.sender->bare(), "bob");
    EXPECT_EQ(a.user.bare(), "alice@x");
    EXPECT_TRUE(parse_unread_args({"-c", "alice"}).count_only);
}

TEST(UnreadArgs, DoubleDashAllowsAUserNameStartingWithDash) {
    EXPECT_EQ(parse_unread_args({"--", "-alice"}).user.local, "-alice");
}

TEST(UnreadArgs, Errors) {
    EXPECT_EQ(usage_error([] { parse_unread_args({}); }), "missing operand: user");
    EXPECT_EQ(usage_error([] {
                  parse_unread_args({"alice", "-c"});
              }),
              "unexpected operand '-c' (options go before operands)");
    EXPECT_EQ(usage_error([] { parse_unread_args({"-n"}); }), "option -n needs an argument");
    EXPECT_EQ(usage_error([] { parse_unread_args({"-z", "alice"}); }), "unknown option -z");
    EXPECT_NE(usage_error([] {
                  parse_unread_args({"-n", "abc", "alice"});
              }).find("not a whole number"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_unread_args({"-n", "-5", "alice"});
              }).find("not a whole number"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_unread_args({"-n", "0", "alice"});
              }).find("out of range"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_unread_args({"-c", "-n", "3", "alice"});
              }).find("-c"),
              std::string::npos);
    EXPECT_NE(usage_error([] { parse_unread_args({"al ice"}); }).find("malformed JID"),
              std::string::npos);
    EXPECT_NE(usage_error([] { parse_unread_args({"alice@"}); }).find("domain after '@' is empty"),
              std::string::npos);
    EXPECT_NE(usage_error([] { parse_unread_args({"a@b@c"}); }).find("more than one '@'"),
              std::string::npos);
    EXPECT_NE(usage_error([] { parse_unread_args({"alice@x/phone"}); }).find("resource"),
              std::string::npos);
}

TEST(SendArgs, MessageFromOperandsOrStdin) {
    const SendArgs words = parse_send_args({"alice", "bob", "hello", "there"});
    EXPECT_EQ(*words.body, "hello there");
    EXPECT_EQ(words.type, "chat");
    EXPECT_FALSE(parse_send_args({"alice", "bob"}).body);
    EXPECT_FALSE(parse_send_args({"alice", "bob", "-"}).body);
    EXPECT_EQ(*parse_send_args({"alice", "bob", "-", "x"}).body, "- x");
    const SendArgs opts = parse_send_args({"-t", "headline", "-sHi", "alice", "bob@x/res", "m"});
    EXPECT_EQ(opts.type, "headline");
    EXPECT_EQ(opts.subject, "Hi");
    EXPECT_EQ(opts.to.resource, "res");
}

TEST(SendArgs, Errors) {
    EXPECT_EQ(usage_error([] { parse_send_args({"alice"}); }), "missing operand: to");
    EXPECT_EQ(usage_error([] { parse_send_args({}); }), "missing operand: from");
    EXPECT_NE(usage_error([] {
                  parse_send_args({"-t", "shout", "a", "b", "m"});
              }).find("-t"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_send_args({"a", "b", ""});
              }).find("empty"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_send_args({"a", "b", "\xff"});
              }).find("UTF-8"),
              std::string::npos);
    EXPECT_NE(usage_error([] {
                  parse_send_args({"a", "b<c", "m"});
              }).find("malformed JID"),
              std::string::npos);
}

TEST(OtherArgs, TopOnlineStatus) {
    EXPECT_EQ(parse_top_args({}).limit, 10);
    EXPECT_EQ(*parse_top_args({"-n3", "example.org"}).host, "example.org");
    EXPECT_FALSE(parse_online_args({}).host);
    EXPECT_EQ(usage_error([] {
                  parse_top_args({"a", "b"});
              }),
              "unexpected operand 'b' (options go before operands)");
    EXPECT_NE(usage_error([] { parse_online_args({"a@b"}); }).find("not a host name"),
              std::string::npos);
    EXPECT_EQ(usage_error([] { parse_status_args({"x"}); }),
              "unexpected operand 'x' (options go before operands)");
}

TEST(OptionValues, Timeout) {
    EXPECT_EQ(parse_timeout_ms("2", "-T"), 2000);
    EXPECT_EQ(parse_timeout_ms("0.0001", "-T"), 1);
    EXPECT_THROW(parse_timeout_ms("-1", "-T"), UsageError);
    EXPECT_THROW(parse_timeout_ms("1s", "-T"), UsageError);
    EXPECT_THROW(parse_timeout_ms("nan", "-T"), UsageError);
    EXPECT_THROW(parse_timeout_ms("100000", "-T"), UsageError);
}

// Through the whole program: the diagnostic and the usage go to stderr,
// nothing to stdout, exit status 2, and no request is made.
struct UsageCase {
    Args args;
    std::string diagnostic;
    std::string usage;
};

void PrintTo(const UsageCase& c, std::ostream* os) {
    for (const auto& a : c.args) *os << a << ' ';
}

class UsageErrors : public ::testing::TestWithParam<UsageCase> {};

TEST_P(UsageErrors, DiagnosticUsageOnStderrStatus2) {
    Harness h;
    const auto& c = GetParam();
    const auto r = h.run(c.args);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find(c.diagnostic), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.usage), std::string::npos) << r.err;
    EXPECT_TRUE(h.api.calls.empty());
    EXPECT_FALSE(h.api.options) << "no transport should be set up";
}

INSTANTIATE_TEST_SUITE_P(
    Guidelines, UsageErrors,
    ::testing::Values(
        UsageCase{{"-x", "status"}, "chatadm: unknown option -x\n", "usage: chatadm [-jkqv]"},
        UsageCase{{"-h"}, "chatadm: option -h needs an argument\n", "usage: chatadm [-jkqv]"},
        UsageCase{{"-j"}, "chatadm: missing command\n", "usage: chatadm [-jkqv]"},
        UsageCase{
            {"frobnicate"}, "chatadm: unknown command 'frobnicate'", "usage: chatadm [-jkqv]"},
        UsageCase{{"unread"},
                  "chatadm: unread: missing operand: user\n",
                  "usage: chatadm [global options] unread [-c]"},
        UsageCase{{"unread", "-x", "alice"},
                  "chatadm: unread: unknown option -x\n",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "-n"},
                  "chatadm: unread: option -n needs an argument\n",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "alice", "-c"},
                  "unexpected operand '-c'",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "alice", "bob"},
                  "unexpected operand 'bob'",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "-c", "-", "bob", "-"},
                  "'-' (standard input) may be given only once",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "-c", "alice", "-n", "2"},
                  "unexpected operand '-n'",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "-c", "-f", "bob", "alice", "carol"},
                  "-f counts the messages of one user",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"unread", "-c", "alice", "bob<"},
                  "malformed JID 'bob<'",
                  "usage: chatadm [global options] unread"},
        UsageCase{{"send", "alice"},
                  "chatadm: send: missing operand: to\n",
                  "usage: chatadm [global options] send"},
        UsageCase{{"send", "alice", "bob<", "hi"},
                  "malformed JID 'bob<'",
                  "usage: chatadm [global options] send"},
        UsageCase{{"status", "-j"},
                  "chatadm: status: unknown option -j",
                  "usage: chatadm [global options] status"},
        UsageCase{{"top", "-n", "x"},
                  "-n: 'x' is not a whole number",
                  "usage: chatadm [global options] top"},
        UsageCase{{"help", "nope"}, "no command named 'nope'", "usage: chatadm [-jkqv]"},
        UsageCase{{"status", "--help"}, "unknown option --help", "usage: chatadm"}));

TEST(Program, NoArgumentsPrintsUsageToStderrWithStatus2) {
    Harness h;
    const auto r = h.run({});
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("usage: chatadm"), std::string::npos);
    EXPECT_NE(r.err.find("exit status: 0 success, 1 server or network failure, 2 usage"),
              std::string::npos);
}

TEST(Program, HelpGoesToStdout) {
    Harness h;
    for (const Args& args : {Args{"help"}, Args{"--help"}, Args{"-j", "help"}}) {
        const auto r = h.run(args);
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.err, "");
        EXPECT_NE(r.out.find("usage: chatadm"), std::string::npos);
        EXPECT_NE(r.out.find("4 no such user or object"), std::string::npos);
    }
    const auto one = h.run({"help", "send"});
    EXPECT_EQ(one.status, 0);
    EXPECT_NE(one.out.find("send [-t type] [-s subject] from to [message...]"), std::string::npos);
    EXPECT_TRUE(h.api.calls.empty());
}

TEST(Program, UsageLinesFitEightyColumns) {
    Harness h;
    std::istringstream text(h.run({"help"}).out);
    for (std::string line; std::getline(text, line);) EXPECT_LE(line.size(), 80u) << line;
    for (const auto& spec : command_table()) {
        std::istringstream details(h.run({"help", spec.name}).out);
        for (std::string line; std::getline(details, line);) EXPECT_LE(line.size(), 80u) << line;
    }
}

TEST(Program, Version) {
    Harness h;
    const auto r = h.run({"--version"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "chatadm " CHATADM_VERSION "\n");
}

}  // namespace
}  // namespace chatadm
