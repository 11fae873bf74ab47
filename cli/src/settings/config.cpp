#include "settings/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "errors.hpp"
#include "fd.hpp"
#include "settings/option_values.hpp"

namespace chatadm {

namespace {

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string_view unquote(std::string_view v) {
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        return v.substr(1, v.size() - 2);
    }
    return v;
}

[[noreturn]] void config_error(const std::string& where, const std::string& what) {
    throw CliError(ExitStatus::usage, where + ": " + what);
}

std::string read_all(int fd, const std::string& path) {
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            throw CliError(ExitStatus::usage, "cannot read " + path + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > 1024 * 1024) {
            throw CliError(ExitStatus::usage, path + " is too large for a config file");
        }
    }
    return text;
}

}  // namespace

Settings parse_config(std::string_view text, const std::string& origin) {
    Settings s;
    size_t line_no = 0;
    while (!text.empty()) {
        const size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        ++line_no;
        const std::string where = origin + ":" + std::to_string(line_no);

        line = trim(line);
        // '#' only at the start of a line: a password may well contain one.
        if (line.empty() || line.front() == '#') continue;
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            config_error(where, "expected 'key = value', got '" + std::string(line) + "'");
        }
        const std::string key(trim(line.substr(0, eq)));
        const std::string value(unquote(trim(line.substr(eq + 1))));
        if (value.empty()) config_error(where, "'" + key + "' has no value");

        try {
            if (key == "host") {
                s.host = value;
            } else if (key == "user") {
                s.user = value;
            } else if (key == "password") {
                s.password = value;
            } else if (key == "password_file") {
                s.password_file = value;
            } else if (key == "token") {
                s.token = value;
            } else if (key == "ca_file") {
                s.ca_file = value;
            } else if (key == "insecure") {
                s.insecure = parse_bool(value);
                if (!s.insecure) {
                    config_error(where, "insecure: '" + value + "' is not true or false");
                }
            } else if (key == "timeout") {
                s.timeout_ms = parse_timeout_ms(value, "timeout");
            } else {
                config_error(where, "unknown key '" + key +
                                        "' (known keys: host, user, password, password_file, "
                                        "token, ca_file, insecure, timeout)");
            }
        } catch (const UsageError& e) {
            config_error(where, e.what());
        }
    }
    if (s.password && s.password_file) {
        config_error(origin, "sets both password and password_file; keep one");
    }
    return s;
}

std::optional<std::string> readable_by_others(mode_t mode) {
    const bool group = (mode & S_IRGRP) != 0;
    const bool others = (mode & S_IROTH) != 0;
    if (group && others) return "group and others";
    if (group) return "group";
    if (others) return "others";
    return std::nullopt;
}

std::optional<std::string> exposed_secret_problem(const std::string& path, mode_t mode,
                                                  const std::string& secret) {
    const auto who = readable_by_others(mode);
    if (!who) return std::nullopt;
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
    return "refusing to use " + path + ": it holds " + secret + " but is readable by " + *who +
           " (mode " + octal + "); make it private with: chmod 600 " + path;
}

std::optional<SettingsLayer> load_config_file(const std::string& path,
                                              bool optional_if_unreadable) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        if (errno == EACCES && optional_if_unreadable) return std::nullopt;
        throw CliError(ExitStatus::usage,
                       "cannot open config file " + path + ": " + std::strerror(errno));
    }
    // fstat on the opened descriptor: the mode we check is the file we read.
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        throw CliError(ExitStatus::usage, "cannot stat " + path + ": " + std::strerror(errno));
    }
    SettingsLayer layer{path, parse_config(read_all(fd.get(), path), path)};
    const Settings& s = layer.settings;
    if (s.password || s.token) {
        const std::string secret = s.password ? "a password" : "a token";
        if (auto problem = exposed_secret_problem(path, st.st_mode, secret)) {
            throw CliError(ExitStatus::auth, *problem);
        }
    }
    return layer;
}

std::optional<std::string> user_config_path(const GetEnv& getenv) {
    // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
    if (auto xdg = getenv("XDG_CONFIG_HOME"); xdg && !xdg->empty() && xdg->front() == '/') {
        return *xdg + "/chatadm/config";
    }
    if (auto home = getenv("HOME"); home && !home->empty()) {
        return *home + "/.config/chatadm/config";
    }
    return std::nullopt;
}

SettingsLayer environment_layer(const GetEnv& getenv) {
    SettingsLayer layer{"environment", {}};
    const auto get = [&](const char* name) -> std::optional<std::string> {
        auto v = getenv(name);
        if (v && v->empty()) return std::nullopt;
        return v;
    };
    layer.settings.host = get("CHATADM_HOST");
    layer.settings.user = get("CHATADM_USER");
    layer.settings.password_file = get("CHATADM_PASSWORD_FILE");
    layer.settings.token = get("CHATADM_TOKEN");
    return layer;
}

}  // namespace chatadm
