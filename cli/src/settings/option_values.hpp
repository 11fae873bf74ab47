// Strict parsing of option-arguments and config values: a typo is reported,
// never silently read as 0.
#pragma once

#include <optional>
#include <string>

namespace chatadm {

// Decimal digits only, within [min, max]; otherwise UsageError naming `what`
// (e.g. "-n").
long parse_integer(const std::string& value, const std::string& what, long min, long max);

// Seconds, decimals allowed ("2.5"), more than 0 and at most a day; returns
// milliseconds. Throws UsageError naming `what`.
long parse_timeout_ms(const std::string& value, const std::string& what);

// true/false, yes/no, on/off, 1/0 (any case); nullopt for anything else.
std::optional<bool> parse_bool(const std::string& value);

}  // namespace chatadm
