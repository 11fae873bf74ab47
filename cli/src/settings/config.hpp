// Config files ("key = value" lines) and environment variables.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "settings/settings.hpp"

namespace chatadm {

// Looks up an environment variable; injected so tests need no setenv.
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;

// Parses a config file's text. Lines are "key = value" (blank lines and lines
// starting with '#' are ignored; a value may be wrapped in double or single
// quotes to keep surrounding spaces). Throws CliError(usage) as
// "origin:line: problem" for unknown keys, missing '=' or bad values.
Settings parse_config(std::string_view text, const std::string& origin);

// Who besides the owner may read a file of this mode: "group", "others",
// "group and others", or nullopt when only the owner can.
std::optional<std::string> readable_by_others(mode_t mode);

// The refusal message when a file holding `secret` (e.g. "a password") can be
// read by others, or nullopt when its mode is private enough.
std::optional<std::string> exposed_secret_problem(const std::string& path, mode_t mode,
                                                  const std::string& secret);

// Reads and parses one config file. A missing file gives nullopt; so does an
// unreadable one when `optional_if_unreadable` (a system file meant for
// root). A file holding a password or token that others may read throws
// CliError(auth).
std::optional<SettingsLayer> load_config_file(const std::string& path, bool optional_if_unreadable);

// The user's config path: $XDG_CONFIG_HOME/chatadm/config, else
// $HOME/.config/chatadm/config (nullopt when neither variable is usable).
std::optional<std::string> user_config_path(const GetEnv& getenv);

inline constexpr const char* system_config_path = "/etc/chatadm.conf";

// CHATADM_HOST, CHATADM_USER, CHATADM_PASSWORD_FILE, CHATADM_TOKEN; empty
// values count as unset.
SettingsLayer environment_layer(const GetEnv& getenv);

}  // namespace chatadm
