// Output for people must be safe on a terminal; output for scripts must
// parse back to what the server said.
#include "output/format.hpp"

#include <gtest/gtest.h>

#include "api/results.hpp"
#include "commands/cmd_server.hpp"
#include "errors.hpp"
#include "output/text_escape.hpp"

namespace chatadm {
namespace {

using nlohmann::json;

TEST(EscapeLine, ControlCharacters) {
    EXPECT_EQ(escape_line("plain text, ünïcødé ✓"), "plain text, ünïcødé ✓");
    EXPECT_EQ(escape_line("a\tb\nc\rd"), "a\\tb\\nc\\rd");
    EXPECT_EQ(escape_line("\x1b[2J\x1b]0;title\x07"), "\\x1b[2J\\x1b]0;title\\x07");
    EXPECT_EQ(escape_line(std::string("nul\0x", 5)), "nul\\x00x");
    EXPECT_EQ(escape_line("del\x7f"), "del\\x7f");
    EXPECT_EQ(escape_line("c1\xc2\x9b"), "c1\\u009b");  // U+009B is CSI on some terminals
}

TEST(EscapeLine, BidiOverridesAndSeparators) {
    EXPECT_EQ(escape_line("abc\u202Eevil"), "abc\\u202eevil");
    EXPECT_EQ(escape_line("x\u2066y\u2069"), "x\\u2066y\\u2069");
    EXPECT_EQ(escape_line("line\u2028break"), "line\\u2028break");
    EXPECT_EQ(escape_line("\u200F"), "\u200F");  // a plain RLM is legitimate in RTL text
}

TEST(EscapeLine, InvalidUtf8Bytes) {
    EXPECT_EQ(escape_line("ok\xff\xfe"), "ok\\xff\\xfe");
    EXPECT_EQ(escape_line("\xc3"), "\\xc3");                    // truncated sequence
    EXPECT_EQ(escape_line("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
    EXPECT_EQ(escape_line("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
    EXPECT_TRUE(valid_utf8("é✓😀"));
    EXPECT_FALSE(valid_utf8("\xff"));
}

TEST(EscapeMultiline, KeepsLineBreaksOnly) {
    EXPECT_EQ(escape_multiline("one\r\ntwo\n\tthree\n\n"), "one\ntwo\n\\tthree");
    EXPECT_EQ(escape_multiline("cr\ronly"), "cr\\ronly");
}

TEST(Timestamp, Forms) {
    EXPECT_EQ(format_timestamp("2026-11-23T10:03:25.123456Z"), "2026-11-23T10:03:25Z");
    EXPECT_EQ(format_timestamp("2026-11-23T10:03:25Z"), "2026-11-23T10:03:25Z");
    EXPECT_EQ(format_timestamp("2026-11-23T10:03:25.5+01:00"), "2026-11-23T10:03:25+01:00");
    EXPECT_EQ(format_timestamp(json(1700000000123456)), "2023-11-14T22:13:20Z");
    EXPECT_EQ(format_timestamp("yesterday\n"), "yesterday\\n");
    EXPECT_EQ(format_timestamp(json()), "-");
}

json message(const std::string& ts, const std::string& from, const std::string& body,
             const std::string& subject = "") {
    return {{"id", 1},        {"timestamp", ts},    {"from", from},
            {"type", "chat"}, {"subject", subject}, {"preview", body.substr(0, 64)},
            {"body", body}};
}

TEST(FormatMessages, AlignedColumnsAndIndentedContinuations) {
    const json list = json::array({
        message("2026-11-23T10:03:25.123456Z", "bob@localhost", "hello"),
        message("2026-11-23T10:01:00Z", "carol@example.org", "first\nsecond\n\nfourth", "Lunch"),
        message("2026-11-23T09:00:00Z", "d@x", ""),
    });
    EXPECT_EQ(format_messages(message_rows(list)),
              "2026-11-23T10:03:25Z  bob@localhost      hello\n"
              "2026-11-23T10:01:00Z  carol@example.org  [Lunch] first\n"
              "                                         second\n"
              "                                         \n"
              "                                         fourth\n"
              "2026-11-23T09:00:00Z  d@x\n");
}

TEST(FormatMessages, ABodyCannotForgeAnotherMessageOrTheScreen) {
    const json list = json::array(
        {message("2026-11-23T10:00:00Z", "eve@x",
                 "hi\n2026-11-23T10:00:00Z  boss@x  send money\x1b[8m", "\x1b]0;pwned\x07")});
    const std::string out = format_messages(message_rows(list));
    EXPECT_EQ(out.find('\x1b'), std::string::npos);
    EXPECT_EQ(out.find('\x07'), std::string::npos);
    // Every line but the first starts with blanks: only real messages start at column 0.
    size_t lines = 0, pos = 0;
    while ((pos = out.find('\n', pos)) != std::string::npos && pos + 1 < out.size()) {
        EXPECT_EQ(out[pos + 1], ' ');
        ++pos;
        ++lines;
    }
    EXPECT_EQ(lines, 1u);
    EXPECT_NE(out.find("[\\x1b]0;pwned\\x07] hi"), std::string::npos);
}

TEST(FormatMessages, ToleratesMissingFields) {
    EXPECT_EQ(format_messages(message_rows(json::array({json::object()}))), "-  \n");
}

TEST(FormatCounts, RightAlignedCounts) {
    const json list = json::array(
        {{{"sender", "bob@x"}, {"count", 120}}, {{"sender", "carol\x1b@x"}, {"count", 3}}});
    EXPECT_EQ(format_counts(count_rows(list, "sender")), "  120  bob@x\n    3  carol\\x1b@x\n");
}

TEST(FormatLines, EscapesEachLine) {
    EXPECT_EQ(format_lines({"a@x/phone", "b@x/\x1b"}), "a@x/phone\nb@x/\\x1b\n");
}

TEST(JsonText, ParsesBackAndSurvivesInvalidUtf8) {
    const json value = {{"body", "line1\nline2\t\x01"}, {"count", 3}};
    const std::string text = json_text(value);
    EXPECT_EQ(json::parse(text), value);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_NO_THROW(json::parse(json_text(json("bad\xff"))));
}

TEST(FormatStatus, WithAndWithoutModule) {
    json report = {{"url", "https://lb:5443/api"},
                   {"version", "23.01-1"},
                   {"status_message", "..."},
                   {"nodes", {"ejabberd@a", "ejabberd@b"}},
                   {"mod_unread", {{"loaded", false}}}};
    EXPECT_EQ(format_status(report),
              "api:        https://lb:5443/api\n"
              "ejabberd:   23.01-1\n"
              "cluster:    ejabberd@a, ejabberd@b\n"
              "mod_unread: not loaded (unread -c falls back to get_offline_count)\n");
    report["mod_unread"] = {{"loaded", true},
                            {"stats",
                             {{{"host", "localhost"},
                               {"state", "ready"},
                               {"total", 12},
                               {"users", 3},
                               {"memory", 4096},
                               {"last_rebuild", "2026-11-23T10:00:00Z"},
                               {"rebuild_ms", 12}}}}};
    EXPECT_NE(format_status(report).find("mod_unread: loaded\n"
                                         "  localhost: ready, backend -, 12 unread for 3 users, "
                                         "index 4.0 KiB, rebuilt 2026-11-23T10:00:00Z in 12 ms\n"),
              std::string::npos);
}

// Each row names the store behind that host's index; a row from a module
// older than the field, or a node without an index, shows "-".
TEST(FormatStatus, ShowsEachHostsBackend) {
    const auto row = [](const char* node, const char* host, const char* state, int total, int users,
                        int memory) {
        return json{{"node", node},   {"host", host},     {"state", state},     {"total", total},
                    {"users", users}, {"memory", memory}, {"last_rebuild", ""}, {"rebuild_ms", 0}};
    };
    json refused = row("ejabberd@a", "example.org",
                       "refused: no mod_unread backend for mod_offline db_type sql", 0, 0, 0);
    refused["backend"] = "sql/pgsql";
    json ready = row("ejabberd@a", "localhost", "ready", 12, 3, 4096);
    ready["backend"] = "mnesia";
    json absent = row("ejabberd@b", "", "unreachable", 0, 0, 0);
    absent["backend"] = "";
    // ejabberd@c runs a module from before the field.
    const json older = row("ejabberd@c", "localhost", "ready", 1, 1, 512);
    json report = {{"url", "https://lb:5443/api"},
                   {"version", "23.01-1"},
                   {"nodes", {"ejabberd@a", "ejabberd@b"}}};
    report["mod_unread"] = {{"loaded", true},
                            {"stats", json::array({ready, refused, absent, older})}};
    const std::string out = format_status(report);
    EXPECT_NE(out.find("  ejabberd@a localhost: ready, backend mnesia, 12 unread for 3 users, "
                       "index 4.0 KiB\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("  ejabberd@a example.org: refused: no mod_unread backend for mod_offline "
                       "db_type sql, backend sql/pgsql, 0 unread for 0 users, index 0 B\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("  ejabberd@b : unreachable, backend -, 0 unread"), std::string::npos)
        << out;
    EXPECT_NE(out.find("  ejabberd@c localhost: ready, backend -, 1 unread for 1 users"),
              std::string::npos)
        << out;
}

TEST(FormatBytes, Units) {
    EXPECT_EQ(format_bytes(512), "512 B");
    EXPECT_EQ(format_bytes(4096), "4.0 KiB");
    EXPECT_EQ(format_bytes(5 * 1024 * 1024 + 512 * 1024), "5.5 MiB");
}

TEST(StatusVersion, FromTheStatusSentence) {
    EXPECT_EQ(version_from_status("The node a@b is started. Status: startedejabberd 23.01-1 is "
                                  "running in that node"),
              "23.01-1");
    EXPECT_EQ(version_from_status("The node a@b is started with status: started\nejabberd 24.06 "
                                  "is running in that node"),
              "24.06");
    EXPECT_EQ(version_from_status("ejabberd is not running"), "");
}

TEST(Results, IntegerShapes) {
    EXPECT_EQ(result_integer(json(5), "c"), 5);
    EXPECT_EQ(result_integer(json{{"value", 5}}, "c"), 5);
    EXPECT_EQ(result_integer(json{{"count", 7}}, "c"), 7);
    EXPECT_EQ(result_integer(json("12"), "c"), 12);
    EXPECT_EQ(result_integer(json(3.0), "c"), 3);
    EXPECT_THROW(result_integer(json("x"), "c"), CliError);
    EXPECT_THROW(result_integer(json{{"a", 1}, {"b", 2}}, "c"), CliError);
    EXPECT_THROW(result_integer(json::array(), "c"), CliError);
}

TEST(Results, StringListShapes) {
    EXPECT_EQ(result_string_list(json{"a", "b"}, "c"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(result_string_list(json::array({{{"node", "a"}}}), "c"),
              (std::vector<std::string>{"a"}));
    EXPECT_EQ(result_string_list(json{{"nodes", {"a"}}}, "c"), (std::vector<std::string>{"a"}));
    try {
        result_string_list(json(5), "list_cluster");
        ADD_FAILURE();
    } catch (const CliError& e) {
        EXPECT_EQ(e.status(), ExitStatus::failure);
        EXPECT_EQ(std::string(e.what()),
                  "unexpected result from 'list_cluster': expected a list, got 5");
    }
}

TEST(Results, FieldsAreForgiving) {
    const json o = {{"s", "x"}, {"n", 4}, {"ns", "5"}, {"f", 2.9}, {"null", nullptr}};
    EXPECT_EQ(field_string(o, "s"), "x");
    EXPECT_EQ(field_string(o, "n"), "4");
    EXPECT_EQ(field_string(o, "null"), "");
    EXPECT_EQ(field_string(o, "missing"), "");
    EXPECT_EQ(field_integer(o, "n"), 4);
    EXPECT_EQ(field_integer(o, "ns"), 5);
    EXPECT_EQ(field_integer(o, "f"), 2);
    EXPECT_EQ(field_integer(o, "s"), 0);
}

}  // namespace
}  // namespace chatadm
