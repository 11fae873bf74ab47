#include "settings/option_values.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "errors.hpp"

namespace chatadm {

long parse_integer(const std::string& value, const std::string& what, long min, long max) {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    // strtol alone would accept " 5", "+5" and "5x"; only plain digits are a number here.
    bool digits = !value.empty() && value.size() <= 18;
    for (char ch : value) digits = digits && ch >= '0' && ch <= '9';
    if (!digits) {
        throw UsageError(what + ": '" + value + "' is not a whole number (expected " + range + ")");
    }
    const long n = std::strtol(value.c_str(), nullptr, 10);
    if (n < min || n > max) {
        throw UsageError(what + ": " + value + " is out of range (expected " + range + ")");
    }
    return n;
}

long parse_timeout_ms(const std::string& value, const std::string& what) {
    constexpr double max_seconds = 86400;
    const char* begin = value.c_str();
    char* end = nullptr;
    errno = 0;
    const double seconds = value.empty() || value[0] == ' ' ? NAN : std::strtod(begin, &end);
    if (errno != 0 || end == begin || end == nullptr || *end != '\0' || !std::isfinite(seconds) ||
        seconds <= 0 || seconds > max_seconds) {
        throw UsageError(
            what + ": '" + value +
            "' is not a timeout in seconds (expected a number above 0, at most 86400)");
    }
    // Round up so that a tiny timeout never becomes 0, which curl reads as "no timeout".
    return static_cast<long>(std::ceil(seconds * 1000.0));
}

std::optional<bool> parse_bool(const std::string& value) {
    std::string v;
    for (char ch : value) v += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    return std::nullopt;
}

}  // namespace chatadm
