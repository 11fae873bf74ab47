#include "settings/settings.hpp"

#include "errors.hpp"

namespace chatadm {

namespace {

template <typename T>
const std::optional<T>* first_set(const std::vector<SettingsLayer>& layers,
                                  std::optional<T> Settings::*field, std::string* origin) {
    for (const auto& layer : layers) {
        if ((layer.settings.*field).has_value()) {
            if (origin != nullptr) *origin = layer.origin;
            return &(layer.settings.*field);
        }
    }
    return nullptr;
}

bool mentions_credentials(const Settings& s) {
    return s.user || s.password || s.password_file || s.token;
}

}  // namespace

ConnectionSettings merge_connection(const std::vector<SettingsLayer>& layers) {
    ConnectionSettings out;
    if (auto* v = first_set(layers, &Settings::host, nullptr)) out.host = **v;
    if (auto* v = first_set(layers, &Settings::ca_file, nullptr)) out.ca_file = **v;
    if (auto* v = first_set(layers, &Settings::insecure, &out.insecure_origin)) out.insecure = **v;
    if (auto* v = first_set(layers, &Settings::timeout_ms, nullptr)) out.timeout_ms = **v;
    return out;
}

CredentialPlan plan_credentials(const std::vector<SettingsLayer>& layers) {
    CredentialPlan plan;
    const SettingsLayer* deciding = nullptr;
    for (const auto& layer : layers) {
        if (mentions_credentials(layer.settings)) {
            deciding = &layer;
            break;
        }
    }
    if (deciding == nullptr) return plan;  // unauthenticated: the server may allow it (loopback)
    plan.origin = deciding->origin;
    const Settings& s = deciding->settings;

    if (s.token) {
        if (s.user || s.password || s.password_file) {
            throw CliError(
                ExitStatus::usage,
                deciding->origin + " gives both an OAuth token and a user/password; keep only one");
        }
        plan.kind = Auth::Kind::bearer;
        plan.token = *s.token;
        return plan;
    }

    plan.kind = Auth::Kind::basic;
    // The deciding layer may give only part (say -P on the command line with
    // the user from a config file): fill the rest from lower layers, but
    // never a token.
    if (auto* v = first_set(layers, &Settings::user, nullptr)) plan.user = **v;
    for (const auto& layer : layers) {
        if (layer.settings.password_file) {
            plan.password_file = layer.settings.password_file;
            break;
        }
        if (layer.settings.password) {
            plan.password = layer.settings.password;
            break;
        }
    }
    if (plan.user.empty()) {
        throw CliError(ExitStatus::usage,
                       deciding->origin +
                           " gives a password but no admin JID: give one with -u admin-jid, "
                           "CHATADM_USER or 'user' in the config file");
    }
    return plan;
}

}  // namespace chatadm
