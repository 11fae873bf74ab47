#include "output/format.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "api/results.hpp"
#include "output/text_escape.hpp"

namespace chatadm {

using nlohmann::json;

std::string json_text(const json& value) {
    return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string format_timestamp(const json& timestamp) {
    if (timestamp.is_number()) {
        const auto micros = timestamp.get<std::int64_t>();
        const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
        std::tm tm{};
        char buf[32];
        if (gmtime_r(&secs, &tm) != nullptr &&
            std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) {
            return buf;
        }
        return std::to_string(micros);
    }
    if (!timestamp.is_string()) return "-";
    const std::string& s = timestamp.get_ref<const std::string&>();
    // Keep up to the seconds; fractions are noise on screen (-j keeps them).
    const bool iso = s.size() >= 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
                     s[16] == ':';
    if (!iso) return escape_line(s);
    std::string zone;
    size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    }
    zone = s.substr(i);
    return escape_line(s.substr(0, 19) + zone);
}

std::string format_messages(const std::vector<MessageRow>& messages) {
    struct Row {
        std::string time, sender, lead, body;
    };
    std::vector<Row> rows;
    size_t time_width = 0, sender_width = 0;
    for (const auto& m : messages) {
        Row row;
        row.time = format_timestamp(m.timestamp);
        row.sender = escape_line(m.from);
        if (!m.subject.empty()) row.lead = "[" + escape_line(m.subject) + "]";
        row.body = escape_multiline(m.body);
        time_width = std::max(time_width, display_width(row.time));
        sender_width = std::max(sender_width, display_width(row.sender));
        rows.push_back(std::move(row));
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line =
            row.time + std::string(time_width - display_width(row.time), ' ') + "  " + row.sender;
        const size_t body_column = time_width + 2 + sender_width + 2;
        const std::string indent(body_column, ' ');
        std::string text =
            row.lead + (!row.lead.empty() && !row.body.empty() ? " " : "") + row.body;
        if (text.empty()) {
            out += line + "\n";
            continue;
        }
        line += std::string(sender_width - display_width(row.sender), ' ') + "  ";
        size_t start = 0;
        bool first = true;
        while (true) {
            const size_t nl = text.find('\n', start);
            const std::string part = text.substr(start, nl == std::string::npos ? nl : nl - start);
            out += (first ? line : indent) + part + "\n";
            first = false;
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
    }
    return out;
}

std::string format_counts(const std::vector<CountRow>& entries) {
    size_t width = 1;
    for (const auto& e : entries) width = std::max(width, std::to_string(e.count).size());
    std::string out;
    for (const auto& e : entries) {
        const std::string count = std::to_string(e.count);
        out +=
            std::string(width - count.size() + 2, ' ') + count + "  " + escape_line(e.name) + "\n";
    }
    return out;
}

std::string format_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += escape_line(l) + "\n";
    return out;
}

std::string format_bytes(std::int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    size_t u = 0;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) {
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    }
    return buf;
}

std::string format_status(const json& report) {
    std::string out;
    const auto row = [&](const char* label, const std::string& value) {
        char head[16];
        std::snprintf(head, sizeof head, "%-12s", label);
        out += std::string(head) + value + "\n";
    };
    row("api:", escape_line(field_string(report, "url")));
    const std::string version = field_string(report, "version");
    row("ejabberd:",
        version.empty()
            ? "unknown (status: " + escape_line(field_string(report, "status_message")) + ")"
            : escape_line(version));
    std::string nodes;
    if (auto it = report.find("nodes"); it != report.end() && it->is_array()) {
        for (const auto& n : *it) {
            if (!nodes.empty()) nodes += ", ";
            nodes += escape_line(n.is_string() ? n.get<std::string>() : n.dump());
        }
    }
    row("cluster:", nodes.empty() ? "-" : nodes);
    // Each node that answered, with the members it sees down, if any.
    if (auto it = report.find("answered_by"); it != report.end() && it->is_object()) {
        for (const auto& [node, view] : it->items()) {
            std::string down;
            for (const auto& [member, state] : view.items()) {
                if (state == "down") down += (down.empty() ? "" : ", ") + escape_line(member);
            }
            row("answered:", escape_line(node) + " (" + std::to_string(view.size()) +
                                 " in its cluster" + (down.empty() ? "" : "; down: " + down) + ")");
        }
    }

    const json& unread = report.contains("mod_unread") ? report["mod_unread"] : json::object();
    const bool loaded = unread.value("loaded", false);
    row("mod_unread:",
        loaded ? "loaded" : "not loaded (unread -c falls back to get_offline_count)");
    if (!loaded) return out;
    if (auto it = unread.find("stats"); it != unread.end() && it->is_array()) {
        for (const auto& h : *it) {
            // Each node of a cluster keeps its own index.
            const std::string node = field_string(h, "node");
            // The store behind the index; "-" when the server names none (a
            // node without an index, or a module from before the field).
            const std::string backend = field_string(h, "backend");
            std::string line = "  " + (node.empty() ? "" : escape_line(node) + " ") +
                               escape_line(field_string(h, "host")) + ": " +
                               escape_line(field_string(h, "state")) + ", backend " +
                               (backend.empty() ? "-" : escape_line(backend)) + ", " +
                               std::to_string(field_integer(h, "total")) + " unread for " +
                               std::to_string(field_integer(h, "users")) + " users, index " +
                               format_bytes(field_integer(h, "memory"));
            const std::string rebuilt = field_string(h, "last_rebuild");
            if (!rebuilt.empty()) {
                line += ", rebuilt " + format_timestamp(h["last_rebuild"]) + " in " +
                        std::to_string(field_integer(h, "rebuild_ms")) + " ms";
            }
            out += line + "\n";
        }
    }
    return out;
}

}  // namespace chatadm
