// The spool row scanner (nif/c_src/spool_xml.hpp) on its own: what it reads
// from the XML mod_offline_sql stores, and what it declines. Equality with
// the reference path (fxml + jid + the record decoder) over generated
// messages is checked in tests/erlang/mod_unread_sql_scan_tests.erl.
#include "spool_xml.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace unread::spool {
namespace {

constexpr std::int64_t kStamp = 1'796'032'800'000'000;  // 2026-11-30T10:00:00Z

struct Scanned {
    std::int64_t id;
    std::string from;
    MessageType type;
    std::string subject;
    std::string body;
};

std::optional<Scanned> scan(const std::string& xml, std::string_view created_at = "",
                            std::int64_t seq = 7) {
    Scanner scanner;
    ScannedRow row;
    if (!scanner.scan(xml, {"localhost", created_at, seq}, row)) return std::nullopt;
    return Scanned{row.id, std::string(scanner.text(row.from)), row.type,
                   std::string(scanner.text(row.subject)), std::string(scanner.text(row.body))};
}

// As mod_offline_sql stores a message (fxml's serialisation, ' quotes).
std::string stored(const std::string& children, const std::string& attrs = "type='chat'") {
    return "<message xmlns='jabber:client' from='Bob@LocalHost/res' to='alice@localhost' " + attrs +
           " id='m1'>" + children +
           "<delay xmlns='urn:xmpp:delay' from='localhost' "
           "stamp='2026-11-30T10:00:00.123456Z'>Offline Storage</delay></message>";
}

TEST(SpoolXml, ReadsAStoredMessage) {
    const auto r = scan(stored("<subject>Hi</subject><body>Hello there</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from, "bob@localhost");
    EXPECT_EQ(r->type, MessageType::chat);
    EXPECT_EQ(r->subject, "Hi");
    EXPECT_EQ(r->body, "Hello there");
    EXPECT_EQ(r->id, kStamp + 123456);
}

TEST(SpoolXml, TypesAsTheDecoderMapsThem) {
    for (const auto& [attr, type] : {std::pair{"type='groupchat'", MessageType::groupchat},
                                     {"type='headline'", MessageType::headline},
                                     {"type=\"error\"", MessageType::error},
                                     {"type='normal'", MessageType::normal},
                                     {"type='weird'", MessageType::normal},
                                     {"", MessageType::normal},
                                     {"type='&#99;hat'", MessageType::chat}}) {
        const auto r = scan(stored("<body>x</body>", attr));
        ASSERT_TRUE(r) << attr;
        EXPECT_EQ(r->type, type) << attr;
    }
}

TEST(SpoolXml, DecodesEntitiesAndCharacterReferences) {
    const auto r =
        scan(stored("<body>&lt;a&gt; &amp; &quot;q&quot; &apos;s&apos; &#65;&#x42;"
                    "&#xe9;&#233;&#x1F600;</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "<a> & \"q\" 's' AB\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(SpoolXml, DecodesCdata) {
    const auto r = scan(stored("<body>a<![CDATA[<b>&amp;]]]]>c</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "a<b>&amp;]]c");
}

TEST(SpoolXml, KeepsNewlinesTabsAndUtf8) {
    const auto r = scan(stored("<body>line 1\n\tline 2 \xd0\xbf\xd1\x80\xd0\xb8</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "line 1\n\tline 2 \xd0\xbf\xd1\x80\xd0\xb8");
}

TEST(SpoolXml, BothQuoteStyles) {
    const auto r = scan(
        "<message from=\"carol@example.org/x\" to='alice@localhost' type=\"chat\">"
        "<body xml:lang=\"\">a'b</body><delay xmlns=\"urn:xmpp:delay\" from=\"localhost\" "
        "stamp=\"2026-11-30T10:00:00Z\"/></message>");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from, "carol@example.org");
    EXPECT_EQ(r->body, "a'b");
    EXPECT_EQ(r->id, kStamp);
    // A quote of the other kind inside a value.
    const auto q = scan(stored("<body>x</body>", "type=\"ch'at\""));
    ASSERT_TRUE(q);
    EXPECT_EQ(q->type, MessageType::normal);
}

TEST(SpoolXml, OnlyDirectChildrenAreBodies) {
    const auto r = scan(stored(
        "<x xmlns='jabber:x:oob'><body>not this</body><subject>nor this</subject></x>"
        "<forwarded xmlns='urn:xmpp:forward:0'><message><body>deep</body></message></forwarded>"
        "<body>the body<b>nested <body>no</body></b> tail</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "the body tail");  // text of nested elements is not the body's own
    EXPECT_EQ(r->subject, "");
}

TEST(SpoolXml, ChoosesTheBodyWithoutLang) {
    auto r = scan(stored("<body xml:lang='de'>Hallo</body><body>Hello</body><body>Again</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "Hello");
    r = scan(stored("<body xml:lang='de'>Hallo</body><body xml:lang='fr'>Salut</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "Hallo");
    r = scan(stored("<body xml:lang='de'>Hallo</body><body xml:lang=''>Plain</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "Plain");
    r = scan(stored("<subject xml:lang='de'>Betreff</subject><subject>Subject</subject>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->subject, "Subject");
}

TEST(SpoolXml, MissingOrEmptyBody) {
    auto r = scan(stored(""));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "");
    r = scan(stored("<body/><body>later</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "");  // the first plain one, empty as it is
}

TEST(SpoolXml, Dates) {
    // The server's own delay wins over an earlier one of the sender's.
    auto r = scan(
        "<message from='bob@localhost' to='alice@localhost'>"
        "<delay xmlns='urn:xmpp:delay' from='bob@localhost' stamp='2020-01-01T00:00:00Z'/>"
        "<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-11-30T10:00:00Z'/></message>");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, kStamp);
    // Any delay if none is the server's; one in another namespace is no delay.
    r = scan(
        "<message from='bob@localhost' to='alice@localhost'>"
        "<delay xmlns='urn:xmpp:other' from='localhost' stamp='2001-01-01T00:00:00Z'/>"
        "<delay xmlns='urn:xmpp:delay' stamp='2026-11-30T10:00:00.5Z'/></message>");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, kStamp + 500000);
    // No delay: created_at, as UTC; then seq.
    const std::string bare = "<message from='bob@localhost' to='alice@localhost'/>";
    EXPECT_EQ(scan(bare, "2026-11-30 10:00:00")->id, kStamp);
    EXPECT_EQ(scan(bare, "2026-11-30 10:00:00.25")->id, kStamp + 250000);
    EXPECT_EQ(scan(bare, "2026-11-30 10:00:00.1234567")->id, kStamp + 123456);
    EXPECT_EQ(scan(bare, "", 42)->id, 42);
    EXPECT_EQ(scan(bare, "yesterday", 42)->id, 42);
    // A form the reference might read differently is left to it.
    EXPECT_FALSE(scan(bare, "2026-11-30 10:00:00.12x"));
    EXPECT_FALSE(scan(bare, "1969-12-31 23:59:59"));
    EXPECT_FALSE(
        scan("<message from='bob@localhost' to='alice@localhost'><delay "
             "xmlns='urn:xmpp:delay' from='localhost' stamp='2026-11-30T10:00:00+01:00'/>"
             "</message>"));
}

TEST(SpoolXml, Stamps) {
    std::int64_t t;
    ASSERT_TRUE(parse_xmpp_stamp("1970-01-01T00:00:00Z", t));
    EXPECT_EQ(t, 0);
    ASSERT_TRUE(parse_xmpp_stamp("2024-02-29T23:59:59.999999999Z", t));
    EXPECT_EQ(t, 1'709'251'199'999'999);
    EXPECT_FALSE(parse_xmpp_stamp("2023-02-29T00:00:00Z", t));
    EXPECT_FALSE(parse_xmpp_stamp("2026-13-01T00:00:00Z", t));
    EXPECT_FALSE(parse_xmpp_stamp("2026-11-30T24:00:00Z", t));
    EXPECT_FALSE(parse_xmpp_stamp("2026-11-30T10:00:00.Z", t));
    EXPECT_FALSE(parse_xmpp_stamp("2026-11-30T10:00:00", t));
    EXPECT_FALSE(parse_xmpp_stamp("20261130T10:00:00", t));
}

TEST(SpoolXml, Jids) {
    std::string out;
    EXPECT_TRUE(bare_jid("Bob.Smith+x@Example-1.ORG/Some Resource/@x", out));
    EXPECT_EQ(out, "bob.smith+x@example-1.org");
    out.clear();
    EXPECT_TRUE(bare_jid("conference.localhost", out));
    EXPECT_EQ(out, "conference.localhost");
    for (const char* bad : {"", "@host", "a@", "a@b/", "a b@c", "a@b..c", "a@host.", "\xc3\xa9@x",
                            "a@b@c", "a@b/\t", "a@[::1]"}) {
        out.clear();
        EXPECT_FALSE(bare_jid(bad, out)) << bad;
        EXPECT_EQ(out, "");
    }
}

TEST(SpoolXml, DeclinesMalformedAndUnusualInput) {
    const std::string ok = stored("<body>x</body>");
    ASSERT_TRUE(scan(ok));
    for (const std::string& bad : {
             std::string(""),
             std::string("not xml"),
             std::string("<message"),
             ok.substr(0, ok.size() - 1),
             ok + " ",
             " " + ok,
             ok + "<x/>",
             std::string("<?xml version='1.0'?>") + ok,
             stored("<body>x</bodyy>"),
             stored("<body>x]]>y</body>"),
             stored("<body>a &nbsp; b</body>"),
             stored("<body>a & b</body>"),
             stored("<body>&#0;</body>"),
             stored("<body>&#xD800;</body>"),
             stored("<body>&#x110000;</body>"),
             stored("<body>&#;</body>"),
             stored("<body>cr\r\nlf</body>"),
             stored("<body>\x01</body>"),
             stored("<body>\xff</body>"),
             stored("<body>\xc0\xaf</body>"),      // overlong '/'
             stored("<body>\xed\xa0\x80</body>"),  // a surrogate
             stored("<body>\xe2\x82</body>"),      // cut short
             stored("<body><!-- c --></body>"),
             stored("<body><?pi x?></body>"),
             stored("<x:body>x</x:body>"),
             stored("<body>x</body>", "type='a' type='b'"),
             stored("<body>x</body>", "type='a'id='b'"),
             stored("<body>x</body>", "type='a\tb'"),
             stored("<body>x</body>", "type='a<b'"),
             stored("<body>x</body>", "type=chat"),
             stored("<body>x</body>", "xmlns:x='u' x:type='chat'"),
             std::string("<message to='alice@localhost'><body>x</body></message>"),
             std::string("<message from='bob@localhost'><body>x</body></message>"),
             std::string("<message from='b\xc3\xb6"
                         "b@localhost' to='alice@localhost'/>"),
             std::string("<message from='bob@localhost' to='@'/>"),
         }) {
        EXPECT_FALSE(scan(bad)) << bad;
    }
}

TEST(SpoolXml, DeclinedRowsLeaveTheArenaAsItWas) {
    Scanner scanner;
    ScannedRow a, b;
    ASSERT_TRUE(scanner.scan(stored("<body>first</body>"), {"localhost", "", 1}, a));
    EXPECT_FALSE(scanner.scan(stored("<body>second</body><broken>"), {"localhost", "", 2}, b));
    ASSERT_TRUE(scanner.scan(stored("<body>third</body>"), {"localhost", "", 3}, b));
    EXPECT_EQ(scanner.text(a.body), "first");
    EXPECT_EQ(scanner.text(b.body), "third");
}

TEST(SpoolXml, HugeInput) {
    // A megabyte body with entities, and elements nested far deeper than any
    // stack would take recursively.
    std::string body;
    for (int i = 0; i < 100'000; ++i) body += "0123&amp;56";
    auto r = scan(stored("<body>" + body + "</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.size(), 100'000u * 7);
    std::string deep;
    const int depth = 200'000;
    for (int i = 0; i < depth; ++i) deep += "<a>";
    deep += "t";
    for (int i = 0; i < depth; ++i) deep += "</a>";
    r = scan(stored(deep + "<body>after</body>"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "after");
    // Unclosed: declined, after reading to the end.
    EXPECT_FALSE(scan(stored(std::string(depth * 3, '<'))));
    EXPECT_FALSE(scan(stored(deep.substr(0, deep.size() - 4))));
}

}  // namespace
}  // namespace unread::spool
