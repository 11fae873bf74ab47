#include "output/text_escape.hpp"

#include <cstdio>

namespace chatadm {

namespace {

// Length of the UTF-8 sequence at s[i] and its code point, or 0 if invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid too).
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    size_t len;
    char32_t min;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

bool dangerous_format_char(char32_t cp) {
    return (cp >= 0x202A && cp <= 0x202E) ||  // bidi embeddings and overrides
           (cp >= 0x2066 && cp <= 0x2069) ||  // bidi isolates
           cp == 0x2028 || cp == 0x2029;      // line / paragraph separators
}

void append_hex_byte(std::string& out, unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    out += buf;
}

void append_code_point(std::string& out, char32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
    out += buf;
}

std::string escape(std::string_view s, bool keep_newlines) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const size_t len = decode_utf8(s, i, cp);
        if (len == 0) {
            append_hex_byte(out, static_cast<unsigned char>(s[i]));
            ++i;
            continue;
        }
        if (cp == '\r' && keep_newlines && i + 1 < s.size() && s[i + 1] == '\n') {
            ++i;  // CRLF: let the '\n' be printed as the line break
            continue;
        }
        switch (cp) {
            case '\n':
                out += keep_newlines ? "\n" : "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (cp < 0x20 || cp == 0x7F) {
                    append_hex_byte(out, static_cast<unsigned char>(cp));
                } else if ((cp >= 0x80 && cp <= 0x9F) || dangerous_format_char(cp)) {
                    append_code_point(out, cp);
                } else {
                    out.append(s.substr(i, len));
                }
        }
        i += len;
    }
    return out;
}

}  // namespace

std::string escape_line(std::string_view text) {
    return escape(text, false);
}

std::string escape_multiline(std::string_view text) {
    std::string out = escape(text, true);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool valid_utf8(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const size_t len = decode_utf8(text, i, cp);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

size_t display_width(std::string_view text) {
    size_t width = 0;
    for (size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const size_t len = decode_utf8(text, i, cp);
        i += len == 0 ? 1 : len;
        ++width;
    }
    return width;
}

}  // namespace chatadm
