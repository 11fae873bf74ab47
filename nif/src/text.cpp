#include "unread/text.hpp"

#include "unread/message.hpp"

namespace unread {

std::string_view utf8_prefix(std::string_view text, std::size_t max_chars) noexcept {
    std::size_t pos = 0;
    for (std::size_t chars = 0; chars < max_chars && pos < text.size(); ++chars) {
        const auto lead = static_cast<unsigned char>(text[pos]);
        // Most text is ASCII: one byte, one character.
        if (lead < 0x80) {
            ++pos;
            continue;
        }
        std::size_t len = 1;
        if (lead >= 0xF0 && lead < 0xF8) {
            len = 4;
        } else if (lead >= 0xE0) {
            len = lead < 0xF0 ? 3 : 1;
        } else if (lead >= 0xC0) {
            len = 2;
        }
        // A truncated or malformed sequence is taken one byte at a time, so a
        // bad byte can never make us skip past the end or into a good one.
        for (std::size_t i = 1; i < len; ++i) {
            if (pos + i >= text.size() ||
                (static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) {
                len = 1;
                break;
            }
        }
        pos += len;
    }
    return text.substr(0, pos);
}

const char* to_string(MessageType type) noexcept {
    switch (type) {
        case MessageType::chat:
            return "chat";
        case MessageType::groupchat:
            return "groupchat";
        case MessageType::headline:
            return "headline";
        case MessageType::error:
            return "error";
        case MessageType::normal:
            break;
    }
    return "normal";
}

}  // namespace unread
