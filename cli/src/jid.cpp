#include "jid.hpp"

#include "errors.hpp"
#include "output/text_escape.hpp"

namespace chatadm {

namespace {

[[noreturn]] void malformed(std::string_view text, const std::string& what,
                            const std::string& why) {
    throw UsageError(what + ": malformed JID '" + escape_line(text) + "': " + why);
}

}  // namespace

Jid parse_jid(std::string_view text, JidUse use, const std::string& what) {
    if (text.empty()) malformed(text, what, "it is empty");
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == ' ') {
            malformed(text, what, "it contains a space or control character");
        }
    }
    Jid jid;
    std::string_view rest = text;
    if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
        if (use != JidUse::recipient) {
            malformed(text, what, "a resource ('/...') is not allowed here; give the bare JID");
        }
        jid.resource = std::string(rest.substr(slash + 1));
        if (jid.resource.empty()) malformed(text, what, "the resource after '/' is empty");
        rest = rest.substr(0, slash);
    }
    const size_t at = rest.find('@');
    if (at == std::string_view::npos) {
        jid.local = std::string(rest);
    } else {
        jid.local = std::string(rest.substr(0, at));
        jid.domain = std::string(rest.substr(at + 1));
        if (jid.domain.empty()) malformed(text, what, "the domain after '@' is empty");
        if (jid.domain.find('@') != std::string::npos)
            malformed(text, what, "it has more than one '@'");
    }
    if (jid.local.empty()) malformed(text, what, "the user name before '@' is empty");
    if (jid.local.find_first_of("\"&':<>") != std::string::npos) {
        malformed(text, what, "a user name cannot contain any of \" & ' : < >");
    }
    if (jid.local.size() > 1023 || jid.domain.size() > 1023 || jid.resource.size() > 1023) {
        malformed(text, what, "a part is longer than 1023 bytes");
    }
    return jid;
}

std::string parse_domain(std::string_view text, const std::string& what) {
    if (text.empty()) throw UsageError(what + ": the host is empty");
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F || c == '@' || c == '/') {
            throw UsageError(what + ": '" + escape_line(text) +
                             "' is not a host name (a virtual host such as example.com)");
        }
    }
    return std::string(text);
}

}  // namespace chatadm
