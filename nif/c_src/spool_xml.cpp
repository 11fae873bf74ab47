#include "spool_xml.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

namespace unread::spool {
namespace {

constexpr std::string_view kNsDelay = "urn:xmpp:delay";
// jid:nodeprep/nameprep/resourceprep refuse parts of 1024 bytes and more.
constexpr std::size_t kMaxJidPart = 1023;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Whitespace between markup, which expat accepts (and which never reaches
// an attribute value or text here).
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Byte classes, looked up: the scanner's inner loops run over every byte of
// a million rows in a rebuild.
enum : std::uint8_t {
    kText = 1,       // passes through character data as it is
    kNameStart = 2,  // may start a name
    kName = 4,       // may continue a name
    kDomain = 8,     // a JID's domain: ASCII letters, digits, '-' (and dots)
    kNode = 16,      // a JID's node: the same and '_', '+'
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0x20; c < 0x80; ++c)
        if (c != '&' && c != '<' && c != ']') t[c] |= kText;
    for (int c = 'a'; c <= 'z'; ++c) t[c] |= kNameStart | kName;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kNameStart | kName;
    for (int c = '0'; c <= '9'; ++c) t[c] |= kName;
    t['_'] |= kNameStart | kName;
    t['.'] |= kName;
    t['-'] |= kName;
    for (int c = 0; c < 256; ++c)
        if ((t[c] & kName) && c != '_' && c != '.') t[c] |= kDomain | kNode;
    t['_'] |= kNode;
    t['+'] |= kNode;
    return t;
}

constexpr std::array<std::uint8_t, 256> kClass = make_classes();

bool has(char c, std::uint8_t cls) noexcept {
    return (kClass[static_cast<unsigned char>(c)] & cls) != 0;
}

// Names outside ASCII, and prefixed ones (expat checks their namespace
// bindings), are declined: xml:lang is the one prefixed name read.
bool is_name_start(char c) noexcept {
    return has(c, kNameStart);
}

bool is_name_char(char c) noexcept {
    return has(c, kName);
}

// Fixed-width decimal digits, or false.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

bool is_leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// calendar:datetime_to_gregorian_seconds/1 refuses days past the month's
// last; the ranges are xmpp_util's (and, for created_at, those for which the
// result is a valid erlang:timestamp()).
bool civil_seconds(int y, int mo, int d, int h, int mi, int s, std::int64_t& out) noexcept {
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
        return false;
    const int last = kDays[static_cast<std::size_t>(mo - 1)] + (mo == 2 && is_leap(y) ? 1 : 0);
    if (d > last) return false;
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    const int yy = mo <= 2 ? y - 1 : y;
    const int era = yy / 400;
    const int yoe = yy - era * 400;
    const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
    out = days * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

// One UTF-8 character at s[i], strictly (no overlongs, surrogates or values
// past U+10FFFF), as a code point; 0 bytes read when invalid.
std::size_t utf8_char(std::string_view s, std::size_t i, char32_t& cp) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n;
    char32_t min;
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2, cp = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, cp = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0u) != 0x80u) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

// Characters the scanner passes through: XML's Char, less what expat might
// treat otherwise (C1 controls, U+FFFE/U+FFFF) — declined, not judged.
bool plain_char(char32_t cp) noexcept {
    if (cp < 0x80) return cp >= 0x20 || cp == '\t' || cp == '\n';
    return cp >= 0xA0 && cp != 0xFFFE && cp != 0xFFFF;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// An entity or character reference at s[i] ('&'): its character and length.
std::size_t reference(std::string_view s, std::size_t i, bool in_attr, char32_t& cp) noexcept {
    const std::string_view rest = s.substr(i + 1);
    static constexpr std::array<std::pair<std::string_view, char>, 5> kNamed = {
        {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}}};
    for (const auto& [name, c] : kNamed)
        if (rest.substr(0, name.size()) == name) {
            cp = static_cast<unsigned char>(c);
            return name.size() + 1;
        }
    if (rest.empty() || rest[0] != '#') return 0;
    const bool hex = rest.size() > 1 && rest[1] == 'x';
    std::size_t k = hex ? 2 : 1;
    char32_t v = 0;
    const std::size_t start = k;
    for (; k < rest.size() && rest[k] != ';'; ++k) {
        const char c = rest[k];
        unsigned d;
        if (is_digit(c))
            d = static_cast<unsigned>(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return 0;
        v = v * (hex ? 16u : 10u) + d;
        if (v > 0x10FFFF) return 0;
    }
    if (k == start || k == rest.size()) return 0;
    // Control characters by reference escape attribute-value normalisation;
    // leave such rare values to the reference path.
    if (in_attr && v < 0x20) return 0;
    if (!(v == '\t' || v == '\n' || v == '\r' || (v >= 0x20 && v <= 0xD7FF) ||
          (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF)))
        return 0;
    cp = v;
    return k + 2;
}

// Character data (text, or an attribute value between its quotes): checked,
// and with references decoded appended to `out` if given. False declines:
// literal CR (expat folds line ends), literal tab and newline in attribute
// values (normalised to spaces), "]]>" in text, a '<' in a value, unknown
// entities, characters outside plain_char.
bool char_data(std::string_view s, bool in_attr, std::string* out) {
    std::size_t run = 0;  // start of the bytes not yet copied
    const auto flush = [&](std::size_t upto) {
        if (out && upto > run) out->append(s.data() + run, upto - run);
    };
    const std::size_t n_bytes = s.size();
    for (std::size_t i = 0; i < n_bytes;) {
        while (i < n_bytes && has(s[i], kText)) ++i;
        if (i == n_bytes) break;
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '&') {
            char32_t cp;
            const std::size_t n = reference(s, i, in_attr, cp);
            if (n == 0) return false;
            flush(i);
            if (out) append_utf8(*out, cp);
            i += n;
            run = i;
            continue;
        }
        if (c == '<') return false;
        if (c == ']') {
            if (!in_attr && s.substr(i, 3) == "]]>") return false;
            ++i;
            continue;
        }
        if (c == '\t' || c == '\n') {
            if (in_attr) return false;
            ++i;
            continue;
        }
        char32_t cp;
        const std::size_t n = utf8_char(s, i, cp);
        if (n == 0 || !plain_char(cp)) return false;
        i += n;
    }
    flush(s.size());
    return true;
}

struct Attr {
    std::string_view name;
    std::string_view raw;  // between the quotes, undecoded
    bool plain = false;    // nothing to decode: the value is `raw`
};

struct Tag {
    std::string_view name;
    std::vector<Attr> attrs;
    bool empty = false;  // <name .../>

    const Attr* find(std::string_view n) const noexcept {
        for (const Attr& a : attrs)
            if (a.name.size() == n.size() && a.name[0] == n[0] && a.name == n) return &a;
        return nullptr;
    }
};

// One delay child: whether it is the server's own, and its stamp.
struct Delay {
    bool own = false;
    enum { ok, unreadable, unknown } stamp = unknown;
    std::int64_t micros = 0;
};

// The body chooser of offline_record.cpp: the first candidate without
// xml:lang (or with an empty one), else the first at all.
struct Choice {
    bool chosen = false;
    bool plain = false;
    Span text;

    bool takes(bool no_lang) const noexcept { return !plain && (no_lang || !chosen); }
};

}  // namespace

// What a scan needs besides the arena, kept between rows for its capacity.
struct Scanner::Work {
    std::vector<std::string_view> open;  // content()'s stack of open elements
    std::string scratch;                 // a decoded attribute value
    std::string to;
    Tag root, child, nested;
    std::vector<Delay> delays;
};

namespace {

class Parser {
  public:
    Parser(std::string_view s, std::string& arena, Scanner::Work& w)
        : s_(s), arena_(arena), w_(w) {}

    bool scan(const RowContext& row, ScannedRow& out);

  private:
    bool at(std::string_view lit) const noexcept {
        return s_.size() - p_ >= lit.size() && s_.compare(p_, lit.size(), lit) == 0;
    }
    bool at(char c) const noexcept { return p_ < s_.size() && s_[p_] == c; }
    // At "<" followed by c.
    bool at_lt(char c) const noexcept {
        return p_ + 1 < s_.size() && s_[p_] == '<' && s_[p_ + 1] == c;
    }
    void skip_space() noexcept {
        while (p_ < s_.size() && is_space(s_[p_])) ++p_;
    }
    bool name(std::string_view& out) noexcept;
    bool start_tag(Tag& tag);
    bool end_tag(std::string_view open);
    bool text(std::string* out);
    bool cdata(std::string* out);
    bool content(std::string_view open, std::string* direct_text);
    // The decoded value of an attribute, in place or in `buffer`.
    bool attr_value(const Tag& tag, std::string_view name, std::string_view& out,
                    std::string& buffer) const;

    std::string_view s_;
    std::size_t p_ = 0;
    std::string& arena_;
    Scanner::Work& w_;
};

bool Parser::name(std::string_view& out) noexcept {
    const std::size_t start = p_;
    if (p_ >= s_.size() || !is_name_start(s_[p_])) return false;
    while (p_ < s_.size() && is_name_char(s_[p_])) ++p_;
    // xml:lang, the one prefixed name accepted.
    if (p_ < s_.size() && s_[p_] == ':') {
        if (s_.substr(start, p_ - start) != "xml" || s_.substr(p_, 5) != ":lang") return false;
        p_ += 5;
        if (p_ < s_.size() && (is_name_char(s_[p_]) || s_[p_] == ':')) return false;
    }
    out = s_.substr(start, p_ - start);
    return true;
}

// At '<' of a start tag; reads through its '>' or "/>".
bool Parser::start_tag(Tag& tag) {
    ++p_;
    tag.attrs.clear();
    if (!name(tag.name) || tag.name == "xml:lang") return false;
    for (;;) {
        const std::size_t before = p_;
        skip_space();
        if (at('/') && p_ + 1 < s_.size() && s_[p_ + 1] == '>') {
            p_ += 2;
            tag.empty = true;
            return true;
        }
        if (at('>')) {
            ++p_;
            tag.empty = false;
            return true;
        }
        if (p_ == before) return false;  // attributes need space between them
        Attr a;
        if (!name(a.name)) return false;
        skip_space();
        if (!at('=')) return false;
        ++p_;
        skip_space();
        if (p_ >= s_.size() || (s_[p_] != '\'' && s_[p_] != '"')) return false;
        const char quote = s_[p_++];
        // Nearly every value is plain text up to its quote: one pass.
        std::size_t end = p_;
        while (end < s_.size() && has(s_[end], kText) && s_[end] != quote) ++end;
        a.plain = end < s_.size() && s_[end] == quote;
        if (!a.plain) {
            end = s_.find(quote, end);
            if (end == std::string_view::npos) return false;
        }
        a.raw = s_.substr(p_, end - p_);
        p_ = end + 1;
        if ((!a.plain && !char_data(a.raw, true, nullptr)) || tag.find(a.name)) return false;
        tag.attrs.push_back(a);
    }
}

// At "</"; the name must close `open`.
bool Parser::end_tag(std::string_view open) {
    p_ += 2;
    std::string_view n;
    if (!name(n) || n != open) return false;
    skip_space();
    if (!at('>')) return false;
    ++p_;
    return true;
}

bool Parser::text(std::string* out) {
    // The common case, plain text up to the next tag, in one pass.
    std::size_t i = p_;
    while (i < s_.size() && has(s_[i], kText)) ++i;
    if (i < s_.size() && s_[i] == '<') {
        if (out) out->append(s_.data() + p_, i - p_);
        p_ = i;
        return true;
    }
    const std::size_t end = std::min(s_.find('<', i), s_.size());
    const std::string_view t = s_.substr(p_, end - p_);
    p_ = end;
    return char_data(t, false, out);
}

// At "<![CDATA[": its text is taken as it is, but still checked.
bool Parser::cdata(std::string* out) {
    p_ += 9;
    const std::size_t end = s_.find("]]>", p_);
    if (end == std::string_view::npos) return false;
    const std::string_view t = s_.substr(p_, end - p_);
    p_ = end + 3;
    for (std::size_t i = 0; i < t.size();) {
        char32_t cp;
        const std::size_t n = utf8_char(t, i, cp);
        if (n == 0 || !plain_char(cp)) return false;
        i += n;
    }
    if (out) out->append(t);
    return true;
}

// After the '>' of `open`'s start tag, through its end tag. Text directly in
// it goes to direct_text (if given); nested elements are checked and
// skipped, without recursion however deep they nest.
bool Parser::content(std::string_view open, std::string* direct_text) {
    std::vector<std::string_view>& open_ = w_.open;
    Tag& tag = w_.nested;
    open_.clear();
    open_.push_back(open);
    while (!open_.empty()) {
        std::string* out = open_.size() == 1 ? direct_text : nullptr;
        if (!text(out) || p_ >= s_.size()) return false;
        if (at_lt('/')) {
            if (!end_tag(open_.back())) return false;
            open_.pop_back();
        } else if (at("<![CDATA[")) {
            if (!cdata(out)) return false;
        } else if (at_lt('!') || at_lt('?')) {
            return false;  // comments, processing instructions: left to fxml
        } else {
            if (!start_tag(tag)) return false;
            if (!tag.empty) open_.push_back(tag.name);
        }
    }
    return true;
}

bool Parser::attr_value(const Tag& tag, std::string_view n, std::string_view& out,
                        std::string& buffer) const {
    const Attr* a = tag.find(n);
    if (!a) return false;
    // Checked when read: without references the value is the raw text.
    if (a->plain || a->raw.find('&') == std::string_view::npos) {
        out = a->raw;
        return true;
    }
    buffer.clear();
    if (!char_data(a->raw, true, &buffer)) return false;
    out = buffer;
    return true;
}

MessageType type_from(std::string_view s) noexcept {
    if (s == "chat") return MessageType::chat;
    if (s == "groupchat") return MessageType::groupchat;
    if (s == "headline") return MessageType::headline;
    if (s == "error") return MessageType::error;
    return MessageType::normal;
}

bool Parser::scan(const RowContext& row, ScannedRow& out) {
    Tag& root = w_.root;
    std::string& scratch = w_.scratch;
    if (!at('<') || !start_tag(root)) return false;

    std::string_view value;
    if (!attr_value(root, "from", value, scratch)) return false;
    out.from.offset = arena_.size();
    if (!bare_jid(value, arena_)) return false;
    out.from.size = arena_.size() - out.from.offset;
    // mod_unread_sql:record/5 decodes the recipient too.
    w_.to.clear();
    if (!attr_value(root, "to", value, scratch) || !bare_jid(value, w_.to)) return false;
    out.type = MessageType::normal;
    if (root.find("type")) {
        if (!attr_value(root, "type", value, scratch)) return false;
        out.type = type_from(value);
    }

    Choice subject, body;
    std::vector<Delay>& delays = w_.delays;
    delays.clear();
    if (!root.empty) {
        Tag& tag = w_.child;
        for (;;) {
            if (!text(nullptr) || p_ >= s_.size()) return false;
            if (at_lt('/')) {
                if (!end_tag(root.name)) return false;
                break;
            }
            if (at("<![CDATA[")) {
                if (!cdata(nullptr)) return false;
                continue;
            }
            if (at_lt('!') || at_lt('?')) return false;
            if (!start_tag(tag)) return false;
            Choice* choice = tag.name == "body"      ? &body
                             : tag.name == "subject" ? &subject
                                                     : nullptr;
            if (choice) {
                const Attr* lang = tag.find("xml:lang");
                // A reference always decodes to a character: a value is
                // empty exactly when it is written empty.
                const bool no_lang = !lang || lang->raw.empty();
                const bool take = choice->takes(no_lang);
                std::size_t start = arena_.size();
                if (!tag.empty && !content(tag.name, take ? &arena_ : nullptr)) return false;
                if (take) {
                    choice->chosen = true;
                    choice->plain = no_lang;
                    choice->text = {start, arena_.size() - start};
                }
                continue;
            }
            if (tag.name == "delay") {
                if (attr_value(tag, "xmlns", value, scratch) && value == kNsDelay) {
                    Delay d;
                    d.own = attr_value(tag, "from", value, scratch) && value == row.host;
                    if (!attr_value(tag, "stamp", value, scratch) || value.empty())
                        d.stamp = Delay::unreadable;  // fxml gives <<>>: no timestamp
                    else if (parse_xmpp_stamp(value, d.micros))
                        d.stamp = Delay::ok;
                    delays.push_back(d);
                }
            }
            if (!tag.empty && !content(tag.name, nullptr)) return false;
        }
    }
    // Nothing may follow the element: fxml would say what that is.
    if (p_ != s_.size()) return false;

    out.subject = subject.text;
    out.body = body.text;

    // mod_unread_sql:timestamp/4: the server's own delays first, then all,
    // the first whose stamp reads; a stamp we cannot read but xmpp_util
    // might is declined.
    for (const bool own_only : {true, false})
        for (const Delay& d : delays) {
            if (own_only && !d.own) continue;
            if (d.stamp == Delay::ok) {
                out.id = d.micros;
                return true;
            }
            if (d.stamp == Delay::unknown) return false;
        }
    if (parse_created_at(row.created_at, out.id)) return true;
    // Too short for created_at/2's binary match: it dates by seq.
    if (row.created_at.size() < 19 && row.seq >= 0 && row.seq < 1'000'000'000'000) {
        out.id = row.seq;
        return true;
    }
    return false;
}

}  // namespace

bool parse_xmpp_stamp(std::string_view s, std::int64_t& micros) noexcept {
    int y, mo, d, h, mi, sec;
    if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || s[10] != 'T' || !digits(s, 11, 2, h) ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
        return false;
    std::size_t i = 19;
    std::int64_t frac = 0;
    if (s[i] == '.') {
        ++i;
        const std::size_t start = i;
        while (i < s.size() && is_digit(s[i])) {
            if (i - start < 6) frac = frac * 10 + (s[i] - '0');
            ++i;
        }
        if (i == start) return false;
        for (std::size_t n = i - start; n < 6; ++n) frac *= 10;
    }
    if (i + 1 != s.size() || s[i] != 'Z') return false;
    std::int64_t secs;
    if (!civil_seconds(y, mo, d, h, mi, sec, secs)) return false;
    micros = secs * 1'000'000 + frac;
    return true;
}

bool parse_created_at(std::string_view s, std::int64_t& micros) noexcept {
    int y, mo, d, h, mi, sec;
    if (s.size() < 19 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) || s[13] != ':' ||
        !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
        return false;
    std::int64_t frac = 0;
    const std::string_view rest = s.substr(19);
    if (rest.size() > 1 && rest[0] == '.') {
        // The first six characters after the point, padded with zeros.
        const std::string_view f = rest.substr(1, 6);
        for (const char c : f) {
            if (!is_digit(c)) return false;
            frac = frac * 10 + (c - '0');
        }
        for (std::size_t n = f.size(); n < 6; ++n) frac *= 10;
    }
    std::int64_t secs;
    if (!civil_seconds(y, mo, d, h, mi, sec, secs)) return false;
    micros = secs * 1'000'000 + frac;
    return true;
}

bool bare_jid(std::string_view jid, std::string& out) {
    // One pass: the node (up to '@'), the domain (up to '/'), the resource.
    // Node and domain: ASCII letters, digits, '-', single dots inside (and
    // '_' and '+' in the node); the resource printable ASCII.
    const std::size_t n = jid.size();
    std::size_t at = std::string_view::npos, slash = n;
    bool prev_dot = true;  // a dot may not come first
    for (std::size_t i = 0; i < n; ++i) {
        const char c = jid[i];
        if (c == '/') {
            slash = i;
            break;
        }
        if (c == '@') {
            if (at != std::string_view::npos || prev_dot) return false;
            at = i;
            prev_dot = true;
            continue;
        }
        if (c == '.') {
            if (prev_dot) return false;
            prev_dot = true;
            continue;
        }
        prev_dot = false;
        if (!has(c, at == std::string_view::npos ? kNode : kDomain)) return false;
    }
    if (prev_dot) return false;  // empty domain, or one ending in a dot
    const std::size_t node_size = at == std::string_view::npos ? 0 : at;
    const std::size_t domain_start = at == std::string_view::npos ? 0 : at + 1;
    const std::size_t domain_size = slash - domain_start;
    if (node_size > kMaxJidPart || domain_size > kMaxJidPart) return false;
    // '_' and '+' were let through before an '@' that never came.
    if (at == std::string_view::npos)
        for (std::size_t i = 0; i < slash; ++i)
            if (jid[i] == '_' || jid[i] == '+') return false;
    if (slash < n) {
        const std::size_t res = n - slash - 1;
        if (res == 0 || res > kMaxJidPart) return false;
        for (std::size_t i = slash + 1; i < n; ++i)
            if (jid[i] < 0x20 || jid[i] > 0x7E) return false;
    }
    const std::size_t start = out.size();
    out.resize(start + slash);
    char* w = out.data() + start;
    for (std::size_t i = 0; i < slash; ++i) w[i] = lower(jid[i]);
    return true;
}

Scanner::Scanner() : work_(std::make_unique<Work>()) {}
Scanner::~Scanner() = default;

bool Scanner::scan(std::string_view xml, const RowContext& row, ScannedRow& out) {
    const std::size_t mark = arena_.size();
    Parser parser(xml, arena_, *work_);
    if (parser.scan(row, out)) return true;
    arena_.resize(mark);
    return false;
}

}  // namespace unread::spool
