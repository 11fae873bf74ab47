// Reading command results whatever shape ejabberd gives them: an integer may
// be a bare number or {"value": 5} / {"count": 5}; a list of strings may hold
// one-key objects. A shape we cannot read is a server failure (exit 1).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chatadm {

std::int64_t result_integer(const nlohmann::json& result, const std::string& command);
std::string result_string(const nlohmann::json& result, const std::string& command);
std::vector<std::string> result_string_list(const nlohmann::json& result,
                                            const std::string& command);
// An array of objects (each entry checked to be an object).
nlohmann::json result_object_list(const nlohmann::json& result, const std::string& command);

// Field access that tolerates missing or differently typed fields: display
// code should show what it can rather than fail on a cosmetic field.
std::string field_string(const nlohmann::json& object, const char* key);
std::int64_t field_integer(const nlohmann::json& object, const char* key);

}  // namespace chatadm
