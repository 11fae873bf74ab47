// The unread messages of one user, ordered by id, with per-sender counts.
// Not thread-safe: its Shard's lock guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "unread/message.hpp"

namespace unread {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

class UserQueue {
  public:
    // Both return false when nothing changed.
    bool insert(MessageHeader&& message);
    bool erase(std::int64_t id, std::uint64_t key);

    std::size_t size() const noexcept { return messages_.size(); }
    bool empty() const noexcept { return messages_.empty(); }
    // Heap bytes held by this queue's messages, senders and strings.
    std::size_t bytes() const noexcept { return bytes_; }

    UserSummary summary() const;
    std::vector<SenderCount> senders() const;
    void page(std::size_t offset, std::size_t limit, std::string_view from,
              std::vector<MessageHeader>& out) const;
    // Calls f(id, key) for every message, oldest first.
    void for_each_key(const std::function<void(std::int64_t, std::uint64_t)>& f) const;
    bool contains(std::int64_t id, std::uint64_t key) const;

  private:
    struct Stored {
        std::int64_t id;
        std::uint64_t key;
        // Points at the key of senders_; node-based maps keep keys in place.
        const std::string* sender;
        // Subject then preview, in one allocation: most messages have no
        // subject, and one allocation per message keeps the index small.
        std::unique_ptr<char[]> text;
        std::uint16_t subject_len;
        std::uint16_t preview_len;
        MessageType type;
    };
    struct ById {
        using is_transparent = void;
        struct Key {
            std::int64_t id;
            std::uint64_t key;
        };
        static Key of(const Stored& s) noexcept { return {s.id, s.key}; }
        static Key of(const Key& k) noexcept { return k; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            const Key ka = of(a);
            const Key kb = of(b);
            return ka.id < kb.id || (ka.id == kb.id && ka.key < kb.key);
        }
    };

    static MessageHeader header_of(const Stored& s);
    static std::size_t stored_bytes(const Stored& s) noexcept;

    std::set<Stored, ById> messages_;
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> senders_;
    std::size_t bytes_ = 0;
};

}  // namespace unread
