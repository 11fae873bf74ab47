// Checking and splitting JIDs given as operands, before any request is made.
#pragma once

#include <string>
#include <string_view>

namespace chatadm {

struct Jid {
    std::string local;
    std::string domain;  // empty when the operand was a bare user name
    std::string resource;
    std::string bare() const { return domain.empty() ? local : local + "@" + domain; }
};

enum class JidUse {
    account,    // "alice" or "alice@example.com": an account on the server
    recipient,  // as account, and a "/resource" is allowed
};

// Throws UsageError "malformed JID 'x': why" for an operand that cannot be a
// JID (RFC 7622's forbidden localpart characters, spaces, controls, empty
// parts, more than one '@'). Full stringprep is left to the server.
Jid parse_jid(std::string_view text, JidUse use, const std::string& what);

// A virtual host operand (a JID domain): throws UsageError when it holds '@',
// '/', spaces or controls.
std::string parse_domain(std::string_view text, const std::string& what);

}  // namespace chatadm
