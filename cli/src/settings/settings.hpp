// Settings as each source (command line, environment, config files) gives
// them, and how they combine.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/transport.hpp"

namespace chatadm {

// Every field is optional so that a source which leaves it unset lets a
// lower-precedence source decide.
struct Settings {
    std::optional<std::string> host;
    std::optional<std::string> user;
    std::optional<std::string> password;
    std::optional<std::string> password_file;
    std::optional<std::string> token;
    std::optional<std::string> ca_file;
    std::optional<bool> insecure;
    std::optional<long> timeout_ms;
};

struct SettingsLayer {
    std::string origin;  // "command line", "environment" or a file path: named in messages
    Settings settings;
};

// The transport-related settings after precedence is applied.
struct ConnectionSettings {
    std::string host = "localhost";
    std::optional<std::string> ca_file;
    bool insecure = false;
    std::string insecure_origin;  // which source turned verification off, for the warning
    long timeout_ms = 30000;
};

// layers[0] has the highest precedence (command line > environment > user
// config > system config); the first layer that sets a field wins.
ConnectionSettings merge_connection(const std::vector<SettingsLayer>& layers);

// Who we authenticate as. Credentials are chosen as a unit from the
// highest-precedence layer that mentions any of them, so that e.g.
// CHATADM_TOKEN in the environment is not mixed with a user and password
// from a config file.
struct CredentialPlan {
    Auth::Kind kind = Auth::Kind::none;
    std::string user;                          // basic
    std::optional<std::string> password;       // basic, given inline
    std::optional<std::string> password_file;  // basic, given as a file
    std::string token;                         // bearer
    std::string origin;                        // the layer that decided
};

// Throws CliError(usage) when the deciding layer is contradictory (a token
// and a user at once) or incomplete (a password but no user anywhere).
CredentialPlan plan_credentials(const std::vector<SettingsLayer>& layers);

}  // namespace chatadm
