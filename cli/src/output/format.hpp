// Rendering results for people (plain text) and for scripts (-j JSON).
// Every string that came from the server goes through text_escape first.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/rows.hpp"

namespace chatadm {

// JSON for -j: pretty, valid UTF-8 (invalid bytes replaced), one trailing newline.
std::string json_text(const nlohmann::json& value);

// "2026-11-23T10:03:25.123456Z" -> "2026-11-23T10:03:25Z"; a number is read
// as microseconds since the epoch; anything else is shown escaped.
std::string format_timestamp(const nlohmann::json& timestamp);

// unread_list entries, one per message:
//   TIME  SENDER  [SUBJECT] first body line
//                           further body lines, indented to the body column
// Only a message's first line starts at column 0, so a body cannot pass
// itself off as another message.
std::string format_messages(const std::vector<MessageRow>& messages);

// [{"sender":..,"count":..}] or [{"user":..,"count":..}] as "  COUNT  NAME"
// lines, counts right-aligned, in the order given.
std::string format_counts(const std::vector<CountRow>& entries);

// One escaped string per line.
std::string format_lines(const std::vector<std::string>& lines);

// The report built by the status command (same object -j prints).
std::string format_status(const nlohmann::json& report);

// 4096 -> "4.0 KiB"
std::string format_bytes(std::int64_t bytes);

}  // namespace chatadm
