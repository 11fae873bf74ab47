#include "api/results.hpp"

#include <cmath>

#include "errors.hpp"
#include "output/text_escape.hpp"

namespace chatadm {

using nlohmann::json;

namespace {

[[noreturn]] void unexpected(const json& result, const std::string& command,
                             const std::string& expected) {
    std::string shown = result.dump(-1, ' ', false, json::error_handler_t::replace);
    if (shown.size() > 80) shown = shown.substr(0, 80) + "...";
    throw CliError(ExitStatus::failure, "unexpected result from '" + command + "': expected " +
                                            expected + ", got " + escape_line(shown));
}

// {"value": x} and other one-member objects wrap a single result.
const json* unwrap(const json& result) {
    if (result.is_object() && result.size() == 1) return &result.begin().value();
    return nullptr;
}

}  // namespace

std::int64_t result_integer(const json& result, const std::string& command) {
    if (result.is_number_integer()) return result.get<std::int64_t>();
    if (result.is_number_unsigned()) return static_cast<std::int64_t>(result.get<std::uint64_t>());
    if (result.is_number_float()) {
        const double d = result.get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e18)
            return static_cast<std::int64_t>(d);
    }
    if (result.is_string()) {
        const auto& s = result.get_ref<const std::string&>();
        bool digits = !s.empty() && s.size() < 19;
        for (char c : s) digits = digits && c >= '0' && c <= '9';
        if (digits) return std::stoll(s);
    }
    if (const json* inner = unwrap(result)) return result_integer(*inner, command);
    unexpected(result, command, "a number");
}

std::string result_string(const json& result, const std::string& command) {
    if (result.is_string()) return result.get<std::string>();
    if (const json* inner = unwrap(result)) return result_string(*inner, command);
    unexpected(result, command, "a string");
}

std::vector<std::string> result_string_list(const json& result, const std::string& command) {
    if (!result.is_array()) {
        if (const json* inner = unwrap(result); inner != nullptr && inner->is_array()) {
            return result_string_list(*inner, command);
        }
        unexpected(result, command, "a list");
    }
    std::vector<std::string> out;
    out.reserve(result.size());
    for (const auto& item : result) out.push_back(result_string(item, command));
    return out;
}

json result_object_list(const json& result, const std::string& command) {
    if (!result.is_array()) unexpected(result, command, "a list of objects");
    for (const auto& item : result) {
        if (!item.is_object()) unexpected(result, command, "a list of objects");
    }
    return result;
}

std::string field_string(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return {};
    if (it->is_string()) return it->get<std::string>();
    return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::int64_t field_integer(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) return 0;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_number_unsigned()) return static_cast<std::int64_t>(it->get<std::uint64_t>());
    if (it->is_number_float()) {
        const double d = it->get<double>();
        return std::isfinite(d) && std::fabs(d) < 9e18 ? static_cast<std::int64_t>(d) : 0;
    }
    if (it->is_string()) {
        try {
            return std::stoll(it->get<std::string>());
        } catch (const std::exception&) {
            return 0;
        }
    }
    return 0;
}

}  // namespace chatadm
