// Transparent string hashing, so maps keyed by std::string are searched by
// std::string_view without building a key.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace unread {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

}  // namespace unread
