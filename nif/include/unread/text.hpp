// Text helpers shared by the index and its Erlang binding.
#pragma once

#include <cstddef>
#include <string>
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

// Heap bytes of a string's own buffer: libstdc++ keeps up to 15 characters
// inside the string object.
inline std::size_t string_heap_bytes(const std::string& s) noexcept {
    return s.capacity() > 15 ? heap_bytes(s.capacity() + 1) : 0;
}

}  // namespace unread
