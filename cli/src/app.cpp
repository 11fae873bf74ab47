#include "app.hpp"

#include <cstdlib>

#include "api/curl_transport.hpp"
#include "api/endpoint.hpp"
#include "commands/commands.hpp"
#include "errors.hpp"
#include "output/usage.hpp"
#include "settings/getopt_scan.hpp"
#include "settings/global_args.hpp"
#include "settings/password.hpp"

namespace chatadm {

namespace {

int status_code(ExitStatus s) {
    return static_cast<int>(s);
}

int run_help(const std::vector<std::string>& args, Io& io) {
    const ScanResult scan = scan_options(args, "");
    require_operands(scan.operands, {}, 1);
    if (scan.operands.empty()) {
        io.out << usage_text();
        return 0;
    }
    const CommandSpec* spec = find_command(scan.operands[0]);
    if (spec == nullptr) throw UsageError("no command named '" + scan.operands[0] + "'");
    io.out << command_usage(*spec);
    return 0;
}

std::vector<SettingsLayer> collect_layers(const Invocation& inv, const Environment& env) {
    std::vector<SettingsLayer> layers{inv.command_line, environment_layer(env.getenv)};
    if (auto path = user_config_path(env.getenv)) {
        if (auto layer = load_config_file(*path, false)) layers.push_back(std::move(*layer));
    }
    // The system file may be root's alone (mode 600 with a password): then
    // it is not meant for this user, and silently skipped.
    if (auto layer = load_config_file(env.system_config, true)) layers.push_back(std::move(*layer));
    return layers;
}

// RFC 6750's b64token.
bool valid_bearer_token(const std::string& token) {
    if (token.empty()) return false;
    for (char c : token) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                        c == '+' || c == '/' || c == '=';
        if (!ok) return false;
    }
    return true;
}

Auth obtain_auth(const CredentialPlan& plan, const Environment& env) {
    Auth auth;
    switch (plan.kind) {
        case Auth::Kind::none:
            return auth;
        case Auth::Kind::bearer:
            // The token goes into a header line: a stray newline (say, an
            // error message captured instead of a token) must not get there.
            if (!valid_bearer_token(plan.token)) {
                throw CliError(ExitStatus::usage,
                               "the OAuth token from " + plan.origin +
                                   " is not a token (only letters, digits and -._~+/= may "
                                   "appear in one); check CHATADM_TOKEN or 'token'");
            }
            auth.kind = Auth::Kind::bearer;
            auth.secret = plan.token;
            return auth;
        case Auth::Kind::basic:
            break;
    }
    auth.kind = Auth::Kind::basic;
    auth.user = plan.user;
    if (plan.password_file) {
        auth.secret = read_password_file(*plan.password_file);
    } else if (plan.password) {
        auth.secret = *plan.password;
    } else {
        auto typed = env.prompt_password ? env.prompt_password("Password for " + plan.user + ": ")
                                         : std::nullopt;
        if (!typed) {
            throw CliError(ExitStatus::auth,
                           "no password for " + plan.user +
                               ", and no terminal to ask on: give a password file with -P, "
                               "CHATADM_PASSWORD_FILE or password_file in the config file");
        }
        auth.secret = std::move(*typed);
    }
    return auth;
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void warn_about_transport(const std::string& base, const ConnectionSettings& conn, const Auth& auth,
                          const Invocation& inv, Io& io) {
    if (inv.verbosity < 1) return;
    const bool https = base.rfind("https://", 0) == 0;
    if (https && conn.insecure) {
        io.err << "chatadm: warning: "
               << (conn.insecure_origin == "command line" ? std::string("-k")
                                                          : "insecure in " + conn.insecure_origin)
               << ": the server's TLS certificate is not verified\n";
    }
    if (!https && auth.kind != Auth::Kind::none && !is_loopback(url_host(base))) {
        io.err << "chatadm: warning: sending credentials unencrypted over " << base
               << "; use https://\n";
    }
}

int execute(const Invocation& inv, const Action& action, Io& io, const Environment& env) {
    const std::vector<SettingsLayer> layers = collect_layers(inv, env);
    const ConnectionSettings conn = merge_connection(layers);
    const std::string base = api_base_url(conn.host);
    const Auth auth = obtain_auth(plan_credentials(layers), env);
    warn_about_transport(base, conn, auth, inv, io);

    TransportOptions options;
    options.insecure = conn.insecure;
    options.ca_file = conn.ca_file;
    options.timeout_ms = conn.timeout_ms;
    options.auth = auth;
    options.verbosity = inv.verbosity;
    options.trace = &io.err;
    const std::unique_ptr<Transport> transport = env.make_transport(options);

    ApiClient api(*transport, base, auth, conn.timeout_ms);
    Session session(api, io, inv.json, inv.verbosity);
    action(session);
    return status_code(ExitStatus::ok);
}

}  // namespace

Environment process_environment() {
    Environment env;
    env.getenv = [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        return v == nullptr ? std::nullopt : std::optional<std::string>(v);
    };
    env.make_transport = make_curl_transport;
    env.prompt_password = prompt_password_on_tty;
    return env;
}

int run(const std::vector<std::string>& args, Io& io, const Environment& env) {
    // No arguments at all: the user is exploring; show how to use it.
    if (args.empty()) {
        io.err << usage_text();
        return status_code(ExitStatus::usage);
    }
    // Long-option extras, recognised only alone in first place so they can
    // never change the meaning of a POSIX command line.
    if (args.size() == 1 && args[0] == "--help") {
        io.out << usage_text();
        return status_code(ExitStatus::ok);
    }
    if (args.size() == 1 && args[0] == "--version") {
        io.out << "chatadm " CHATADM_VERSION "\n";
        return status_code(ExitStatus::ok);
    }

    const CommandSpec* spec = nullptr;
    try {
        const Invocation inv = parse_global_args(args);
        spec = find_command(inv.command);
        if (spec == nullptr) {
            throw UsageError("unknown command '" + inv.command + "'");
        }
        if (!spec->parse) return run_help(inv.command_args, io);
        const Action action = spec->parse(inv.command_args);
        return execute(inv, action, io, env);
    } catch (const UsageError& e) {
        io.err << "chatadm: " << (spec != nullptr ? spec->name + ": " : std::string()) << e.what()
               << "\n";
        io.err << (spec != nullptr && spec->parse ? command_usage(*spec) : usage_text());
        return status_code(e.status());
    } catch (const CliError& e) {
        io.err << "chatadm: " << e.what() << "\n";
        return status_code(e.status());
    } catch (const std::exception& e) {
        io.err << "chatadm: internal error: " << e.what() << "\n";
        return status_code(ExitStatus::failure);
    }
}

}  // namespace chatadm
