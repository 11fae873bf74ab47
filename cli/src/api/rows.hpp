// The rows of mod_unread's list results, read once into typed values
// (nlohmann's from_json). Reading is lenient: a missing or differently typed
// field is left empty, so display code shows what it can instead of failing
// on a cosmetic field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chatadm {

// One unread_list entry.
struct MessageRow {
    std::int64_t id = 0;
    nlohmann::json timestamp;  // ISO 8601 text, or a number from older modules
    std::string from, type, subject, preview, body;
};

// One entry of unread_senders (name: the sender) or unread_top (the user).
struct CountRow {
    std::string name;
    std::int64_t count = 0;
};

void from_json(const nlohmann::json& j, MessageRow& row);

// The rows of a list result, each entry read with from_json; name_key is
// the field that names a CountRow ("sender" or "user").
std::vector<MessageRow> message_rows(const nlohmann::json& list);
std::vector<CountRow> count_rows(const nlohmann::json& list, const char* name_key);

}  // namespace chatadm
