// send: a message from one user to another through send_message.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "commands/session.hpp"
#include "jid.hpp"

namespace chatadm {

struct SendArgs {
    std::string type = "chat";  // -t
    std::string subject;        // -s
    Jid from;
    Jid to;
    std::optional<std::string> body;  // nullopt: read standard input
};
SendArgs parse_send_args(const std::vector<std::string>& args);
void run_send(const SendArgs& args, Session& session);

// Standard input as a message body: trailing newlines dropped (as from echo
// or a heredoc); empty or non-UTF-8 input is a UsageError.
std::string body_from_input(std::istream& in);

}  // namespace chatadm
