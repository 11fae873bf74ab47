// Text helpers shared by the index and its Erlang binding.
#pragma once

#include <cstddef>
#include <string_view>

namespace unread {

// The longest prefix of `text` holding at most `max_chars` UTF-8 characters,
// never cutting a multi-byte sequence. Invalid bytes count as one character.
std::string_view utf8_prefix(std::string_view text, std::size_t max_chars) noexcept;

// Bytes glibc's malloc really takes for a request of `n` bytes: used to report
// the index's memory as allocated, not as requested.
constexpr std::size_t heap_bytes(std::size_t n) noexcept {
    if (n == 0) return 0;
    const std::size_t chunk = (n + sizeof(std::size_t) + 15) & ~std::size_t{15};
    return chunk < 32 ? 32 : chunk;
}

}  // namespace unread
