#include "api/rows.hpp"

#include "api/results.hpp"

namespace chatadm {

void from_json(const nlohmann::json& j, MessageRow& row) {
    row.id = field_integer(j, "id");
    row.timestamp = j.is_object() && j.contains("timestamp") ? j["timestamp"] : nlohmann::json();
    row.from = field_string(j, "from");
    row.type = field_string(j, "type");
    row.subject = field_string(j, "subject");
    row.preview = field_string(j, "preview");
    row.body = field_string(j, "body");
}

std::vector<MessageRow> message_rows(const nlohmann::json& list) {
    return list.get<std::vector<MessageRow>>();
}

std::vector<CountRow> count_rows(const nlohmann::json& list, const char* name_key) {
    std::vector<CountRow> rows;
    for (const auto& e : list)
        rows.push_back({field_string(e, name_key), field_integer(e, "count")});
    return rows;
}

}  // namespace chatadm
