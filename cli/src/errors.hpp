// Exit statuses and the exceptions that carry them to main().
#pragma once

#include <stdexcept>
#include <string>

namespace chatadm {

// The documented exit statuses (usage text and chatadm(1)); scripts rely on
// these numbers, so they never change meaning.
enum class ExitStatus : int {
    ok = 0,
    failure = 1,    // server or network failure
    usage = 2,      // usage or configuration error
    auth = 3,       // authentication or permission refused
    not_found = 4,  // no such user or object
    degraded = 5,   // status: a cluster node is down, or nodes answer from separate clusters
    full = 6,       // health: a user is at its offline message limit
};

// An error that ends the run with a message for the operator: what is wrong
// and what to do about it.
class CliError : public std::runtime_error {
  public:
    CliError(ExitStatus status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    ExitStatus status() const { return status_; }

  private:
    ExitStatus status_;
};

// A mistake in the command line: reported with the usage text (of the
// command, when one was recognised) so the fix is on screen.
class UsageError : public CliError {
  public:
    explicit UsageError(const std::string& message) : CliError(ExitStatus::usage, message) {}
};

}  // namespace chatadm
